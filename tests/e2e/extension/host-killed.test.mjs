// The host is killed: the badge says so, the bar says so, and the extension reconnects a new host.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {shadowEval, startStack, waitFor} from '../lib/stack.mjs';

test('host killed: badge shows it, the extension reconnects', {timeout: 60000}, async (t) => {
  const s = await startStack(t, {needs: 'host'});
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  await waitFor(async () => (await s.badge()) !== 'OFF', 'a badge for a live link');
  if (!s.acd) assert.equal(await s.badge(), 'CTI', 'host up, no ACD: the badge blames the CTI link');
  const [pid] = s.liveHostPids();
  assert.ok(pid);

  process.kill(pid, 'SIGKILL');
  // the badge and the bar show the host down (until the backoff's retry brings it back)
  await waitFor(async () => (await s.badge()) === 'OFF', 'the badge to show the host down', 5000, 10);
  const status = await s.status();
  assert.equal(status.host.code, 'host_exited');

  await s.waitHostReady(20000);
  assert.notEqual(await s.badge(), 'OFF');
  const pids = s.liveHostPids();
  assert.equal(pids.length, 1);
  assert.notEqual(pids[0], pid);
  await waitFor(() => shadowEval(tab, (root) => root.querySelector('[data-ob="bar"]').getAttribute('data-host') === 'ready'),
      'the bar to show the host back');
});

// A host started while a call already rings cannot tell from AMI which member leg is this agent's
// without parsing channel names (docs/asterisk.md, "Resync limits"); this waits for that.
test('host killed mid-call: the new host resyncs, the call is not popped again', {
  timeout: 90000,
  skip: 'known gap: a new host cannot attribute a call that was already ringing (docs/asterisk.md, Resync limits)',
}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  await s.control({cmd: 'call', from: '+15551234', name: 'Alice Example', queue: 'support'});
  await waitFor(() => tab.url().endsWith('/contacts/1001'), 'the pop', 15000);
  const [pid] = s.liveHostPids();
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => (await s.badge()) === 'OFF', 'the badge to show the host down', 5000, 10);
  await s.waitHostReady(20000);
  // past the resync grace: the call is listed because the new host announced it again
  await new Promise((r) => setTimeout(r, 6000));
  const snap = await s.status();
  assert.deepEqual(snap.interactions.map((i) => i.callerName), ['Alice Example'], 'the call is still listed');
  assert.equal((await s.searches()).length, 1, 'exactly one pop');
  assert.ok(tab.url().endsWith('/contacts/1001'));
});
