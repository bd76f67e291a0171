// An inbound call pops the caller's record in the CRM tab, once; the agent bar shows the call.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {join} from 'node:path';
import {ROOT, shadowEval, shadowScreenshot, startStack, waitFor} from '../lib/stack.mjs';

test('inbound call pops the caller\'s record in the CRM tab', {timeout: 60000}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  const reply = await s.control({cmd: 'call', from: '+15551234', name: 'Alice Example', queue: 'support'});
  assert.ok(reply, 'the control port answered');

  // the default pop searches by the caller's number; the CRM's single hit is Alice's record
  await waitFor(() => tab.url().endsWith('/contacts/1001'), 'the tab to show the caller\'s record', 15000);
  await tab.waitForSelector('#record-name');
  assert.equal(await tab.textContent('#record-name'), 'Alice Example');
  assert.equal((await s.searches()).length, 1, 'one search pop');
  if (s.backend === 'fake') {
    // the action's result went back to the host as crm.event popflow.result
    const {events} = await waitFor(async () => {
      const r = await s.control({cmd: 'crmEvents'});
      return r.events.length ? r : null;
    }, 'the popflow result at the host');
    assert.equal(events.length, 1);
    assert.equal(events[0].event, 'popflow.result');
    assert.equal(events[0].actionIndex, 0);
    assert.equal(events[0].ok, true);
    assert.match(events[0].data.url, /\/search\?q=%2B15551234$/);
  }

  // after the navigation the content script is back and the bar lists the live call
  const names = await waitFor(async () => {
    const n = await shadowEval(tab, (root) => [...root.querySelectorAll('[data-ob="caller-name"]')].map((e) => e.textContent));
    return n?.length ? n : null;
  }, 'the call in the agent bar');
  assert.deepEqual(names, ['Alice Example']);
  await shadowScreenshot(tab, '[data-ob="bar"]', join(ROOT, 'docs/screenshots/agent-bar.png'));

  // a reload shows the live call again and does not pop again
  await tab.reload();
  await waitFor(async () => (await shadowEval(tab, (root) => root.querySelectorAll('[data-ob="caller-name"]').length)) === 1,
      'the live call after reload');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await s.searches()).length, 1, 'still one search pop');
});
