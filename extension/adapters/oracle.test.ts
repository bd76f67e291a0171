import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter, planPop } from './index.js';
import { oracleMainWorld } from './main-world/oracle.js';
import { FORBIDDEN_IN_MAIN_WORLD, HOSTILE, inPage, plain } from './test-support.js';

const ORIGIN = 'https://acme.custhelp.com';

test('oracle: no URL can do it, so every URL method returns null and planPop goes to the page API', () => {
  const a = createAdapter({ origin: ORIGIN, adapter: 'oracle' });
  assert.equal(a.id, 'oracle');
  assert.equal(a.searchUrl({ phone: '1' }), null);
  assert.equal(a.recordUrl('contact', '1'), null);
  assert.equal(a.newRecordUrl('contact', {}), null);
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b' }), null);
  assert.deepEqual(planPop(a, { op: 'search', query: { phone: '1' } }), {
    kind: 'mainWorld', request: { op: 'search', query: { phone: '1' } }, fallbackUrl: null,
  });
  assert.equal(planPop(a, { op: 'record', recordType: 'contact', recordId: '1' }).kind, 'mainWorld');
  assert.equal(planPop(a, { op: 'logActivity', activity: { subject: 's', body: 'b' } }).kind, 'unsupported');
});

function fakeBui(rows: string[][]) {
  const calls: unknown[][] = [];
  const newRecord = { updateField: (f: string, v: string) => calls.push(['updateField', f, v]) };
  const workspaceRecord = {
    editWorkspaceRecord: (type: string, id: number) => { calls.push(['editWorkspaceRecord', type, id]); return Promise.resolve(); },
    createWorkspaceRecord: (type: string) => { calls.push(['createWorkspaceRecord', type]); return Promise.resolve(newRecord); },
  };
  const provider = {
    registerWorkspaceExtension: (cb: (w: unknown) => void) => cb(workspaceRecord),
    getGlobalContext: () => Promise.resolve({
      getInterfaceServiceUrl: (kind: string) => (kind === 'REST' ? `${ORIGIN}/services/rest` : ''),
      getSessionToken: () => Promise.resolve('tok123'),
    }),
  };
  const fetch = async (url: string, init: { headers: Record<string, string> }) => {
    calls.push(['fetch', url, plain(init.headers)]);
    return { ok: true, status: 200, json: async () => ({ items: [{ rows }] }) };
  };
  const ORACLE_SERVICE_CLOUD = { extension_loader: { load: (name: string, v: string) => { calls.push(['load', name, v]); return Promise.resolve(provider); } } };
  return { calls, globals: { ORACLE_SERVICE_CLOUD, fetch } };
}

test('oracle main world: search-and-pop through Connect REST and the workspace API', async () => {
  const f = fakeBui([['42']]);
  const run = inPage(oracleMainWorld, f.globals);
  assert.deepEqual(plain(await run({ op: 'search', query: { phone: '+1 555-0100' } })), {
    ok: true, done: true, api: 'ORACLE_SERVICE_CLOUD.extension_loader', count: 1, ids: ['42'],
  });
  const roql = "SELECT ID FROM Contacts WHERE Phones.Number = '+1 555-0100' LIMIT 2";
  assert.deepEqual(f.calls, [
    ['load', 'Omnibridge', '1'],
    ['fetch', `${ORIGIN}/services/rest/connect/v1.4/queryResults/?query=${encodeURIComponent(roql)}`,
      { Authorization: 'Session tok123', 'OSvC-CREST-Application-Context': 'Omnibridge screen pop' }],
    ['editWorkspaceRecord', 'Contact', 42],
  ]);

  const several = fakeBui([['42'], ['43']]);
  const r = await inPage(oracleMainWorld, several.globals)({ op: 'search', query: { email: 'ann@example.com' } });
  assert.deepEqual(plain(r), { ok: true, done: false, api: 'ORACLE_SERVICE_CLOUD.extension_loader', count: 2, ids: ['42', '43'] });
  assert.ok(String(several.calls[1]![1]).includes(encodeURIComponent("Emails.Address = 'ann@example.com'")));
  assert.equal(several.calls.length, 2, 'no record opened for two matches');

  // ROQL injection attempts never reach the REST call.
  const inj = fakeBui([]);
  const runInj = inPage(oracleMainWorld, inj.globals);
  assert.equal((await runInj({ op: 'search', query: { phone: "1' OR 1=1 --" } })).ok, false);
  assert.equal((await runInj({ op: 'search', query: { email: "x'@y.z" } })).ok, false);
  assert.equal(inj.calls.filter((c) => c[0] === 'fetch').length, 0);
});

test('oracle main world: open and create workspace records', async () => {
  const f = fakeBui([]);
  const run = inPage(oracleMainWorld, f.globals);
  assert.equal((await run({ op: 'record', recordType: 'case', recordId: '1001' })).done, true);
  assert.equal((await run({ op: 'newRecord', recordType: 'contact', fields: { 'Name.First': HOSTILE.html, 'Contact.Emails.Address': 'a@b' } })).done, true);
  assert.deepEqual(f.calls.filter((c) => c[0] !== 'load'), [
    ['editWorkspaceRecord', 'Incident', 1001],
    ['createWorkspaceRecord', 'Contact'],
    ['updateField', 'Contact.Name.First', HOSTILE.html],
    ['updateField', 'Contact.Emails.Address', 'a@b'],
  ]);
  const acted = () => f.calls.filter((c) => c[0] !== 'load').length;
  const before = acted();
  assert.equal((await run({ op: 'record', recordType: 'contact', recordId: HOSTILE.traversal })).ok, false);
  assert.equal((await run({ op: 'record', recordType: 'contact', recordId: '0' })).ok, false);
  assert.equal((await run({ op: 'newRecord', recordType: 'contact', fields: { 'a b': 'x' } })).ok, false);
  assert.equal((await run({ op: 'logActivity', activity: { subject: 's', body: 'b' } })).ok, false);
  assert.equal(acted(), before, 'nothing opened or created');
});

test('oracle main world: without the extensibility library it answers and does nothing', async () => {
  const r = await inPage(oracleMainWorld, {})({ op: 'record', recordType: 'contact', recordId: '1' });
  assert.deepEqual(plain(r), {
    ok: false, done: false, api: 'ORACLE_SERVICE_CLOUD.extension_loader',
    error: 'the B2C Service extensibility library is not loaded in this frame',
  });
});

test('oracle main world: source evaluates no strings and builds no HTML', () => {
  for (const re of FORBIDDEN_IN_MAIN_WORLD) assert.doesNotMatch(oracleMainWorld.toString(), re);
});
