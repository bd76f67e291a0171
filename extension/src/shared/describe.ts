// Human-readable status lines shared by the popup and the options page.
import type {AgentState, CtiStatus} from './protocol';
import type {HostStatus} from './messages';

export function describeHost(h: HostStatus): string {
  switch (h.state) {
    case 'ready':
      return `connected${h.version ? ` (host ${h.version})` : ''}`;
    case 'connecting':
      return 'connecting…';
    case 'backoff':
      return `down: ${h.code ?? 'unknown'}${h.detail ? ` — ${h.detail}` : ''}; retrying`;
    default:
      return 'stopped';
  }
}

export function describeCti(c: CtiStatus | null): string {
  if (!c) return 'unknown';
  return `${c.state}${c.driver ? ` (${c.driver})` : ''}${c.detail ? ` — ${c.detail}` : ''}`;
}

export function describeAgent(a: AgentState | null): string {
  if (!a) return 'unknown';
  return `${a.state}${a.reason ? ` (${a.reason})` : ''}${a.agentId ? ` · agent ${a.agentId}` : ''}`;
}
