import assert from 'node:assert/strict';
import {test} from 'node:test';
import {HostError, NativePort, classifyDisconnect} from '../../../extension/src/background/native-port';
import {FakeClock, flush, portDeps} from './fakes';

function setup() {
  const clock = new FakeClock();
  const {deps, ports, setLastError} = portDeps(clock);
  const np = new NativePort(deps, {
    hostName: 'org.omnibridge.host', extensionVersion: '0.1.0', settings: () => ({reasonCodes: ['Break']}),
  });
  const statuses: string[] = [];
  np.onStatus((s) => statuses.push(s.code ? `${s.state}:${s.code}` : s.state));
  return {clock, np, ports, setLastError, statuses};
}

function handshake(port: {last(): Record<string, unknown>; receive(f: Record<string, unknown>): void}) {
  const hello = port.last();
  port.receive({type: 'hello', re: hello.id, protocol: 1, version: '9.9', capabilities: ['ping']});
}

test('sends hello with protocol, extension version and the enterprise layer', () => {
  const {np, ports} = setup();
  np.start();
  assert.equal(np.state, 'connecting');
  const hello = ports[0]!.sent[0]!;
  assert.deepEqual({...hello, id: undefined}, {
    type: 'hello', id: undefined, protocol: 1, extensionVersion: '0.1.0', settings: {reasonCodes: ['Break']},
  });
  handshake(ports[0]!);
  assert.equal(np.state, 'ready');
  assert.equal(np.status.version, '9.9');
  assert.deepEqual(np.status.capabilities, ['ping']);
});

test('requests are correlated by id; error replies reject with the host code', async () => {
  const {np, ports} = setup();
  np.start();
  handshake(ports[0]!);
  const p1 = np.request('ping', {payload: 1});
  const p2 = np.request('agent.setState', {state: 'ready'});
  const [f1, f2] = [ports[0]!.sent[1]!, ports[0]!.sent[2]!];
  assert.notEqual(f1.id, f2.id);
  ports[0]!.receive({type: 'error', re: f2.id, code: 'cti_down', message: 'link down'});
  ports[0]!.receive({type: 'pong', re: f1.id, payload: 1});
  assert.deepEqual(await p1, {type: 'pong', re: f1.id, payload: 1});
  await assert.rejects(p2, (e: HostError) => e.code === 'cti_down');
});

test('a request with no reply times out', async () => {
  const {np, ports, clock} = setup();
  np.start();
  handshake(ports[0]!);
  const p = np.request('ping', {}, 2000);
  clock.advance(1999);
  await flush();
  clock.advance(1);
  await assert.rejects(p, (e: HostError) => e.code === 'timeout');
});

test('requests made while connecting wait for the handshake', async () => {
  const {np, ports} = setup();
  np.start();
  const p = np.request('ping', {payload: 'x'});
  assert.equal(ports[0]!.sent.length, 1);  // only hello so far
  handshake(ports[0]!);
  const f = ports[0]!.sent[1]!;
  assert.equal(f.type, 'ping');
  ports[0]!.receive({type: 'pong', re: f.id, payload: 'x'});
  assert.equal((await p).payload, 'x');
});

test('host exit: pending requests fail, state backs off, reconnects with growing delays', async () => {
  const {np, ports, clock, setLastError, statuses} = setup();
  np.start();
  handshake(ports[0]!);
  const p = np.request('ping');
  setLastError('Native host has exited.');
  ports[0]!.die();
  await assert.rejects(p, (e: HostError) => e.code === 'host_down');
  assert.equal(np.state, 'backoff');
  assert.equal(np.status.code, 'host_exited');
  assert.equal(ports.length, 1);
  clock.advance(np.backoffDelay(0));
  assert.equal(ports.length, 2, 'reconnected after the first delay');
  assert.equal(ports[1]!.sent[0]!.type, 'hello');
  // it fails again at once: the next delay is longer
  ports[1]!.die();
  const d1 = np.backoffDelay(1);
  assert.ok(d1 > np.backoffDelay(0));
  clock.advance(d1 - 1);
  assert.equal(ports.length, 2);
  clock.advance(1);
  assert.equal(ports.length, 3);
  handshake(ports[2]!);
  assert.equal(np.state, 'ready');
  assert.deepEqual(statuses.slice(0, 3), ['connecting', 'ready', 'backoff:host_exited']);
  assert.equal(statuses.at(-1), 'ready');
});

test('backoff is capped', () => {
  const {np} = setup();
  assert.equal(np.backoffDelay(0), 500);
  assert.equal(np.backoffDelay(30), 30000);
});

test('handshake timeout and protocol mismatch both back off with a stable code', () => {
  const {np, ports, clock} = setup();
  np.start();
  clock.advance(5000);
  assert.equal(np.state, 'backoff');
  assert.equal(np.status.code, 'handshake_timeout');
  assert.ok(ports[0]!.disconnected);
  clock.advance(np.backoffDelay(0));
  const hello = ports[1]!.last();
  ports[1]!.receive({type: 'hello', re: hello.id, protocol: 2});
  assert.equal(np.state, 'backoff');
  assert.equal(np.status.code, 'protocol_mismatch');
});

test('unsolicited frames reach listeners only after the handshake; stale ports are ignored', () => {
  const {np, ports, clock} = setup();
  const frames: string[] = [];
  np.onFrame((f) => frames.push(f.type));
  np.start();
  ports[0]!.receive({type: 'agent.state', state: 'ready'});
  handshake(ports[0]!);
  ports[0]!.receive({type: 'cti.status', state: 'up'});
  ports[0]!.die();
  ports[0]!.receive({type: 'cti.status', state: 'down'});  // late frame from the dead port
  clock.advance(np.backoffDelay(0));
  handshake(ports[1]!);
  ports[1]!.receive({type: 'interaction.ended', interactionId: 'x'});
  assert.deepEqual(frames, ['cti.status', 'interaction.ended']);
});

test('notify drops frames while the host is down', () => {
  const {np, ports} = setup();
  np.start();
  assert.equal(np.notify('crm.event', {event: 'x'}), false);
  handshake(ports[0]!);
  assert.equal(np.notify('crm.event', {event: 'x'}), true);
  assert.equal(ports[0]!.last().type, 'crm.event');
});

test('Chrome error strings map to stable codes', () => {
  const table: Array<[string | undefined, string]> = [
    ['Specified native messaging host not found.', 'host_not_found'],
    ['Access to the specified native messaging host is forbidden.', 'host_forbidden'],
    ['Access to the native messaging host was disabled by the system administrator.', 'host_blocked_by_policy'],
    ['Native host has exited.', 'host_exited'],
    ['Error when communicating with the native messaging host.', 'host_communication_error'],
    ['Invalid native messaging host name specified.', 'host_name_invalid'],
    [undefined, 'host_exited'],
  ];
  for (const [msg, code] of table) assert.equal(classifyDisconnect(msg), code, String(msg));
});
