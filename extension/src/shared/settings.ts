// Extension settings (DESIGN.md "Extension settings"): admin values from chrome.storage.managed
// override the agent's own from chrome.storage.local and show as enforced.
import {DEFAULT_HOST_NAME, isObject} from './protocol';

export const ADAPTER_IDS = [
  'generic', 'salesforce', 'dynamics', 'zendesk', 'servicenow', 'oracle', 'hubspot',
] as const;
export type AdapterId = (typeof ADAPTER_IDS)[number];

import type {CrmOptions, CrmSettings} from '../../adapters/types';

export type {CrmSettings};
export type CrmTemplates = NonNullable<CrmSettings['templates']>;

export interface Settings {
  crm: CrmSettings[];
  hostName: string;
  cti?: Record<string, unknown>;
  reasonCodes?: string[];
}

export interface EffectiveSettings extends Settings {
  /** Keys whose value comes from managed storage (enforced by the admin). */
  enforced: Array<keyof Settings>;
}

/** Normalises an origin ("https://Crm.Example.com/" → "https://crm.example.com"), or null. */
export function normalizeOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return url.origin;
}

/** The match pattern that covers exactly one origin, for permissions and content scripts. */
export function originPattern(origin: string): string {
  return `${origin}/*`;
}

function parseCrmList(v: unknown): CrmSettings[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: CrmSettings[] = [];
  for (const item of v) {
    if (!isObject(item) || typeof item.origin !== 'string') continue;
    const origin = normalizeOrigin(item.origin);
    const adapter = typeof item.adapter === 'string' ? item.adapter : 'generic';
    if (!origin || !(ADAPTER_IDS as readonly string[]).includes(adapter)) continue;
    const entry: CrmSettings = {origin, adapter: adapter as AdapterId};
    if (isObject(item.templates)) {
      const t: CrmTemplates = {};
      for (const k of ['search', 'record', 'newRecord', 'activity'] as const) {
        const s = item.templates[k];
        if (typeof s === 'string' && s !== '') t[k] = s;
      }
      entry.templates = t;
    }
    if (isObject(item.options)) {
      // Which keys an adapter reads is the adapter's business (adapters/types.ts CrmOptions).
      const o: Record<string, string> = {};
      for (const [k, s] of Object.entries(item.options)) {
        if (typeof s === 'string' && s !== '') o[k] = s;
      }
      entry.options = o as CrmOptions;
    }
    out.push(entry);
  }
  return out;
}

function parseStringList(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter((s): s is string => typeof s === 'string' && s !== '');
}

/** Merges the managed layer over the local one. Invalid entries are dropped, not fatal. */
export function mergeSettings(
    local: Record<string, unknown>, managed: Record<string, unknown>): EffectiveSettings {
  const enforced: Array<keyof Settings> = [];
  const pick = <T>(key: keyof Settings, parse: (v: unknown) => T | undefined): T | undefined => {
    const m = parse(managed[key]);
    if (m !== undefined) {
      enforced.push(key);
      return m;
    }
    return parse(local[key]);
  };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const obj = (v: unknown) => (isObject(v) ? v : undefined);
  return {
    crm: pick('crm', parseCrmList) ?? [],
    hostName: pick('hostName', str) ?? DEFAULT_HOST_NAME,
    cti: pick('cti', obj),
    reasonCodes: pick('reasonCodes', parseStringList),
    enforced,
  };
}

/** The enterprise layer the extension hands to the host in its hello (managed values only). */
export function enterpriseLayer(managed: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (isObject(managed.cti)) out.cti = managed.cti;
  const codes = parseStringList(managed.reasonCodes);
  if (codes) out.reasonCodes = codes;
  // Enterprise PopFlow flows pushed by policy (listed read-only in the designer); only the flows,
  // never apps or credentials, which stay in the host's system-wide file.
  if (isObject(managed.popflow) && Array.isArray(managed.popflow.flows)) out.popflow = {flows: managed.popflow.flows};
  return out;
}

export function crmForOrigin(settings: Settings, origin: string): CrmSettings | undefined {
  return settings.crm.find((c) => c.origin === origin);
}
