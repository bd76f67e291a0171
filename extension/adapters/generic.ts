// The generic adapter: URLs from admin templates.
//
// A template is an absolute http(s) URL or a path starting with "/" (resolved against the origin),
// with placeholders in double braces:
//   search     {{ani}} (= {{phone}}), {{email}}, {{query}} (the phone number, else the e-mail)
//   record     {{recordType}}, {{recordId}}
//   newRecord  {{recordType}}, {{field.NAME}}, {{fields}} (every field as NAME=VALUE&…, query only)
//   activity   {{subject}}, {{body}}, {{recordId}}
// Every value is percent-encoded as UTF-8 (all but RFC 3986 unreserved characters), so a value can
// never add a path segment, a query parameter, a fragment or a scheme. A value that is "." or ".."
// in the path, or a missing value in the path, gives null (the URL would point somewhere else);
// a missing value in the query or fragment expands to the empty string. The result must be http(s)
// and on the configured origin, or on the origin the template itself names.

import type { CrmAdapter, CrmSettings } from './types.js';
import { guarded, nonEmpty, normalizeOrigin, onOrigin, pct } from './util.js';

type TemplateKind = 'search' | 'record' | 'newRecord' | 'activity';

const ALLOWED: Record<TemplateKind, readonly string[]> = {
  search: ['ani', 'phone', 'email', 'query'],
  record: ['recordType', 'recordId'],
  newRecord: ['recordType', 'fields'],
  activity: ['subject', 'body', 'recordId'],
};

const TOKEN = /\{\{\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)?)\s*\}\}/g;

type Part = 'path' | 'query' | 'fragment';
type Piece = { text: string } | { name: string; part: Part };

interface CompiledTemplate {
  pieces: Piece[];
  names: Set<string>;
  allowedOrigin: string;
}

/** Parses and checks one template; throws an Error naming the template and the problem. */
export function compileTemplate(kind: TemplateKind, template: unknown, origin: string): CompiledTemplate {
  const where = `crm generic: template "${kind}"`;
  if (typeof template !== 'string' || template.trim() === '') {
    throw new Error(`${where} must be a non-empty string`);
  }
  if (template.length > 4096) throw new Error(`${where} is longer than 4096 characters`);
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(template);
  if (absolute) {
    if (!/^https?:\/\/[^/?#{}]+(?:[/?#]|$)/i.test(template)) {
      throw new Error(`${where} must be an http(s) URL whose host has no placeholder, or a path starting with "/"`);
    }
  } else if (!template.startsWith('/') || template.startsWith('//')) {
    throw new Error(`${where} must be an http(s) URL or a path starting with "/" (got ${JSON.stringify(template)})`);
  }

  const pieces: Piece[] = [];
  const names = new Set<string>();
  let part: Part = 'path';
  let last = 0;
  const advancePart = (text: string): void => {
    for (const ch of text) {
      if (ch === '#') part = 'fragment';
      else if (ch === '?' && part === 'path') part = 'query';
    }
  };
  for (const m of template.matchAll(TOKEN)) {
    const text = template.slice(last, m.index);
    if (text.includes('{{') || text.includes('}}')) {
      throw new Error(`${where} has a malformed placeholder near ${JSON.stringify(text)}`);
    }
    pieces.push({ text });
    advancePart(text);
    const name = m[1]!;
    const base = name.startsWith('field.') ? 'field' : name;
    if (base === 'field' ? kind !== 'newRecord' : !ALLOWED[kind].includes(name)) {
      const allowed = kind === 'newRecord' ? [...ALLOWED[kind], 'field.NAME'] : ALLOWED[kind];
      throw new Error(`${where}: unknown placeholder {{${name}}}; allowed: ${allowed.map((n) => `{{${n}}}`).join(', ')}`);
    }
    if (name === 'fields' && part === 'path') {
      throw new Error(`${where}: {{fields}} may only appear after "?"`);
    }
    pieces.push({ name, part });
    names.add(name);
    last = m.index + m[0].length;
  }
  const tail = template.slice(last);
  if (tail.includes('{{') || tail.includes('}}')) {
    throw new Error(`${where} has a malformed placeholder near ${JSON.stringify(tail)}`);
  }
  pieces.push({ text: tail });

  if (kind === 'search' && !ALLOWED.search.some((n) => names.has(n))) {
    throw new Error(`${where} needs {{ani}}, {{phone}}, {{email}} or {{query}}`);
  }
  if (kind === 'record' && !names.has('recordId')) {
    throw new Error(`${where} needs {{recordId}}`);
  }

  // The origin this template may produce: the configured one for a path, else the one it names.
  const probe = pieces.map((p) => ('text' in p ? p.text : 'x')).join('');
  let probed: URL;
  try {
    probed = new URL(probe, origin + '/');
  } catch {
    throw new Error(`${where} does not form a valid URL`);
  }
  if (probed.protocol !== 'https:' && probed.protocol !== 'http:') {
    throw new Error(`${where} must produce an http(s) URL`);
  }
  return { pieces, names, allowedOrigin: probed.origin };
}

/** Expands a compiled template; null when a path value is missing or is "." / "..", or when the
 *  result leaves the allowed origin or is not http(s). */
function expand(t: CompiledTemplate, origin: string, values: (name: string) => string | undefined): string | null {
  let out = '';
  for (const p of t.pieces) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    const value = values(p.name);
    if (p.part === 'path') {
      if (value === undefined || value === '' || value === '.' || value === '..') return null;
    }
    // {{fields}} is pre-encoded by the caller; every other value is encoded here.
    out += p.name === 'fields' ? (value ?? '') : pct(value ?? '');
  }
  return onOrigin(origin, out, t.allowedOrigin);
}

export class GenericAdapter implements CrmAdapter {
  readonly id = 'generic';
  readonly origin: string;
  private readonly search?: CompiledTemplate;
  private readonly record?: CompiledTemplate;
  private readonly newRecord?: CompiledTemplate;
  private readonly activity?: CompiledTemplate;

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'generic');
    const t = settings.templates ?? {};
    if (typeof t !== 'object' || t === null) throw new Error('crm generic: "templates" must be an object');
    if (t.search !== undefined) this.search = compileTemplate('search', t.search, this.origin);
    if (t.record !== undefined) this.record = compileTemplate('record', t.record, this.origin);
    if (t.newRecord !== undefined) this.newRecord = compileTemplate('newRecord', t.newRecord, this.origin);
    if (t.activity !== undefined) this.activity = compileTemplate('activity', t.activity, this.origin);
    if (!this.search && !this.record && !this.newRecord && !this.activity) {
      throw new Error('crm generic: "templates" needs at least one of search, record, newRecord, activity');
    }
  }

  searchUrl(query: { phone?: string; email?: string }): string | null {
    const t = this.search;
    if (!t) return null;
    return guarded(() => {
      const phone = nonEmpty(query?.phone) ? query.phone : undefined;
      const email = nonEmpty(query?.email) ? query.email : undefined;
      const values: Record<string, string | undefined> = {
        ani: phone,
        phone,
        email,
        query: phone ?? email,
      };
      // At least one search placeholder that the template uses must have a value.
      if (![...t.names].some((n) => values[n] !== undefined)) return null;
      return expand(t, this.origin, (n) => values[n]);
    });
  }

  recordUrl(recordType: string, recordId: string): string | null {
    const t = this.record;
    if (!t || !nonEmpty(recordId)) return null;
    return guarded(() =>
      expand(t, this.origin, (n) => (n === 'recordType' ? recordType : n === 'recordId' ? recordId : undefined)),
    );
  }

  newRecordUrl(recordType: string, fields: Record<string, string>): string | null {
    const t = this.newRecord;
    if (!t) return null;
    return guarded(() => {
      const f = typeof fields === 'object' && fields !== null ? fields : {};
      const all = Object.keys(f)
        .map((k) => `${pct(k)}=${pct(String(f[k] ?? ''))}`)
        .join('&');
      return expand(t, this.origin, (n) => {
        if (n === 'recordType') return recordType;
        if (n === 'fields') return all;
        if (n.startsWith('field.')) {
          const key = n.slice('field.'.length);
          return Object.prototype.hasOwnProperty.call(f, key) ? String(f[key]) : undefined;
        }
        return undefined;
      });
    });
  }

  logActivityUrl(activity: { subject: string; body: string; recordId?: string }): string | null {
    const t = this.activity;
    if (!t) return null;
    return guarded(() =>
      expand(t, this.origin, (n) =>
        n === 'subject' ? activity?.subject : n === 'body' ? activity?.body : n === 'recordId' ? activity?.recordId : undefined,
      ),
    );
  }
}
