// Test doubles: a manual clock with timers, a fake native port, a Map-backed session area.
import type {NativePortDeps, PortLike} from '../../../extension/src/background/native-port';
import type {SessionArea} from '../../../extension/src/background/session-state';

export class FakeClock {
  now = 1_000_000;
  private timers = new Map<number, {at: number; cb: () => void}>();
  private next = 1;
  setTimer = (cb: () => void, ms: number): number => {
    const id = this.next++;
    this.timers.set(id, {at: this.now + ms, cb});
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  /** Advances time, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, {at: number; cb: () => void}] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].cb();
    }
    this.now = end;
  }
  pending(): number {
    return this.timers.size;
  }
}

export class FakePort implements PortLike {
  sent: Array<Record<string, unknown>> = [];
  disconnected = false;
  private msg: Array<(m: unknown) => void> = [];
  private disc: Array<() => void> = [];
  onMessage = {addListener: (cb: (m: unknown) => void) => void this.msg.push(cb)};
  onDisconnect = {addListener: (cb: () => void) => void this.disc.push(cb)};
  postMessage(m: unknown): void {
    if (this.disconnected) throw new Error('Attempting to use a disconnected port object');
    this.sent.push(m as Record<string, unknown>);
  }
  disconnect(): void {
    this.disconnected = true;
  }
  /** The host writes a frame. */
  receive(frame: Record<string, unknown>): void {
    for (const cb of this.msg) cb(frame);
  }
  /** The host exits. */
  die(): void {
    this.disconnected = true;
    for (const cb of this.disc) cb();
  }
  last(): Record<string, unknown> {
    return this.sent[this.sent.length - 1]!;
  }
}

export function portDeps(clock: FakeClock) {
  const ports: FakePort[] = [];
  let lastError: string | undefined;
  const deps: NativePortDeps = {
    connect: () => {
      const p = new FakePort();
      ports.push(p);
      return p;
    },
    lastError: () => lastError,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    random: () => 0.5,
  };
  return {deps, ports, setLastError: (e: string | undefined) => (lastError = e)};
}

export class MapArea implements SessionArea {
  readonly data = new Map<string, unknown>();
  writes = 0;
  async get(keys: string[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const k of keys) if (this.data.has(k)) out[k] = structuredClone(this.data.get(k));
    return out;
  }
  async set(items: Record<string, unknown>): Promise<void> {
    this.writes++;
    for (const [k, v] of Object.entries(items)) this.data.set(k, structuredClone(v));
  }
}

/** Lets pending promise callbacks run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
