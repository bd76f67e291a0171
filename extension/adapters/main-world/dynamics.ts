// Dynamics 365 (model-driven apps, Unified Interface): the client API, run in the main world.
//
// Every model-driven page has the `Xrm` global. What it adds over the main.aspx URLs in
// ../dynamics.ts:
//   search       Xrm.WebApi.retrieveMultipleRecords("contact", OData $filter on telephone1,
//                mobilephone, telephone2 or emailaddress1, $top=2); exactly one match is opened
//                with Xrm.Navigation.openForm (search-and-pop). With none or several, done:false
//                and the extension navigates to the search URL instead.
//   record       Xrm.Navigation.openForm({entityName, entityId}) (no page reload)
//   newRecord    Xrm.Navigation.openForm({entityName}, formParameters)
//   logActivity  Xrm.WebApi.createRecord("phonecall", {subject, description,
//                "regardingobjectid_contact@odata.bind": "/contacts(<id>)"}), then opens it.
// Values go into OData only when they have a phone-number or e-mail shape (no quotes possible);
// single quotes are still doubled and the literal percent-encoded.
//
// Self-contained on purpose (chrome.scripting serialises the function): no run-time imports,
// nothing evaluated from a string, no HTML built.

import type { MainWorldRequest, MainWorldResult } from '../types.js';

export async function dynamicsMainWorld(request: MainWorldRequest): Promise<MainWorldResult> {
  const api = 'Xrm';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Xrm = (globalThis as any).Xrm;
  if (!Xrm || !Xrm.Navigation || typeof Xrm.Navigation.openForm !== 'function') {
    return { ok: false, done: false, api, error: 'Xrm.Navigation is not present on this page' };
  }
  const guid = (v: unknown): string | null => {
    const m = typeof v === 'string' ? /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/.exec(v) : null;
    return m ? m[1]!.toLowerCase() : null;
  };
  const logical = (v: unknown): string | null => {
    if (typeof v !== 'string') return null;
    const n = v.toLowerCase() === 'case' ? 'incident' : v.toLowerCase();
    return /^[a-z][a-z0-9_]{0,63}$/.test(n) ? n : null;
  };
  const message = (e: unknown): string =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    e && typeof e === 'object' && typeof (e as any).message === 'string' ? (e as any).message : String(e);
  const literal = (v: string): string => "'" + encodeURIComponent(v.replace(/'/g, "''")) + "'";

  try {
    switch (request?.op) {
      case 'record': {
        const entityName = logical(request.recordType);
        const entityId = guid(request.recordId);
        if (!entityName || !entityId) return { ok: false, done: false, api, error: 'invalid entity name or id' };
        await Xrm.Navigation.openForm({ entityName, entityId });
        return { ok: true, done: true, api };
      }
      case 'newRecord': {
        const entityName = logical(request.recordType);
        const fields = request.fields && typeof request.fields === 'object' ? request.fields : {};
        const params: Record<string, string> = {};
        for (const k of Object.keys(fields)) {
          if (!/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(k)) return { ok: false, done: false, api, error: `invalid field name ${JSON.stringify(k)}` };
          params[k.toLowerCase()] = String(fields[k]);
        }
        if (!entityName) return { ok: false, done: false, api, error: 'invalid entity name' };
        await Xrm.Navigation.openForm({ entityName }, params);
        return { ok: true, done: true, api };
      }
      case 'search': {
        if (!Xrm.WebApi || typeof Xrm.WebApi.retrieveMultipleRecords !== 'function') {
          return { ok: false, done: false, api, error: 'Xrm.WebApi is not present on this page' };
        }
        const phone = (request.query?.phone ?? '').trim();
        const email = (request.query?.email ?? '').trim();
        let filter: string;
        if (phone && /^[+0-9 ().-]{3,32}$/.test(phone)) {
          const l = literal(phone);
          filter = `telephone1 eq ${l} or mobilephone eq ${l} or telephone2 eq ${l}`;
        } else if (email && email.length <= 254 && /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/.test(email)) {
          filter = `emailaddress1 eq ${literal(email)}`;
        } else {
          return { ok: false, done: false, api, error: 'no phone number or e-mail address to search for' };
        }
        const result = await Xrm.WebApi.retrieveMultipleRecords('contact', `?$select=contactid&$filter=${filter}&$top=2`);
        const rows: unknown[] = Array.isArray(result?.entities) ? result.entities : [];
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const ids = rows.map((r: any) => guid(r?.contactid)).filter((x): x is string => x !== null);
        if (ids.length === 1) {
          await Xrm.Navigation.openForm({ entityName: 'contact', entityId: ids[0] });
          return { ok: true, done: true, api, count: 1, ids };
        }
        return { ok: true, done: false, api, count: ids.length, ids };
      }
      case 'logActivity': {
        if (!Xrm.WebApi || typeof Xrm.WebApi.createRecord !== 'function') {
          return { ok: false, done: false, api, error: 'Xrm.WebApi is not present on this page' };
        }
        const a = request.activity;
        const data: Record<string, string> = { subject: String(a?.subject ?? ''), description: String(a?.body ?? '') };
        if (a?.recordId) {
          const id = guid(a.recordId);
          if (!id) return { ok: false, done: false, api, error: 'invalid record id' };
          data['regardingobjectid_contact@odata.bind'] = `/contacts(${id})`;
        }
        const created = await Xrm.WebApi.createRecord('phonecall', data);
        const id = guid(created?.id);
        if (id) await Xrm.Navigation.openForm({ entityName: 'phonecall', entityId: id });
        return { ok: true, done: true, api, ids: id ? [id] : [] };
      }
      default:
        return { ok: false, done: false, api, error: 'unknown operation' };
    }
  } catch (e) {
    return { ok: false, done: false, api, error: message(e) };
  }
}
