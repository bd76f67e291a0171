// The worker's logic: host frames → session state → CRM tabs, and the handlers behind the router.
// It reaches the browser only through Platform, so tests run it without chrome.*.
import {
  type Frame, type PopflowRun, isInteraction, isObject, isPopflowRun,
  isRoutingOffer,
} from '../shared/protocol';
import {
  CONTENT_HOST_TYPES, DESIGNER_HOST_TYPES, type HostRequestReply, type OfferEntry, PAGE_ONLY_HOST_TYPES, type Snapshot,
  type ToContent,
} from '../shared/messages';
import {type CrmSettings, type EffectiveSettings, crmForOrigin} from '../shared/settings';
import type {MainWorldRequest, MainWorldResult} from '../../adapters/types';
import {computeBadge, type Badge} from './badge';
import {HostError, type NativePort} from './native-port';
import {RouteError, Router, type SenderInfo, type SenderPolicy} from './router';
import type {SessionState} from './session-state';

export interface Platform {
  /** Resolves with the content script's answer; rejects when the tab has no receiver. */
  sendToTab(tabId: number, message: ToContent): Promise<unknown>;
  setBadge(badge: Badge): void;
  openTab(url: string): Promise<void>;
  /** Runs the CRM adapter's main-world function in the tab's top frame. */
  runMainWorld(tabId: number, crm: CrmSettings, request: MainWorldRequest): Promise<MainWorldResult>;
  now(): number;
  setTimer(cb: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  log(...args: unknown[]): void;
}

const DEFAULT_OFFER_TIMEOUT_S = 30;
export const RESYNC_GRACE_MS = 5000;

export class Controller {
  private chain: Promise<void>;
  readonly router: Router;

  constructor(
      private readonly port: NativePort, private readonly state: SessionState,
      private readonly platform: Platform, private readonly settings: () => EffectiveSettings,
      policy: () => SenderPolicy) {
    this.chain = state.load().catch((e) => platform.log('session state load failed', e));
    this.router = this.makeRouter(policy);
    port.onFrame((f) => this.enqueue(() => this.onFrame(f)));
    port.onStatus((st) => this.enqueue(async () => {
      if (st.state === 'ready') await this.beginResync();
      await this.publish();
    }));
  }

  // --- resync after a (new) host connection ----------------------------------------------------
  // A new host rebuilds its model from the ACD and announces every live interaction again. Those
  // it does not announce within RESYNC_GRACE_MS of its CTI link being up ended while no host was
  // watching: they leave the bar instead of staying there forever.

  private connectedAt = 0;
  private readonly seenAt = new Map<string, number>();
  private sweepTimer: unknown = null;

  private sweepFor = -1;

  /** A host said hello: what the last host said about the CTI link no longer holds. */
  private async beginResync(): Promise<void> {
    this.connectedAt = this.platform.now();
    this.cancelSweep();
    await this.state.setCti(null);
  }

  /** Once per connection, when its CTI link is first up. */
  private scheduleSweep(): void {
    if (this.sweepFor === this.connectedAt) return;
    this.sweepFor = this.connectedAt;
    this.cancelSweep();
    const since = this.connectedAt;
    this.sweepTimer = this.platform.setTimer(() => {
      this.sweepTimer = null;
      void this.enqueue(async () => {
        if (this.port.state !== 'ready' || this.connectedAt !== since) return;
        let changed = false;
        for (const i of this.state.interactions()) {
          if ((this.seenAt.get(i.interactionId) ?? 0) < since) {
            await this.state.endInteraction(i.interactionId);
            changed = true;
          }
        }
        if (changed) await this.publish();
      });
    }, RESYNC_GRACE_MS);
  }

  private cancelSweep(): void {
    if (this.sweepTimer !== null) this.platform.clearTimer(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** Runs `job` after every earlier job, so frames are applied in the order they came. */
  enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.chain.then(job).catch((e) => this.platform.log('job failed', e));
    this.chain = next;
    return next;
  }

  /** Resolves when all queued work is done (tests, and handlers that need settled state). */
  idle(): Promise<void> {
    return this.chain;
  }

  // --- host frames -----------------------------------------------------------------------------

  private async onFrame(frame: Frame): Promise<void> {
    switch (frame.type) {
      case 'cti.status':
        if (isObject(frame) && typeof frame.state === 'string') {
          if (frame.state === 'up' && this.connectedAt > 0) this.scheduleSweep();
          await this.state.setCti({
            state: frame.state as 'up',
            ...(typeof frame.driver === 'string' ? {driver: frame.driver} : {}),
            ...(typeof frame.detail === 'string' ? {detail: frame.detail} : {}),
          });
          await this.publish();
        }
        return;
      case 'agent.state':
        if (typeof frame.state === 'string') {
          const {type: _t, id: _i, ...agent} = frame;
          await this.state.setAgent(agent as unknown as Parameters<SessionState['setAgent']>[0]);
          await this.publish();
        }
        return;
      case 'interaction.update': {
        if (!isInteraction(frame.interaction)) return;
        this.seenAt.set(frame.interaction.interactionId, this.platform.now());
        // The ringing toast follows the snapshot in the primary tab (content/cards.ts).
        await this.state.updateInteraction(frame.interaction);
        await this.publish();
        return;
      }
      case 'interaction.ended':
        if (typeof frame.interactionId !== 'string') return;
        await this.state.endInteraction(frame.interactionId);
        await this.publish();
        return;
      case 'routing.offer': {
        if (!isRoutingOffer(frame.offer)) return;
        const seconds = typeof frame.offer.timeoutSeconds === 'number' && frame.offer.timeoutSeconds > 0 ?
            frame.offer.timeoutSeconds : DEFAULT_OFFER_TIMEOUT_S;
        const entry: OfferEntry = {offer: frame.offer, deadline: this.platform.now() + seconds * 1000};
        if (await this.state.addOffer(entry)) await this.deliver({kind: 'offer', entry});
        return;
      }
      case 'routing.offerWithdrawn':
        if (typeof frame.interactionId !== 'string') return;
        await this.state.removeOffer(frame.interactionId);
        await this.broadcast({kind: 'offer.withdrawn', interactionId: frame.interactionId});
        return;
      case 'popflow.run':
        if (isPopflowRun(frame)) await this.onRun(frame);
        return;
      case 'error':
        this.platform.log('host error', frame.code, frame.message);
        return;
      default:
        this.platform.log('ignored host frame', frame.type);
    }
  }

  private async onRun(run: PopflowRun): Promise<void> {
    const {runId, interactionId, flow, actions} = run;
    if (!(await this.state.claimRun({runId, interactionId, flow, actions}))) {
      // Already delivered (host restart or resync): say so instead of popping twice.
      actions.forEach((_, actionIndex) => this.port.notify('crm.event', {
        event: 'popflow.result', runId, actionIndex, ok: false, error: 'already_delivered',
      }));
      return;
    }
    if (!(await this.deliverRun(run))) await this.state.deferRun(run);
  }

  /** Offers a run to the CRM tabs in target order; true once one took it. */
  private async deliverRun(run: PopflowRun): Promise<boolean> {
    for (const tabId of this.state.targetTabs()) {
      const crm = this.crmOfTab(tabId);
      try {
        const reply = await this.platform.sendToTab(tabId, {kind: 'popflow.run', run, crm});
        if (isObject(reply) && reply.accepted === true) return true;
      } catch {
        // no content script there (navigating, closed): try the next tab
      }
    }
    return false;
  }

  private crmOfTab(tabId: number): EffectiveSettings['crm'][number] | null {
    const origin = this.state.tabOrigin(tabId);
    return origin ? crmForOrigin(this.settings(), origin) ?? null : null;
  }

  /** Sends to the first target tab that takes the message. */
  private async deliver(message: ToContent): Promise<boolean> {
    for (const tabId of this.state.targetTabs()) {
      try {
        await this.platform.sendToTab(tabId, message);
        return true;
      } catch {
        // next tab
      }
    }
    return false;
  }

  private async broadcast(message: ToContent): Promise<void> {
    await Promise.all(this.state.tabIds().map((id) => this.platform.sendToTab(id, message).catch(() => {})));
  }

  /**
   * Pushes the current state to every CRM tab and to the badge. Snapshots are sent in order but
   * not awaited: a slow tab must not hold up the next frame (a pop).
   */
  private async publish(): Promise<void> {
    this.platform.setBadge(computeBadge(this.port.status, this.state.cti(), this.state.agent()));
    for (const id of this.state.tabIds()) {
      this.platform.sendToTab(id, {kind: 'state', snapshot: this.snapshot(id)}).catch(() => {});
    }
  }

  snapshot(tabId?: number): Snapshot {
    const agent = this.state.agent();
    const primary = this.state.targetTabs()[0];
    const snap: Snapshot = {
      host: this.port.status,
      cti: this.state.cti(),
      agent,
      interactions: this.state.interactions(),
      offers: tabId === undefined || tabId === primary ? this.state.offers() : [],
      reasonCodes: agent?.reasonCodes ?? this.settings().reasonCodes ?? [],
    };
    if (tabId !== undefined) {
      snap.designated = this.state.designatedTab() === tabId;
      snap.primary = tabId === primary;
      snap.crm = this.crmOfTab(tabId);
    }
    return snap;
  }

  // --- messages from tabs and pages ------------------------------------------------------------

  private makeRouter(policy: () => SenderPolicy): Router {
    const r = new Router(policy);
    r.on('content.hello', ['content'], async (m, s) => {
      await this.idle();
      await this.state.addTab(s.tabId!, s.origin, m.focused === true);
      const snap = this.snapshot(s.tabId);
      // A tab appeared: hand it runs that found no tab before (after it got its reply).
      void this.enqueue(async () => {
        const runs = await this.state.takePendingRuns();
        for (const run of runs) {
          if (!(await this.state.claimRun(run))) continue;
          if (!(await this.deliverRun(run))) await this.state.deferRun(run);
        }
      });
      return snap;
    });
    r.on('content.focus', ['content'], async (_m, s) => {
      await this.idle();
      await this.state.focusTab(s.tabId!);
      return {ok: true};
    });
    r.on('tab.designate', ['content'], async (m, s) => {
      await this.idle();
      await this.state.designate(s.tabId!, m.designate === true);
      await this.publish();
      return {ok: true};
    });
    r.on('host.request', ['content', 'page'], (m, s) => this.hostRequest(m, s));
    r.on('popflow.result', ['content'], (m) => {
      const res = m.result;
      if (!isObject(res) || typeof res.runId !== 'string' || typeof res.actionIndex !== 'number') {
        throw new RouteError('invalid_message', 'bad popflow.result');
      }
      const sent = this.port.notify('crm.event', {
        event: 'popflow.result', runId: res.runId, actionIndex: res.actionIndex, ok: res.ok === true,
        ...(isObject(res.data) ? {data: res.data} : {}),
        ...(typeof res.error === 'string' ? {error: res.error} : {}),
      });
      return {sent};
    });
    r.on('open.tab', ['content'], async (m) => {
      const url = typeof m.url === 'string' ? safeHttpUrl(m.url) : null;
      if (!url) throw new RouteError('invalid_message', 'only http and https URLs open');
      await this.platform.openTab(url);
      return {ok: true};
    });
    r.on('mainworld.run', ['content'], async (m, s) => {
      const crm = this.crmOfTab(s.tabId!);
      if (!crm) return {ok: false, done: false, error: 'no CRM settings for this tab'};
      if (!isObject(m.request) || typeof m.request.op !== 'string') {
        throw new RouteError('invalid_message', 'bad main-world request');
      }
      return this.platform.runMainWorld(s.tabId!, crm, m.request as unknown as MainWorldRequest);
    });
    r.on('status.get', ['page', 'content'], async () => {
      await this.idle();
      return this.snapshot();
    });
    r.on('host.reconnect', ['page'], () => {
      this.port.restart();
      return {ok: true};
    });
    return r;
  }

  private async hostRequest(m: Record<string, unknown>, s: SenderInfo): Promise<HostRequestReply> {
    const type = typeof m.type === 'string' ? m.type : '';
    const allowed = CONTENT_HOST_TYPES.has(type) ||
        (s.kind === 'page' && (PAGE_ONLY_HOST_TYPES.has(type) || DESIGNER_HOST_TYPES.has(type)));
    if (!allowed) return {ok: false, error: {code: 'not_allowed', message: `${type} may not be sent from here`}};
    const body = isObject(m.body) ? m.body : {};
    try {
      // A dry run may wait on scripted results and HTTP timeouts in the host: give it longer.
      const reply = await this.port.request(type, body, type === 'popflow.test' ? 30000 : undefined);
      if (type === 'routing.accept' || type === 'routing.decline') {
        const id = body.interactionId;
        if (typeof id === 'string') void this.enqueue(() => this.state.removeOffer(id));
      }
      return {ok: true, reply};
    } catch (e) {
      const err = e instanceof HostError ? e : new HostError('internal', String(e));
      const diagnostics = err.frame?.diagnostics;
      return {ok: false, error: {code: err.code, message: err.message, ...(Array.isArray(diagnostics) ? {diagnostics} : {})}};
    }
  }

  /** For the worker's tab listeners. */
  tabClosed(tabId: number): Promise<void> {
    return this.enqueue(() => this.state.removeTab(tabId));
  }
  tabFocused(tabId: number): Promise<void> {
    return this.enqueue(async () => {
      await this.state.focusTab(tabId);
    });
  }
  republish(): Promise<void> {
    return this.enqueue(() => this.publish());
  }
}

export function safeHttpUrl(text: string): string | null {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

