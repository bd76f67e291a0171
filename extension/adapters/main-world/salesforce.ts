// Salesforce Open CTI, run in the page's main world.
//
// Open CTI for Lightning (`sforce.opencti`, API 38.0+) exists only inside the softphone frame of a
// Call Center definition (Setup → Call Centers; its CTI adapter URL is the page that loads
// /support/api/<version>/lightning/opencti_min.js). The extension injects this function into the
// tab's frames with world: 'MAIN'; the one frame that has `sforce.opencti` acts, every other frame
// answers ok:false. What it adds over the URLs in ../salesforce.ts:
//   search       searchAndScreenPop: searches by the softphone layout's rules and pops the single
//                match (or the list, or a new record, as the admin's layout says) without reloading
//   record       screenPop SOBJECT, opened in the console's own tab handling
//   newRecord    screenPop NEW_RECORD_MODAL with defaultFieldValues
//   logActivity  saveLog: creates the Task directly (no form to fill)
// Lightning's Aura `$A` navigation events are not used: calling them from outside a component is
// unsupported, and a frame that has $A would pop a second time beside the Open CTI frame.
//
// Self-contained on purpose (chrome.scripting serialises the function): no imports are used at
// run time, nothing is evaluated from a string, no HTML is built.

import type { MainWorldRequest, MainWorldResult } from '../types.js';

export async function salesforceMainWorld(request: MainWorldRequest): Promise<MainWorldResult> {
  const api = 'sforce.opencti';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g = globalThis as any;
  const cti = g.sforce && g.sforce.opencti;
  if (!cti || typeof cti.screenPop !== 'function') {
    return { ok: false, done: false, api, error: 'Open CTI (sforce.opencti) is not loaded in this frame' };
  }
  const isId = (id: unknown): id is string => typeof id === 'string' && /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(id);
  const isName = (n: unknown): n is string => typeof n === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(n) && !n.endsWith('_');
  const standard: Record<string, string> = { contact: 'Contact', account: 'Account', lead: 'Lead', case: 'Case', opportunity: 'Opportunity', task: 'Task' };
  const objectName = (n: unknown): string | null => (isName(n) ? standard[n.toLowerCase()] ?? n : null);

  // Calls an Open CTI method and resolves with its callback's response, or a failure after 10 s.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (method: string, args: Record<string, unknown>): Promise<any> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ success: false, errors: [`${method} timed out`] }), 10000);
      try {
        cti[method]({
          ...args,
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          callback: (response: any) => {
            clearTimeout(timer);
            resolve(response ?? { success: false, errors: ['no response'] });
          },
        });
      } catch (e) {
        clearTimeout(timer);
        resolve({ success: false, errors: [String(e)] });
      }
    });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const failed = (r: any): MainWorldResult => ({
    ok: false,
    done: false,
    api,
    error: Array.isArray(r?.errors) && r.errors.length ? r.errors.map((e: unknown) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ') : 'failed',
  });
  const types = cti.SCREENPOP_TYPE ?? {};

  switch (request?.op) {
    case 'search': {
      const term = (request.query?.phone ?? '').trim() || (request.query?.email ?? '').trim();
      if (!term || term.length > 256) return { ok: false, done: false, api, error: 'nothing to search for' };
      if (typeof cti.searchAndScreenPop !== 'function' || !cti.CALL_TYPE?.INBOUND) {
        return { ok: false, done: false, api, error: 'searchAndScreenPop is not available' };
      }
      const r = await call('searchAndScreenPop', {
        searchParams: term,
        queryParams: '',
        defaultFieldValues: request.query?.phone ? { Phone: request.query.phone } : { Email: request.query?.email ?? '' },
        callType: cti.CALL_TYPE?.INBOUND,
        deferred: false,
      });
      if (!r?.success) return failed(r);
      const found = r.returnValue && typeof r.returnValue === 'object' ? Object.keys(r.returnValue).filter((k) => k !== 'SCREEN_POP_DATA') : [];
      return { ok: true, done: true, api, count: found.length, ids: found.filter(isId) };
    }
    case 'record': {
      if (!isId(request.recordId) || objectName(request.recordType) === null) {
        return { ok: false, done: false, api, error: 'invalid record type or id' };
      }
      if (!types.SOBJECT) return { ok: false, done: false, api, error: 'SCREENPOP_TYPE.SOBJECT missing' };
      const r = await call('screenPop', { type: types.SOBJECT, params: { recordId: request.recordId } });
      return r?.success ? { ok: true, done: true, api } : failed(r);
    }
    case 'newRecord': {
      const entityName = objectName(request.recordType);
      const fields = request.fields && typeof request.fields === 'object' ? request.fields : {};
      const names = Object.keys(fields);
      if (entityName === null || !names.every(isName)) return { ok: false, done: false, api, error: 'invalid object or field name' };
      const defaultFieldValues: Record<string, string> = {};
      for (const n of names) defaultFieldValues[n] = String(fields[n]);
      if (!types.NEW_RECORD_MODAL) return { ok: false, done: false, api, error: 'SCREENPOP_TYPE.NEW_RECORD_MODAL missing' };
      const r = await call('screenPop', {
        type: types.NEW_RECORD_MODAL,
        params: { entityName, defaultFieldValues },
      });
      return r?.success ? { ok: true, done: true, api } : failed(r);
    }
    case 'logActivity': {
      const a = request.activity;
      const value: Record<string, string> = {
        entityApiName: 'Task',
        Subject: String(a?.subject ?? ''),
        Description: String(a?.body ?? ''),
      };
      if (a?.recordId) {
        if (!isId(a.recordId)) return { ok: false, done: false, api, error: 'invalid record id' };
        const prefix = a.recordId.slice(0, 3);
        value[prefix === '003' || prefix === '00Q' ? 'WhoId' : 'WhatId'] = a.recordId;
      }
      const r = await call('saveLog', { value });
      if (!r?.success) return failed(r);
      const id = r.returnValue && typeof r.returnValue.recordId === 'string' ? [r.returnValue.recordId] : [];
      return { ok: true, done: true, api, ids: id };
    }
    default:
      return { ok: false, done: false, api, error: 'unknown operation' };
  }
}
