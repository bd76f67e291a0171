// Call controls in the agent bar: answer state shows, hang up and dial reach the ACD.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {findActions, shadowClick, shadowEval, startStack, waitFor} from '../lib/stack.mjs';

test('agent bar: hang up a call and dial a number', {timeout: 60000}, async (t) => {
  const s = await startStack(t);
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  const call = await s.control({cmd: 'call', from: '+15551234', name: 'Alice Example', queue: 'support'});
  await waitFor(() => tab.url().endsWith('/contacts/1001'), 'the pop', 15000);
  await s.control({cmd: 'answer', agent: '1001', id: call.linkedid});
  const li = await waitFor(() => shadowEval(tab, (root) => {
    const item = root.querySelector('[data-interaction-id]');
    return item && item.querySelector('[data-ob="interaction-state"]').textContent === 'connected' ?
      {buttons: [...item.querySelectorAll('button')].map((b) => b.textContent)} : null;
  }), 'the call connected in the bar');
  assert.deepEqual(li.buttons, ['Hold', 'Transfer', 'Hang up']);

  await shadowClick(tab, '[data-ob="hangup"]');
  // the call ends: it leaves the bar, or stays in wrap-up without call controls
  await waitFor(() => shadowEval(tab, (root) => {
    const item = root.querySelector('[data-interaction-id]');
    return !item || (item.querySelector('[data-ob="interaction-state"]').textContent === 'wrapup' && !item.querySelector('[data-ob="hangup"]'));
  }), 'the call to end in the bar');
  assert.ok(findActions(await s.actions(), 'Hangup').length >= 1, 'the ACD got a Hangup');
  assert.equal(await shadowEval(tab, (root) => root.querySelector('[data-ob="error"]').textContent), '');

  await shadowEval(tab, (root) => {
    root.querySelector('[data-ob="dial-number"]').value = '+15550000';
  });
  await shadowClick(tab, '[data-ob="dial"]');
  const originate = await waitFor(async () => findActions(await s.actions(), 'Originate')[0], 'an Originate at the ACD');
  assert.ok(JSON.stringify(originate).includes('15550000'), `dialled number in ${JSON.stringify(originate)}`);
});
