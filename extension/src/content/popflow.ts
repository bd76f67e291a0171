// Executes a popflow.run's actions in the CRM tab, in order, through the CRM adapter. Each action's
// result is reported before the next starts; the tab navigates (the screen pop) only after the
// last result went out, since navigating ends this script.
import type {CrmAdapter, MainWorldOp, MainWorldRequest, MainWorldResult} from '../../adapters/types';
import type {PopflowAction, PopflowResult, PopflowRun} from '../shared/protocol';
import type {ToastSpec} from './cards';

export interface PopflowDeps {
  adapter: CrmAdapter | null;
  report(result: PopflowResult): Promise<void>;
  navigate(url: string): void;
  openTab(url: string): Promise<void>;
  toast(spec: ToastSpec): Promise<string | null>;
  mainWorld(request: MainWorldRequest): Promise<MainWorldResult>;
  document: Document;
}

class ActionError extends Error {}

function httpUrl(u: string | null | undefined): string {
  if (!u) throw new ActionError('the adapter has no URL for this');
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new ActionError('invalid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ActionError('only http and https URLs pop');
  return url.href;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ActionError(`${what} missing`);
  return v;
}

export async function runPopflow(run: PopflowRun, deps: PopflowDeps): Promise<void> {
  let navigation: string | null = null;
  const adapter = deps.adapter;

  /** Tries the CRM's page API first where the adapter prefers it; true when that completed it. */
  const viaMainWorld = async (op: MainWorldOp, request: MainWorldRequest): Promise<MainWorldResult | null> => {
    const mw = adapter?.mainWorld;
    if (!mw || !mw.preferFor.includes(op)) return null;
    const r = await deps.mainWorld(request);
    return r.ok && r.done ? r : null;
  };

  const pop = async (url: string): Promise<Record<string, unknown>> => {
    if (navigation === null) {
      navigation = url;
      return {url, opened: 'this-tab'};
    }
    await deps.openTab(url);
    return {url, opened: 'new-tab'};
  };

  const exec = async (a: PopflowAction): Promise<Record<string, unknown>> => {
    switch (a.kind) {
      case 'screenPop': {
        if (a.target === 'url') return pop(httpUrl(str(a.url, 'url')));
        if (!adapter) throw new ActionError('no CRM adapter configured for this origin');
        if (a.target === 'search') {
          const q = str(a.query, 'query');
          const query = q.includes('@') ? {email: q} : {phone: q};
          const mw = await viaMainWorld('search', {op: 'search', query});
          if (mw) return {via: mw.api ?? 'page', count: mw.count ?? null};
          return pop(httpUrl(adapter.searchUrl(query)));
        }
        if (a.target === 'record') {
          const type = str(a.recordType, 'recordType');
          const id = str(a.recordId, 'recordId');
          const mw = await viaMainWorld('record', {op: 'record', recordType: type, recordId: id});
          if (mw) return {via: mw.api ?? 'page'};
          return pop(httpUrl(adapter.recordUrl(type, id)));
        }
        if (a.target === 'newRecord') {
          const type = str(a.recordType, 'recordType');
          const fields: Record<string, string> = {};
          for (const [k, v] of Object.entries(a.fields ?? {})) if (typeof v === 'string') fields[k] = v;
          const mw = await viaMainWorld('newRecord', {op: 'newRecord', recordType: type, fields});
          if (mw) return {via: mw.api ?? 'page'};
          return pop(httpUrl(adapter.newRecordUrl(type, fields)));
        }
        throw new ActionError(`unknown screenPop target ${String((a as {target: unknown}).target)}`);
      }
      case 'crmSearch': {
        const value = str(a.value, 'value');
        const mw = adapter?.mainWorld;
        if (!mw || !mw.ops.includes('search')) throw new ActionError('this CRM adapter cannot search from the page');
        const query = a.field === 'email' ? {email: value} : {phone: value};
        const r = await deps.mainWorld({op: 'search', query});
        if (!r.ok) throw new ActionError(r.error ?? 'search failed');
        return {count: r.count ?? 0, ids: r.ids ?? []};
      }
      case 'toast': {
        const button = await deps.toast({
          title: a.title ?? '', message: a.message ?? '', modal: a.modal === true,
          buttons: Array.isArray(a.buttons) ? a.buttons.filter((b) => typeof b?.id === 'string' && typeof b?.label === 'string') : [],
          ...(typeof a.timeoutSeconds === 'number' ? {timeoutSeconds: a.timeoutSeconds} : {}),
        });
        return {button};
      }
      case 'fillField':
        return fill(deps.document, str(a.field, 'field'), typeof a.value === 'string' ? a.value : '');
      case 'setDisposition':
        return fill(deps.document, 'disposition', str(a.value, 'value'));
      case 'logActivity': {
        const activity = {subject: a.subject ?? '', body: a.body ?? '', ...(a.recordId ? {recordId: a.recordId} : {})};
        const mw = adapter?.mainWorld;
        if (mw && mw.ops.includes('logActivity')) {
          const r = await deps.mainWorld({op: 'logActivity', activity});
          if (r.ok && r.done) return {via: r.api ?? 'page'};
        }
        const url = adapter?.logActivityUrl?.(activity);
        if (url) return pop(httpUrl(url));
        throw new ActionError('this CRM adapter cannot log activities');
      }
      default:
        throw new ActionError(`unknown action ${String((a as {kind: unknown}).kind)}`);
    }
  };

  for (let i = 0; i < run.actions.length; i++) {
    const result: PopflowResult = {runId: run.runId, actionIndex: i, ok: true};
    try {
      result.data = await exec(run.actions[i]!);
    } catch (e) {
      result.ok = false;
      result.error = e instanceof Error ? e.message : String(e);
    }
    // Posted at once and in order; not awaited, so the pop does not wait for the worker's answer.
    // A message already posted is delivered even when the navigation below replaces this page.
    deps.report(result).catch(() => {});
  }
  if (navigation !== null) deps.navigate(navigation);
}

/** Sets a form field of the CRM page as text, the way typing would (input and change events). */
function fill(doc: Document, field: string, value: string): Record<string, unknown> {
  const byName = Array.from(doc.getElementsByName(field));
  const el = (byName[0] ?? doc.getElementById(field)) as HTMLElement | null;
  if (!el) throw new ActionError(`no field named ${field} on this page`);
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) {
    el.value = value;
  } else if (el.isContentEditable) {
    el.textContent = value;
  } else {
    throw new ActionError(`${field} is not an editable field`);
  }
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
  return {field};
}
