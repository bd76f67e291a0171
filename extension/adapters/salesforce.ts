// Salesforce Lightning Experience.
//
// URLs (Lightning "UI URLs": stable in practice, not an API contract):
//   record     /lightning/r/<Object>/<Id>/view
//   new        /lightning/o/<Object>/new?defaultFieldValues=Field1=Value1,Field2=Value2
//              (each value percent-encoded, so "," "=" and "%" inside a value cannot split it:
//              the form Salesforce documents for custom buttons, Field={!URLENCODE(value)})
//   search     /one/one.app#<base64 of {"componentDef":"forceSearch:searchPageDesktop",
//              "attributes":{"term":…,"scopeMap":{"type":"TOP_RESULTS"}},"state":{}}>
//              (undocumented but widely used; shows the global search results page)
//   activity   /lightning/o/Task/new?defaultFieldValues=Subject=…,Description=…,WhoId|WhatId=<Id>
// Navigating the tab reloads the Lightning app. Search-and-pop by the softphone layout's rules
// (open the single match, else list, else new record) needs Open CTI: main-world/salesforce.ts.

import type { CrmAdapter, CrmSettings } from './types.js';
import { entries, guarded, nonEmpty, normalizeOrigin, onOrigin, pct } from './util.js';
import { salesforceMainWorld } from './main-world/salesforce.js';

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3-character suffix that turns a case-sensitive 15-character id into the 18-character one:
 *  for each block of 5 characters, bit i is set when character i of the block is an upper-case
 *  letter, and the 5-bit number indexes CHECKSUM_ALPHABET. */
export function salesforceIdSuffix(id15: string): string {
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(block * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += CHECKSUM_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** A 15-character id, or an 18-character id whose suffix matches its first 15 characters. */
export function isSalesforceId(id: string): boolean {
  if (typeof id !== 'string') return false;
  if (/^[A-Za-z0-9]{15}$/.test(id)) return true;
  if (!/^[A-Za-z0-9]{18}$/.test(id)) return false;
  return salesforceIdSuffix(id.slice(0, 15)) === id.slice(15).toUpperCase();
}

/** An object or field API name: Contact, Account, My_Object__c, ns__Thing__c. */
export function isSalesforceApiName(name: string): boolean {
  return (
    typeof name === 'string' &&
    /^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(name) &&
    !name.endsWith('_') &&
    !name.includes('___')
  );
}

const STANDARD_OBJECTS: Record<string, string> = {
  contact: 'Contact',
  account: 'Account',
  lead: 'Lead',
  case: 'Case',
  opportunity: 'Opportunity',
  task: 'Task',
  event: 'Event',
  user: 'User',
  campaign: 'Campaign',
  contract: 'Contract',
  order: 'Order',
};

/** Canonical object API name (the host may say "contact"), or null when it is not a name. */
export function salesforceObject(recordType: string): string | null {
  if (!isSalesforceApiName(recordType)) return null;
  return STANDARD_OBJECTS[recordType.toLowerCase()] ?? recordType;
}

/** The defaultFieldValues parameter value: Field=pct(value) joined by commas. */
export function encodeDefaultFieldValues(fields: Record<string, string>): string | null {
  const parts: string[] = [];
  for (const [name, value] of entries(fields)) {
    if (!isSalesforceApiName(name)) return null;
    parts.push(`${name}=${pct(value)}`);
  }
  return parts.join(',');
}

/** JSON with every non-ASCII character escaped as \uXXXX, so base64 of it is plain ASCII and
 *  decodes the same whichever way the page turns bytes back into text. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export class SalesforceAdapter implements CrmAdapter {
  readonly id = 'salesforce';
  readonly origin: string;
  readonly mainWorld = {
    ops: ['search', 'record', 'newRecord', 'logActivity'] as const,
    preferFor: ['search', 'logActivity'] as const,
    requires: 'sforce.opencti (the Open CTI softphone frame of a Call Center)',
    run: salesforceMainWorld,
  };

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'salesforce');
  }

  searchUrl(query: { phone?: string; email?: string }): string | null {
    return guarded(() => {
      const term = nonEmpty(query?.phone) ? query.phone.trim() : nonEmpty(query?.email) ? query.email.trim() : null;
      if (term === null || term.length > 256) return null;
      const state = {
        componentDef: 'forceSearch:searchPageDesktop',
        attributes: { term, scopeMap: { type: 'TOP_RESULTS' } },
        state: {},
      };
      return onOrigin(this.origin, '/one/one.app#' + btoa(asciiJson(state)));
    });
  }

  recordUrl(recordType: string, recordId: string): string | null {
    return guarded(() => {
      const object = salesforceObject(recordType);
      if (object === null || !isSalesforceId(recordId)) return null;
      return onOrigin(this.origin, `/lightning/r/${object}/${recordId}/view`);
    });
  }

  newRecordUrl(recordType: string, fields: Record<string, string>): string | null {
    return guarded(() => {
      const object = salesforceObject(recordType);
      if (object === null) return null;
      const dfv = encodeDefaultFieldValues(fields);
      if (dfv === null) return null;
      const query = dfv === '' ? '' : `?defaultFieldValues=${dfv}`;
      return onOrigin(this.origin, `/lightning/o/${object}/new${query}`);
    });
  }

  logActivityUrl(activity: { subject: string; body: string; recordId?: string }): string | null {
    return guarded(() => {
      const fields: Record<string, string> = {
        Subject: String(activity?.subject ?? ''),
        Description: String(activity?.body ?? ''),
      };
      const id = activity?.recordId;
      if (id !== undefined && id !== '') {
        if (!isSalesforceId(id)) return null;
        // Contacts (003) and leads (00Q) are "who"; anything else is "what".
        const prefix = id.slice(0, 3);
        fields[prefix === '003' || prefix === '00Q' ? 'WhoId' : 'WhatId'] = id;
      }
      return this.newRecordUrl('Task', fields);
    });
  }
}
