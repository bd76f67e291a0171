// The worker forwards the designer's popflow.* requests to the native port only from the
// extension's own pages, and hands back the host's diagnostics with its errors.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {Controller, type Platform} from '../../../extension/src/background/controller';
import {NativePort} from '../../../extension/src/background/native-port';
import {SessionState} from '../../../extension/src/background/session-state';
import {mergeSettings} from '../../../extension/src/shared/settings';
import {FakeClock, MapArea, flush, portDeps} from './fakes';

const EXT = 'abcdefghijklmnopabcdefghijklmnop';
const CRM = 'http://127.0.0.1:8123';
const DESIGNER = {id: EXT, url: `chrome-extension://${EXT}/designer.html`, tab: {id: 9}};
const CRM_TAB = {id: EXT, url: `${CRM}/`, origin: CRM, tab: {id: 1}, frameId: 0};

function setup() {
  const clock = new FakeClock();
  const {deps, ports} = portDeps(clock);
  const np = new NativePort(deps, {hostName: 'org.omnibridge.host', extensionVersion: '0.1.0', settings: () => ({})});
  const platform: Platform = {
    sendToTab: async () => ({ok: true}), setBadge: () => {}, openTab: async () => {},
    runMainWorld: async () => ({ok: false, done: false}), now: () => clock.now,
    setTimer: clock.setTimer, clearTimer: clock.clearTimer, log: () => {},
  };
  const settings = mergeSettings({crm: [{origin: CRM, adapter: 'generic', templates: {search: '/search?q={{ani}}'}}]}, {});
  const c = new Controller(np, new SessionState(new MapArea(), () => clock.now), platform, () => settings, () => ({
    extensionId: EXT, extensionOrigin: `chrome-extension://${EXT}`, isCrmOrigin: (o) => o === CRM,
  }));
  np.start();
  const host = () => ports[ports.length - 1]!;
  host().receive({type: 'hello', re: host().last().id, protocol: 1});
  return {c, host};
}

test('popflow.* from the designer page reaches the host and the reply comes back', async () => {
  const {c, host} = setup();
  for (const type of ['popflow.list', 'popflow.get', 'popflow.deploy', 'popflow.test']) {
    const pending = c.router.dispatch({kind: 'host.request', type, body: {name: 'VIP pop'}}, DESIGNER);
    await flush();
    const sent = host().last();
    assert.equal(sent.type, type);
    assert.equal(sent.name, 'VIP pop');
    host().receive({type, re: sent.id, flows: []});
    assert.deepEqual(await pending, {ok: true, reply: {type, re: sent.id, flows: []}});
  }
});

test('popflow.* from a CRM tab is refused before the host sees it', async () => {
  const {c, host} = setup();
  const before = host().sent.length;
  for (const type of ['popflow.list', 'popflow.deploy', 'popflow.test']) {
    const r = await c.router.dispatch({kind: 'host.request', type, body: {}}, CRM_TAB) as {ok: boolean; error: {code: string}};
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'not_allowed');
  }
  // another extension's page is refused by the router itself
  await assert.rejects(c.router.dispatch({kind: 'host.request', type: 'popflow.list', body: {}},
      {id: 'x'.repeat(32), url: `chrome-extension://${'x'.repeat(32)}/designer.html`}));
  assert.equal(host().sent.length, before);
});

test('a refused deploy carries the host\'s diagnostics to the page', async () => {
  const {c, host} = setup();
  const pending = c.router.dispatch({kind: 'host.request', type: 'popflow.deploy', body: {flow: {}}}, DESIGNER);
  await flush();
  const diagnostics = [{node: 'isVip', field: 'condition', column: 19, message: 'bad', severity: 'error'}];
  host().receive({type: 'error', re: host().last().id, code: 'invalid_request', message: 'flow invalid', diagnostics});
  assert.deepEqual(await pending, {ok: false, error: {code: 'invalid_request', message: 'flow invalid', diagnostics}});
});

test('managed popflow.flows go to the host in hello.settings; apps and credentials do not', async () => {
  const {enterpriseLayer} = await import('../../../extension/src/shared/settings');
  const flows = [{schema: 'omnibridge.popflow/1', name: 'Corp'}];
  assert.deepEqual(enterpriseLayer({popflow: {flows, apps: {x: {path: '/bin/sh'}}, credentials: {c: {}}}}), {popflow: {flows}});
  assert.deepEqual(enterpriseLayer({popflow: {flows: 'no'}}), {});
});

test('a deployed flow\'s later frames (<run>.2, .3) are delivered; a repeated frame is not', async () => {
  const {popKey} = await import('../../../extension/src/background/session-state');
  const k = (runId: string) => popKey({interactionId: 'i1', flow: 'VIP pop', runId});
  assert.equal(k('abc-1.1'), k('default-7'), 'frame 1 keeps the one-per-interaction-and-flow key');
  assert.notEqual(k('abc-1.2'), k('abc-1.1'));
  assert.equal(k('abc-1.2'), k('xyz-9.2'), 'a restarted host\'s same frame is a repeat');
  assert.equal(popKey({interactionId: 'i1', flow: 'f'}), 'i1\nf');
});
