// Messages between the extension's own contexts (content script, popup, options ⇄ worker).
import type {AgentState, CtiStatus, Interaction, PopflowResult, PopflowRun, RoutingOffer} from './protocol';
import type {CrmSettings} from './settings';
import type {MainWorldRequest} from '../../adapters/types';

export type HostLinkState = 'connecting' | 'ready' | 'backoff' | 'stopped';

export interface HostStatus {
  state: HostLinkState;
  /** Stable code of the last failure (host_not_found, forbidden, host_exited, …). */
  code?: string;
  detail?: string;
  version?: string;
  capabilities?: string[];
}

export interface OfferEntry {
  offer: RoutingOffer;
  /** Epoch milliseconds when the countdown ends. */
  deadline: number;
}

export interface Snapshot {
  host: HostStatus;
  cti: CtiStatus | null;
  agent: AgentState | null;
  interactions: Interaction[];
  offers: OfferEntry[];
  reasonCodes: string[];
  /** Only in replies to a CRM tab: whether it is the designated tab, and its CRM settings. */
  designated?: boolean;
  /** Whether this tab is where host messages (pops, toasts, offers) go now. */
  primary?: boolean;
  crm?: CrmSettings | null;
}

export interface RequestError {
  code: string;
  message: string;
  /** PopFlow errors: the host's list of {node, field, column?, message, severity}. */
  diagnostics?: unknown[];
}

/** Requests to the worker. */
export type ToWorker =
  | {kind: 'content.hello'; focused: boolean}
  | {kind: 'content.focus'}
  | {kind: 'tab.designate'; designate: boolean}
  | {kind: 'host.request'; type: string; body: Record<string, unknown>}
  | {kind: 'popflow.result'; result: PopflowResult}
  | {kind: 'open.tab'; url: string}
  | {kind: 'status.get'}
  | {kind: 'host.reconnect'}
  | {kind: 'mainworld.run'; request: MainWorldRequest};

export type HostRequestReply = {ok: true; reply: Record<string, unknown>} | {ok: false; error: RequestError};

/** Pushes from the worker to a CRM tab. */
export type ToContent =
  | {kind: 'state'; snapshot: Snapshot}
  | {kind: 'popflow.run'; run: PopflowRun; crm: CrmSettings | null}
  | {kind: 'offer'; entry: OfferEntry}
  | {kind: 'offer.withdrawn'; interactionId: string};

/** Request types a CRM tab may send to the host; pages may also send the PAGE_ONLY ones. */
export const CONTENT_HOST_TYPES: ReadonlySet<string> = new Set([
  'agent.setState', 'call.answer', 'call.hangup', 'call.hold', 'call.resume', 'call.transfer',
  'call.dial', 'routing.accept', 'routing.decline', 'routing.complete',
]);
export const PAGE_ONLY_HOST_TYPES: ReadonlySet<string> = new Set(['doctor', 'ping']);
/** The Experience Designer's requests (extension pages only, never a CRM tab). */
export const DESIGNER_HOST_TYPES: ReadonlySet<string> = new Set([
  'popflow.list', 'popflow.get', 'popflow.deploy', 'popflow.test',
]);
