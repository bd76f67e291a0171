// Host ⇄ extension frames (docs/protocol.md, v1). Field names follow DESIGN.md "Contracts".

export const PROTOCOL_VERSION = 1;
export const DEFAULT_HOST_NAME = 'org.omnibridge.host';

export type CtiState = 'connecting' | 'up' | 'down';
export type AgentStateName = 'loggedOut' | 'ready' | 'notReady' | 'busy' | 'wrapup';
export type InteractionState = 'offered' | 'connected' | 'held' | 'ended' | 'wrapup';

export interface Frame {
  type: string;
  id?: string;
  re?: string;
  [key: string]: unknown;
}

export interface HostHello extends Frame {
  type: 'hello';
  protocol: number;
  version?: string;
  capabilities?: string[];
}

export interface CtiStatus {
  state: CtiState;
  driver?: string;
  detail?: string;
}

export interface AgentState {
  agentId?: string;
  state: AgentStateName;
  reason?: string;
  since?: string;
  paused?: string[];
  reasonCodes?: string[];
}

export interface Interaction {
  interactionId: string;
  channel: string;
  direction?: string;
  state: InteractionState;
  ani?: string;
  callerName?: string;
  dnis?: string;
  queue?: string;
  data?: Record<string, unknown>;
  since?: string;
}

export interface RoutingOffer {
  interactionId: string;
  channel: string;
  queue?: string;
  subject?: string;
  customer?: string;
  url?: string;
  timeoutSeconds?: number;
}

export type PopflowAction =
  | {kind: 'screenPop'; target: 'record'; recordType: string; recordId: string}
  | {kind: 'screenPop'; target: 'newRecord'; recordType: string; fields?: Record<string, string>}
  | {kind: 'screenPop'; target: 'search'; query: string}
  | {kind: 'screenPop'; target: 'url'; url: string}
  | {kind: 'crmSearch'; field: string; value: string; recordType?: string}
  | {
      kind: 'toast';
      title?: string;
      message?: string;
      modal?: boolean;
      buttons?: Array<{id: string; label: string}>;
      timeoutSeconds?: number;
    }
  | {kind: 'fillField'; field: string; value: string}
  | {kind: 'setDisposition'; value: string}
  | {kind: 'logActivity'; subject?: string; body?: string; recordId?: string};

export interface PopflowRun {
  runId: string;
  interactionId: string;
  flow: string;
  actions: PopflowAction[];
}

export interface PopflowResult {
  runId: string;
  actionIndex: number;
  ok: boolean;
  data?: Record<string, unknown>;
  error?: string;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isInteraction(v: unknown): v is Interaction {
  return isObject(v) && typeof v.interactionId === 'string' && v.interactionId !== '' &&
      typeof v.state === 'string';
}

export function isPopflowRun(v: unknown): v is PopflowRun {
  return isObject(v) && typeof v.runId === 'string' && typeof v.interactionId === 'string' &&
      typeof v.flow === 'string' && Array.isArray(v.actions) && v.actions.every(isObject);
}

export function isRoutingOffer(v: unknown): v is RoutingOffer {
  return isObject(v) && typeof v.interactionId === 'string' && v.interactionId !== '';
}
