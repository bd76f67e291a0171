// The options page: add a CRM origin with the generic adapter's templates; the worker registers the
// content script for exactly that origin, and the agent bar appears there; the popup shows status.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {join} from 'node:path';
import {ROOT, shadowEval, startStack, waitFor} from '../lib/stack.mjs';

test('options: add a CRM origin, the agent bar appears there; popup shows status', {timeout: 60000}, async (t) => {
  const s = await startStack(t, {configureCrm: false, needs: 'host'});
  // a CRM tab open before the origin is configured gets the bar once it is
  const early = await s.context.newPage();
  await early.goto(`${s.crm.origin}/contacts`);
  const options = await s.context.newPage();
  await options.goto(s.extUrl('options.html'));
  await options.fill('#crm-origin', `${s.crm.origin}/some/page`);  // normalised to the origin
  await options.selectOption('#crm-adapter', 'generic');
  await options.fill('#tpl-search', s.crm.templates.search);
  await options.fill('#tpl-record', s.crm.templates.record);
  await options.click('#crm-add');
  await options.waitForSelector('#crm-rows tr');
  assert.deepEqual(await options.$$eval('#crm-rows tr td:first-child', (tds) => tds.map((td) => td.textContent)), [s.crm.origin]);
  assert.equal(await options.textContent('#crm-rows tr td:nth-child(4)'), 'granted');
  const registered = await waitFor(() => s.inExtension(async () => {
    const [c] = await chrome.scripting.getRegisteredContentScripts({ids: ['omnibridge-crm']});
    return c?.matches;
  }), 'the content script registration');
  assert.deepEqual(registered, [`${s.crm.origin}/*`]);

  // a bad template is refused in the form, not at pop time
  await options.fill('#crm-origin', 'http://localhost:9');
  await options.fill('#tpl-search', 'javascript:alert(1)');
  await options.click('#crm-add');
  await waitFor(() => options.textContent('#crm-error'), 'the template error');
  assert.equal(await options.locator('#crm-rows tr').count(), 1);

  await waitFor(() => shadowEval(early, (root) => !!root.querySelector('[data-ob="bar"]')), 'the bar in the tab opened before');
  assert.equal(await early.locator('#omnibridge-root').count(), 1);
  const tab = await s.openCrmTab('/');  // waits for the bar in the closed shadow root
  assert.ok(tab);
  // another origin (localhost, same server) is not configured: no bar there
  const other = await s.context.newPage();
  await other.goto(s.crm.origin.replace('127.0.0.1', 'localhost') + '/');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await other.locator('#omnibridge-root').count(), 0);

  // the popup reports the host link; the diagnostics list the host's capabilities
  await s.waitHostReady(15000, {cti: false});
  const popup = await s.context.newPage();
  await popup.goto(s.extUrl('popup.html'));
  await waitFor(async () => /^connected/.test(await popup.textContent('#host')), 'popup: host connected');
  await popup.locator('main').screenshot({path: join(ROOT, 'docs/screenshots/popup.png')});
  await waitFor(async () => /ping/.test(await options.textContent('#diag-caps')), 'options: capabilities');
});
