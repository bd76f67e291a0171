// ServiceNow (classic UI, optionally a Next Experience workspace for records).
//
// URLs (documented: "Navigate using URLs"):
//   record     /nav_to.do?uri=<pct of "<table>.do?sys_id=<sys_id>">
//              or, with options.workspace = "now/sow" (or "now/cwf/agent", …),
//              /<workspace>/record/<table>/<sys_id>
//   new        /nav_to.do?uri=<pct of "<table>.do?sys_id=-1&sysparm_query=<pct of f1=v1^f2=v2>">
//   search     /nav_to.do?uri=<pct of "<searchTable>_list.do?sysparm_query=<pct of
//              phone=<v>^ORmobile_phone=<v>>">  (email=<v> for an e-mail; table options.searchTable,
//              default sys_user, which covers customer_contact)
//   activity   none (no table every instance has for it; log through the host's Table API).
// An encoded query separates terms with "^", and there is no escape for a literal caret, so a
// value containing "^" (or a line break) gives null rather than a query that means something else.
// Record ids are 32-hex sys_ids; tables are lower-case names ("case" means sn_customerservice_case,
// "contact" customer_contact, "user" sys_user).

import type { CrmAdapter, CrmSettings } from './types.js';
import { entries, guarded, nonEmpty, normalizeOrigin, onOrigin, pct } from './util.js';

const TABLES: Record<string, string> = {
  contact: 'customer_contact',
  user: 'sys_user',
  case: 'sn_customerservice_case',
  account: 'customer_account',
  interaction: 'interaction',
};

export function servicenowTable(recordType: string): string | null {
  if (typeof recordType !== 'string') return null;
  const t = TABLES[recordType.toLowerCase()] ?? recordType.toLowerCase();
  return /^[a-z][a-z0-9_]{0,79}$/.test(t) ? t : null;
}

export function isSysId(id: string): boolean {
  return typeof id === 'string' && /^[0-9a-fA-F]{32}$/.test(id);
}

/** A value that cannot change an encoded query's structure. */
function queryValue(v: string): string | null {
  return /[\^\r\n]/.test(v) ? null : v;
}

export class ServiceNowAdapter implements CrmAdapter {
  readonly id = 'servicenow';
  readonly origin: string;
  private readonly workspace: string | null;
  private readonly searchTable: string;

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'servicenow');
    const o = settings.options ?? {};
    if (o.workspace !== undefined) {
      const ws = String(o.workspace).replace(/^\/+|\/+$/g, '');
      if (!/^now\/[a-z0-9_-]+(?:\/[a-z0-9_-]+)*$/.test(ws)) {
        throw new Error(`crm servicenow: options.workspace ${JSON.stringify(o.workspace)} must look like now/sow or now/cwf/agent`);
      }
      this.workspace = ws;
    } else {
      this.workspace = null;
    }
    const table = o.searchTable === undefined ? 'sys_user' : servicenowTable(String(o.searchTable));
    if (!table) throw new Error(`crm servicenow: options.searchTable ${JSON.stringify(o.searchTable)} is not a table name`);
    this.searchTable = table;
  }

  private navTo(inner: string): string | null {
    return onOrigin(this.origin, `/nav_to.do?uri=${pct(inner)}`);
  }

  searchUrl(query: { phone?: string; email?: string }): string | null {
    return guarded(() => {
      let q: string;
      if (nonEmpty(query?.phone)) {
        const v = queryValue(query.phone.trim());
        if (v === null) return null;
        q = `phone=${v}^ORmobile_phone=${v}`;
      } else if (nonEmpty(query?.email)) {
        const v = queryValue(query.email.trim());
        if (v === null) return null;
        q = `email=${v}`;
      } else {
        return null;
      }
      return this.navTo(`${this.searchTable}_list.do?sysparm_query=${pct(q)}`);
    });
  }

  recordUrl(recordType: string, recordId: string): string | null {
    return guarded(() => {
      const table = servicenowTable(recordType);
      if (!table || !isSysId(recordId)) return null;
      const id = recordId.toLowerCase();
      if (this.workspace) return onOrigin(this.origin, `/${this.workspace}/record/${table}/${id}`);
      return this.navTo(`${table}.do?sys_id=${id}`);
    });
  }

  newRecordUrl(recordType: string, fields: Record<string, string>): string | null {
    return guarded(() => {
      const table = servicenowTable(recordType);
      if (!table) return null;
      const terms: string[] = [];
      for (const [name, value] of entries(fields)) {
        if (!/^[a-z][a-z0-9_]{0,79}$/.test(name)) return null;
        const v = queryValue(value);
        if (v === null) return null;
        terms.push(`${name}=${v}`);
      }
      const query = terms.length ? `&sysparm_query=${pct(terms.join('^'))}` : '';
      return this.navTo(`${table}.do?sys_id=-1${query}`);
    });
  }

  logActivityUrl(_activity: { subject: string; body: string; recordId?: string }): string | null {
    return null;
  }
}
