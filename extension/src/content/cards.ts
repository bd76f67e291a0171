// Incoming-interaction toasts, PopFlow toasts and routing-offer cards, stacked top right.
import {h} from './dom';
import type {OfferEntry} from '../shared/messages';
import type {Interaction} from '../shared/protocol';

let seq = 0;

export interface ToastSpec {
  title: string;
  message: string;
  modal?: boolean;
  buttons?: Array<{id: string; label: string}>;
  timeoutSeconds?: number;
  kind?: string;
  id?: string;
}

const DISMISSED_KEY = 'omnibridge.dismissedToasts';

function isDismissed(id: string): boolean {
  try {
    return (JSON.parse(sessionStorage.getItem(DISMISSED_KEY) ?? '[]') as string[]).includes(id);
  } catch {
    return false;
  }
}

function markDismissed(id: string): void {
  try {
    const list = (JSON.parse(sessionStorage.getItem(DISMISSED_KEY) ?? '[]') as string[]).filter((x) => x !== id);
    sessionStorage.setItem(DISMISSED_KEY, JSON.stringify([...list, id].slice(-50)));
  } catch {
    // storage unavailable: the toast may come back after a reload, nothing worse
  }
}

export class Cards {
  readonly el = h('div', {class: 'stack', role: 'region', 'aria-label': 'Omnibridge notifications', 'aria-live': 'polite', 'data-ob': 'stack'});
  private readonly offers = new Map<string, {card: HTMLElement; deadline: number; countdown: HTMLElement}>();

  constructor(private readonly root: ShadowRoot,
              private readonly onOffer: (interactionId: string, accept: boolean, offer?: OfferEntry['offer']) => Promise<void>) {}

  /** Shows a toast; resolves with the id of the button pressed, or null on timeout / close. */
  toast(spec: ToastSpec): Promise<string | null> {
    const titleId = `ob-t${++seq}`;
    const card = h('div', {
      class: 'card', role: spec.modal ? 'alertdialog' : 'status', 'aria-labelledby': titleId,
      'aria-modal': spec.modal ? 'true' : undefined, 'data-ob': spec.kind ?? 'toast', 'data-toast-id': spec.id,
    }, h('h2', {id: titleId}, spec.title), spec.message ? h('p', {'data-ob': 'toast-message'}, spec.message) : null);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wrapper = spec.modal ? h('div', {class: 'modal-backdrop'}, card) : card;
      const done = (id: string | null) => {
        if (timer) clearTimeout(timer);
        wrapper.remove();
        resolve(id);
      };
      const actions = h('div', {class: 'actions'});
      for (const b of spec.buttons ?? []) {
        const btn = h('button', {type: 'button', 'data-button-id': b.id}, b.label);
        btn.addEventListener('click', () => done(b.id));
        actions.appendChild(btn);
      }
      const close = h('button', {type: 'button', 'aria-label': 'Dismiss', 'data-ob': 'dismiss'}, 'Dismiss');
      close.addEventListener('click', () => done(null));
      actions.appendChild(close);
      card.appendChild(actions);
      card.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') done(null);
      });
      if (spec.modal) this.root.appendChild(wrapper);
      else this.el.prepend(card);
      if (spec.modal) (actions.firstElementChild as HTMLElement | null)?.focus();
      const secs = spec.timeoutSeconds ?? (spec.modal ? 0 : 8);
      if (secs > 0) timer = setTimeout(() => done(null), secs * 1000);
    });
  }

  /** Shows the ringing toast of an offered interaction (once per page, unless dismissed). */
  incoming(i: Interaction): void {
    if (this.ringing.has(i.interactionId) || isDismissed(i.interactionId)) return;
    const who = i.callerName || i.ani || 'Unknown caller';
    const lines = [i.ani && i.callerName ? i.ani : '', i.queue ? `Queue ${i.queue}` : ''].filter(Boolean);
    const closed = this.toast({title: `Incoming ${i.channel}: ${who}`, message: lines.join(' · '), kind: 'incoming-toast',
      timeoutSeconds: 0, id: i.interactionId});
    this.ringing.add(i.interactionId);
    void closed.then((button) => {
      this.ringing.delete(i.interactionId);
      if (button === null && !this.withdrawn.delete(i.interactionId)) markDismissed(i.interactionId);
    });
  }

  /** Keeps ringing toasts in step with the interactions: shown while offered (in the primary tab). */
  syncIncoming(list: Interaction[], primary: boolean): void {
    const offered = new Map(list.filter((i) => i.state === 'offered').map((i) => [i.interactionId, i]));
    for (const id of [...this.ringing]) {
      if (!offered.has(id) || !primary) {
        this.withdrawn.add(id);
        this.el.querySelector(`[data-toast-id="${CSS.escape(id)}"] [data-ob="dismiss"]`)?.dispatchEvent(new Event('click'));
      }
    }
    if (primary) for (const i of offered.values()) this.incoming(i);
  }

  private readonly ringing = new Set<string>();
  private readonly withdrawn = new Set<string>();

  showOffer(entry: OfferEntry): void {
    const o = entry.offer;
    if (this.offers.has(o.interactionId)) return;
    const titleId = `ob-o${++seq}`;
    const countdown = h('span', {class: 'countdown', role: 'timer', 'aria-live': 'off', 'data-ob': 'countdown'});
    const accept = h('button', {type: 'button', class: 'primary', 'data-ob': 'accept'}, 'Accept');
    const decline = h('button', {type: 'button', class: 'danger', 'data-ob': 'decline'}, 'Decline');
    const error = h('p', {class: 'error', role: 'alert'});
    const card = h('div', {class: 'card offer', role: 'dialog', 'aria-labelledby': titleId, 'data-ob': 'offer', 'data-interaction-id': o.interactionId},
        h('h2', {id: titleId}, `New ${o.channel}${o.queue ? ` · ${o.queue}` : ''}`),
        o.subject ? h('p', {'data-ob': 'offer-subject'}, o.subject) : null,
        o.customer ? h('p', {class: 'muted', 'data-ob': 'offer-customer'}, o.customer) : null,
        h('p', {}, 'Expires in ', countdown),
        error,
        h('div', {class: 'actions'}, decline, accept));
    const act = (yes: boolean) => {
      accept.disabled = decline.disabled = true;
      this.onOffer(o.interactionId, yes, o).then(() => this.removeOffer(o.interactionId), (e: unknown) => {
        error.textContent = e instanceof Error ? e.message : String(e);
        accept.disabled = decline.disabled = false;
      });
    };
    accept.addEventListener('click', () => act(true));
    decline.addEventListener('click', () => act(false));
    this.offers.set(o.interactionId, {card, deadline: entry.deadline, countdown});
    this.el.prepend(card);
    this.tick(Date.now());
    // No focus stealing: the agent may be typing in the CRM. The stack is a polite live region,
    // so the offer is announced, and the buttons are in the tab order.
  }

  removeOffer(interactionId: string): void {
    this.offers.get(interactionId)?.card.remove();
    this.offers.delete(interactionId);
  }

  /** Keeps exactly the given offers (after a reload or a state push). */
  syncOffers(entries: OfferEntry[]): void {
    const ids = new Set(entries.map((e) => e.offer.interactionId));
    for (const id of [...this.offers.keys()]) if (!ids.has(id)) this.removeOffer(id);
    for (const e of entries) this.showOffer(e);
  }

  /** Whether this tab is the one that acts for the agent (only it declines expired offers). */
  primary = false;

  tick(now: number): void {
    for (const [id, o] of this.offers) {
      const left = Math.ceil((o.deadline - now) / 1000);
      if (left <= 0) {
        this.removeOffer(id);
        // The countdown's end is a decline: the ACD offers the work to the next agent at once
        // instead of letting this agent's leg ring to the queue's own timeout.
        if (this.primary) this.onOffer(id, false).catch(() => {});
        continue;
      }
      o.countdown.textContent = `${left} s`;
    }
  }
}
