// Ready / not ready from the agent bar → pbx-sim sees QueuePause for every interface, with the
// reason; the bar follows the ACD's agent.state.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {AGENT_INTERFACES, field, findActions, shadowClick, shadowEval, startStack, waitFor} from '../lib/stack.mjs';

test('ready / not ready from the agent bar reach the ACD as QueuePause', {timeout: 60000}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  const barState = () => shadowEval(tab, (root) => root.querySelector('[data-ob="bar"]')?.getAttribute('data-agent-state'));

  await waitFor(() => shadowEval(tab, (root) => !root.querySelector('[data-ob="ready"]').disabled), 'controls enabled');
  await shadowClick(tab, '[data-ob="ready"]');
  await waitFor(async () => (await barState()) === 'ready', 'the bar to show ready');
  let pauses = findActions(await s.actions(), 'QueuePause');
  assert.deepEqual(pauses.map((a) => [field(a, 'Interface'), String(field(a, 'Paused')).toLowerCase()]),
      AGENT_INTERFACES.map((i) => [i, 'false']));

  await shadowEval(tab, (root) => {
    const sel = root.querySelector('[data-ob="reason"]');
    sel.value = 'Lunch';
    sel.dispatchEvent(new Event('change', {bubbles: true}));
  });
  await shadowClick(tab, '[data-ob="not-ready"]');
  await waitFor(async () => (await barState()) === 'notReady', 'the bar to show not ready');
  pauses = findActions(await s.actions(), 'QueuePause').slice(AGENT_INTERFACES.length);
  assert.deepEqual(pauses.map((a) => [field(a, 'Interface'), String(field(a, 'Paused')).toLowerCase(), field(a, 'Reason')]),
      AGENT_INTERFACES.map((i) => [i, 'true', 'Lunch']));
  assert.equal(await shadowEval(tab, (root) => root.querySelector('[data-ob="state"]').textContent), 'Not ready — Lunch');
  assert.equal(await s.badge(), 'NR');
});
