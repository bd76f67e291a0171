// Two CRM tabs → exactly one pop, in the most recently focused tab (not the newest one); the
// ringing toast shows there.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {join} from 'node:path';
import {ROOT, shadowEval, shadowScreenshot, startStack, waitFor} from '../lib/stack.mjs';

test('two CRM tabs: exactly one pop', {timeout: 60000}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  // the tab opened last is not the one focused last: the agent went back to the first tab
  const second = await s.openCrmTab('/');
  const first = await s.openCrmTab('/contacts');
  await second.bringToFront();
  await new Promise((r) => setTimeout(r, 300));
  await s.control({cmd: 'call', from: '+15555678', name: 'Bob Sample', queue: 'support'});

  await waitFor(() => second.url().endsWith('/contacts/1002'), 'the pop in the focused tab', 15000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await s.searches()).length, 1, 'one search request in all');
  assert.ok(first.url().endsWith('/contacts'), 'the other tab stayed where it was');

  // the ringing toast is in the popped tab only; both bars list the call
  const toast = await waitFor(() => shadowEval(second, (root) => root.querySelector('[data-ob="incoming-toast"] h2')?.textContent),
      'the incoming toast in the popped tab');
  assert.match(toast, /Bob Sample/);
  assert.equal(await shadowEval(first, (root) => root.querySelectorAll('[data-ob="incoming-toast"]').length), 0);
  await waitFor(async () => (await shadowEval(first, (root) => root.querySelectorAll('[data-ob="caller-name"]').length)) === 1,
      'the call in the other tab\'s bar');
  await shadowScreenshot(second, '[data-ob="incoming-toast"]', join(ROOT, 'docs/screenshots/incoming-toast.png'));
});
