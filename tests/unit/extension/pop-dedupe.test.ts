// Exactly one pop per interaction: the controller with a fake platform, two CRM tabs, host
// restarts (the run sent again) and worker restarts (new controller over the same session area).
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {Controller, type Platform, RESYNC_GRACE_MS} from '../../../extension/src/background/controller';
import {NativePort} from '../../../extension/src/background/native-port';
import {SessionState} from '../../../extension/src/background/session-state';
import type {ToContent} from '../../../extension/src/shared/messages';
import {mergeSettings} from '../../../extension/src/shared/settings';
import {FakeClock, type FakePort, MapArea, flush, portDeps} from './fakes';

const EXT = 'abcdefghijklmnopabcdefghijklmnop';
const CRM = 'http://127.0.0.1:8123';

class Tabs {
  /** tabId → messages received; a tab in `gone` has no receiver. */
  got = new Map<number, ToContent[]>();
  log: Array<[number, ToContent]> = [];
  gone = new Set<number>();
  /** [tab, interactionId] of every popflow.run delivered, in delivery order. */
  pops(): Array<[number, string]> {
    return this.log.flatMap(([tab, m]) => (m.kind === 'popflow.run' ? [[tab, m.run.interactionId] as [number, string]] : []));
  }
}

function worker(area: MapArea, tabs: Tabs, clock: FakeClock) {
  const {deps, ports} = portDeps(clock);
  const np = new NativePort(deps, {hostName: 'org.omnibridge.host', extensionVersion: '0.1.0', settings: () => ({})});
  const platform: Platform = {
    sendToTab: async (tabId, m) => {
      if (tabs.gone.has(tabId)) throw new Error('Could not establish connection. Receiving end does not exist.');
      tabs.got.set(tabId, [...(tabs.got.get(tabId) ?? []), m]);
      tabs.log.push([tabId, m]);
      return m.kind === 'popflow.run' ? {accepted: true} : {ok: true};
    },
    setBadge: () => {},
    openTab: async () => {},
    runMainWorld: async () => ({ok: false, done: false}),
    now: () => clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    log: () => {},
  };
  const settings = mergeSettings({crm: [{origin: CRM, adapter: 'generic', templates: {search: '/search?q={{ani}}'}}]}, {});
  const c = new Controller(np, new SessionState(area, () => clock.now), platform, () => settings, () => ({
    extensionId: EXT, extensionOrigin: `chrome-extension://${EXT}`, isCrmOrigin: (o) => o === CRM,
  }));
  np.start();
  const host = () => ports[ports.length - 1]!;
  const hello = host().last();
  host().receive({type: 'hello', re: hello.id, protocol: 1});
  const contentHello = (tabId: number, focused = false) =>
    c.router.dispatch({kind: 'content.hello', focused}, {id: EXT, url: `${CRM}/`, tab: {id: tabId}, frameId: 0});
  return {c, np, ports, host, contentHello};
}

const offered = (id: string) => ({
  type: 'interaction.update',
  interaction: {interactionId: id, channel: 'voice', direction: 'inbound', state: 'offered', ani: '+15551234', callerName: 'Alice'},
});
const run = (id: string, runId = `r-${id}`) => ({
  type: 'popflow.run', runId, interactionId: id, flow: 'default',
  actions: [{kind: 'screenPop', target: 'search', query: '+15551234'}],
});

function receive(port: FakePort, frame: Record<string, unknown>) {
  port.receive(frame);
}

test('two CRM tabs: the run goes to exactly one, the most recently focused', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  await w.contentHello(1, true);
  clock.now += 1000;
  await w.contentHello(2, true);
  receive(w.host(), offered('i1'));
  receive(w.host(), run('i1'));
  await w.c.idle();
  assert.deepEqual(tabs.pops(), [[2, 'i1']]);
  // the ringing toast follows the snapshot's primary flag: set for tab 2 only
  const lastState = (tab: number) => tabs.got.get(tab)!.filter((m) => m.kind === 'state').at(-1);
  assert.equal((lastState(2) as {snapshot: {primary: boolean}}).snapshot.primary, true);
  assert.equal((lastState(1) as {snapshot: {primary: boolean}}).snapshot.primary, false);
  // focusing tab 1 makes it the target of the next interaction
  clock.now += 1000;
  await w.c.router.dispatch({kind: 'content.focus'}, {id: EXT, url: `${CRM}/x`, tab: {id: 1}, frameId: 0});
  receive(w.host(), offered('i2'));
  receive(w.host(), run('i2'));
  await w.c.idle();
  assert.deepEqual(tabs.pops(), [[2, 'i1'], [1, 'i2']]);
});

test('the designated tab wins over focus', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  await w.contentHello(1);
  await w.c.router.dispatch({kind: 'tab.designate', designate: true}, {id: EXT, url: `${CRM}/`, tab: {id: 1}, frameId: 0});
  clock.now += 1000;
  await w.contentHello(2, true);
  receive(w.host(), run('i1'));
  await w.c.idle();
  assert.deepEqual(tabs.pops(), [[1, 'i1']]);
});

test('a host restart that sends the run again does not pop twice', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  await w.contentHello(1, true);
  receive(w.host(), offered('i1'));
  receive(w.host(), run('i1'));
  await w.c.idle();
  w.host().die();
  clock.advance(w.np.backoffDelay(0));
  const h = w.host();
  h.receive({type: 'hello', re: h.last().id, protocol: 1});
  h.receive(offered('i1'));
  h.receive(run('i1', 'r-again'));
  await w.c.idle();
  assert.deepEqual(tabs.pops(), [[1, 'i1']]);
  const dup = h.sent.filter((f) => f.type === 'crm.event');
  assert.deepEqual(dup.map((f) => [f.runId, f.ok, f.error]), [['r-again', false, 'already_delivered']]);
});

test('a worker restart keeps the ledger: no second pop, the live interaction is still shown', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const area = new MapArea();
  const w1 = worker(area, tabs, clock);
  await w1.contentHello(1, true);
  receive(w1.host(), offered('i1'));
  receive(w1.host(), run('i1'));
  await w1.c.idle();
  // the worker is stopped: a new one starts with fresh globals over the same session storage
  const w2 = worker(area, tabs, clock);
  await w2.c.idle();
  receive(w2.host(), offered('i1'));
  receive(w2.host(), run('i1'));
  await w2.c.idle();
  assert.deepEqual(tabs.pops(), [[1, 'i1']]);
  // a reload of the tab: its hello reply carries the live interaction
  const snap = (await w2.contentHello(1, true)) as {interactions: Array<{interactionId: string}>};
  assert.deepEqual(snap.interactions.map((i) => i.interactionId), ['i1']);
  await w2.c.idle();
  assert.deepEqual(tabs.pops(), [[1, 'i1']], 'the reload did not pop again');
});

test('no CRM tab yet: the run waits and goes to the first tab that appears', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  receive(w.host(), offered('i1'));
  receive(w.host(), run('i1'));
  await w.c.idle();
  assert.deepEqual(tabs.pops(), []);
  await w.contentHello(5, true);
  await w.c.idle();
  await flush();
  await w.c.idle();
  assert.deepEqual(tabs.pops(), [[5, 'i1']]);
});

test('a tab without a receiver is skipped for the next one', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  await w.contentHello(1);
  clock.now += 10;
  await w.contentHello(2, true);
  tabs.gone.add(2);
  receive(w.host(), run('i1'));
  await w.c.idle();
  assert.deepEqual(tabs.pops(), [[1, 'i1']]);
});

test('ended interactions leave the live list', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  await w.contentHello(1, true);
  receive(w.host(), offered('i1'));
  receive(w.host(), offered('i2'));
  receive(w.host(), {type: 'interaction.ended', interactionId: 'i1'});
  receive(w.host(), {...offered('i2'), interaction: {...offered('i2').interaction, state: 'ended'}});
  await w.c.idle();
  assert.deepEqual(w.c.snapshot().interactions, []);
});

test('after a host restart, interactions the new host does not announce leave the bar', async () => {
  const clock = new FakeClock();
  const tabs = new Tabs();
  const w = worker(new MapArea(), tabs, clock);
  await w.contentHello(1, true);
  receive(w.host(), {type: 'cti.status', state: 'up'});
  receive(w.host(), offered('i1'));
  receive(w.host(), offered('i2'));
  await w.c.idle();
  clock.advance(RESYNC_GRACE_MS * 2);  // the first connection's sweep keeps both (both were seen)
  await w.c.idle();
  assert.equal(w.c.snapshot().interactions.length, 2);
  w.host().die();
  clock.advance(w.np.backoffDelay(0));
  const h = w.host();
  h.receive({type: 'hello', re: h.last().id, protocol: 1});
  await w.c.idle();
  assert.equal(w.c.snapshot().cti, null, 'CTI state unknown until the new host says');
  // the new host's CTI link takes a while; nothing is dropped before it is up
  clock.advance(RESYNC_GRACE_MS * 3);
  await w.c.idle();
  assert.equal(w.c.snapshot().interactions.length, 2);
  h.receive({type: 'cti.status', state: 'up'});
  h.receive(offered('i2'));
  await w.c.idle();
  clock.advance(RESYNC_GRACE_MS - 1);
  await w.c.idle();
  assert.equal(w.c.snapshot().interactions.length, 2);
  clock.advance(1);
  await w.c.idle();
  assert.deepEqual(w.c.snapshot().interactions.map((i) => i.interactionId), ['i2']);
});
