// A caller name that is markup shows as text: no element is created from it, no script runs.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {shadowEval, startStack, waitFor} from '../lib/stack.mjs';

const NAME = '<img src=x onerror=alert(1)>';

test('caller name with markup is shown as text', {timeout: 60000}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  await s.control({cmd: 'call', from: '+15559999', name: NAME, queue: 'support'});
  // an unknown number: the pop lands on the CRM's (empty) search results
  await waitFor(() => tab.url().includes('/search'), 'the search pop', 15000);
  const seen = await waitFor(() => shadowEval(tab, (root) => {
    const name = root.querySelector('[data-ob="caller-name"]');
    const toast = root.querySelector('[data-ob="incoming-toast"] h2');
    return name && toast ? {name: name.textContent, toast: toast.textContent, imgs: root.querySelectorAll('img').length} : null;
  }), 'the call in the bar and the toast');
  assert.equal(seen.name, NAME);
  assert.equal(seen.toast, `Incoming voice: ${NAME}`);
  assert.equal(seen.imgs, 0, 'no <img> element in the shadow root');
  assert.equal(await tab.locator('img').count(), 0, 'none in the page either');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(s.dialogs, [], 'no alert() ran');
});
