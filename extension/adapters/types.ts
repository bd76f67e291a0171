// The one interface every CRM adapter implements. The service worker and the content script code
// against these types only; docs/crm-adapters.md describes each adapter's URLs.
//
// Contract for every URL-building method: it returns an absolute `http:` or `https:` URL on the
// configured origin (the generic adapter may also return one on an origin its template names), or
// null when it cannot build one: an invalid id, a value that would change the URL's structure, an
// operation the CRM has no URL for. Methods never throw for bad input; `createAdapter` throws for
// bad settings, so a misconfiguration surfaces once, in the options page, and not at pop time.

export type AdapterKind =
  | 'generic'
  | 'salesforce'
  | 'dynamics'
  | 'zendesk'
  | 'servicenow'
  | 'oracle'
  | 'hubspot';

/** Per-CRM settings that are not templates. Every member is optional; each adapter names the
 *  ones it reads (docs/crm-adapters.md). */
export interface CrmOptions {
  /** HubSpot: the portal (hub) id in every app URL. Required by the hubspot adapter. */
  portalId?: string;
  /** Dynamics 365: the model-driven app to open records in (`appid=<GUID>`). */
  appId?: string;
  /** Dynamics 365: the app's unique name (`appname=`), used when appId is absent. */
  appName?: string;
  /** ServiceNow: open records in a workspace, e.g. `now/sow` or `now/cwf/agent`, instead of the
   *  classic UI. */
  workspace?: string;
  /** ServiceNow: the table searched by phone/e-mail (default `sys_user`). */
  searchTable?: string;
}

export interface CrmSettings {
  origin: string;
  adapter: 'generic' | 'salesforce' | 'dynamics' | 'zendesk' | 'servicenow' | 'oracle' | 'hubspot';
  templates?: { search?: string; record?: string; newRecord?: string; activity?: string };
  /** Optional extension of the settings: see CrmOptions. */
  options?: CrmOptions;
}

export interface SearchQuery {
  phone?: string;
  email?: string;
}

export interface Activity {
  subject: string;
  body: string;
  recordId?: string;
}

/** An operation that a main-world script can carry out with the CRM page's own JavaScript API. */
export type MainWorldOp = 'search' | 'record' | 'newRecord' | 'logActivity';

/** What the extension passes to a main-world function (JSON-serialisable: it crosses into the
 *  page through `chrome.scripting.executeScript({args})`). */
export type MainWorldRequest =
  | { op: 'search'; query: SearchQuery }
  | { op: 'record'; recordType: string; recordId: string }
  | { op: 'newRecord'; recordType: string; fields: Record<string, string> }
  | { op: 'logActivity'; activity: Activity };

/** What a main-world function resolves to (never rejects).
 *  `ok`: the page API was there and answered. `done`: the operation is complete (a record was
 *  opened or created); when `done` is false the extension falls back to the adapter's URL, if any.
 *  `count`/`ids`: search results seen. `error`: why not, for logs and people. */
export interface MainWorldResult {
  ok: boolean;
  done: boolean;
  api?: string;
  count?: number;
  ids?: string[];
  error?: string;
}

/** A function that runs in the page's main world. It is self-contained (it references nothing
 *  outside its own body), so it can be handed to
 *  `chrome.scripting.executeScript({target, world: 'MAIN', func, args: [request]})`. It never
 *  evaluates strings and never builds HTML. */
export type MainWorldFunction = (request: MainWorldRequest) => Promise<MainWorldResult>;

export interface MainWorldSupport {
  /** Operations `run` can carry out. */
  readonly ops: readonly MainWorldOp[];
  /** Operations for which `run` should be tried before the URL (it does more than the URL can,
   *  e.g. open the single match of a search); the URL stays the fallback when `done` is false. */
  readonly preferFor: readonly MainWorldOp[];
  /** Which page global `run` needs, for diagnostics ("Xrm", "sforce.opencti", …). */
  readonly requires: string;
  readonly run: MainWorldFunction;
}

export interface CrmAdapter {
  readonly id: string;
  searchUrl(query: { phone?: string; email?: string }): string | null;
  recordUrl(recordType: string, recordId: string): string | null;
  newRecordUrl(recordType: string, fields: Record<string, string>): string | null;
  logActivityUrl?(activity: { subject: string; body: string; recordId?: string }): string | null;
  mainWorld?: MainWorldSupport;
  /** The normalised origin (`scheme://host[:port]`) this adapter builds URLs for. */
  readonly origin?: string;
}
