// Entry point: build an adapter from one `crm` settings entry, and decide how to carry out a pop.

import type { CrmAdapter, CrmSettings, MainWorldRequest } from './types.js';
import { GenericAdapter } from './generic.js';
import { SalesforceAdapter } from './salesforce.js';
import { DynamicsAdapter } from './dynamics.js';
import { ZendeskAdapter } from './zendesk.js';
import { ServiceNowAdapter } from './servicenow.js';
import { OracleAdapter } from './oracle.js';
import { HubSpotAdapter } from './hubspot.js';

export type * from './types.js';

export const ADAPTER_KINDS = ['generic', 'salesforce', 'dynamics', 'zendesk', 'servicenow', 'oracle', 'hubspot'] as const;

/** Builds the adapter for one `crm` entry. Throws an Error that names the problem for an unknown
 *  adapter, an origin that is not http(s) (or has a path), bad templates or missing options. */
export function createAdapter(settings: CrmSettings): CrmAdapter {
  if (typeof settings !== 'object' || settings === null) {
    throw new Error('crm: each entry must be an object with "origin" and "adapter"');
  }
  switch (settings.adapter) {
    case 'generic':
      return new GenericAdapter(settings);
    case 'salesforce':
      return new SalesforceAdapter(settings);
    case 'dynamics':
      return new DynamicsAdapter(settings);
    case 'zendesk':
      return new ZendeskAdapter(settings);
    case 'servicenow':
      return new ServiceNowAdapter(settings);
    case 'oracle':
      return new OracleAdapter(settings);
    case 'hubspot':
      return new HubSpotAdapter(settings);
    default:
      throw new Error(
        `crm: unknown adapter ${JSON.stringify((settings as { adapter?: unknown }).adapter)}; expected one of ${ADAPTER_KINDS.join(', ')}`,
      );
  }
}

/** How to carry out one pop with a given adapter:
 *  - `navigate`: point the CRM tab at `url`.
 *  - `mainWorld`: run `adapter.mainWorld.run(request)` in the tab with
 *    `chrome.scripting.executeScript({target: {tabId, allFrames: true}, world: 'MAIN',
 *    func: adapter.mainWorld.run, args: [request]})`; if no frame answers `done: true`, navigate
 *    to `fallbackUrl` when it is not null.
 *  - `unsupported`: neither a URL nor the page API can do it with this adapter. */
export type PopPlan =
  | { kind: 'navigate'; url: string }
  | { kind: 'mainWorld'; request: MainWorldRequest; fallbackUrl: string | null }
  | { kind: 'unsupported'; reason: string };

export function planPop(adapter: CrmAdapter, request: MainWorldRequest): PopPlan {
  let url: string | null;
  switch (request.op) {
    case 'search':
      url = adapter.searchUrl(request.query);
      break;
    case 'record':
      url = adapter.recordUrl(request.recordType, request.recordId);
      break;
    case 'newRecord':
      url = adapter.newRecordUrl(request.recordType, request.fields);
      break;
    case 'logActivity':
      url = adapter.logActivityUrl ? adapter.logActivityUrl(request.activity) : null;
      break;
    default:
      return { kind: 'unsupported', reason: 'unknown operation' };
  }
  const mw = adapter.mainWorld;
  if (mw && mw.ops.includes(request.op) && (url === null || mw.preferFor.includes(request.op))) {
    return { kind: 'mainWorld', request, fallbackUrl: url };
  }
  if (url !== null) return { kind: 'navigate', url };
  return { kind: 'unsupported', reason: `the ${adapter.id} adapter cannot ${request.op} with these values` };
}
