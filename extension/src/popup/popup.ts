// Toolbar popup: host and CTI status, agent state, a link to options.
import type {Snapshot} from '../shared/messages';
import {send} from '../shared/send';
import {describeAgent, describeCti, describeHost} from '../shared/describe';

function set(id: string, text: string, state?: string): void {
  const el = document.getElementById(id)!;
  el.textContent = text;
  if (state) el.setAttribute('data-state', state);
}

async function refresh(): Promise<void> {
  try {
    const s = await send<Snapshot>({kind: 'status.get'});
    set('host', describeHost(s.host), s.host.state);
    set('cti', describeCti(s.cti), s.cti?.state ?? 'unknown');
    set('agent', describeAgent(s.agent), s.agent?.state ?? 'unknown');
    set('interactions', s.interactions.length ?
      s.interactions.map((i) => `${i.callerName || i.ani || i.interactionId} (${i.channel}, ${i.state})`).join('; ') : 'none');
  } catch (e) {
    set('host', `extension not answering: ${String(e)}`, 'error');
  }
}

document.getElementById('options')!.addEventListener('click', (e) => {
  e.preventDefault();
  void chrome.runtime.openOptionsPage();
});
void refresh();
setInterval(() => void refresh(), 1000);
