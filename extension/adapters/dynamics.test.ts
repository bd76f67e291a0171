import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter, planPop } from './index.js';
import { dynamicsMainWorld } from './main-world/dynamics.js';
import { FORBIDDEN_IN_MAIN_WORLD, HOSTILE, inPage, plain } from './test-support.js';

const ORIGIN = 'https://acme.crm4.dynamics.com';
const GUID = '6f1c2a5e-0b7d-4c1e-9a3f-2d8b7e6c5a41';
const APP = '0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const dyn = (options?: { appId?: string; appName?: string }) => createAdapter({ origin: ORIGIN, adapter: 'dynamics', options });

test('dynamics: record, new-record, search and activity URLs', () => {
  const a = dyn();
  assert.equal(a.id, 'dynamics');
  assert.equal(a.recordUrl('contact', GUID), `${ORIGIN}/main.aspx?pagetype=entityrecord&etn=contact&id=${GUID}`);
  assert.equal(a.recordUrl('Contact', `{${GUID.toUpperCase()}}`), `${ORIGIN}/main.aspx?pagetype=entityrecord&etn=contact&id=${GUID}`);
  assert.equal(a.recordUrl('case', GUID), `${ORIGIN}/main.aspx?pagetype=entityrecord&etn=incident&id=${GUID}`);
  assert.equal(a.newRecordUrl('contact', {}), `${ORIGIN}/main.aspx?pagetype=entityrecord&etn=contact`);
  assert.equal(
    a.newRecordUrl('contact', { telephone1: '+1 555', firstname: 'Ann' }),
    `${ORIGIN}/main.aspx?pagetype=entityrecord&etn=contact&extraqs=telephone1%3D%252B1%2520555%26firstname%3DAnn`,
  );
  assert.equal(a.searchUrl({ phone: '+15550100' }), `${ORIGIN}/main.aspx?pagetype=search&searchText=%2B15550100&searchType=0`);
  assert.equal(a.searchUrl({ email: 'a@b.c' }), `${ORIGIN}/main.aspx?pagetype=search&searchText=a%40b.c&searchType=0`);
  assert.equal(a.searchUrl({}), null);
  assert.equal(
    a.logActivityUrl!({ subject: 'Call', body: 'Notes', recordId: GUID }),
    `${ORIGIN}/main.aspx?pagetype=entityrecord&etn=phonecall&extraqs=subject%3DCall%26description%3DNotes`,
  );
  assert.equal(dyn({ appId: `{${APP}}` }).recordUrl('contact', GUID), `${ORIGIN}/main.aspx?appid=${APP}&pagetype=entityrecord&etn=contact&id=${GUID}`);
  assert.equal(dyn({ appName: 'customerservicehub' }).searchUrl({ phone: '1' }), `${ORIGIN}/main.aspx?appname=customerservicehub&pagetype=search&searchText=1&searchType=0`);
});

test('dynamics: extraqs round-trips hostile values as a query string inside a parameter', () => {
  const a = dyn();
  for (const [name, value] of Object.entries(HOSTILE)) {
    if (name === 'loneSurrogate') continue;
    const u = new URL(a.newRecordUrl('contact', { firstname: value, description: value })!);
    assert.equal(u.hash, '', name);
    assert.deepEqual([...u.searchParams.keys()], ['pagetype', 'etn', 'extraqs'], name);
    const inner = new URLSearchParams(u.searchParams.get('extraqs')!);
    assert.deepEqual([...inner.keys()], ['firstname', 'description'], name);
    assert.equal(inner.get('firstname'), value, name);
    const s = new URL(a.searchUrl({ phone: value })!);
    assert.equal(s.searchParams.get('searchText'), value.trim(), name);
    assert.equal(s.pathname, '/main.aspx', name);
  }
});

test('dynamics: bad GUIDs, entity and field names give null; bad options throw', () => {
  const a = dyn();
  assert.equal(a.recordUrl('contact', GUID.slice(1)), null);
  assert.equal(a.recordUrl('contact', `${GUID}&etn=systemuser`), null);
  assert.equal(a.recordUrl('contact', HOSTILE.traversal), null);
  assert.equal(a.recordUrl('contact&x=1', GUID), null);
  assert.equal(a.recordUrl('', GUID), null);
  assert.equal(a.newRecordUrl('contact', { 'first&name': 'x' }), null);
  assert.equal(a.newRecordUrl('contact', { firstname: HOSTILE.loneSurrogate }), null);
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b', recordId: 'nope' }), null);
  assert.throws(() => dyn({ appId: 'not-a-guid' }), /options.appId/);
  assert.throws(() => dyn({ appName: 'a&b' }), /options.appName/);
});

test('dynamics: planPop uses Xrm first for search and activity, URLs for records', () => {
  const a = dyn();
  const p = planPop(a, { op: 'search', query: { phone: '1' } });
  assert.equal(p.kind, 'mainWorld');
  assert.equal(p.kind === 'mainWorld' && p.fallbackUrl, `${ORIGIN}/main.aspx?pagetype=search&searchText=1&searchType=0`);
  assert.equal(planPop(a, { op: 'record', recordType: 'contact', recordId: GUID }).kind, 'navigate');
});

function fakeXrm(entities: Array<{ contactid: string }>) {
  const calls: unknown[][] = [];
  const Xrm = {
    Navigation: { openForm: async (...args: unknown[]) => { calls.push(['openForm', ...plain(args)]); return { savedEntityReference: [] }; } },
    WebApi: {
      retrieveMultipleRecords: async (...args: unknown[]) => { calls.push(['retrieveMultipleRecords', ...args]); return { entities }; },
      createRecord: async (...args: unknown[]) => { calls.push(['createRecord', ...plain(args)]); return { entityType: 'phonecall', id: GUID }; },
    },
  };
  return { calls, Xrm };
}

test('dynamics main world: search-and-pop with Xrm.WebApi and Xrm.Navigation', async () => {
  const one = fakeXrm([{ contactid: GUID }]);
  const run = inPage(dynamicsMainWorld, { Xrm: one.Xrm });
  assert.deepEqual(plain(await run({ op: 'search', query: { phone: '+1 555-0100' } })), { ok: true, done: true, api: 'Xrm', count: 1, ids: [GUID] });
  assert.deepEqual(one.calls, [
    ['retrieveMultipleRecords', 'contact', "?$select=contactid&$filter=telephone1 eq '%2B1%20555-0100' or mobilephone eq '%2B1%20555-0100' or telephone2 eq '%2B1%20555-0100'&$top=2"],
    ['openForm', { entityName: 'contact', entityId: GUID }],
  ]);

  const two = fakeXrm([{ contactid: GUID }, { contactid: APP }]);
  const r2 = await inPage(dynamicsMainWorld, { Xrm: two.Xrm })({ op: 'search', query: { email: 'ann@example.com' } });
  assert.deepEqual(plain(r2), { ok: true, done: false, api: 'Xrm', count: 2, ids: [GUID, APP] });
  assert.equal(two.calls[0]![2], "?$select=contactid&$filter=emailaddress1 eq 'ann%40example.com'&$top=2");
  assert.equal(two.calls.length, 1, 'no form opened for two matches');

  // Values that could break out of the OData literal are refused before any call.
  const none = fakeXrm([]);
  const runNone = inPage(dynamicsMainWorld, { Xrm: none.Xrm });
  assert.equal((await runNone({ op: 'search', query: { phone: "1' or 1 eq 1 or '" } })).ok, false);
  assert.equal((await runNone({ op: 'search', query: { email: "a'@b.c" } })).ok, false);
  assert.equal(none.calls.length, 0);
});

test('dynamics main world: open, create and log with the client API', async () => {
  const f = fakeXrm([]);
  const run = inPage(dynamicsMainWorld, { Xrm: f.Xrm });
  assert.equal((await run({ op: 'record', recordType: 'case', recordId: `{${GUID.toUpperCase()}}` })).done, true);
  assert.equal((await run({ op: 'newRecord', recordType: 'contact', fields: { Telephone1: HOSTILE.html } })).done, true);
  assert.deepEqual(plain(await run({ op: 'logActivity', activity: { subject: 'Call', body: 'b', recordId: GUID } })), { ok: true, done: true, api: 'Xrm', ids: [GUID] });
  assert.deepEqual(f.calls, [
    ['openForm', { entityName: 'incident', entityId: GUID }],
    ['openForm', { entityName: 'contact' }, { telephone1: HOSTILE.html }],
    ['createRecord', 'phonecall', { subject: 'Call', description: 'b', 'regardingobjectid_contact@odata.bind': `/contacts(${GUID})` }],
    ['openForm', { entityName: 'phonecall', entityId: GUID }],
  ]);
  assert.equal((await run({ op: 'record', recordType: 'contact', recordId: 'x' })).ok, false);
  assert.equal((await run({ op: 'newRecord', recordType: 'contact', fields: { 'a b': '1' } })).ok, false);
  assert.equal(f.calls.length, 4);

  const broken = inPage(dynamicsMainWorld, { Xrm: { Navigation: { openForm: async () => { throw new Error('form denied'); } } } });
  assert.deepEqual(plain(await broken({ op: 'record', recordType: 'contact', recordId: GUID })), { ok: false, done: false, api: 'Xrm', error: 'form denied' });
  assert.equal((await inPage(dynamicsMainWorld, {})({ op: 'record', recordType: 'contact', recordId: GUID })).ok, false);
});

test('dynamics main world: source evaluates no strings and builds no HTML', () => {
  for (const re of FORBIDDEN_IN_MAIN_WORLD) assert.doesNotMatch(dynamicsMainWorld.toString(), re);
});
