// The native port: owns chrome.runtime.connectNative(hostName), the hello handshake, id-correlated
// requests with timeouts, and reconnection with backoff when the host exits. It takes its
// dependencies as arguments so tests drive it with a fake port and a fake clock.
import {type Frame, type HostHello, PROTOCOL_VERSION, isObject} from '../shared/protocol';
import type {HostLinkState, HostStatus} from '../shared/messages';

/** The part of chrome.runtime.Port the link uses. */
export interface PortLike {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: {addListener(cb: (message: unknown) => void): void};
  onDisconnect: {addListener(cb: () => void): void};
}

export interface NativePortDeps {
  /** Opens the port; throws on a synchronous failure (e.g. an invalid host name). */
  connect(hostName: string): PortLike;
  /** chrome.runtime.lastError?.message at disconnect time. */
  lastError(): string | undefined;
  setTimer(cb: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  random(): number;
}

export interface NativePortOptions {
  hostName: string;
  extensionVersion: string;
  /** The enterprise layer handed to the host in hello; read when each connection starts. */
  settings: () => Record<string, unknown>;
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export class HostError extends Error {
  /** `frame`: the host's error frame when there is one (popflow errors carry `diagnostics`). */
  constructor(readonly code: string, message: string, readonly frame?: Record<string, unknown>) {
    super(message);
    this.name = 'HostError';
  }
}

/** Maps Chrome's native-messaging error strings (research §2.2) to stable codes. */
export function classifyDisconnect(message: string | undefined): string {
  const m = (message ?? '').toLowerCase();
  if (m.includes('not found')) return 'host_not_found';
  if (m.includes('forbidden')) return 'host_forbidden';
  if (m.includes('system administrator')) return 'host_blocked_by_policy';
  if (m.includes('invalid native messaging host name')) return 'host_name_invalid';
  if (m.includes('has exited')) return 'host_exited';
  if (m.includes('failed to start')) return 'host_start_failed';
  if (m.includes('error when communicating')) return 'host_communication_error';
  if (m.includes('nativemessaging permission')) return 'permission_missing';
  return m ? 'host_disconnected' : 'host_exited';
}

interface Pending {
  resolve(frame: Frame): void;
  reject(err: HostError): void;
  timer: unknown;
}

interface Queued {
  frame: Frame;
  pending: Pending;
}

export class NativePort {
  private state_: HostLinkState = 'stopped';
  private status_: HostStatus = {state: 'stopped'};
  private port: PortLike | null = null;
  private generation = 0;
  private nextId = 1;
  private attempts = 0;
  private helloId: string | null = null;
  private handshakeTimer: unknown = null;
  private retryTimer: unknown = null;
  private readonly pending = new Map<string, Pending>();
  private queue: Queued[] = [];
  private frameListeners: Array<(frame: Frame) => void> = [];
  private statusListeners: Array<(status: HostStatus) => void> = [];

  constructor(private readonly deps: NativePortDeps, private opts: NativePortOptions) {}

  get state(): HostLinkState {
    return this.state_;
  }
  get status(): HostStatus {
    return this.status_;
  }

  /** Unsolicited frames (no `re`) from the host, after the handshake. */
  onFrame(cb: (frame: Frame) => void): void {
    this.frameListeners.push(cb);
  }
  onStatus(cb: (status: HostStatus) => void): void {
    this.statusListeners.push(cb);
  }

  /** Starts (or restarts at once) the connection. Idempotent while connecting or ready. */
  start(): void {
    if (this.state_ === 'connecting' || this.state_ === 'ready') return;
    this.clearRetry();
    this.open();
  }

  /** Changes the host name; reconnects when it differs. */
  setHostName(hostName: string): void {
    if (hostName === this.opts.hostName) return;
    this.opts = {...this.opts, hostName};
    if (this.state_ !== 'stopped') this.restart();
  }

  /** Drops the connection and reconnects now (e.g. after settings changed). */
  restart(): void {
    this.teardown('host_restarting', 'reconnecting');
    this.attempts = 0;
    this.clearRetry();
    this.open();
  }

  stop(): void {
    this.clearRetry();
    this.teardown('stopped', 'stopped by the extension');
    this.setStatus({state: 'stopped'});
  }

  /** Sends a request and resolves with the host's reply (`ack`, `pong`, …); rejects with HostError. */
  request(type: string, body: Record<string, unknown> = {}, timeoutMs?: number): Promise<Frame> {
    const id = String(this.nextId++);
    const frame: Frame = {...body, type, id};
    return new Promise<Frame>((resolve, reject) => {
      const pending: Pending = {resolve, reject, timer: null};
      pending.timer = this.deps.setTimer(() => {
        this.pending.delete(id);
        this.queue = this.queue.filter((q) => q.pending !== pending);
        reject(new HostError('timeout', `no reply to ${type} in time`));
      }, timeoutMs ?? this.opts.requestTimeoutMs ?? 10000);
      if (this.state_ === 'ready') {
        this.send(id, frame, pending);
      } else if (this.state_ === 'stopped') {
        this.deps.clearTimer(pending.timer);
        reject(new HostError('host_down', 'the native host is not connected'));
      } else {
        this.queue.push({frame, pending});
      }
    });
  }

  /** Sends a frame that expects no reply (e.g. crm.event); dropped when the host is down. */
  notify(type: string, body: Record<string, unknown> = {}): boolean {
    if (this.state_ !== 'ready' || !this.port) return false;
    return this.post({...body, type, id: String(this.nextId++)});
  }

  private send(id: string, frame: Frame, pending: Pending): void {
    this.pending.set(id, pending);
    if (!this.post(frame)) {
      this.pending.delete(id);
      this.deps.clearTimer(pending.timer);
      pending.reject(new HostError('host_down', 'could not write to the native host'));
    }
  }

  private post(frame: Frame): boolean {
    try {
      this.port?.postMessage(frame);
      return this.port !== null;
    } catch {
      return false;
    }
  }

  private open(): void {
    const gen = ++this.generation;
    this.setState('connecting');
    let port: PortLike;
    try {
      port = this.deps.connect(this.opts.hostName);
    } catch (e) {
      this.onClosed(gen, classifyDisconnect(String((e as Error)?.message ?? e)), String(e));
      return;
    }
    this.port = port;
    port.onMessage.addListener((m) => {
      if (gen === this.generation) this.onMessage(m);
    });
    port.onDisconnect.addListener(() => {
      const detail = this.deps.lastError();
      if (gen === this.generation) this.onClosed(gen, classifyDisconnect(detail), detail);
    });
    this.helloId = String(this.nextId++);
    const hello: Frame = {
      type: 'hello',
      id: this.helloId,
      protocol: PROTOCOL_VERSION,
      extensionVersion: this.opts.extensionVersion,
      settings: this.opts.settings(),
    };
    this.handshakeTimer = this.deps.setTimer(() => {
      if (gen !== this.generation) return;
      this.fail(gen, 'handshake_timeout', 'the host did not answer hello in time');
    }, this.opts.handshakeTimeoutMs ?? 5000);
    if (!this.post(hello)) this.fail(gen, 'host_communication_error', 'could not send hello');
  }

  private onMessage(message: unknown): void {
    if (!isObject(message) || typeof message.type !== 'string') return;
    const frame = message as Frame;
    if (this.state_ === 'connecting') {
      if (frame.re !== this.helloId) return;  // nothing else is meaningful before the handshake
      this.deps.clearTimer(this.handshakeTimer);
      this.handshakeTimer = null;
      if (frame.type === 'error') {
        const code = typeof frame.code === 'string' ? frame.code : 'handshake_failed';
        this.fail(this.generation, code, String(frame.message ?? 'hello refused'));
        return;
      }
      const hello = frame as HostHello;
      if (hello.type !== 'hello' || hello.protocol !== PROTOCOL_VERSION) {
        this.fail(this.generation, 'protocol_mismatch',
            `host speaks protocol ${String(hello.protocol)}, extension ${PROTOCOL_VERSION}`);
        return;
      }
      this.attempts = 0;
      const caps = Array.isArray(hello.capabilities) ?
          hello.capabilities.filter((c): c is string => typeof c === 'string') : [];
      this.state_ = 'ready';
      this.setStatus({
        state: 'ready',
        ...(typeof hello.version === 'string' ? {version: hello.version} : {}),
        capabilities: caps,
      });
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) this.send(q.frame.id as string, q.frame, q.pending);
      return;
    }
    if (typeof frame.re === 'string') {
      const p = this.pending.get(frame.re);
      if (!p) return;
      this.pending.delete(frame.re);
      this.deps.clearTimer(p.timer);
      if (frame.type === 'error') {
        p.reject(new HostError(typeof frame.code === 'string' ? frame.code : 'internal',
            typeof frame.message === 'string' ? frame.message : 'error', frame));
      } else {
        p.resolve(frame);
      }
      return;
    }
    for (const cb of this.frameListeners) {
      try {
        cb(frame);
      } catch (e) {
        console.error('omnibridge: frame handler failed', e);
      }
    }
  }

  private fail(gen: number, code: string, detail: string): void {
    if (gen !== this.generation) return;
    this.teardown(code, detail);
    this.scheduleRetry(code, detail);
  }

  private onClosed(gen: number, code: string, detail: string | undefined): void {
    if (gen !== this.generation) return;
    this.teardown(code, detail ?? code);
    this.scheduleRetry(code, detail);
  }

  /** Forgets the current port and fails everything that waited on it. */
  private teardown(code: string, detail: string): void {
    this.generation++;
    this.deps.clearTimer(this.handshakeTimer);
    this.handshakeTimer = null;
    const port = this.port;
    this.port = null;
    if (port) {
      try {
        port.disconnect();
      } catch {
        // already gone
      }
    }
    const err = new HostError('host_down', `native host unavailable (${code}): ${detail}`);
    for (const [, p] of this.pending) {
      this.deps.clearTimer(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const q of this.queue) {
      this.deps.clearTimer(q.pending.timer);
      q.pending.reject(err);
    }
    this.queue = [];
  }

  /** Delay before attempt n (0-based): base·2ⁿ capped, with ±20 % jitter. */
  backoffDelay(attempt: number): number {
    const base = this.opts.backoffBaseMs ?? 500;
    const max = this.opts.backoffMaxMs ?? 30000;
    const raw = Math.min(max, base * 2 ** Math.min(attempt, 16));
    return Math.round(raw * (0.8 + 0.4 * this.deps.random()));
  }

  private scheduleRetry(code: string, detail: string | undefined): void {
    const delay = this.backoffDelay(this.attempts++);
    this.state_ = 'backoff';
    this.setStatus({state: 'backoff', code, ...(detail ? {detail} : {})});
    this.clearRetry();
    this.retryTimer = this.deps.setTimer(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.deps.clearTimer(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(state: HostLinkState): void {
    this.state_ = state;
    if (state === 'connecting') this.setStatus({state});
  }

  private setStatus(status: HostStatus): void {
    this.status_ = status;
    for (const cb of this.statusListeners) cb(status);
  }
}
