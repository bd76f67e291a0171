import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter } from './index.js';
import { HOSTILE } from './test-support.js';

const ORIGIN = 'https://app-eu1.hubspot.com';
const hs = () => createAdapter({ origin: ORIGIN, adapter: 'hubspot', options: { portalId: '4242' } });

test('hubspot: record and search URLs carry the portal id', () => {
  const a = hs();
  assert.equal(a.id, 'hubspot');
  assert.equal(a.recordUrl('contact', '151'), `${ORIGIN}/contacts/4242/record/0-1/151`);
  assert.equal(a.recordUrl('company', '7'), `${ORIGIN}/contacts/4242/record/0-2/7`);
  assert.equal(a.recordUrl('deal', '7'), `${ORIGIN}/contacts/4242/record/0-3/7`);
  assert.equal(a.recordUrl('ticket', '7'), `${ORIGIN}/contacts/4242/record/0-5/7`);
  assert.equal(a.recordUrl('2-123456', '7'), `${ORIGIN}/contacts/4242/record/2-123456/7`, 'custom object type id');
  assert.equal(a.searchUrl({ phone: '+1 555 0100' }), `${ORIGIN}/contacts/4242/objects/0-1/views/all/list?query=%2B1%20555%200100`);
  assert.equal(a.searchUrl({ email: 'ann@example.com' }), `${ORIGIN}/contacts/4242/objects/0-1/views/all/list?query=ann%40example.com`);
});

test('hubspot: no URL for new records or activities; bad ids and types give null', () => {
  const a = hs();
  assert.equal(a.newRecordUrl('contact', { email: 'x' }), null);
  assert.equal(a.logActivityUrl!({ subject: 's', body: 'b' }), null);
  assert.equal(a.searchUrl({}), null);
  for (const bad of ['0', '01', 'abc', HOSTILE.traversal, '1/2', '']) assert.equal(a.recordUrl('contact', bad), null, bad);
  assert.equal(a.recordUrl('0-1/../x', '1'), null);
  assert.equal(a.recordUrl('widget', '1'), null);
  for (const [name, value] of Object.entries(HOSTILE)) {
    if (name === 'loneSurrogate') continue;
    const u = new URL(a.searchUrl({ email: value })!);
    assert.equal(u.pathname, '/contacts/4242/objects/0-1/views/all/list', name);
    assert.equal(u.searchParams.get('query'), value.trim(), name);
    assert.equal(u.hash, '', name);
  }
});

test('hubspot: the portal id is required and numeric', () => {
  assert.throws(() => createAdapter({ origin: ORIGIN, adapter: 'hubspot' }), /options.portalId/);
  assert.throws(() => createAdapter({ origin: ORIGIN, adapter: 'hubspot', options: { portalId: '42/../x' } }), /options.portalId/);
});
