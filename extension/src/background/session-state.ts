// State that must survive a service-worker restart, kept in chrome.storage.session (passed in as
// a SessionArea so tests use a Map). Everything is loaded once into memory; every mutation is
// applied in memory synchronously (the worker is single-threaded, so check-and-set is atomic)
// and then written through; callers await the write before acting on the result.
import type {AgentState, CtiStatus, Interaction, PopflowRun} from '../shared/protocol';
import type {OfferEntry} from '../shared/messages';

export interface SessionArea {
  get(keys: string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
}

export interface CrmTab {
  origin: string;
  /** Epoch ms of the last time the agent focused this tab (0 = never). */
  focusedAt: number;
}

interface State {
  /** `${interactionId}\n${flow}` → epoch ms when that run was delivered. */
  popped: Record<string, number>;
  live: Record<string, Interaction>;
  offers: Record<string, OfferEntry>;
  pendingRuns: PopflowRun[];
  tabs: Record<string, CrmTab>;
  designatedTab: number | null;
  agent: AgentState | null;
  cti: CtiStatus | null;
}

const KEYS: Array<keyof State> = [
  'popped', 'live', 'offers', 'pendingRuns', 'tabs', 'designatedTab', 'agent', 'cti',
];

/** Delivery marks are kept this long, then pruned. */
const MARK_TTL_MS = 24 * 3600 * 1000;
const MAX_PENDING_RUNS = 50;

function fresh(): State {
  return {
    popped: {}, live: {}, offers: {}, pendingRuns: [], tabs: {},
    designatedTab: null, agent: null, cti: null,
  };
}

/**
 * The delivery ledger's key: one delivery per interaction, flow and frame of the run. The host's
 * engine sends a run as several frames when it waits (a CRM search, a toast with buttons, …), each
 * with its own runId `<run>.<n>` (n = 1, 2, … within the run; docs/popflow.md "How flows run"); a
 * host that restarts and runs the flow again sends the same n for the same step, so a repeated
 * frame is still refused. A runId without that suffix (e.g. the default pop) counts as frame 1.
 */
export function popKey(run: {interactionId: string; flow: string; runId?: string}): string {
  const m = typeof run.runId === 'string' ? /\.(\d{1,6})$/.exec(run.runId) : null;
  const frame = m ? Number(m[1]) : 1;
  return frame > 1 ? `${run.interactionId}\n${run.flow}\n${frame}` : `${run.interactionId}\n${run.flow}`;
}

export class SessionState {
  private s: State = fresh();
  private loaded: Promise<void> | null = null;

  constructor(private readonly area: SessionArea, private readonly now: () => number) {}

  /** Loads once; every other method must be called after this resolved. */
  load(): Promise<void> {
    this.loaded ??= this.area.get(KEYS as string[]).then((items) => {
      const s = fresh();
      for (const k of KEYS) {
        if (items[k] !== undefined && items[k] !== null) (s as unknown as Record<string, unknown>)[k] = items[k];
      }
      this.s = s;
      this.prune();
    });
    return this.loaded;
  }

  private write(...keys: Array<keyof State>): Promise<void> {
    const items: Record<string, unknown> = {};
    for (const k of keys) items[k] = this.s[k];
    return this.area.set(items);
  }

  private prune(): void {
    const cutoff = this.now() - MARK_TTL_MS;
    for (const [k, t] of Object.entries(this.s.popped)) if (t < cutoff) delete this.s.popped[k];
  }

  // --- pops ------------------------------------------------------------------------------------

  /**
   * Claims the right to deliver a run: true exactly once per (interactionId, flow), however often
   * the host sends it (host restart, resync) and across worker restarts.
   */
  async claimRun(run: PopflowRun): Promise<boolean> {
    const key = popKey(run);
    if (this.s.popped[key] !== undefined) return false;
    this.s.popped[key] = this.now();
    this.s.pendingRuns = this.s.pendingRuns.filter((r) => popKey(r) !== key);
    await this.write('popped', 'pendingRuns');
    return true;
  }

  /** No CRM tab took the run: forget the claim and keep the run until a tab appears. */
  async deferRun(run: PopflowRun): Promise<void> {
    const key = popKey(run);
    delete this.s.popped[key];
    this.s.pendingRuns = [...this.s.pendingRuns.filter((r) => popKey(r) !== key), run]
        .slice(-MAX_PENDING_RUNS);
    await this.write('popped', 'pendingRuns');
  }

  /** Takes the deferred runs whose interaction is still live (others are dropped). */
  async takePendingRuns(): Promise<PopflowRun[]> {
    const runs = this.s.pendingRuns.filter((r) => this.s.live[r.interactionId] !== undefined);
    this.s.pendingRuns = [];
    await this.write('pendingRuns');
    return runs;
  }

  wasPopped(interactionId: string, flow: string): boolean {
    return this.s.popped[popKey({interactionId, flow})] !== undefined;
  }

  // --- interactions ----------------------------------------------------------------------------

  /** Applies a snapshot (idempotent: the host may repeat it). */
  async updateInteraction(i: Interaction): Promise<void> {
    if (i.state === 'ended') {
      delete this.s.live[i.interactionId];
      delete this.s.offers[i.interactionId];
    } else {
      this.s.live[i.interactionId] = i;
    }
    await this.write('live', 'offers');
  }

  async endInteraction(interactionId: string): Promise<void> {
    delete this.s.live[interactionId];
    delete this.s.offers[interactionId];
    await this.write('live', 'offers');
  }

  interactions(): Interaction[] {
    return Object.values(this.s.live);
  }

  // --- offers ----------------------------------------------------------------------------------

  async addOffer(entry: OfferEntry): Promise<boolean> {
    const isNew = this.s.offers[entry.offer.interactionId] === undefined;
    if (isNew) this.s.offers[entry.offer.interactionId] = entry;
    await this.write('offers');
    return isNew;
  }

  async removeOffer(interactionId: string): Promise<void> {
    delete this.s.offers[interactionId];
    await this.write('offers');
  }

  offers(): OfferEntry[] {
    const now = this.now();
    return Object.values(this.s.offers).filter((o) => o.deadline > now);
  }

  // --- agent and CTI -----------------------------------------------------------------------------

  async setAgent(agent: AgentState): Promise<void> {
    this.s.agent = agent;
    await this.write('agent');
  }
  agent(): AgentState | null {
    return this.s.agent;
  }
  async setCti(cti: CtiStatus | null): Promise<void> {
    this.s.cti = cti;
    await this.write('cti');
  }
  cti(): CtiStatus | null {
    return this.s.cti;
  }

  // --- CRM tabs --------------------------------------------------------------------------------

  async addTab(tabId: number, origin: string, focused: boolean): Promise<void> {
    const prev = this.s.tabs[tabId];
    this.s.tabs[tabId] = {
      origin,
      focusedAt: focused ? this.now() : prev?.origin === origin ? prev.focusedAt : 0,
    };
    await this.write('tabs');
  }

  async focusTab(tabId: number): Promise<boolean> {
    const t = this.s.tabs[tabId];
    if (!t) return false;
    t.focusedAt = this.now();
    await this.write('tabs');
    return true;
  }

  async removeTab(tabId: number): Promise<void> {
    if (this.s.tabs[tabId] === undefined && this.s.designatedTab !== tabId) return;
    delete this.s.tabs[tabId];
    if (this.s.designatedTab === tabId) this.s.designatedTab = null;
    await this.write('tabs', 'designatedTab');
  }

  async designate(tabId: number, on: boolean): Promise<void> {
    if (on) this.s.designatedTab = tabId;
    else if (this.s.designatedTab === tabId) this.s.designatedTab = null;
    await this.write('designatedTab');
  }

  designatedTab(): number | null {
    return this.s.designatedTab;
  }

  tabOrigin(tabId: number): string | null {
    return this.s.tabs[tabId]?.origin ?? null;
  }

  tabIds(): number[] {
    return Object.keys(this.s.tabs).map(Number);
  }

  /** Where host messages go: the designated tab, else CRM tabs by most recent focus. */
  targetTabs(): number[] {
    const ids = Object.entries(this.s.tabs)
        .sort((a, b) => b[1].focusedAt - a[1].focusedAt || Number(b[0]) - Number(a[0]))
        .map(([id]) => Number(id));
    const d = this.s.designatedTab;
    if (d !== null && ids.includes(d)) return [d, ...ids.filter((id) => id !== d)];
    return ids;
  }
}
