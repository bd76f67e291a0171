import assert from 'node:assert/strict';
import {test} from 'node:test';
import {RouteError, Router, classifySender} from '../../../extension/src/background/router';

const EXT = 'abcdefghijklmnopabcdefghijklmnop';
const policy = {
  extensionId: EXT, extensionOrigin: `chrome-extension://${EXT}`,
  isCrmOrigin: (o: string) => o === 'https://crm.example.com',
};

test('classifySender: pages, CRM tabs, and everything refused', () => {
  const cases: Array<[string, Parameters<typeof classifySender>[0], string | null]> = [
    ['popup', {id: EXT, url: `chrome-extension://${EXT}/popup.html`}, 'page'],
    ['options tab', {id: EXT, url: `chrome-extension://${EXT}/options.html`, tab: {id: 3}}, 'page'],
    ['CRM top frame', {id: EXT, url: 'https://crm.example.com/a', origin: 'https://crm.example.com', tab: {id: 4}, frameId: 0}, 'content'],
    ['CRM subframe', {id: EXT, url: 'https://crm.example.com/a', tab: {id: 4}, frameId: 2}, null],
    ['other origin', {id: EXT, url: 'https://evil.example/', tab: {id: 4}, frameId: 0}, null],
    ['other extension', {id: 'x'.repeat(32), url: `chrome-extension://${EXT}/popup.html`}, null],
    ['no tab', {id: EXT, url: 'https://crm.example.com/'}, null],
    ['lookalike origin', {id: EXT, url: 'https://crm.example.com.evil.example/', tab: {id: 1}, frameId: 0}, null],
  ];
  for (const [name, sender, kind] of cases) {
    assert.equal(classifySender(sender, policy)?.kind ?? null, kind, name);
  }
});

test('dispatch checks the sender before the handler runs', async () => {
  let ran = 0;
  const r = new Router(() => policy).on('status.get', ['page'], () => ++ran).on('content.hello', ['content'], () => 'hi');
  const page = {id: EXT, url: `chrome-extension://${EXT}/popup.html`};
  const crm = {id: EXT, url: 'https://crm.example.com/', tab: {id: 1}, frameId: 0};
  assert.equal(await r.dispatch({kind: 'status.get'}, page), 1);
  await assert.rejects(r.dispatch({kind: 'status.get'}, crm), (e: RouteError) => e.code === 'sender_refused');
  await assert.rejects(r.dispatch({kind: 'content.hello'}, page), (e: RouteError) => e.code === 'sender_refused');
  assert.equal(await r.dispatch({kind: 'content.hello'}, crm), 'hi');
  await assert.rejects(r.dispatch({kind: 'nope'}, page), (e: RouteError) => e.code === 'unknown_kind');
  await assert.rejects(r.dispatch('text', page), (e: RouteError) => e.code === 'invalid_message');
  await assert.rejects(r.dispatch({kind: 'status.get'}, {url: 'https://x/'}), (e: RouteError) => e.code === 'sender_refused');
  assert.equal(ran, 1);
});
