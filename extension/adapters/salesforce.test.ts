import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter, planPop } from './index.js';
import { encodeDefaultFieldValues, isSalesforceId, salesforceIdSuffix } from './salesforce.js';
import { salesforceMainWorld } from './main-world/salesforce.js';
import { FORBIDDEN_IN_MAIN_WORLD, HOSTILE, inPage, plain } from './test-support.js';

const ORIGIN = 'https://acme.lightning.force.com';
const sf = () => createAdapter({ origin: ORIGIN, adapter: 'salesforce' });
const CONTACT = '003000000000001AAA'; // 15-char body has no upper case: suffix AAA

/** Reads the search term back out of a /one/one.app#<base64 JSON> URL. */
function searchState(url: string): { componentDef: string; attributes: { term: string; scopeMap: { type: string } } } {
  const u = new URL(url);
  assert.equal(u.pathname, '/one/one.app');
  assert.equal(u.search, '');
  const b64 = u.hash.slice(1);
  assert.match(b64, /^[A-Za-z0-9+/]+=*$/);
  const json = Buffer.from(b64, 'base64').toString('latin1');
  assert.match(json, /^[\x20-\x7e]*$/, 'the JSON is pure ASCII');
  return JSON.parse(json);
}

test('salesforce: 18-character id checksum', () => {
  assert.equal(salesforceIdSuffix('003000000000001'), 'AAA');
  assert.equal(salesforceIdSuffix('ABCDEabcde12345'), '5AA'); // 0b11111 = 31 -> '5'
  assert.equal(salesforceIdSuffix('aBcDexxxxxZzzzz'), 'KAB'); // bits 1,3 -> 10 -> 'K'; block 3 bit 0 -> 'B'
  assert.ok(isSalesforceId('003000000000001'));
  assert.ok(isSalesforceId(CONTACT));
  assert.ok(isSalesforceId('003000000000001aaa'), 'suffix is case-insensitive');
  assert.ok(isSalesforceId('ABCDEabcde123455AA'));
  assert.ok(!isSalesforceId('003000000000001AAB'), 'wrong checksum');
  assert.ok(!isSalesforceId('00300000000001'), '14 chars');
  assert.ok(!isSalesforceId('0030000000000011'), '16 chars');
  assert.ok(!isSalesforceId('003000000000001-A'));
  assert.ok(!isSalesforceId('../../../../../..'));
});

test('salesforce: record, new-record, search and activity URLs', () => {
  const a = sf();
  assert.equal(a.id, 'salesforce');
  assert.equal(a.recordUrl('Contact', CONTACT), `${ORIGIN}/lightning/r/Contact/${CONTACT}/view`);
  assert.equal(a.recordUrl('contact', '003000000000001'), `${ORIGIN}/lightning/r/Contact/003000000000001/view`);
  assert.equal(a.recordUrl('My_Object__c', CONTACT), `${ORIGIN}/lightning/r/My_Object__c/${CONTACT}/view`);
  assert.equal(a.newRecordUrl('Contact', {}), `${ORIGIN}/lightning/o/Contact/new`);
  assert.equal(
    a.newRecordUrl('contact', { Phone: '+1 555 0100', LastName: 'de Fault' }),
    `${ORIGIN}/lightning/o/Contact/new?defaultFieldValues=Phone=%2B1%20555%200100,LastName=de%20Fault`,
  );
  assert.deepEqual(searchState(a.searchUrl({ phone: '+15550100' })!), {
    componentDef: 'forceSearch:searchPageDesktop',
    attributes: { term: '+15550100', scopeMap: { type: 'TOP_RESULTS' } },
    state: {},
  });
  assert.equal(searchState(a.searchUrl({ email: 'ann@example.com' })!).attributes.term, 'ann@example.com');
  assert.equal(searchState(a.searchUrl({ phone: '555', email: 'x@y' })!).attributes.term, '555', 'phone first');
  assert.equal(a.searchUrl({}), null);
  assert.equal(
    a.logActivityUrl!({ subject: 'Inbound call', body: 'Asked about invoice 7', recordId: CONTACT }),
    `${ORIGIN}/lightning/o/Task/new?defaultFieldValues=Subject=Inbound%20call,Description=Asked%20about%20invoice%207,WhoId=${CONTACT}`,
  );
  assert.equal(
    a.logActivityUrl!({ subject: 's', body: 'b', recordId: '500000000000001' }),
    `${ORIGIN}/lightning/o/Task/new?defaultFieldValues=Subject=s,Description=b,WhatId=500000000000001`,
  );
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b' }), `${ORIGIN}/lightning/o/Task/new?defaultFieldValues=Subject=s,Description=b`);
});

test('salesforce: defaultFieldValues encoding keeps "," "=" "%" inside one value', () => {
  assert.equal(encodeDefaultFieldValues({ Name: 'a,b=c', Note: '100%' }), 'Name=a%2Cb%3Dc,Note=100%25');
  const url = sf().newRecordUrl('Account', { Name: HOSTILE.comma, Description: `${HOSTILE.hash} ${HOSTILE.amp} ${HOSTILE.unicode}` })!;
  const u = new URL(url);
  assert.equal(u.pathname, '/lightning/o/Account/new');
  assert.equal(u.hash, '');
  assert.deepEqual([...u.searchParams.keys()], ['defaultFieldValues']);
  // Salesforce splits the raw value on "," and "=" and then decodes each value.
  const raw = u.search.slice('?defaultFieldValues='.length);
  const decoded = Object.fromEntries(raw.split(',').map((kv) => {
    const [k, v] = kv.split('=');
    return [k, decodeURIComponent(v!)];
  }));
  assert.deepEqual(decoded, { Name: HOSTILE.comma, Description: `${HOSTILE.hash} ${HOSTILE.amp} ${HOSTILE.unicode}` });
});

test('salesforce: hostile search terms round-trip through base64 JSON, including unicode', () => {
  const a = sf();
  for (const [name, value] of Object.entries(HOSTILE)) {
    if (name === 'loneSurrogate' || name === 'dot') continue;
    const url = a.searchUrl({ phone: value });
    assert.ok(url, name);
    assert.ok(url.startsWith(`${ORIGIN}/one/one.app#`), name);
    assert.equal(searchState(url).attributes.term, value.trim(), name);
  }
});

test('salesforce: bad ids, object names and field names give null', () => {
  const a = sf();
  assert.equal(a.recordUrl('Contact', '003000000000001AAB'), null);
  assert.equal(a.recordUrl('Contact', HOSTILE.traversal), null);
  assert.equal(a.recordUrl('Contact', `${CONTACT}/edit`), null);
  assert.equal(a.recordUrl('Contact', ''), null);
  assert.equal(a.recordUrl('../Contact', CONTACT), null);
  assert.equal(a.recordUrl('Contact/x', CONTACT), null);
  assert.equal(a.recordUrl('Bad_', CONTACT), null);
  assert.equal(a.recordUrl('javascript:x', CONTACT), null);
  assert.equal(a.newRecordUrl('Contact', { 'Phone,Evil': '1' }), null);
  assert.equal(a.newRecordUrl('Contact', { 'Ph=one': '1' }), null);
  assert.equal(a.newRecordUrl(HOSTILE.js, {}), null);
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b', recordId: 'not-an-id' }), null);
  assert.equal(a.newRecordUrl('Contact', { Name: HOSTILE.loneSurrogate }), null);
  assert.throws(() => createAdapter({ origin: 'chrome-extension://abc', adapter: 'salesforce' }), /https: or http:/);
});

test('salesforce: planPop prefers Open CTI for search and activity, URLs for the rest', () => {
  const a = sf();
  const search = planPop(a, { op: 'search', query: { phone: '555' } });
  assert.equal(search.kind, 'mainWorld');
  assert.ok(search.kind === 'mainWorld' && search.fallbackUrl?.startsWith(`${ORIGIN}/one/one.app#`));
  assert.deepEqual(planPop(a, { op: 'record', recordType: 'Contact', recordId: CONTACT }), {
    kind: 'navigate',
    url: `${ORIGIN}/lightning/r/Contact/${CONTACT}/view`,
  });
  // An invalid id: no URL, and Open CTI is not preferred for records, but can still try.
  const bad = planPop(a, { op: 'record', recordType: 'Contact', recordId: 'x' });
  assert.equal(bad.kind, 'mainWorld');
});

function fakeOpenCti() {
  const calls: Array<{ method: string; args: Record<string, unknown> }> = [];
  const respond = (method: string) => (args: Record<string, unknown> & { callback: (r: unknown) => void }) => {
    const { callback, ...rest } = args;
    calls.push({ method, args: plain(rest) });
    const returnValue = method === 'searchAndScreenPop' ? { [CONTACT]: { Id: CONTACT, Name: 'Ann' } } : method === 'saveLog' ? { recordId: '00T000000000001' } : null;
    setTimeout(() => callback({ success: true, returnValue, errors: null }), 0);
  };
  const opencti = {
    SCREENPOP_TYPE: { SOBJECT: 'sobject', NEW_RECORD_MODAL: 'newRecord' },
    CALL_TYPE: { INBOUND: 'inbound' },
    screenPop: respond('screenPop'),
    searchAndScreenPop: respond('searchAndScreenPop'),
    saveLog: respond('saveLog'),
  };
  return { calls, globals: { sforce: { opencti } } };
}

test('salesforce main world: Open CTI calls, run from source text in a bare global scope', async () => {
  const { calls, globals } = fakeOpenCti();
  const run = inPage(salesforceMainWorld, globals);

  assert.deepEqual(plain(await run({ op: 'search', query: { phone: '+1 555 0100' } })), {
    ok: true, done: true, api: 'sforce.opencti', count: 1, ids: [CONTACT],
  });
  assert.deepEqual(calls.at(-1), {
    method: 'searchAndScreenPop',
    args: { searchParams: '+1 555 0100', queryParams: '', defaultFieldValues: { Phone: '+1 555 0100' }, callType: 'inbound', deferred: false },
  });

  assert.equal((await run({ op: 'record', recordType: 'contact', recordId: CONTACT })).done, true);
  assert.deepEqual(calls.at(-1), { method: 'screenPop', args: { type: 'sobject', params: { recordId: CONTACT } } });

  assert.equal((await run({ op: 'newRecord', recordType: 'Contact', fields: { Phone: HOSTILE.html } })).done, true);
  assert.deepEqual(calls.at(-1), {
    method: 'screenPop',
    args: { type: 'newRecord', params: { entityName: 'Contact', defaultFieldValues: { Phone: HOSTILE.html } } },
  });

  assert.deepEqual(plain(await run({ op: 'logActivity', activity: { subject: 'Call', body: 'b', recordId: CONTACT } })), {
    ok: true, done: true, api: 'sforce.opencti', ids: ['00T000000000001'],
  });
  assert.deepEqual(calls.at(-1), {
    method: 'saveLog',
    args: { value: { entityApiName: 'Task', Subject: 'Call', Description: 'b', WhoId: CONTACT } },
  });

  const before = calls.length;
  assert.equal((await run({ op: 'record', recordType: 'Contact', recordId: HOSTILE.traversal })).ok, false);
  assert.equal((await run({ op: 'newRecord', recordType: 'Contact', fields: { 'a,b': 'x' } })).ok, false);
  assert.equal(calls.length, before, 'nothing called for invalid input');
});

test('salesforce main world: no Open CTI in the frame, failures and timeouts are answered', async () => {
  const none = await inPage(salesforceMainWorld, {})({ op: 'search', query: { phone: '1' } });
  assert.deepEqual(plain(none), { ok: false, done: false, api: 'sforce.opencti', error: 'Open CTI (sforce.opencti) is not loaded in this frame' });

  const failing = inPage(salesforceMainWorld, {
    sforce: { opencti: { SCREENPOP_TYPE: { SOBJECT: 's' }, screenPop: (a: { callback: (r: unknown) => void }) => a.callback({ success: false, errors: [{ description: 'no access' }] }) } },
  });
  const r = await failing({ op: 'record', recordType: 'Contact', recordId: CONTACT });
  assert.equal(r.ok, false);
  assert.match(r.error!, /no access/);

  const throwing = inPage(salesforceMainWorld, {
    sforce: { opencti: { SCREENPOP_TYPE: { SOBJECT: 's' }, screenPop: () => { throw new Error('boom'); } } },
  });
  assert.match((await throwing({ op: 'record', recordType: 'Contact', recordId: CONTACT })).error!, /boom/);
});

test('salesforce main world: source evaluates no strings and builds no HTML', () => {
  for (const re of FORBIDDEN_IN_MAIN_WORLD) assert.doesNotMatch(salesforceMainWorld.toString(), re);
});
