import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter } from './index.js';
import { HOSTILE } from './test-support.js';

const ORIGIN = 'https://acme.service-now.com';
const SYS = '62826bf03710200044e0bfc8bcbe5df1';
const sn = (options?: { workspace?: string; searchTable?: string }) => createAdapter({ origin: ORIGIN, adapter: 'servicenow', options });

/** The inner URL carried by nav_to.do?uri=. */
function inner(url: string): URL {
  const u = new URL(url);
  assert.equal(u.pathname, '/nav_to.do');
  assert.deepEqual([...u.searchParams.keys()], ['uri']);
  return new URL(u.searchParams.get('uri')!, ORIGIN);
}

test('servicenow: record, new-record and search URLs', () => {
  const a = sn();
  assert.equal(a.id, 'servicenow');
  assert.equal(a.recordUrl('incident', SYS), `${ORIGIN}/nav_to.do?uri=incident.do%3Fsys_id%3D${SYS}`);
  assert.equal(a.recordUrl('contact', SYS.toUpperCase()), `${ORIGIN}/nav_to.do?uri=customer_contact.do%3Fsys_id%3D${SYS}`);
  assert.equal(a.recordUrl('case', SYS), `${ORIGIN}/nav_to.do?uri=sn_customerservice_case.do%3Fsys_id%3D${SYS}`);
  assert.equal(a.newRecordUrl('incident', {}), `${ORIGIN}/nav_to.do?uri=incident.do%3Fsys_id%3D-1`);
  assert.equal(
    a.newRecordUrl('incident', { short_description: 'Call from +1 555', caller_id: SYS }),
    `${ORIGIN}/nav_to.do?uri=incident.do%3Fsys_id%3D-1%26sysparm_query%3Dshort_description%253DCall%2520from%2520%252B1%2520555%255Ecaller_id%253D${SYS}`,
  );
  const n = inner(a.newRecordUrl('incident', { short_description: 'Call', caller_id: SYS })!);
  assert.equal(n.pathname, '/incident.do');
  assert.equal(n.searchParams.get('sys_id'), '-1');
  assert.equal(n.searchParams.get('sysparm_query'), `short_description=Call^caller_id=${SYS}`);

  const s = inner(a.searchUrl({ phone: '+15550100' })!);
  assert.equal(s.pathname, '/sys_user_list.do');
  assert.equal(s.searchParams.get('sysparm_query'), 'phone=+15550100^ORmobile_phone=+15550100');
  assert.equal(inner(a.searchUrl({ email: 'ann@example.com' })!).searchParams.get('sysparm_query'), 'email=ann@example.com');
  assert.equal(inner(sn({ searchTable: 'customer_contact' }).searchUrl({ email: 'a@b' })!).pathname, '/customer_contact_list.do');
  assert.equal(a.searchUrl({}), null);
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b' }), null);
});

test('servicenow: workspace record URLs', () => {
  assert.equal(sn({ workspace: 'now/sow' }).recordUrl('incident', SYS), `${ORIGIN}/now/sow/record/incident/${SYS}`);
  assert.equal(sn({ workspace: '/now/cwf/agent/' }).recordUrl('case', SYS), `${ORIGIN}/now/cwf/agent/record/sn_customerservice_case/${SYS}`);
  assert.throws(() => sn({ workspace: '../evil' }), /options.workspace/);
  assert.throws(() => sn({ workspace: 'https://evil.example/now' }), /options.workspace/);
  assert.throws(() => sn({ searchTable: 'sys_user?x' }), /options.searchTable/);
});

test('servicenow: hostile values stay inside one encoded-query value; carets and bad ids give null', () => {
  const a = sn();
  for (const [name, value] of Object.entries(HOSTILE)) {
    if (name === 'loneSurrogate') continue;
    const n = inner(a.newRecordUrl('incident', { short_description: value })!);
    assert.equal(n.pathname, '/incident.do', name);
    assert.deepEqual([...n.searchParams.keys()], ['sys_id', 'sysparm_query'], name);
    assert.equal(n.searchParams.get('sysparm_query'), `short_description=${value}`, name);
    const s = inner(a.searchUrl({ email: value })!);
    assert.equal(s.searchParams.get('sysparm_query'), `email=${value.trim()}`, name);
  }
  assert.equal(a.newRecordUrl('incident', { short_description: 'a^ORpriority=1' }), null);
  assert.equal(a.searchUrl({ phone: '1^NQactive=true' }), null);
  assert.equal(a.newRecordUrl('incident', { short_description: 'a\nb' }), null);
  assert.equal(a.newRecordUrl('incident', { 'Short Description': 'x' }), null);
  assert.equal(a.newRecordUrl('incident', { short_description: HOSTILE.loneSurrogate }), null);
  assert.equal(a.recordUrl('incident', SYS.slice(1)), null);
  assert.equal(a.recordUrl('incident', `${SYS}&sysparm_view=x`), null);
  assert.equal(a.recordUrl('incident', HOSTILE.traversal), null);
  assert.equal(a.recordUrl('incident.do?x', SYS), null);
  assert.equal(a.recordUrl('', SYS), null);
});
