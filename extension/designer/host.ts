// The designer's requests to the host (popflow.list|get|deploy|test, docs/popflow.md), through the
// service worker, which forwards them to the native port only for the extension's own pages.
import {WorkerError, hostRequest} from '../src/shared/send';

export interface FlowVersion {
  version: number;
  publishedAt?: string;
}

export interface FlowListing {
  name: string;
  description?: string;
  trigger?: {event: string; name?: string};
  enterprise: boolean;
  readOnly: boolean;
  hasDraft: boolean;
  activeVersion: number | null;
  versions: FlowVersion[];
}

export interface HostFailure {
  code: string;
  message: string;
  diagnostics?: unknown[];
}

export type Result<T> = {ok: true; value: T} | {ok: false; error: HostFailure};

async function call(type: string, body: Record<string, unknown>): Promise<Result<Record<string, unknown>>> {
  try {
    return {ok: true, value: await hostRequest(type, body)};
  } catch (e) {
    if (e instanceof WorkerError) {
      return {ok: false, error: {code: e.code, message: e.message, ...(e.diagnostics ? {diagnostics: e.diagnostics} : {})}};
    }
    return {ok: false, error: {code: 'internal', message: String(e)}};
  }
}

export async function listFlows(): Promise<Result<FlowListing[]>> {
  const r = await call('popflow.list', {});
  if (!r.ok) return r;
  const flows = Array.isArray(r.value.flows) ? r.value.flows : [];
  return {
    ok: true,
    value: flows.filter((f): f is Record<string, unknown> => typeof f === 'object' && f !== null).map((f) => ({
      name: String(f.name ?? ''),
      ...(typeof f.description === 'string' ? {description: f.description} : {}),
      ...(typeof f.trigger === 'object' && f.trigger ? {trigger: f.trigger as FlowListing['trigger']} : {}),
      enterprise: f.enterprise === true,
      readOnly: f.readOnly === true || f.enterprise === true,
      hasDraft: f.hasDraft === true,
      activeVersion: typeof f.activeVersion === 'number' ? f.activeVersion : null,
      versions: Array.isArray(f.versions) ?
        f.versions.filter((v) => typeof v?.version === 'number').map((v) => ({
          version: v.version as number, ...(typeof v.publishedAt === 'string' ? {publishedAt: v.publishedAt} : {}),
        })) : [],
    })),
  };
}

export const getFlow = (name: string, version?: number | 'draft') =>
  call('popflow.get', version === undefined ? {name} : {name, version});
export const deployFlow = (flow: Record<string, unknown>) => call('popflow.deploy', {flow});
export const saveDraft = (flow: Record<string, unknown>) => call('popflow.deploy', {flow, draft: true});
export const rollBack = (name: string, version: number) => call('popflow.deploy', {name, rollbackTo: version});
export const testFlow = (flow: Record<string, unknown>, interaction: unknown, results: unknown) =>
  call('popflow.test', {flow, interaction, ...(results && typeof results === 'object' ? {results} : {})});
