import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter, planPop } from './index.js';
import { HOSTILE } from './test-support.js';

const ORIGIN = 'https://acme.zendesk.com';
const zd = () => createAdapter({ origin: ORIGIN, adapter: 'zendesk' });

test('zendesk: record, new ticket and search URLs', () => {
  const a = zd();
  assert.equal(a.id, 'zendesk');
  assert.equal(a.recordUrl('user', '12345'), `${ORIGIN}/agent/users/12345`);
  assert.equal(a.recordUrl('contact', '12345'), `${ORIGIN}/agent/users/12345`);
  assert.equal(a.recordUrl('ticket', '987'), `${ORIGIN}/agent/tickets/987`);
  assert.equal(a.recordUrl('Case', '987'), `${ORIGIN}/agent/tickets/987`);
  assert.equal(a.recordUrl('organization', '5'), `${ORIGIN}/agent/organizations/5`);
  assert.equal(a.newRecordUrl('ticket', { subject: 'ignored' }), `${ORIGIN}/agent/tickets/new/1`);
  assert.equal(a.searchUrl({ phone: '+1 555 0100' }), `${ORIGIN}/agent/search/1?q=%2B1%20555%200100`);
  assert.equal(a.searchUrl({ email: 'ann@example.com' }), `${ORIGIN}/agent/search/1?q=ann%40example.com`);
});

test('zendesk: what has no URL gives null', () => {
  const a = zd();
  assert.equal(a.newRecordUrl('user', {}), null);
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b' }), null);
  assert.equal(a.searchUrl({}), null);
  assert.equal(a.mainWorld, undefined);
  assert.equal(planPop(a, { op: 'logActivity', activity: { subject: 's', body: 'b' } }).kind, 'unsupported');
});

test('zendesk: ids must be positive integers; hostile search values are encoded', () => {
  const a = zd();
  for (const bad of ['0', '012', '-1', '1.5', '1e3', '12a', HOSTILE.traversal, HOSTILE.dots, '', '1/../2', '123456789012345678901']) {
    assert.equal(a.recordUrl('user', bad), null, bad);
  }
  assert.equal(a.recordUrl('macro', '1'), null);
  assert.equal(a.recordUrl(HOSTILE.traversal, '1'), null);
  for (const [name, value] of Object.entries(HOSTILE)) {
    if (name === 'loneSurrogate') {
      assert.equal(a.searchUrl({ phone: value }), null);
      continue;
    }
    const u = new URL(a.searchUrl({ phone: value })!);
    assert.equal(u.pathname, '/agent/search/1', name);
    assert.equal(u.hash, '', name);
    assert.deepEqual([...u.searchParams.keys()], ['q'], name);
    assert.equal(u.searchParams.get('q'), value.trim(), name);
  }
});
