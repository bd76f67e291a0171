// Maps the kinds of messages the worker receives to handlers, after checking who sent them:
// CRM tabs (content scripts in the top frame of a configured CRM origin) and the extension's own
// pages (popup, options). Anything else is refused before a handler runs.
import {isObject} from '../shared/protocol';

export type SenderKind = 'content' | 'page';

export interface SenderInfo {
  kind: SenderKind;
  tabId?: number;
  origin: string;
}

/** The fields of chrome.runtime.MessageSender the router looks at. */
export interface RawSender {
  id?: string;
  url?: string;
  origin?: string;
  tab?: {id?: number};
  frameId?: number;
}

export interface SenderPolicy {
  extensionId: string;
  /** chrome-extension://<id> (no trailing slash). */
  extensionOrigin: string;
  isCrmOrigin(origin: string): boolean;
}

function originOf(sender: RawSender): string | null {
  if (typeof sender.origin === 'string' && sender.origin !== 'null') return sender.origin;
  if (typeof sender.url !== 'string') return null;
  // Extension URLs have an opaque origin in some URL parsers; take scheme://host literally.
  const ext = /^(chrome-extension|moz-extension):\/\/([^/?#]+)/i.exec(sender.url);
  if (ext) return `${ext[1]!.toLowerCase()}://${ext[2]}`;
  try {
    const origin = new URL(sender.url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

export function classifySender(sender: RawSender, policy: SenderPolicy): SenderInfo | null {
  if (sender.id !== policy.extensionId) return null;
  const origin = originOf(sender);
  if (origin === null) return null;
  if (origin === policy.extensionOrigin) {
    return {kind: 'page', origin, ...(sender.tab?.id !== undefined ? {tabId: sender.tab.id} : {})};
  }
  if (sender.tab?.id === undefined || sender.tab.id < 0) return null;
  if (sender.frameId !== undefined && sender.frameId !== 0) return null;
  if (!policy.isCrmOrigin(origin)) return null;
  return {kind: 'content', origin, tabId: sender.tab.id};
}

export class RouteError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

type Handler = (message: Record<string, unknown>, sender: SenderInfo) => unknown;

interface Route {
  from: ReadonlySet<SenderKind>;
  handler: Handler;
}

export class Router {
  private readonly routes = new Map<string, Route>();

  constructor(private readonly policy: () => SenderPolicy) {}

  on(kind: string, from: SenderKind[], handler: Handler): this {
    this.routes.set(kind, {from: new Set(from), handler});
    return this;
  }

  /** Resolves with the handler's result; rejects with RouteError for refused messages. */
  async dispatch(message: unknown, rawSender: RawSender): Promise<unknown> {
    const sender = classifySender(rawSender, this.policy());
    if (!sender) throw new RouteError('sender_refused', 'message from an unknown sender');
    if (!isObject(message) || typeof message.kind !== 'string') {
      throw new RouteError('invalid_message', 'message without a kind');
    }
    const route = this.routes.get(message.kind);
    if (!route) throw new RouteError('unknown_kind', `unknown message kind ${message.kind}`);
    if (!route.from.has(sender.kind)) {
      throw new RouteError('sender_refused', `${message.kind} is not allowed from a ${sender.kind}`);
    }
    return route.handler(message, sender);
  }
}
