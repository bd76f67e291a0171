// Registration and enterprise policy, end to end with Debian Chromium and the real host:
// 1. `omnibridge-host install --user-data-dir <fresh profile>` writes the only manifest; the
//    extension connects to the host with nothing written by hand; doctor agrees; uninstall removes it.
// 2. The Chromium policy file that installer/policies/generate-policies.py makes sets the CTI address
//    and a CRM origin through managed storage; the extension shows the CRM list as enforced and the
//    host's CTI link comes up at the address the policy gave. Chromium reads policy only from
//    /etc/chromium/policies/managed: the browser runs in a private mount namespace (unshare) where a
//    scratch directory is bind-mounted on /etc/chromium, so the machine's /etc is never touched.
//    Where unshare is not permitted this part is skipped (reported on stderr).
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {test} from 'node:test';
import {chromium} from 'playwright-core';
import {AGENT_INTERFACES, EXTENSION_ID, HOST_NAME, ROOT, buildExtension, chooseBackend, waitFor} from './lib/stack.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ORIGIN = `chrome-extension://${EXTENSION_ID}/`;

/** omnibridge-host's own install/uninstall/doctor modes; the test driver that runs the same code
 * (RunInstall/RunUninstall/RunDoctor) while main.cc does not dispatch them yet. */
function registrar(host) {
  const probe = spawnSync(host, ['install', '--help'], {encoding: 'utf8'});
  if (probe.status === 0) return {exe: host, hostArgs: []};
  const driver = process.env.OMNIBRIDGE_INSTALL_DRIVER ??
    resolve(host, '../../../../tests/integration/install/omni_install_driver');
  if (!existsSync(driver)) throw new Error(`omnibridge-host has no install mode and ${driver} is not built`);
  return {exe: driver, hostArgs: ['--host-path', host]};
}

function run(exe, args, env) {
  const r = spawnSync(exe, args, {encoding: 'utf8', env: {PATH: process.env.PATH, ...env}, timeout: 60000});
  return {status: r.status, out: r.stdout ?? '', err: r.stderr ?? ''};
}

function scratch(t) {
  const dir = mkdtempSync(join(tmpdir(), 'omnibridge-e2e-install-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  return dir;
}

function startPbxSim(t, bin) {
  const child = spawn(bin, ['--ami-port', '0', '--control-port', '0'], {stdio: ['ignore', 'pipe', 'ignore']});
  t.after(() => child.kill('SIGKILL'));
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i >= 0) {
        child.stdout.resume();
        resolvePromise(JSON.parse(out.slice(0, i)));
      }
    });
    child.on('exit', (code) => reject(new Error(`pbx-sim exited (${code})`)));
  });
}

/** Launches Chromium on `profile` with the extension; host processes it starts get `hostEnv`. */
async function launch(t, profile, hostEnv, executablePath = CHROMIUM) {
  const ext = buildExtension();
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    env: {...process.env, ...hostEnv},
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--disable-extensions-except=${ext}`, `--load-extension=${ext}`],
  });
  t.after(() => context.close());
  const page = await context.newPage();
  await page.goto(`${ORIGIN}popup.html`);
  const status = () => page.evaluate(() => chrome.runtime.sendMessage({kind: 'status.get'}).then((r) => r.result));
  return {context, page, status};
}

test('install --user-data-dir: a fresh profile reaches the host with no hand-written manifest', {timeout: 90000}, async (t) => {
  const backend = chooseBackend('host');
  if (backend.kind !== 'real') return t.skip('omnibridge-host is not built');
  const {exe, hostArgs} = registrar(backend.host);
  const dir = scratch(t);
  const profile = join(dir, 'profile');
  const env = {HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home/.config'), XDG_STATE_HOME: join(dir, 'state'),
    OMNIBRIDGE_CONFIG: join(dir, 'config.json')};
  mkdirSync(env.XDG_CONFIG_HOME, {recursive: true});
  writeFileSync(env.OMNIBRIDGE_CONFIG, '{}');  // built-in allowed origins, no agent: the host link alone

  const manifestFile = join(profile, 'NativeMessagingHosts', `${HOST_NAME}.json`);
  assert.equal(existsSync(profile), false);
  const installed = run(exe, ['install', '--user-data-dir', profile, ...hostArgs], env);
  assert.equal(installed.status, 0, installed.out + installed.err);
  assert.match(installed.out, new RegExp(`wrote ${manifestFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  assert.equal(manifest.path, backend.host);
  assert.ok(manifest.allowed_origins.includes(ORIGIN));

  const b = await launch(t, profile, env);
  const s = await waitFor(async () => {
    const st = await b.status();
    return st?.host?.state === 'ready' ? st : null;
  }, 'the extension connected to the host', 20000);
  assert.equal(s.host.state, 'ready');

  // doctor, pointed at that profile, finds the manifest and a host that answers hello.
  const doctor = run(exe, ['doctor', '--root', join(dir, 'root'), '--browser', 'chromium', '--user-data-dir', profile, '--json'], env);
  const findings = JSON.parse(doctor.out).findings;
  const ok = findings.find((f) => f.check === 'ok' && f.location === manifestFile);
  assert.ok(ok, doctor.out);
  assert.match(ok.message, /answers hello/);

  await b.context.close();
  const removed = run(exe, ['uninstall', '--user-data-dir', profile], env);
  assert.equal(removed.status, 0, removed.out + removed.err);
  assert.equal(existsSync(manifestFile), false);
});

/** A wrapper that starts Chromium in a private mount namespace with `etcDir` on /etc/chromium. */
function privateEtcChromium(dir, etcDir) {
  const wrapper = join(dir, 'chromium-private-etc.sh');
  writeFileSync(wrapper, [
    '#!/bin/sh',
    '# Private mount namespace: the bind mount is invisible to the rest of the machine.',
    `exec unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/chromium && exec "$@"' ${JSON.stringify(etcDir)} ${JSON.stringify(CHROMIUM)} "$@"`,
    '',
  ].join('\n'));
  chmodSync(wrapper, 0o755);
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind "${etcDir}" /etc/chromium && ls /etc/chromium/policies/managed`], {encoding: 'utf8'});
  return probe.status === 0 && existsSync('/etc/chromium') ? wrapper : null;
}

test('managed policy: CTI address and CRM origin from the policy file, shown as enforced', {timeout: 90000}, async (t) => {
  const backend = chooseBackend('acd');
  if (backend.kind !== 'real') return t.skip('omnibridge-host and pbx-sim are not built');
  const dir = scratch(t);
  const pbx = await startPbxSim(t, backend.pbx);
  const crmOrigin = 'http://127.0.0.1:9';  // a CRM origin the policy enforces (never opened)

  // The policy, made by the installer's generator from a site file naming this CTI and CRM.
  const site = {
    extensionId: EXTENSION_ID,
    updateUrl: 'https://clients2.google.com/service/update2/crx',
    settings: {
      cti: {driver: 'ami', ami: {host: '127.0.0.1', port: pbx.ami, tls: false}},
      crm: [{origin: crmOrigin, adapter: 'generic', templates: {search: '/search?phone={{ani}}'}}],
      reasonCodes: ['Break', 'Lunch'],
    },
  };
  writeFileSync(join(dir, 'site.json'), JSON.stringify(site));
  const gen = spawnSync('python3', [join(ROOT, 'installer/policies/generate-policies.py'), join(dir, 'site.json'), '--out', join(dir, 'policies'),
    '--schema', join(ROOT, 'extension/managed_schema.json')], {encoding: 'utf8'});
  assert.equal(gen.status, 0, gen.stderr);
  const policy = JSON.parse(readFileSync(join(dir, 'policies/linux/chromium/omnibridge.json'), 'utf8'));
  // The extension is loaded unpacked here; a force-install from the store cannot run offline.
  delete policy.ExtensionSettings;
  delete policy.ExtensionInstallForcelist;

  const etc = join(dir, 'etc-chromium');
  mkdirSync(join(etc, 'policies/managed'), {recursive: true});
  for (const f of existsSync('/etc/chromium') ? readdirSync('/etc/chromium') : []) {
    if (f !== 'policies') copyFileSync(join('/etc/chromium', f), join(etc, f));
  }
  writeFileSync(join(etc, 'policies/managed/omnibridge.json'), JSON.stringify(policy, null, 2));
  const wrapper = privateEtcChromium(dir, etc);
  if (!wrapper) {
    process.stderr.write('e2e install: unshare/mount not permitted here; the managed-policy test needs /etc/chromium/policies/managed and is skipped\n');
    return t.skip('cannot give Chromium a private /etc/chromium');
  }

  // The host's own config names the agent and AMI login but no CTI address: the address that
  // makes the link come up can only be the policy's.
  const {exe, hostArgs} = registrar(backend.host);
  const profile = join(dir, 'profile');
  const env = {HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home/.config'), XDG_STATE_HOME: join(dir, 'state'),
    OMNIBRIDGE_CONFIG: join(dir, 'config.json')};
  writeFileSync(env.OMNIBRIDGE_CONFIG, JSON.stringify({
    cti: {ami: {username: 'harmony', secret: 'harmony-secret'}},
    agent: {id: '1001', interfaces: AGENT_INTERFACES, queues: ['support', 'sales']},
  }));
  const installed = run(exe, ['install', '--user-data-dir', profile, ...hostArgs], env);
  assert.equal(installed.status, 0, installed.out + installed.err);

  const b = await launch(t, profile, env, wrapper);
  const managed = await waitFor(() => b.page.evaluate(() => chrome.storage.managed.get(null)), 'managed storage from the policy', 15000);
  assert.deepEqual(managed.cti, site.settings.cti);
  assert.deepEqual(managed.crm, site.settings.crm);

  const options = await b.context.newPage();
  await options.goto(`${ORIGIN}options.html`);
  await options.waitForSelector('#crm-rows tr');
  assert.equal(await options.isVisible('#crm-enforced'), true, 'the CRM list shows "Set by your administrator"');
  assert.equal(await options.isVisible('#crm-form'), false, 'and cannot be edited');
  assert.deepEqual(await options.$$eval('#crm-rows tr td:first-child', (tds) => tds.map((td) => td.textContent)), [crmOrigin]);

  const s = await waitFor(async () => {
    const st = await b.status();
    return st?.host?.state === 'ready' && st?.cti?.state === 'up' ? st : null;
  }, `the CTI link up at the policy's address 127.0.0.1:${pbx.ami}`, 20000);
  assert.equal(s.cti.state, 'up');
});
