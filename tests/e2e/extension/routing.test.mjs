// Digital routing end to end: a CRM webhook to the route server (the real router process) →
// pbx-sim queues the virtual call and rings agent 1001 → the agent's host (launched by Chromium)
// sends routing.offer → the offer card in the CRM tab → Accept → the ACD connects it and the work
// item opens in the browser.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {spawn, spawnSync} from 'node:child_process';
import {createHmac} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chooseBackend, shadowClick, shadowEval, startStack, waitFor} from '../lib/stack.mjs';

const SECRET = 'e2e-routing-secret-0123456789';

// pbx-sim with agent 1001 as the only member of the digital queue, so the offer is 1001's.
const simDir = mkdtempSync(join(tmpdir(), 'omnibridge-e2e-routing-'));
process.on('exit', () => rmSync(simDir, {recursive: true, force: true}));
const simConfig = join(simDir, 'sim.json');
writeFileSync(simConfig, JSON.stringify({
  queues: [
    {name: 'support', strategy: 'ringall', timeout: 20, retry: 2,
      members: [{interface: 'Local/1001@agents/n', membername: 'Agent/1001', stateInterface: 'hint:1001@agent-hints'}]},
    {name: 'digital', strategy: 'rrmemory', timeout: 30, retry: 1,
      members: [{interface: 'Local/1001@omnibridge-task/n', membername: 'Agent/1001', stateInterface: 'hint:1001@agent-hints'}]},
  ],
}));
process.env.OMNIBRIDGE_PBX_SIM_ARGS = `--ami-port 0 --control-port 0 --config ${simConfig}`;

/** The route mode: $OMNIBRIDGE_ROUTE if set, else `omnibridge-host route`. */
function routeCommand(host) {
  if (process.env.OMNIBRIDGE_ROUTE) return [process.env.OMNIBRIDGE_ROUTE, ['route']];
  if (host && spawnSync(host, ['route', '--help'], {encoding: 'utf8'}).status === 0) return [host, ['route']];
  return null;
}

function startRouter(command, configPath) {
  const [bin, args] = command;
  const child = spawn(bin, [...args, '--config', configPath], {stdio: ['ignore', 'pipe', 'inherit']});
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the router printed nothing: ${out}`));
    }, 10000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      const {listen} = JSON.parse(out.slice(0, i));
      resolve({child, base: `http://${listen}`});
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the router exited (${code})`));
    });
  });
}

function signedPost(url, body) {
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
  return fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Omnibridge-Signature': `t=${t},v1=${v1}`}, body});
}

test('webhook → offer card in the CRM tab → accept → the work item opens', {timeout: 90000}, async (t) => {
  const choice = chooseBackend('acd');
  if (choice.kind !== 'real') {
    t.skip('needs omnibridge-host and pbx-sim (the route mode has no FakeBackend stand-in)');
    return;
  }
  const command = routeCommand(choice.host);
  if (!command) {
    t.skip('this omnibridge-host has no route mode (set OMNIBRIDGE_ROUTE)');
    return;
  }
  const s = await startStack(t);
  const hostConfig = JSON.parse(readFileSync(join(s.dir, 'host-config.json'), 'utf8'));
  const routeConfig = join(s.dir, 'route.json');
  writeFileSync(routeConfig, JSON.stringify({
    cti: hostConfig.cti,
    route: {listen: '127.0.0.1:0', journal: join(s.dir, 'route.sqlite'), offerTimeoutSeconds: 30,
      sources: [{name: 'crm', kind: 'generic', secret: SECRET, queue: 'digital'}]},
  }));
  const router = await startRouter(command, routeConfig);
  t.after(() => router.child.kill('SIGKILL'));
  const status = async () => (await fetch(`${router.base}/v1/status`)).json();
  await waitFor(async () => (await status()).link.state === 'up', 'the router\'s ACD link');

  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  const workItem = `${s.crm.origin}/chats/7001`;
  const started = Date.now();
  const r = await signedPost(`${router.base}/v1/webhooks/crm`, JSON.stringify({
    id: 'chat-7001', channel: 'chat', subject: 'Order #1234 arrived <b>damaged</b>, help',
    customer: {name: 'Dana Customer', address: 'dana@example.com'}, url: workItem,
  }));
  assert.equal(r.status, 202);
  const {interactionId} = await r.json();
  assert.match(interactionId, /^ob-[0-9a-f]{24}$/);

  const card = await waitFor(() => shadowEval(tab, (root) => {
    const c = root.querySelector('[data-ob="offer"]');
    return c ? {title: c.querySelector('h2').textContent, subject: c.querySelector('[data-ob="offer-subject"]').textContent,
      bold: c.querySelectorAll('b').length} : null;
  }), 'the offer card', 15000);
  process.stderr.write(`e2e routing: webhook → offer card ${Date.now() - started} ms\n`);
  assert.equal(card.title, 'New chat · digital');
  assert.equal(card.subject, 'Order #1234 arrived <b>damaged</b>, help');  // text, never markup
  assert.equal(card.bold, 0);
  assert.equal((await status()).interactions.find((i) => i.interactionId === interactionId).state, 'offered');

  await shadowClick(tab, '[data-ob="accept"]');
  await waitFor(async () => (await status()).interactions.find((i) => i.interactionId === interactionId)?.state === 'assigned',
    'the ACD to connect the accepted offer');
  const assigned = (await status()).interactions.find((i) => i.interactionId === interactionId);
  assert.equal(assigned.agent, 'Agent/1001');
  const log = await s.control({cmd: 'queueLog'});
  assert.ok(log.lines.some((l) => l.includes(`|${interactionId}-b|digital|Agent/1001|CONNECT|`)), log.lines.join('\n'));
  // The work item opens: the CRM tab navigates to it.
  await t.test('the work item opens', async () => {
    await waitFor(() => s.context.pages().some((p) => p.url() === workItem), `a tab on ${workItem}`, 10000);
  });
});
