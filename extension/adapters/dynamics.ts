// Microsoft Dynamics 365 (model-driven apps, Unified Interface).
//
// URLs ("URL addressable forms and views", documented by Microsoft):
//   record     /main.aspx?[appid=<GUID>&]pagetype=entityrecord&etn=<logical name>&id=<GUID>
//   new        /main.aspx?[appid=…&]pagetype=entityrecord&etn=<logical name>&extraqs=<pct of
//              "field1=<pct value>&field2=<pct value>">  (values encoded, then the whole string)
//   search     /main.aspx?[appid=…&]pagetype=search&searchText=<q>&searchType=0  (seen widely in
//              public code; no primary doc)
//   activity   a new phone call: etn=phonecall&extraqs=subject=…&description=…
// `options.appId` (GUID) or `options.appName` picks the app. Search-and-pop (open the single
// match) and logging an activity against a record use the Xrm client API:
// main-world/dynamics.ts.

import type { CrmAdapter, CrmSettings } from './types.js';
import { entries, guarded, nonEmpty, normalizeGuid, normalizeOrigin, onOrigin, pct } from './util.js';
import { dynamicsMainWorld } from './main-world/dynamics.js';

/** Lower-case logical name ("contact", "incident", "new_thing"); "case" means incident. */
export function dynamicsEntity(recordType: string): string | null {
  if (typeof recordType !== 'string') return null;
  const n = recordType.toLowerCase() === 'case' ? 'incident' : recordType.toLowerCase();
  return /^[a-z][a-z0-9_]{0,63}$/.test(n) ? n : null;
}

function isFieldName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(name);
}

export class DynamicsAdapter implements CrmAdapter {
  readonly id = 'dynamics';
  readonly origin: string;
  private readonly app: string;
  readonly mainWorld = {
    ops: ['search', 'record', 'newRecord', 'logActivity'] as const,
    preferFor: ['search', 'logActivity'] as const,
    requires: 'Xrm (every model-driven app page)',
    run: dynamicsMainWorld,
  };

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'dynamics');
    const o = settings.options ?? {};
    if (o.appId !== undefined) {
      const id = normalizeGuid(String(o.appId));
      if (!id) throw new Error(`crm dynamics: options.appId ${JSON.stringify(o.appId)} is not a GUID`);
      this.app = `appid=${id}&`;
    } else if (o.appName !== undefined) {
      if (!/^[A-Za-z0-9_]{1,100}$/.test(String(o.appName))) {
        throw new Error(`crm dynamics: options.appName ${JSON.stringify(o.appName)} is not an app unique name`);
      }
      this.app = `appname=${o.appName}&`;
    } else {
      this.app = '';
    }
  }

  private url(query: string): string | null {
    return onOrigin(this.origin, `/main.aspx?${this.app}${query}`);
  }

  searchUrl(query: { phone?: string; email?: string }): string | null {
    return guarded(() => {
      const q = nonEmpty(query?.phone) ? query.phone.trim() : nonEmpty(query?.email) ? query.email.trim() : null;
      if (q === null) return null;
      return this.url(`pagetype=search&searchText=${pct(q)}&searchType=0`);
    });
  }

  recordUrl(recordType: string, recordId: string): string | null {
    return guarded(() => {
      const etn = dynamicsEntity(recordType);
      const id = normalizeGuid(recordId);
      if (!etn || !id) return null;
      return this.url(`pagetype=entityrecord&etn=${etn}&id=${id}`);
    });
  }

  newRecordUrl(recordType: string, fields: Record<string, string>): string | null {
    return guarded(() => {
      const etn = dynamicsEntity(recordType);
      if (!etn) return null;
      const parts: string[] = [];
      for (const [name, value] of entries(fields)) {
        if (!isFieldName(name)) return null;
        parts.push(`${name.toLowerCase()}=${pct(value)}`);
      }
      const extra = parts.length ? `&extraqs=${pct(parts.join('&'))}` : '';
      return this.url(`pagetype=entityrecord&etn=${etn}${extra}`);
    });
  }

  logActivityUrl(activity: { subject: string; body: string; recordId?: string }): string | null {
    return guarded(() => {
      if (activity?.recordId && !normalizeGuid(activity.recordId)) return null;
      // The regarding lookup cannot be set reliably through extraqs without the record's name and
      // type; the main-world path sets it. The URL opens a pre-filled phone call form.
      return this.newRecordUrl('phonecall', {
        subject: String(activity?.subject ?? ''),
        description: String(activity?.body ?? ''),
      });
    });
  }
}
