// A chat routed through the ACD (pbx-sim's virtual call carrying the OB_* variables, as the route
// mode originates it) reaches this agent as an offer card with a countdown; accept answers the
// member leg (the ACD logs CONNECT) and opens the work item in the CRM tab; Complete in the agent
// bar ends it (COMPLETEAGENT) and the agent goes to wrap-up.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {join} from 'node:path';
import {ROOT, field, findActions, shadowClick, shadowEval, shadowScreenshot, startStack, waitFor} from '../lib/stack.mjs';

test('routing offer card: countdown, accept opens the work item, complete', {timeout: 90000}, async (t) => {
  const s = await startStack(t);
  if (!s.acd) {
    t.skip('needs pbx-sim');
    return;
  }
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  const workItem = `${s.crm.origin}/chats/1`;
  const placed = await s.control({cmd: 'call', channel: 'chat', queue: 'digital', interactionId: 'chat-42',
    from: 'chat-42', name: 'Dana Customer', subject: 'Order #1234 arrived damaged',
    customer: 'Dana Customer <dana@example.com>', crmUrl: workItem, offerTimeout: 30});
  assert.ok(placed.ok, JSON.stringify(placed));
  const card = await waitFor(() => shadowEval(tab, (root) => {
    const c = root.querySelector('[data-ob="offer"]');
    return c ? {title: c.querySelector('h2').textContent, subject: c.querySelector('[data-ob="offer-subject"]')?.textContent,
      customer: c.querySelector('[data-ob="offer-customer"]')?.textContent,
      countdown: c.querySelector('[data-ob="countdown"]').textContent, role: c.getAttribute('role')} : null;
  }), 'the offer card', 15000);
  assert.equal(card.title, 'New chat · digital');
  assert.equal(card.subject, 'Order #1234 arrived damaged');
  assert.equal(card.customer, 'Dana Customer <dana@example.com>');
  assert.equal(card.role, 'dialog');
  assert.match(card.countdown, /^(30|29|28) s$/);
  await shadowScreenshot(tab, '[data-ob="offer"]', join(ROOT, 'docs/screenshots/offer-card.png'));

  await shadowClick(tab, '[data-ob="accept"]');
  // Accept = Redirect of the member leg to agent-answer,1001,1; the ACD logs CONNECT.
  await waitFor(async () => findActions(await s.actions(), 'Redirect').some((a) =>
    field(a, 'Context') === 'agent-answer' && field(a, 'Exten') === '1001'), 'the Redirect that answers the member leg');
  await waitFor(async () => (await s.control({cmd: 'queueLog'})).lines.some((l) => l.includes('|chat-42-b|digital|Agent/1001|CONNECT|')),
      'CONNECT in queue_log');
  // The work item opens in the CRM tab.
  await waitFor(() => tab.url() === workItem, `the CRM tab on ${workItem}`, 10000);

  // Complete from the agent bar (on the work item's page) ends the virtual call.
  await waitFor(() => shadowEval(tab, (root) => !!root.querySelector('[data-ob="complete"]')), 'the Complete button', 15000);
  await shadowClick(tab, '[data-ob="complete"]');
  await waitFor(async () => (await s.control({cmd: 'queueLog'})).lines.some((l) => l.includes('|chat-42-b|digital|Agent/1001|COMPLETEAGENT|')),
      'COMPLETEAGENT in queue_log');
});
