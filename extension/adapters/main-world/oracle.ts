// Oracle B2C Service (Agent Browser UI): the Extensibility Framework, run in the main world.
//
// The Browser UI has no documented deep-link URLs for records, so ../oracle.ts returns null for
// every URL and the extension calls this function instead. It needs the extensibility library
// (`ORACLE_SERVICE_CLOUD.extension_loader`, served from
// /AgentWeb/module/extensibility/js/client/core/extension_loader.js) in the frame it runs in:
// frames of Browser UI add-ins have it. An admin makes it available by uploading a small add-in
// in the Add-In Manager; docs/crm-adapters.md says how. Where it is missing this answers ok:false
// and nothing happens (there is no URL fallback).
//   record       extensionProvider.registerWorkspaceExtension(w => w.editWorkspaceRecord(type, id))
//   newRecord    w.createWorkspaceRecord(type), then updateField("<Type>.<Field>", value) each (a field
//                named without the "<Type>." prefix gets it)
//   search       Connect REST (globalContext.getInterfaceServiceUrl("REST") + /connect/v1.4/
//                queryResults, "Authorization: Session <token>") with a ROQL query on
//                Contacts.Phones.Number or Contacts.Emails.Address; the single match is opened.
//                Values enter ROQL only when they have a phone-number or e-mail shape.
//   logActivity  not supported (B2C Service has no generic activity object; log through the host).
//
// Self-contained on purpose (chrome.scripting serialises the function): no run-time imports,
// nothing evaluated from a string, no HTML built.

import type { MainWorldRequest, MainWorldResult } from '../types.js';

export async function oracleMainWorld(request: MainWorldRequest): Promise<MainWorldResult> {
  const api = 'ORACLE_SERVICE_CLOUD.extension_loader';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g = globalThis as any;
  const loader = g.ORACLE_SERVICE_CLOUD && g.ORACLE_SERVICE_CLOUD.extension_loader;
  if (!loader || typeof loader.load !== 'function') {
    return { ok: false, done: false, api, error: 'the B2C Service extensibility library is not loaded in this frame' };
  }
  const recordTypes: Record<string, string> = {
    contact: 'Contact', incident: 'Incident', case: 'Incident', organization: 'Organization',
    account: 'Organization', task: 'Task', opportunity: 'Opportunity', chat: 'Chat',
  };
  const typeOf = (v: unknown): string | null =>
    typeof v === 'string' ? recordTypes[v.toLowerCase()] ?? (/^[A-Z][A-Za-z0-9]{0,39}$/.test(v) ? v : null) : null;
  const numericId = (v: unknown): number | null =>
    typeof v === 'string' && /^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : null;
  const message = (e: unknown): string =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    e && typeof e === 'object' && typeof (e as any).message === 'string' ? (e as any).message : String(e);
  const withTimeout = <T>(p: Promise<T>, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} timed out`)), 10000);
      p.then(
        (v) => { clearTimeout(timer); resolve(v); },
        (e) => { clearTimeout(timer); reject(e); },
      );
    });

  try {
    const provider = await withTimeout(Promise.resolve(loader.load('Omnibridge', '1')), 'extension_loader.load');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const workspace = (): Promise<any> =>
      withTimeout(new Promise((resolve) => provider.registerWorkspaceExtension((w: unknown) => resolve(w))), 'registerWorkspaceExtension');

    switch (request?.op) {
      case 'record': {
        const type = typeOf(request.recordType);
        const id = numericId(request.recordId);
        if (!type || id === null) return { ok: false, done: false, api, error: 'invalid record type or id' };
        const w = await workspace();
        await Promise.resolve(w.editWorkspaceRecord(type, id));
        return { ok: true, done: true, api };
      }
      case 'newRecord': {
        const type = typeOf(request.recordType);
        if (!type) return { ok: false, done: false, api, error: 'invalid record type' };
        const fields = request.fields && typeof request.fields === 'object' ? request.fields : {};
        const names = Object.keys(fields);
        if (!names.every((n) => /^[A-Za-z][A-Za-z0-9_$]{0,63}(?:\.[A-Za-z0-9_$]{1,64}){0,4}$/.test(n))) {
          return { ok: false, done: false, api, error: 'invalid field name' };
        }
        const w = await workspace();
        const created = await Promise.resolve(w.createWorkspaceRecord(type));
        for (const n of names) {
          const path = n.startsWith(`${type}.`) ? n : `${type}.${n}`;
          if (created && typeof created.updateField === 'function') created.updateField(path, String(fields[n]));
        }
        return { ok: true, done: true, api };
      }
      case 'search': {
        const phone = (request.query?.phone ?? '').trim();
        const email = (request.query?.email ?? '').trim();
        let where: string;
        if (phone && /^[+0-9 ().-]{3,32}$/.test(phone)) where = `Phones.Number = '${phone}'`;
        else if (email && email.length <= 254 && /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/.test(email)) where = `Emails.Address = '${email}'`;
        else return { ok: false, done: false, api, error: 'no phone number or e-mail address to search for' };
        const context = await withTimeout(Promise.resolve(provider.getGlobalContext()), 'getGlobalContext');
        const rest = String(context.getInterfaceServiceUrl('REST'));
        if (!/^https:\/\//.test(rest)) return { ok: false, done: false, api, error: 'no https REST endpoint' };
        const token = await withTimeout(Promise.resolve(context.getSessionToken()), 'getSessionToken');
        const roql = `SELECT ID FROM Contacts WHERE ${where} LIMIT 2`;
        const response = await withTimeout(
          fetch(`${rest.replace(/\/+$/, '')}/connect/v1.4/queryResults/?query=${encodeURIComponent(roql)}`, {
            headers: { Authorization: `Session ${String(token)}`, 'OSvC-CREST-Application-Context': 'Omnibridge screen pop' },
          }),
          'queryResults',
        );
        if (!response.ok) return { ok: false, done: false, api, error: `queryResults answered ${response.status}` };
        const body = await response.json();
        const rows: unknown[] = Array.isArray(body?.items?.[0]?.rows) ? body.items[0].rows : [];
        const ids = rows.map((r) => (Array.isArray(r) ? String(r[0]) : '')).filter((s) => numericId(s) !== null);
        if (ids.length === 1) {
          const w = await workspace();
          await Promise.resolve(w.editWorkspaceRecord('Contact', Number(ids[0])));
          return { ok: true, done: true, api, count: 1, ids };
        }
        return { ok: true, done: false, api, count: ids.length, ids };
      }
      case 'logActivity':
        return { ok: false, done: false, api, error: 'B2C Service has no activity record to open; log through the host' };
      default:
        return { ok: false, done: false, api, error: 'unknown operation' };
    }
  } catch (e) {
    return { ok: false, done: false, api, error: message(e) };
  }
}
