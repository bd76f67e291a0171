// Content script for a configured CRM origin: renders the agent bar, toasts and offer cards into a
// closed shadow root, and runs popflow actions that the worker hands to this tab.
import {createAdapter} from '../../adapters/index';
import type {CrmAdapter, MainWorldResult} from '../../adapters/types';
import type {Snapshot, ToContent} from '../shared/messages';
import {hostRequest, send} from '../shared/send';
import {AgentBar} from './agent-bar';
import {Cards} from './cards';
import {h} from './dom';
import {runPopflow} from './popflow';
import {STYLES} from './styles';

declare global {
  interface Window {
    __omnibridgeLoaded?: boolean;
  }
}

function main(): void {
  if (window.top !== window || window.__omnibridgeLoaded) return;
  window.__omnibridgeLoaded = true;

  const host = h('div', {id: 'omnibridge-root', 'data-omnibridge': ''});
  const root = host.attachShadow({mode: 'closed'});
  root.appendChild(h('style', {}, STYLES));

  const bar = new AgentBar({
    setState: async (state, reason) => {
      await hostRequest('agent.setState', reason ? {state, reason} : {state});
    },
    dial: async (number) => {
      await hostRequest('call.dial', {number});
    },
    call: async (type, interactionId) => {
      await hostRequest(type, {interactionId});
    },
    transfer: async (interactionId, target) => {
      await hostRequest('call.transfer', {interactionId, target, mode: 'blind'});
    },
    designate: async (on) => {
      await send({kind: 'tab.designate', designate: on});
    },
  });
  const cards = new Cards(root, async (interactionId, accept, offer) => {
    await hostRequest(accept ? 'routing.accept' : 'routing.decline', {interactionId});
    // Accepted: the work item opens in this CRM tab (only an http(s) URL is ever followed).
    const url = accept && offer?.url ? workItemUrl(offer.url) : null;
    if (url) window.location.assign(url);
  });
  root.appendChild(cards.el);
  root.appendChild(bar.el);
  document.documentElement.appendChild(host);

  let snapshot: Snapshot | null = null;
  const apply = (snap: Snapshot) => {
    snapshot = snap;
    cards.primary = snap.primary === true;
    bar.update(snap);
    cards.syncOffers(snap.offers);
    cards.syncIncoming(snap.interactions, snap.primary === true);
  };

  const adapterFor = (): CrmAdapter | null => {
    const crm = snapshot?.crm;
    if (!crm) return null;
    try {
      return createAdapter(crm);
    } catch (e) {
      console.warn('omnibridge: CRM adapter settings are invalid', e);
      return null;
    }
  };

  chrome.runtime.onMessage.addListener((message: ToContent, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id || sender.tab) return false;  // only the worker talks here
    switch (message.kind) {
      case 'state':
        apply(message.snapshot);
        break;
      case 'offer':
        cards.showOffer(message.entry);
        break;
      case 'offer.withdrawn':
        cards.removeOffer(message.interactionId);
        break;
      case 'popflow.run': {
        if (snapshot && message.crm) snapshot.crm = message.crm;
        sendResponse({accepted: true});
        void runPopflow(message.run, {
          adapter: message.crm ? safeCreate(message.crm) : adapterFor(),
          report: async (result) => {
            await send({kind: 'popflow.result', result});
          },
          navigate: (url) => location.assign(url),
          openTab: async (url) => {
            await send({kind: 'open.tab', url});
          },
          toast: (spec) => cards.toast(spec),
          mainWorld: (request) => send<MainWorldResult>({kind: 'mainworld.run', request}),
          document,
        });
        return false;
      }
    }
    sendResponse({ok: true});
    return false;
  });

  const focused = () => document.visibilityState === 'visible' && document.hasFocus();
  window.addEventListener('focus', () => void send({kind: 'content.focus'}).catch(() => {}));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void send({kind: 'content.focus'}).catch(() => {});
  });

  const hello = () => send<Snapshot>({kind: 'content.hello', focused: focused()}).then(apply);
  hello().catch((e) => {
    console.warn('omnibridge: worker did not answer, retrying', e);
    setTimeout(() => void hello().catch(() => {}), 1000);
  });
  setInterval(() => {
    const now = Date.now();
    bar.tick(now);
    cards.tick(now);
  }, 1000);
}

function safeCreate(crm: Parameters<typeof createAdapter>[0]): CrmAdapter | null {
  try {
    return createAdapter(crm);
  } catch (e) {
    console.warn('omnibridge: CRM adapter settings are invalid', e);
    return null;
  }
}

main();

/** The offer's work-item URL when it is http(s), else null (never javascript:, data:, …). */
function workItemUrl(text: string): string | null {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
