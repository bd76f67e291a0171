// What the toolbar badge says about the link: host down / CTI down / the agent's state.
import type {AgentState, CtiStatus} from '../shared/protocol';
import type {HostStatus} from '../shared/messages';

export interface Badge {
  text: string;
  color: string;
  title: string;
}

export function computeBadge(host: HostStatus, cti: CtiStatus | null, agent: AgentState | null): Badge {
  if (host.state !== 'ready') {
    const why = host.code ? ` (${host.code})` : '';
    return {text: 'OFF', color: '#b00020', title: `Omnibridge: host down${why}`};
  }
  if (!cti || cti.state !== 'up') {
    const detail = cti?.detail ? `: ${cti.detail}` : '';
    return {text: 'CTI', color: '#c77700', title: `Omnibridge: CTI ${cti?.state ?? 'unknown'}${detail}`};
  }
  switch (agent?.state) {
    case 'ready':
      return {text: 'RDY', color: '#1b7f3b', title: 'Omnibridge: ready'};
    case 'notReady':
      return {
        text: 'NR', color: '#6b6b6b',
        title: `Omnibridge: not ready${agent.reason ? ` (${agent.reason})` : ''}`,
      };
    case 'busy':
      return {text: 'BSY', color: '#1a56b0', title: 'Omnibridge: busy'};
    case 'wrapup':
      return {text: 'WRP', color: '#6a3fb0', title: 'Omnibridge: wrap-up'};
    default:
      return {text: 'OUT', color: '#6b6b6b', title: 'Omnibridge: logged out'};
  }
}
