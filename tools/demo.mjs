#!/usr/bin/env node
// The demo (README's first command, through tools/demo): pbx-sim as the telephony platform,
// omnibridge-host registered in a throw-away Chromium profile, the demo CRM on localhost, and
// Chromium with the extension. Calls arrive by themselves; the agent bar, toasts, offers and
// screen pops appear in the CRM tab. Headed when a display exists, else headless with
// screenshots saved into the folder it prints. Ctrl-C stops everything it started.
import {chromium} from 'playwright-core';
import {spawn} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {connect} from 'node:net';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const HOST = resolve(args.host ?? join(ROOT, 'build/release/native-host/src/app/omnibridge-host'));
const PBX_SIM = resolve(args['pbx-sim'] ?? join(ROOT, 'build/release/tools/pbx-sim/pbx-sim'));
const EXTENSION = resolve(args.extension ?? join(ROOT, 'extension/dist'));
const EXTENSION_ID = readFileSync(join(ROOT, 'manifests/extension-id.txt'), 'utf8').trim();
const headless = args.headless !== undefined ? args.headless !== 'false' : !process.env.DISPLAY;
const tourCalls = Number(args.calls ?? (headless ? 4 : Infinity));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...m) => console.log('[demo]', ...m);

const work = mkdtempSync(join(tmpdir(), 'omnibridge-demo-'));
const shots = resolve(args.screenshots ?? join(ROOT, '.demo', new Date().toISOString().replace(/[:.]/g, '-')));
const children = [];
let context = null;
let stopping = false;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping everything the demo started');
  try {
    await context?.close();
  } catch {
    // already closed
  }
  for (const child of children) child.kill('SIGTERM');
  await sleep(200);
  for (const child of children) child.kill('SIGKILL');
  try {
    for (const pid of readFileSync(join(work, 'host.pids'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited with the browser
      }
    }
  } catch {
    // no host was started
  }
  rmSync(work, {recursive: true, force: true});
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

/** Starts a child whose first stdout line is JSON; resolves with it. */
function startJsonChild(cmd, argv, what) {
  const child = spawn(cmd, argv, {stdio: ['ignore', 'pipe', 'inherit']});
  children.push(child);
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i >= 0) resolvePromise(JSON.parse(out.slice(0, i)));
    });
  });
}

function control(port, cmd) {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(cmd) + '\n'));
    socket.on('data', (d) => {
      data += d;
      if (data.includes('\n')) {
        socket.end();
        resolvePromise(JSON.parse(data.slice(0, data.indexOf('\n'))));
      }
    });
    socket.on('error', reject);
  });
}

async function main() {
  const pbx = await startJsonChild(PBX_SIM, ['--ami-port', '0', '--control-port', '0',
    '--queue-log', join(work, 'queue_log')], 'pbx-sim');
  log(`pbx-sim: AMI on 127.0.0.1:${pbx.ami}, control on ${pbx.control}`);
  const crm = await startJsonChild(process.execPath, [join(ROOT, 'tools/demo-crm/server.mjs'),
    '--port', '0', '--host', '127.0.0.1'], 'demo CRM');
  const origin = `http://127.0.0.1:${crm.port}`;
  log(`demo CRM: ${origin}/`);

  // The host, registered for this profile only (nothing is written outside the temp folder).
  const config = {
    allowedOrigins: [`chrome-extension://${EXTENSION_ID}/`],
    cti: {driver: 'ami', ami: {host: '127.0.0.1', port: pbx.ami, username: 'harmony', secret: 'harmony-secret'}},
    agent: {id: '1001', interfaces: ['Local/1001@agents/n', 'Local/1001@omnibridge-task/n'],
      queues: ['support', 'digital'], reasonCodes: ['Break', 'Lunch', 'Training']},
    connect: {port: 18787},
  };
  writeFileSync(join(work, 'config.json'), JSON.stringify(config, null, 2));
  const wrapper = join(work, 'omnibridge-host.sh');
  const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  writeFileSync(wrapper, ['#!/bin/sh', `echo $$ >> ${q(join(work, 'host.pids'))}`,
    `export OMNIBRIDGE_CONFIG=${q(join(work, 'config.json'))}`,
    `export XDG_CONFIG_HOME=${q(join(work, 'config'))}`, `export XDG_STATE_HOME=${q(join(work, 'state'))}`,
    `exec ${q(HOST)} "$@"`, ''].join('\n'));
  chmodSync(wrapper, 0o755);
  const profile = join(work, 'profile');
  mkdirSync(join(profile, 'NativeMessagingHosts'), {recursive: true});
  writeFileSync(join(profile, 'NativeMessagingHosts', 'org.omnibridge.host.json'), JSON.stringify({
    name: 'org.omnibridge.host', description: 'Omnibridge host (demo)', path: wrapper, type: 'stdio',
    allowed_origins: [`chrome-extension://${EXTENSION_ID}/`]}, null, 2));

  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium', headless,
    viewport: {width: 1360, height: 860},
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--disable-extensions-except=${EXTENSION}`,
      `--load-extension=${EXTENSION}`],
  });
  const extPage = await context.newPage();
  await extPage.goto(`chrome-extension://${EXTENSION_ID}/options.html`);
  const templates = JSON.parse(readFileSync(join(ROOT, 'tools/demo-crm/adapter-settings.json'), 'utf8')).templates;
  await extPage.evaluate((entry) => chrome.storage.local.set({crm: [entry]}), {origin, adapter: 'generic', templates});
  const page = await context.newPage();
  await sleep(500);
  await page.goto(origin + '/');
  log(headless ? `headless (no display): screenshots go to ${shots}` : 'Chromium is open: watch the CRM tab');
  if (headless) mkdirSync(shots, {recursive: true});
  const shot = async (name) => {
    if (!headless) return;
    const target = context.pages().filter((p) => p.url().startsWith(origin)).at(-1) ?? page;
    await target.screenshot({path: join(shots, `${name}.png`)}).catch(() => {});
    log(`screenshot ${join(shots, `${name}.png`)}`);
  };
  await sleep(2000);
  await shot('00-agent-bar');

  const callers = JSON.parse(readFileSync(join(ROOT, 'tools/demo-crm/data/crm.json'), 'utf8')).contacts
      .filter((c) => /^\+\d+$/.test(c.phone));
  for (let n = 0; n < tourCalls && !stopping; n++) {
    if (n % 3 === 2) {
      const chat = await control(pbx.control, {cmd: 'call', channel: 'chat', queue: 'digital',
        from: `chat-${n}`, name: 'Web visitor', subject: `Question about order ${1000 + n}`,
        customer: `Web visitor <visitor${n}@example.com>`, crmUrl: `${origin}/chats/${(n % 3) + 1}`});
      log(`chat routed through the ACD as a virtual call (${chat.ok ? chat.uniqueid : chat.error})`);
      await sleep(2500);
      await shot(`${String(n + 1).padStart(2, '0')}-offer`);
      await sleep(6000);
      continue;
    }
    const c = callers[n % callers.length];
    const call = await control(pbx.control, {cmd: 'call', from: c.phone, name: `${c.firstName} ${c.lastName}`,
      queue: 'support', to: '5000', answerAfter: 3, duration: 6});
    log(`inbound call from ${c.firstName} ${c.lastName} ${c.phone} (${call.ok ? call.linkedid : call.error})`);
    await sleep(1500);
    await shot(`${String(n + 1).padStart(2, '0')}-ringing-and-pop`);
    await sleep(3000);
    await shot(`${String(n + 1).padStart(2, '0')}-connected`);
    await sleep(6000);
    // The call ended and the agent is in wrap-up (paused ACW); the agent clicks Ready.
    await extPage.evaluate(() => chrome.runtime.sendMessage(
        {kind: 'host.request', type: 'agent.setState', body: {state: 'ready'}})).catch(() => {});
    await sleep(1000);
  }
  if (headless) {
    log(`tour done; screenshots are in ${shots}`);
    await stop(0);
  }
  log('the demo keeps running; Ctrl-C stops it');
  for (let n = tourCalls; !stopping; n++) await sleep(1000);
}

main().catch((e) => {
  console.error('[demo] failed:', e.message);
  void stop(1);
});
