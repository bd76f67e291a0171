// The service worker is stopped mid-call (CDP): it comes back, reconnects a new host, and neither
// pops again nor loses the call in the agent bar.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {shadowEval, startStack, waitFor} from '../lib/stack.mjs';

test('service worker stopped mid-call: comes back, no duplicate pop, bar correct', {timeout: 60000}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  await s.control({cmd: 'call', from: '+15551234', name: 'Alice Example', queue: 'support'});
  await waitFor(() => tab.url().endsWith('/contacts/1001'), 'the first pop', 15000);
  const pidsBefore = s.liveHostPids();
  assert.equal(pidsBefore.length, 1, 'one host running');

  await s.stopWorker();
  // the old port closed: Chrome ends that host (EOF, SIGKILL after 2 s at the latest)
  await waitFor(() => !s.alive(pidsBefore[0]), 'the old host to exit', 10000);

  // any extension event wakes the worker; it reconnects a new host and resyncs
  const snap = await s.waitHostReady(20000);
  const pidsAfter = s.liveHostPids();
  assert.equal(pidsAfter.length, 1);
  assert.notEqual(pidsAfter[0], pidsBefore[0], 'a new host process');
  assert.deepEqual(snap.interactions.map((i) => i.callerName), ['Alice Example']);

  // the resynced host may announce the call (and its pop) again: the tab must not pop twice
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await s.searches()).length, 1, 'exactly one pop');
  assert.ok(tab.url().endsWith('/contacts/1001'));
  const bar = await waitFor(() => shadowEval(tab, (root) => ({
    names: [...root.querySelectorAll('[data-ob="caller-name"]')].map((e) => e.textContent),
    host: root.querySelector('[data-ob="bar"]').getAttribute('data-host'),
  })).then((b) => (b.host === 'ready' ? b : null)), 'the bar to show the host back');
  assert.deepEqual(bar.names, ['Alice Example']);
});
