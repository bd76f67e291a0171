// The e2e harness: pbx-sim + omnibridge-host (or the FakeBackend stand-in), a CRM site, and Debian
// Chromium with the extension loaded unpacked, the host manifest in a fresh user-data-dir.
//
// Backend selection: OMNIBRIDGE_HOST and OMNIBRIDGE_PBX_SIM (paths; ctest passes the targets'
// files) → the real host against pbx-sim. Otherwise binaries under build/*/ are used when found,
// else (or with E2E_BACKEND=fake) the FakeBackend, which is announced on stderr.
import {chromium} from 'playwright-core';
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync} from 'node:fs';
import {connect, createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {startCrmFixture} from './crm-fixture.mjs';
import {FakeBackend} from './fake-backend.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const EXTENSION_ID = readFileSync(join(ROOT, 'manifests/extension-id.txt'), 'utf8').trim();
export const HOST_NAME = 'org.omnibridge.host';
export const REASON_CODES = ['Break', 'Lunch', 'ACW'];
export const AGENT_INTERFACES = ['Local/1001@agents/n', 'Local/1001@omnibridge-task/n'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor(fn, what, timeoutMs = 10000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

let builtDir = null;
/** Builds the extension once per test process into a temp dir (never a stale dist/). */
export function buildExtension() {
  if (process.env.OMNIBRIDGE_EXTENSION_DIR) return process.env.OMNIBRIDGE_EXTENSION_DIR;
  if (builtDir) return builtDir;
  const out = mkdtempSync(join(tmpdir(), 'omnibridge-ext-'));
  const r = spawnSync(process.execPath, [join(ROOT, 'extension/build.mjs'), '--outdir', out], {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`extension build failed:\n${r.stdout}\n${r.stderr}`);
  builtDir = out;
  process.on('exit', () => rmSync(out, {recursive: true, force: true}));
  return out;
}

function findBuilt(rel) {
  const build = join(ROOT, 'build');
  if (!existsSync(build)) return null;
  for (const preset of ['release', 'debug', 'asan', ...readdirSync(build)]) {
    const p = join(build, preset, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Starts tools/demo-crm (the demo's CRM site) on an ephemeral port. */
function startDemoCrm() {
  const server = join(ROOT, 'tools/demo-crm/server.mjs');
  const child = spawn(process.execPath, [server, '--port', '0', '--host', '127.0.0.1'], {stdio: ['ignore', 'pipe', 'ignore']});
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo-crm printed no port: ${out}`));
    }, 10000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      const {port} = JSON.parse(out.slice(0, i));
      const origin = `http://127.0.0.1:${port}`;
      const settings = JSON.parse(readFileSync(join(ROOT, 'tools/demo-crm/adapter-settings.json'), 'utf8'));
      resolvePromise({
        origin, kind: 'demo-crm', templates: settings.templates,
        async hits() {
          const r = await fetch(`${origin}/api/hits`);
          return (await r.json()).hits.map((h) => (typeof h === 'string' ? h : h.path ?? String(h)));
        },
        close: () => new Promise((r) => {
          child.once('exit', () => r());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 2000).unref();
        }),
      });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo-crm exited (${code})`));
    });
  });
}

/** `needs`: 'acd' (host + pbx-sim) or 'host' (the host alone is enough: its link tests). */
export function chooseBackend(needs = 'acd') {
  if (process.env.E2E_BACKEND === 'fake') return {kind: 'fake'};
  const host = process.env.OMNIBRIDGE_HOST ?? findBuilt('native-host/src/app/omnibridge-host');
  const pbx = process.env.OMNIBRIDGE_PBX_SIM ?? findBuilt('tools/pbx-sim/pbx-sim');
  if (host && pbx) return {kind: 'real', host, pbx};
  if (host && needs === 'host') return {kind: 'real', host, pbx: null};
  if (process.env.E2E_BACKEND === 'real' && needs !== 'host') throw new Error('E2E_BACKEND=real but omnibridge-host or pbx-sim not found');
  process.stderr.write('e2e: omnibridge-host/pbx-sim not built: using the FakeBackend stand-in\n');
  return {kind: 'fake'};
}

/** Sends one command line to a control port and returns the first JSON line it answers (or null). */
export function controlCommand(port, cmd, timeoutMs = 3000) {
  return new Promise((resolvePromise, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolvePromise(null);
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(JSON.stringify(cmd) + '\n'));
    s.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      s.end();
      try {
        resolvePromise(JSON.parse(buf.slice(0, i)));
      } catch {
        resolvePromise({raw: buf.slice(0, i)});
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function unusedPort() {
  return new Promise((r) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => r(port));
    });
  });
}

function startPbxSim(bin) {
  const args = process.env.OMNIBRIDGE_PBX_SIM_ARGS ? process.env.OMNIBRIDGE_PBX_SIM_ARGS.split(' ') : [];
  const child = spawn(bin, args, {stdio: ['ignore', 'pipe', 'inherit']});
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pbx-sim printed no ports: ${out}`));
    }, 10000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      try {
        const ports = JSON.parse(out.slice(0, i));
        child.stdout.resume();
        resolvePromise({child, ami: ports.ami, control: ports.control});
      } catch (e) {
        child.kill('SIGKILL');
        reject(new Error(`pbx-sim's first line is not JSON: ${out}`));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pbx-sim exited (${code}) before printing its ports`));
    });
  });
}

/** Finds every AMI action object named `name` in whatever shape pbx-sim reports them. */
export function findActions(reply, name) {
  const out = [];
  const walk = (v) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v && typeof v === 'object') {
      const action = v.Action ?? v.action;
      if (typeof action === 'string' && action.toLowerCase() === name.toLowerCase()) out.push(v);
      else Object.values(v).forEach(walk);
    }
  };
  walk(reply);
  return out;
}

/** Reads a field of an AMI action whatever its key case. */
export function field(action, key) {
  const want = key.toLowerCase();
  // pbx-sim's action log keeps the headers as [name, value] pairs; other shapes use keys
  if (Array.isArray(action.headers)) {
    const pair = action.headers.find((h) => Array.isArray(h) && String(h[0]).toLowerCase() === want);
    if (pair) return pair[1];
  }
  for (const [k, v] of Object.entries(action)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/**
 * Starts everything for one test. `t` is the node:test context (cleanup registered on it).
 * Returns handles; `close()` is idempotent and also runs on t.after.
 */
export async function startStack(t, {configureCrm = true, needs = 'acd', crmSite = 'demo'} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'omnibridge-e2e-'));
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()();
      } catch (e) {
        process.stderr.write(`e2e cleanup: ${e}\n`);
      }
    }
  };
  t.after(cleanup);
  try {
    const choice = chooseBackend(needs);
    process.stderr.write(`e2e: backend ${choice.kind === 'fake' ? 'FakeBackend stand-in' :
      `omnibridge-host ${choice.host}${choice.pbx ? ` + pbx-sim ${choice.pbx}` : ' alone (no ACD)'}`}\n`);
    const pidFile = join(dir, 'host.pids');
    const wrapper = join(dir, 'omnibridge-host-wrapper.sh');
    let control;
    let fake = null;
    const env = {XDG_CONFIG_HOME: join(dir, 'config'), XDG_STATE_HOME: join(dir, 'state')};
    let target;
    if (choice.kind === 'real') {
      let pbx = {ami: await unusedPort(), control: null};  // host alone: its CTI link stays down
      if (choice.pbx) {
        pbx = await startPbxSim(choice.pbx);
        cleanups.push(async () => {
          pbx.child.kill('SIGTERM');
          await sleep(50);
          pbx.child.kill('SIGKILL');
        });
      }
      control = pbx.control;
      const config = {
        allowedOrigins: [`chrome-extension://${EXTENSION_ID}/`],
        cti: {driver: 'ami', ami: {host: '127.0.0.1', port: pbx.ami, username: 'harmony', secret: 'harmony-secret'}},
        agent: {id: '1001', interfaces: AGENT_INTERFACES, queues: ['support', 'sales'], reasonCodes: REASON_CODES},
      };
      env.OMNIBRIDGE_CONFIG = join(dir, 'host-config.json');
      writeFileSync(env.OMNIBRIDGE_CONFIG, JSON.stringify(config, null, 2));
      target = choice.host;
    } else {
      fake = await new FakeBackend({reasonCodes: REASON_CODES, interfaces: AGENT_INTERFACES}).start();
      cleanups.push(() => fake.stop());
      control = fake.controlPort;
      env.OB_FAKE_BUS_PORT = String(fake.busPort);
      target = join(ROOT, 'tests/e2e/lib/fake-host.mjs');
    }
    mkdirSync(env.XDG_CONFIG_HOME, {recursive: true});
    mkdirSync(env.XDG_STATE_HOME, {recursive: true});
    const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
    const lines = ['#!/bin/sh', `echo $$ >> ${q(pidFile)}`];
    for (const [k, v] of Object.entries(env)) lines.push(`export ${k}=${q(v)}`);
    // stdout is the protocol: the wrapper prints nothing, and exec keeps the pid Chrome kills.
    lines.push(choice.kind === 'fake' ? `exec ${q(process.execPath)} ${q(target)} "$@"` : `exec ${q(target)} "$@"`);
    writeFileSync(wrapper, lines.join('\n') + '\n');
    chmodSync(wrapper, 0o755);
    const profile = join(dir, 'profile');
    mkdirSync(join(profile, 'NativeMessagingHosts'), {recursive: true});
    writeFileSync(join(profile, 'NativeMessagingHosts', `${HOST_NAME}.json`), JSON.stringify({
      name: HOST_NAME, description: 'Omnibridge host (e2e)', path: wrapper, type: 'stdio',
      allowed_origins: [`chrome-extension://${EXTENSION_ID}/`],
    }, null, 2));
    cleanups.push(() => {
      for (const pid of hostPids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
    cleanups.push(() => rmSync(dir, {recursive: true, force: true}));
    const hostPids = () => existsSync(pidFile) ?
      readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    const alive = (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };

    // tools/demo-crm when it is there (the demo's site), else the small fixture; the bench asks
    // for the fixture because it timestamps requests.
    const useDemo = crmSite === 'demo' && existsSync(join(ROOT, 'tools/demo-crm/server.mjs')) && !process.env.E2E_CRM_FIXTURE;
    const crm = useDemo ? await startDemoCrm() : await startCrmFixture();
    cleanups.push(() => crm.close());

    const ext = buildExtension();
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
      headless: true,
      viewport: {width: 1280, height: 800},
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--disable-extensions-except=${ext}`, `--load-extension=${ext}`],
    });
    cleanups.push(() => context.close());
    const dialogs = [];
    context.on('page', (p) => p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    }));

    const extUrl = (path) => `chrome-extension://${EXTENSION_ID}/${path}`;
    const extPage = await context.newPage();
    await extPage.goto(extUrl('popup.html'));
    /** Runs fn(arg) in an extension page (chrome.* available). */
    const inExtension = (fn, arg) => extPage.evaluate(fn, arg);

    const stack = {
      backend: choice.kind, acd: choice.kind === 'fake' || !!choice.pbx, dir,
      control: (cmd) => {
        if (!control) throw new Error('no ACD in this stack (host-only)');
        return controlCommand(control, cmd);
      }, fake, crm, context, extPage, dialogs,
      inExtension, extUrl, hostPids, alive,
      liveHostPids: () => hostPids().filter(alive),
      status: () => inExtension(() => chrome.runtime.sendMessage({kind: 'status.get'}).then((r) => r.result)),
      badge: () => inExtension(() => chrome.action.getBadgeText({})),
      async actions() {
        return (await controlCommand(control, {cmd: 'actions'})) ?? {};
      },
      /** Waits for the host link (and, when the stack has an ACD, the CTI link) to be up. */
      async waitHostReady(timeoutMs = 15000, {cti = stack.acd} = {}) {
        return waitFor(async () => {
          const s = await stack.status();
          return s?.host?.state === 'ready' && (!cti || s?.cti?.state === 'up') ? s : null;
        }, cti ? 'host ready and CTI up' : 'host ready', timeoutMs);
      },
      /** Paths of the CRM's /search requests so far (each one is a search pop). */
      async searches() {
        return (await crm.hits()).filter((h) => h.startsWith('/search'));
      },
      async openCrmTab(path = '/') {
        const page = await context.newPage();
        await page.goto(crm.origin + path);
        await waitFor(() => shadowEval(page, (root) => !!root.querySelector('[data-ob="bar"]')), 'agent bar in the CRM tab', 10000);
        return page;
      },
      async stopWorker() {
        const cdp = await context.newCDPSession(extPage);
        await cdp.send('ServiceWorker.enable');
        await cdp.send('ServiceWorker.stopAllWorkers');
        await cdp.detach();
      },
      close: cleanup,
    };

    if (configureCrm) {
      await inExtension((crmEntry) => chrome.storage.local.set({crm: [crmEntry]}),
          {origin: crm.origin, adapter: 'generic', templates: crm.templates});
      await waitFor(() => inExtension(async (origin) => {
        const [s] = await chrome.scripting.getRegisteredContentScripts({ids: ['omnibridge-crm']});
        return !!s && s.matches.includes(`${origin}/*`);
      }, crm.origin), 'content script registered for the CRM origin');
    }
    return stack;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Evaluates fn(shadowRoot, arg) against the CRM tab's closed shadow root, through CDP (page
 * scripts cannot reach a closed root; DevTools can). Returns null when the root is not there.
 */
export async function shadowEval(page, fn, arg) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const {root} = await cdp.send('DOM.getDocument', {depth: -1, pierce: true});
    const find = (n) => {
      if (n.attributes) {
        for (let i = 0; i < n.attributes.length; i += 2) {
          if (n.attributes[i] === 'id' && n.attributes[i + 1] === 'omnibridge-root') return n;
        }
      }
      for (const c of n.children ?? []) {
        const f = find(c);
        if (f) return f;
      }
      return null;
    };
    const host = find(root);
    const sr = host?.shadowRoots?.[0];
    if (!sr) return null;
    const {object} = await cdp.send('DOM.resolveNode', {nodeId: sr.nodeId});
    const r = await cdp.send('Runtime.callFunctionOn', {
      objectId: object.objectId,
      functionDeclaration: `function(arg) { return (${fn.toString()})(this, arg); }`,
      arguments: [{value: arg}], returnByValue: true, awaitPromise: true,
    });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** Clicks an element in the closed shadow root (selector), via a DOM click. */
export function shadowClick(page, selector) {
  return shadowEval(page, (root, sel) => {
    const el = root.querySelector(sel);
    if (!el) throw new Error(`no ${sel}`);
    el.click();
    return true;
  }, selector);
}

/** A screenshot of the region a shadow element covers. */
export async function shadowScreenshot(page, selector, path, pad = 8) {
  const box = await shadowEval(page, (root, sel) => {
    const r = root.querySelector(sel)?.getBoundingClientRect();
    return r ? {x: r.x, y: r.y, width: r.width, height: r.height} : null;
  }, selector);
  if (!box) throw new Error(`nothing to screenshot: ${selector}`);
  mkdirSync(dirname(path), {recursive: true});
  await page.screenshot({path, clip: {x: Math.max(0, box.x - pad), y: Math.max(0, box.y - pad), width: box.width + 2 * pad, height: box.height + 2 * pad}});
}
