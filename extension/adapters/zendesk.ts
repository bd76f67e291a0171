// Zendesk Support agent workspace.
//
// URLs (the agent UI's routes; seen widely in public code, not a documented API):
//   record     /agent/users/<id>, /agent/tickets/<id>, /agent/organizations/<id>
//              (record types user|contact|end-user, ticket|case, organization|account)
//   new        /agent/tickets/new/1 (a new ticket tab; the agent UI takes no field values from the
//              URL, so fields are not carried)
//   search     /agent/search/1?q=<phone or e-mail>  (shows results; it does not open a single match)
//   activity   none: logging a call goes through the Talk Partner Edition API from the host.
// Ids are positive integers. No main-world script: the agent UI has no page API to call without
// an installed ZAF app; popping without a URL is the Talk Partner Edition API's job (host side).

import type { CrmAdapter, CrmSettings } from './types.js';
import { guarded, isNumericId, nonEmpty, normalizeOrigin, onOrigin, pct } from './util.js';

const ROUTES: Record<string, string> = {
  user: 'users',
  users: 'users',
  contact: 'users',
  'end-user': 'users',
  enduser: 'users',
  requester: 'users',
  ticket: 'tickets',
  tickets: 'tickets',
  case: 'tickets',
  organization: 'organizations',
  organizations: 'organizations',
  account: 'organizations',
};

export class ZendeskAdapter implements CrmAdapter {
  readonly id = 'zendesk';
  readonly origin: string;

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'zendesk');
  }

  searchUrl(query: { phone?: string; email?: string }): string | null {
    return guarded(() => {
      const q = nonEmpty(query?.phone) ? query.phone.trim() : nonEmpty(query?.email) ? query.email.trim() : null;
      if (q === null) return null;
      return onOrigin(this.origin, `/agent/search/1?q=${pct(q)}`);
    });
  }

  recordUrl(recordType: string, recordId: string): string | null {
    return guarded(() => {
      const route = typeof recordType === 'string' ? ROUTES[recordType.toLowerCase()] : undefined;
      if (!route || !isNumericId(recordId)) return null;
      return onOrigin(this.origin, `/agent/${route}/${recordId}`);
    });
  }

  newRecordUrl(recordType: string, _fields: Record<string, string>): string | null {
    return guarded(() => {
      const route = typeof recordType === 'string' ? ROUTES[recordType.toLowerCase()] : undefined;
      if (route !== 'tickets') return null;
      return onOrigin(this.origin, '/agent/tickets/new/1');
    });
  }

  logActivityUrl(_activity: { subject: string; body: string; recordId?: string }): string | null {
    return null;
  }
}
