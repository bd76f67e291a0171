// HubSpot CRM.
//
// URLs (the app's routes; seen widely in public code, not a documented API). Every one carries
// the portal (hub) id, so `options.portalId` is required:
//   record     /contacts/<portalId>/record/<objectTypeId>/<id>
//              objectTypeId 0-1 contact, 0-2 company, 0-3 deal, 0-5 ticket (or given as "0-N")
//   search     /contacts/<portalId>/objects/0-1/views/all/list?query=<phone or e-mail>
//   new        none (creating a record opens a side panel that takes no URL parameters)
//   activity   none (engagements are created through the API: the host's job)
// The origin is the portal's app host, e.g. https://app.hubspot.com or https://app-eu1.hubspot.com.
// Ids are positive integers. No main-world script: HubSpot exposes no page API outside its
// calling-extensions iframe.

import type { CrmAdapter, CrmSettings } from './types.js';
import { guarded, isNumericId, nonEmpty, normalizeOrigin, onOrigin, pct } from './util.js';

const OBJECT_TYPES: Record<string, string> = {
  contact: '0-1',
  contacts: '0-1',
  company: '0-2',
  companies: '0-2',
  account: '0-2',
  deal: '0-3',
  deals: '0-3',
  ticket: '0-5',
  tickets: '0-5',
  case: '0-5',
};

export function hubspotObjectType(recordType: string): string | null {
  if (typeof recordType !== 'string') return null;
  const t = OBJECT_TYPES[recordType.toLowerCase()] ?? recordType;
  return /^[02]-[1-9][0-9]{0,9}$/.test(t) ? t : null;
}

export class HubSpotAdapter implements CrmAdapter {
  readonly id = 'hubspot';
  readonly origin: string;
  private readonly portalId: string;

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'hubspot');
    const portal = settings.options?.portalId;
    if (portal === undefined || !/^[1-9][0-9]{0,14}$/.test(String(portal))) {
      throw new Error('crm hubspot: options.portalId (the numeric hub id in every HubSpot URL) is required');
    }
    this.portalId = String(portal);
  }

  searchUrl(query: { phone?: string; email?: string }): string | null {
    return guarded(() => {
      const q = nonEmpty(query?.phone) ? query.phone.trim() : nonEmpty(query?.email) ? query.email.trim() : null;
      if (q === null) return null;
      return onOrigin(this.origin, `/contacts/${this.portalId}/objects/0-1/views/all/list?query=${pct(q)}`);
    });
  }

  recordUrl(recordType: string, recordId: string): string | null {
    return guarded(() => {
      const type = hubspotObjectType(recordType);
      if (!type || !isNumericId(recordId)) return null;
      return onOrigin(this.origin, `/contacts/${this.portalId}/record/${type}/${recordId}`);
    });
  }

  newRecordUrl(_recordType: string, _fields: Record<string, string>): string | null {
    return null;
  }

  logActivityUrl(_activity: { subject: string; body: string; recordId?: string }): string | null {
    return null;
  }
}
