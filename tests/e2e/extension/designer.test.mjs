// The Experience Designer end to end: build a flow by drag and drop (offered → if queue is "vip" →
// CRM search by ANI → pop the single match, else a toast), test it in the designer (the host's dry
// run) and read the trace on the canvas, deploy it, then real pbx-sim calls: vip pops the record,
// support shows the toast; deploy a v2, roll back to v1 and see v1's behaviour again; a Connect
// API POST triggers the pop, a request without the token is refused. Screenshots for docs/.
import assert from 'node:assert/strict';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {test} from 'node:test';
import {ROOT, chooseBackend, shadowEval, startStack, waitFor} from '../lib/stack.mjs';

const SHOTS = join(ROOT, 'docs/screenshots');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** pbx-sim's default queues plus "vip", all with agent 1001's voice member. */
function pbxConfig(path) {
  const member = {interface: 'Local/1001@agents/n', membername: 'Agent/1001', stateInterface: 'hint:1001@agent-hints', penalty: 0};
  const voice = (name) => ({name, strategy: 'ringall', timeout: 20, retry: 2, wrapuptime: 0, ringinuse: false,
    servicelevel: 60, musicclass: 'default', members: [member]});
  writeFileSync(path, JSON.stringify({
    queues: [voice('support'), voice('vip'), {
      name: 'digital', strategy: 'rrmemory', timeout: 30, retry: 1, wrapuptime: 0, ringinuse: false,
      servicelevel: 60, musicclass: 'default',
      members: [{interface: 'Local/1001@omnibridge-task/n', membername: 'Agent/1001', stateInterface: 'hint:1001@agent-hints', penalty: 0}],
    }],
  }, null, 2));
}

async function freePort() {
  const {createServer} = await import('node:net');
  return new Promise((r) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => r(port));
    });
  });
}

/** Center of an element on the page. */
async function center(page, selector) {
  const box = await page.locator(selector).first().boundingBox();
  assert.ok(box, `no box for ${selector}`);
  return {x: box.x + box.width / 2, y: box.y + box.height / 2};
}

/** Drags a palette item onto the canvas at (x, y) relative to the canvas. */
async function dropFromPalette(page, palette, x, y) {
  await page.dragAndDrop(`[data-palette="${palette}"]`, '[data-ob="canvas"] .react-flow__pane', {targetPosition: {x, y}});
}

/** Draws an edge with the mouse from a node's outcome handle to another node's input. */
async function drawEdge(page, from, outcome, to) {
  const a = await center(page, `.react-flow__node[data-id="${from}"] .react-flow__handle[data-handleid="${outcome}"]`);
  const b = await center(page, `.react-flow__node[data-id="${to}"] .react-flow__handle[data-handleid="in"]`);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, {steps: 5});
  await page.mouse.move(b.x, b.y, {steps: 5});
  await page.mouse.up();
  await waitFor(() => page.locator(`.react-flow__edge[data-id="e:${from}:${outcome}"]`).count(), `edge ${from} ${outcome} → ${to}`, 3000);
}

/** Selects a canvas node by clicking its title. */
async function select(page, id) {
  await page.locator(`.react-flow__node[data-id="${id}"] .ob-node-kind`).click();
  await page.waitForSelector('[data-ob="inspector"] h2');
}

async function rename(page, from, to) {
  await select(page, from);
  await page.fill(`#f-${from}-id`, to);
  await page.press(`#f-${from}-id`, 'Enter');
  await page.waitForSelector(`.react-flow__node[data-id="${to}"]`);
}

async function status(page) {
  return (await page.textContent('[data-ob="status"]')) ?? '';
}

/** What the CRM tab, the CRM and the host did: attached to a failure's message. */
async function explain(s, tab) {
  const {readdirSync, existsSync} = await import('node:fs');
  const logDir = join(s.dir, 'state', 'omnibridge');
  const logs = existsSync(logDir) ? readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('\n') : '(no host log)';
  const toasts = await shadowEval(tab, (root) => [...root.querySelectorAll('[data-ob="toast"]')].map((e) => e.textContent)).catch(() => null);
  return `\ntab: ${tab.url()}\ntoasts: ${JSON.stringify(toasts)}\nCRM hits: ${JSON.stringify(await s.crm.hits().catch(() => null))}\n` +
    `host log (tail):\n${logs.split('\n').filter((l) => !l.includes('lws')).slice(-40).join('\n')}`;
}

/** waitFor, and on timeout the error says what the stack did. */
async function expectSoon(s, tab, fn, what, timeoutMs = 15000) {
  try {
    return await waitFor(fn, what, timeoutMs);
  } catch (e) {
    throw new Error(`${e.message}${await explain(s, tab)}`);
  }
}

/** POST with node:http (fetch adds Sec-Fetch-Mode, which the Connect API refuses as a browser's). */
async function post(url, body, headers = {}) {
  const {request} = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, {method: 'POST', headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers}}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({status: res.statusCode, text}));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function toastTitles(tab) {
  return (await shadowEval(tab, (root) => [...root.querySelectorAll('[data-ob="toast"] h2')].map((e) => e.textContent))) ?? [];
}

test('designer: build by drag and drop, test, deploy, calls, roll back, Connect API', {timeout: 170000}, async (t) => {
  if (chooseBackend('acd').kind !== 'real') {
    // The FakeBackend stand-in has no PopFlow engine and no Connect API: nothing to test here.
    t.skip('needs the real omnibridge-host and pbx-sim (OMNIBRIDGE_HOST, OMNIBRIDGE_PBX_SIM)');
    return;
  }
  // pbx-sim with a "vip" queue: the harness passes OMNIBRIDGE_PBX_SIM_ARGS to pbx-sim.
  const {mkdtempSync} = await import('node:fs');
  const {tmpdir} = await import('node:os');
  const simDir = mkdtempSync(join(tmpdir(), 'omnibridge-designer-sim-'));
  const simConfig = join(simDir, 'pbx-sim.json');
  pbxConfig(simConfig);
  const savedArgs = process.env.OMNIBRIDGE_PBX_SIM_ARGS;
  process.env.OMNIBRIDGE_PBX_SIM_ARGS = `--ami-port 0 --control-port 0 --config ${simConfig}`;
  t.after(() => {
    if (savedArgs === undefined) delete process.env.OMNIBRIDGE_PBX_SIM_ARGS;
    else process.env.OMNIBRIDGE_PBX_SIM_ARGS = savedArgs;
  });
  const s = await startStack(t);
  assert.equal(s.backend, 'real', 'the designer needs the real host (popflow.* and the Connect API)');

  // The Connect API's port: add connect.port to the host's config, then restart the host link so
  // the host reads it (the harness writes the config before Chromium starts the host).
  const configPath = join(s.dir, 'host-config.json');
  const connectPort = await freePort();
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.connect = {port: connectPort};
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  await s.inExtension(() => chrome.runtime.sendMessage({kind: 'host.reconnect'}));
  await sleep(300);
  const ready = await s.waitHostReady(20000);
  assert.ok(ready.host.capabilities?.includes('popflow'), `host capabilities: ${JSON.stringify(ready.host.capabilities)}`);

  const tab = await s.openCrmTab('/');

  // ---- build the flow in the designer --------------------------------------------------------
  const page = await s.context.newPage();
  await page.setViewportSize({width: 1500, height: 900});
  await page.goto(s.extUrl('designer.html'));
  await page.waitForSelector('.react-flow__node[data-id="__trigger"]');
  await waitFor(async () => (await page.locator('[data-ob="flows"]').count()) > 0 &&
    !(await page.locator('text=Loading…').count()), 'the deployed-flows list');

  await dropFromPalette(page, 'trigger:interaction.offered', 60, 250);
  await dropFromPalette(page, 'kind:if', 300, 250);
  await dropFromPalette(page, 'kind:crmSearch', 560, 120);
  await dropFromPalette(page, 'kind:toast', 560, 420);
  await dropFromPalette(page, 'kind:screenPop', 840, 60);
  await dropFromPalette(page, 'kind:screenPop', 840, 260);
  assert.equal(await page.locator('.react-flow__node').count(), 6);
  assert.match(await page.textContent('.react-flow__node[data-id="__trigger"]'), /Interaction offered/);

  await rename(page, 'if1', 'isVip');
  await rename(page, 'crmSearch1', 'search');
  await rename(page, 'screenPop1', 'pop');
  await rename(page, 'screenPop2', 'list');
  await rename(page, 'toast1', 'notify');

  // the if's condition (the palette's default is already the vip test: set it explicitly)
  await select(page, 'isVip');
  await page.fill('#f-isVip-condition', "interaction.queue == 'vip'");
  await select(page, 'search');
  assert.equal(await page.inputValue('#f-search-field'), 'phone');
  await page.fill('#f-search-value', '{{ interaction.ani }}');
  await select(page, 'pop');
  await page.fill('#f-pop-recordType', 'contact');
  await page.fill('#f-pop-recordId', '{{ nodes.search.id }}');
  // the other screen pop opens the CRM's search page: switching its target makes the record
  // fields invalid, which the inspector says next to them
  await select(page, 'list');
  await page.selectOption('#f-list-target', 'search');
  await waitFor(async () => /not used with this setting/.test(await page.textContent('#f-list-recordType-msg').catch(() => '')),
      'the per-field message on recordType');
  assert.equal(await page.getAttribute('#f-list-recordType', 'aria-invalid'), 'true');
  assert.match(await page.textContent('#f-list-query-msg'), /required/);
  await page.screenshot({path: join(SHOTS, 'designer-inspector.png')});
  await page.fill('#f-list-recordType', '');
  assert.equal(await page.locator('#f-list-recordId').count(), 0, 'fields that do not apply are hidden');
  await page.fill('#f-list-query', '{{ interaction.ani }}');
  assert.equal(await page.locator('#f-list-recordType-msg').count(), 0);
  await select(page, 'notify');
  await page.fill('#f-notify-title', 'Incoming call');
  await page.fill('#f-notify-message', '{{ interaction.ani }} in {{ interaction.queue }}');

  // edges: drawn with the mouse, and one chosen from the inspector (the keyboard way)
  await drawEdge(page, '__trigger', 'next', 'isVip');
  await drawEdge(page, 'isVip', 'true', 'search');
  await drawEdge(page, 'isVip', 'false', 'notify');
  await drawEdge(page, 'search', 'one', 'pop');
  await drawEdge(page, 'search', 'many', 'list');
  await select(page, 'search');
  await page.selectOption('[data-ob="inspector"] select[data-outcome="error"]', 'list');
  await page.selectOption('[data-ob="inspector"] select[data-outcome="none"]', 'list');

  // undo / redo and keyboard deletion on the canvas
  await page.locator('.react-flow__pane').click({position: {x: 20, y: 20}});
  const edgesBefore = await page.locator('.react-flow__edge').count();
  await page.keyboard.press('Control+z');
  await waitFor(async () => (await page.locator('.react-flow__edge').count()) === edgesBefore - 1, 'undo removes the last edge');
  await page.keyboard.press('Control+Shift+z');
  await waitFor(async () => (await page.locator('.react-flow__edge').count()) === edgesBefore, 'redo brings it back');
  // keyboard: a palette item adds its node with Enter, and the inspector shows it
  await page.focus('[data-palette="kind:delay"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.react-flow__node[data-id="delay1"]');
  await waitFor(async () => (await page.textContent('#inspector-title')) === 'Delay', 'the new node in the inspector');
  await page.locator('.react-flow__node[data-id="delay1"]').focus();
  await page.keyboard.press('Delete');
  await waitFor(async () => (await page.locator('.react-flow__node[data-id="delay1"]').count()) === 0, 'Delete removes the node');
  await page.keyboard.press('Control+z');
  await page.waitForSelector('.react-flow__node[data-id="delay1"]');
  await page.locator('.react-flow__node[data-id="delay1"]').focus();
  await page.keyboard.press('Backspace');
  await waitFor(async () => (await page.locator('.react-flow__node[data-id="delay1"]').count()) === 0, 'Backspace removes the node');

  // the flow's name; no problems left
  await page.locator('.react-flow__pane').click({position: {x: 20, y: 20}});
  await page.fill('#flow-name', 'VIP pop');
  await waitFor(async () => /No problems found/.test(await page.textContent('[data-ob="inspector"]')), 'a valid flow',
      5000).catch(async (e) => {
    throw new Error(`${e.message}: ${await page.textContent('[data-ob="inspector"]')}`);
  });
  await page.locator('.react-flow__controls-fitview').click();
  await page.screenshot({path: join(SHOTS, 'designer-canvas.png')});

  // ---- the host's diagnostics land on the field they name, with the column ---------------------
  await select(page, 'isVip');
  await page.fill('#f-isVip-condition', "interaction.queue = 'vip'");
  await page.click('#save-draft');
  const hostMsg = await expectSoon(s, tab, async () => {
    const t = await page.textContent('#f-isVip-condition-msg').catch(() => null);
    return t && /host:/.test(t) ? t : null;
  }, 'the host\'s message on isVip.condition');
  assert.match(hostMsg, /column 19/);
  assert.equal(await page.getAttribute('#f-isVip-condition', 'aria-invalid'), 'true');
  await page.fill('#f-isVip-condition', "interaction.queue == 'vip'");
  await page.click('#save-draft');
  await waitFor(async () => /Draft of VIP pop saved/.test(await status(page)) &&
    !(await page.locator('#f-isVip-condition-msg').count()), 'a clean draft');
  await page.locator('.react-flow__pane').click({position: {x: 20, y: 20}});

  // ---- Test: the host's dry run, shown on the canvas -----------------------------------------
  await page.selectOption('#sample-select', 'VIP caller');
  await page.fill('#sample-results', JSON.stringify({search: {count: 1, ids: ['1001']}}));
  await page.click('#run-test');
  await page.waitForSelector('[data-ob="trace-panel"]', {timeout: 15000});
  const steps = await page.locator('.ob-steps li').allTextContents();
  assert.match(steps[0], /^isVip → true → search/);
  assert.match(steps[1], /^search → one → pop/);
  assert.match(steps[2], /^pop/);
  assert.match(await page.textContent('.react-flow__node[data-id="pop"] [data-ob="trace"]'), /#3[\s\S]*screenPop record contact 1001/);
  assert.equal(await page.locator('.react-flow__node[data-id="notify"] [data-ob="trace"]').count(), 0);
  assert.deepEqual(await page.locator('[data-ob="actions"] li').allTextContents(),
      ['crmSearch phone +15551234', 'screenPop record contact 1001']);
  await page.screenshot({path: join(SHOTS, 'designer-test-trace.png')});

  await page.selectOption('#sample-select', 'Support caller');
  await page.click('#run-test');
  await waitFor(async () => /notify/.test((await page.locator('.ob-steps li').allTextContents()).join('|')), 'the support trace');
  assert.match((await page.locator('[data-ob="actions"] li').allTextContents()).join('|'), /toast "Incoming call" "\+15555678 in support"/);

  // ---- Export, then import into a new canvas: the same flow comes back -----------------------
  const exported = join(s.dir, 'exported-flow.json');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export')]);
  await download.saveAs(exported);
  const flowJson = JSON.parse(readFileSync(exported, 'utf8'));
  assert.equal(flowJson.schema, 'omnibridge.popflow/1');
  assert.equal(flowJson.name, 'VIP pop');
  assert.equal(flowJson.start, 'isVip');
  assert.deepEqual(flowJson.nodes.map((n) => n.id).sort(), ['isVip', 'list', 'notify', 'pop', 'search']);
  assert.deepEqual(flowJson.nodes.find((n) => n.id === 'search').branches, {one: 'pop', many: 'list', error: 'list', none: 'list'});
  await page.click('text=New');
  await waitFor(async () => (await page.locator('.react-flow__node').count()) === 1, 'an empty canvas');
  await page.setInputFiles('#import-file', exported);
  await waitFor(async () => (await page.locator('.react-flow__node').count()) === 6, 'the imported flow on the canvas');
  await waitFor(async () => (await page.locator('.react-flow__edge').count()) === 7, 'its edges');
  assert.match(await status(page), /Imported/);

  // ---- Deploy v1 and take real calls ---------------------------------------------------------
  await page.click('#deploy');
  await waitFor(async () => /Deployed VIP pop as version 1/.test(await status(page)), 'deploy v1');
  await waitFor(async () => /active: v1/.test(await page.textContent('[data-flow="VIP pop"]').catch(() => '')), 'v1 listed active');

  const call = async (queue, from, name) => {
    const r = await s.control({cmd: 'call', from, name, queue});
    assert.ok(r?.ok, `pbx-sim call: ${JSON.stringify(r)}`);
    return r;
  };
  const hangup = async (r) => {
    await s.control({cmd: 'hangup', linkedid: r.linkedid});
    await waitFor(async () => ((await s.status())?.interactions ?? []).every((i) => i.state === 'ended' || i.state === 'wrapup') , 'the call to end', 10000);
    await sleep(300);
  };

  const vip = await call('vip', '+15551234', 'Alice Example');
  await expectSoon(s, tab, () => tab.url().endsWith('/contacts/1001'), 'vip call pops Alice\'s record');
  // The generic adapter (demo CRM) cannot answer crmSearch from the page, so a live run takes the
  // search node's error branch: the CRM's search page, which opens the single match.
  process.stderr.write(`designer e2e: CRM hits for the vip call: ${JSON.stringify(await s.crm.hits())}\n`);
  await hangup(vip);

  await tab.goto(`${s.crm.origin}/`);
  await waitFor(() => shadowEval(tab, (root) => !!root.querySelector('[data-ob="bar"]')), 'agent bar');
  const support = await call('support', '+15555678', 'Bob Sample');
  await expectSoon(s, tab, async () => (await toastTitles(tab)).includes('Incoming call'), 'support call shows the toast');
  assert.ok(!tab.url().includes('/contacts/'), 'no record pop for support');
  await hangup(support);

  // ---- v2 changes the toast; roll back to v1 brings the old one back -------------------------
  await select(page, 'notify');
  await page.fill('#f-notify-title', 'Support call (v2)');
  await page.click('#deploy');
  await waitFor(async () => /version 2/.test(await status(page)), 'deploy v2');
  const support2 = await call('support', '+15555678', 'Bob Sample');
  await expectSoon(s, tab, async () => (await toastTitles(tab)).includes('Support call (v2)'), 'v2 toast');
  await hangup(support2);

  await page.click('[data-flow="VIP pop"] [data-rollback="1"]');
  await waitFor(async () => /version 1 is active again/.test(await status(page)), 'roll back to v1');
  await waitFor(async () => /active: v1/.test(await page.textContent('[data-flow="VIP pop"]')), 'v1 active in the list');
  await tab.goto(`${s.crm.origin}/`);
  await waitFor(() => shadowEval(tab, (root) => !!root.querySelector('[data-ob="bar"]')), 'agent bar');
  const support3 = await call('support', '+15555678', 'Bob Sample');
  await expectSoon(s, tab, async () => (await toastTitles(tab)).includes('Incoming call'), 'v1 toast after roll back');
  assert.ok(!(await toastTitles(tab)).includes('Support call (v2)'));
  await hangup(support3);

  // ---- Connect API: a POST triggers the pop; no token → 401 ----------------------------------
  const tokenFile = join(s.dir, 'config', 'omnibridge', 'connect-token');
  const token = readFileSync(tokenFile, 'utf8').trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  const url = `http://127.0.0.1:${connectPort}/v1/events`;
  const body = JSON.stringify({event: 'offered', interaction: {
    interactionId: 'connect-1', channel: 'voice', direction: 'inbound', state: 'offered',
    ani: '+15551234', callerName: 'Alice Example', dnis: '7000', queue: 'vip', data: {},
  }});
  const refused = await post(url, body);
  assert.equal(refused.status, 401, refused.text);
  const wrong = await post(url, body, {authorization: `Bearer ${'0'.repeat(64)}`});
  assert.equal(wrong.status, 401, wrong.text);
  // a browser's request (it carries Origin) is refused even with the token
  const browser = await post(url, body, {authorization: `Bearer ${token}`, origin: 'https://evil.example'});
  assert.equal(browser.status, 403, browser.text);
  await tab.goto(`${s.crm.origin}/`);
  await waitFor(() => shadowEval(tab, (root) => !!root.querySelector('[data-ob="bar"]')), 'agent bar');
  const ok = await post(url, body, {authorization: `Bearer ${token}`});
  assert.ok(ok.status >= 200 && ok.status < 300, `Connect POST: ${ok.status} ${ok.text}`);
  await expectSoon(s, tab, () => tab.url().endsWith('/contacts/1001'), 'the Connect event pops Alice\'s record');
});
