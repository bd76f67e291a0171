// The agent bar: state with reason codes, time in state, current interactions, and the controls
// ready / not ready + reason / dial / hangup / transfer. Data is only ever set as text.
import {clear, elapsed, h} from './dom';
import type {Snapshot} from '../shared/messages';
import type {Interaction} from '../shared/protocol';

const STATE_LABEL: Record<string, string> = {
  loggedOut: 'Logged out', ready: 'Ready', notReady: 'Not ready', busy: 'Busy', wrapup: 'Wrap-up',
};

export interface BarActions {
  setState(state: 'ready' | 'notReady', reason?: string): Promise<void>;
  dial(number: string): Promise<void>;
  call(type: 'call.answer' | 'call.hangup' | 'call.hold' | 'call.resume' | 'routing.complete',
      interactionId: string): Promise<void>;
  transfer(interactionId: string, target: string): Promise<void>;
  designate(on: boolean): Promise<void>;
}

export class AgentBar {
  readonly el: HTMLElement;
  private readonly dot = h('span', {class: 'dot', 'aria-hidden': 'true'});
  private readonly stateText = h('span', {class: 'state', 'data-ob': 'state'});
  private readonly timer = h('span', {class: 'muted', 'data-ob': 'time-in-state', 'aria-label': 'time in state'});
  private readonly link = h('span', {class: 'warn', 'data-ob': 'link'});
  private readonly readyBtn = h('button', {type: 'button', 'data-ob': 'ready', 'aria-pressed': 'false'}, 'Ready');
  private readonly reasonSel = h('select', {'data-ob': 'reason', 'aria-label': 'Not-ready reason'});
  private readonly notReadyBtn = h('button', {type: 'button', 'data-ob': 'not-ready', 'aria-pressed': 'false'}, 'Not ready');
  private readonly dialInput = h('input', {type: 'tel', 'data-ob': 'dial-number', 'aria-label': 'Number to dial', placeholder: 'Number', autocomplete: 'off'});
  private readonly dialBtn = h('button', {type: 'button', 'data-ob': 'dial'}, 'Dial');
  private readonly calls = h('ul', {class: 'calls', 'data-ob': 'interactions', 'aria-label': 'Current interactions'});
  private readonly designateBox = h('input', {type: 'checkbox', 'data-ob': 'designate'});
  private readonly error = h('span', {class: 'error', role: 'alert', 'data-ob': 'error'});
  private readonly toggle = h('button', {type: 'button', 'aria-expanded': 'true', 'aria-label': 'Collapse agent bar', 'data-ob': 'toggle'}, '▾');
  private snap: Snapshot | null = null;
  private reasonsKey = '';

  constructor(private readonly actions: BarActions) {
    this.designateBox.style.width = 'auto';
    this.el = h('div', {class: 'bar', role: 'region', 'aria-label': 'Omnibridge agent bar', 'data-ob': 'bar'},
        h('div', {class: 'head'}, this.toggle, this.dot,
            h('span', {role: 'status', 'aria-live': 'polite', 'data-ob': 'status'}, this.stateText), this.timer,
            this.link),
        h('div', {class: 'group', role: 'group', 'aria-label': 'Agent state'},
            this.readyBtn, this.reasonSel, this.notReadyBtn),
        h('form', {class: 'group', role: 'search', 'aria-label': 'Dial'}, this.dialInput, this.dialBtn),
        this.calls,
        h('label', {class: 'group muted'}, this.designateBox, 'Pop in this tab'),
        this.error);
    this.toggle.addEventListener('click', () => {
      const collapsed = this.el.classList.toggle('collapsed');
      this.toggle.setAttribute('aria-expanded', String(!collapsed));
      this.toggle.textContent = collapsed ? '▸' : '▾';
    });
    this.readyBtn.addEventListener('click', () => this.run(() => this.actions.setState('ready')));
    this.notReadyBtn.addEventListener('click', () =>
      this.run(() => this.actions.setState('notReady', this.reasonSel.value || undefined)));
    const dialForm = this.dialBtn.parentElement as HTMLFormElement;
    const dial = (e: Event) => {
      e.preventDefault();
      const n = this.dialInput.value.trim();
      if (n) this.run(async () => {
        await this.actions.dial(n);
        this.dialInput.value = '';
      });
    };
    dialForm.addEventListener('submit', dial);
    this.dialBtn.addEventListener('click', dial);
    this.designateBox.addEventListener('change', () =>
      this.run(() => this.actions.designate(this.designateBox.checked)));
  }

  private run(job: () => Promise<void>): void {
    this.error.textContent = '';
    job().catch((e: unknown) => {
      this.error.textContent = e instanceof Error ? e.message : String(e);
    });
  }

  update(snap: Snapshot): void {
    this.snap = snap;
    const hostUp = snap.host.state === 'ready';
    const ctiUp = snap.cti?.state === 'up';
    const agent = snap.agent;
    const stateName = agent?.state ?? 'loggedOut';
    this.dot.className = `dot ${hostUp && ctiUp ? stateName : 'down'}`;
    let label = STATE_LABEL[stateName] ?? stateName;
    if (stateName === 'notReady' && agent?.reason) label += ` — ${agent.reason}`;
    this.stateText.textContent = agent ? label : 'Unknown';
    if (!hostUp) this.link.textContent = `Host down${snap.host.code ? ` (${snap.host.code})` : ''}`;
    else if (!ctiUp) this.link.textContent = `CTI ${snap.cti?.state ?? 'unknown'}${snap.cti?.detail ? `: ${snap.cti.detail}` : ''}`;
    else this.link.textContent = '';
    this.el.setAttribute('data-host', snap.host.state);
    this.el.setAttribute('data-agent-state', stateName);
    this.readyBtn.setAttribute('aria-pressed', String(stateName === 'ready'));
    this.notReadyBtn.setAttribute('aria-pressed', String(stateName === 'notReady'));
    for (const b of [this.readyBtn, this.notReadyBtn, this.dialBtn]) b.disabled = !hostUp;

    const reasons = snap.reasonCodes;
    const key = reasons.join('\n');
    if (key !== this.reasonsKey) {
      this.reasonsKey = key;
      const keep = this.reasonSel.value;
      clear(this.reasonSel);
      if (reasons.length === 0) this.reasonSel.appendChild(h('option', {value: ''}, '(no reason)'));
      for (const r of reasons) this.reasonSel.appendChild(h('option', {value: r}, r));
      if (reasons.includes(keep)) this.reasonSel.value = keep;
    }
    if (stateName === 'notReady' && agent?.reason && reasons.includes(agent.reason)) {
      if (document.activeElement !== this.reasonSel) this.reasonSel.value = agent.reason;
    }
    this.designateBox.checked = snap.designated === true;
    this.renderCalls(snap.interactions);
    this.tick(Date.now());
  }

  private renderCalls(list: Interaction[]): void {
    clear(this.calls);
    for (const i of list) {
      const li = h('li', {'data-interaction-id': i.interactionId, 'aria-label': `${i.channel} ${i.state}`},
          h('span', {class: 'muted'}, i.channel),
          h('span', {class: 'name', 'data-ob': 'caller-name', title: i.callerName ?? ''}, i.callerName || i.ani || i.interactionId),
          i.ani && i.callerName ? h('span', {class: 'muted', 'data-ob': 'ani'}, i.ani) : null,
          h('span', {'data-ob': 'interaction-state'}, i.state),
          h('span', {class: 'muted', 'data-ob': 'interaction-time', 'data-since': i.since ?? ''}));
      if (i.state === 'offered' && i.channel === 'voice') {
        li.appendChild(this.button('Answer', 'answer', () => this.actions.call('call.answer', i.interactionId), 'primary'));
      }
      const digital = i.channel !== 'voice';
      if (digital && (i.state === 'connected' || i.state === 'held')) {
        // Routed work (chat, e-mail…): done when the agent says so; the ACD then logs the
        // completion and the agent goes to wrap-up.
        li.appendChild(this.button('Complete', 'complete', () => this.actions.call('routing.complete', i.interactionId), 'primary'));
      } else if (i.state === 'connected' || i.state === 'held') {
        li.appendChild(i.state === 'held' ?
          this.button('Resume', 'resume', () => this.actions.call('call.resume', i.interactionId)) :
          this.button('Hold', 'hold', () => this.actions.call('call.hold', i.interactionId)));
        const target = h('input', {type: 'tel', placeholder: 'Transfer to', 'aria-label': 'Transfer target', 'data-ob': 'transfer-target'});
        li.appendChild(target);
        li.appendChild(this.button('Transfer', 'transfer', async () => {
          const t = target.value.trim();
          if (!t) throw new Error('Enter a transfer target');
          await this.actions.transfer(i.interactionId, t);
        }));
      }
      if (i.state !== 'wrapup' && !digital) {
        li.appendChild(this.button('Hang up', 'hangup', () => this.actions.call('call.hangup', i.interactionId), 'danger'));
      }
      this.calls.appendChild(li);
    }
  }

  private button(label: string, ob: string, job: () => Promise<void>, cls?: string): HTMLButtonElement {
    const b = h('button', {type: 'button', 'data-ob': ob, class: cls}, label);
    b.disabled = this.snap?.host.state !== 'ready';
    b.addEventListener('click', () => this.run(job));
    return b;
  }

  /** Refreshes the timers (called every second). */
  tick(now: number): void {
    this.timer.textContent = elapsed(this.snap?.agent?.since, now);
    for (const t of Array.from(this.calls.querySelectorAll<HTMLElement>('[data-ob="interaction-time"]'))) {
      t.textContent = elapsed(t.getAttribute('data-since') ?? undefined, now);
    }
  }
}
