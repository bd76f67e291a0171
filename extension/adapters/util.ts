// Helpers shared by the adapters: origin checks, percent-encoding, id formats.

/** Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), as UTF-8.
 *  Throws URIError for a string with a lone surrogate; adapters turn that into null. */
export function pct(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** Validates an admin-supplied origin and returns it normalised (`scheme://host[:port]`).
 *  Throws an Error that says what is wrong: not a URL, not http(s), credentials, or a path. */
export function normalizeOrigin(origin: unknown, adapter: string): string {
  if (typeof origin !== 'string' || origin.trim() === '') {
    throw new Error(`crm ${adapter}: "origin" must be a non-empty string such as https://crm.example.com`);
  }
  let url: URL;
  try {
    url = new URL(origin.trim());
  } catch {
    throw new Error(`crm ${adapter}: origin ${JSON.stringify(origin)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`crm ${adapter}: origin ${JSON.stringify(origin)} must use https: or http:, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`crm ${adapter}: origin must not carry credentials`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new Error(`crm ${adapter}: origin ${JSON.stringify(origin)} must be scheme://host[:port] only, without a path, query or fragment`);
  }
  return url.origin;
}

/** Resolves `pathAndQuery` against `origin` and returns the absolute URL only when it is http(s)
 *  and still on `allowedOrigin` (default: `origin`). */
export function onOrigin(origin: string, pathAndQuery: string, allowedOrigin = origin): string | null {
  let url: URL;
  try {
    url = new URL(pathAndQuery, origin + '/');
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.origin !== allowedOrigin) return null;
  if (url.username !== '' || url.password !== '') return null;
  return url.href;
}

/** Runs `build`, mapping any exception (e.g. URIError from a lone surrogate) to null. */
export function guarded<T>(build: () => T | null): T | null {
  try {
    return build();
  } catch {
    return null;
  }
}

export function nonEmpty(value: string | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Digits, +, spaces, dots, dashes and parentheses only, with at least 3 digits: a phone number
 *  as CTI delivers it. Used where a value goes into a query language (ROQL, OData). */
export function isPhoneLike(value: string): boolean {
  return /^[+0-9 ().-]{3,32}$/.test(value) && (value.match(/[0-9]/g) ?? []).length >= 3;
}

/** A conservative e-mail shape without quotes, spaces or control characters. */
export function isEmailLike(value: string): boolean {
  return value.length <= 254 && /^[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value);
}

/** Canonical GUID (lower case, no braces), or null. Braces around it are accepted. */
export function normalizeGuid(value: string): string | null {
  const m = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/.exec(value);
  return m ? m[1]!.toLowerCase() : null;
}

/** A positive decimal integer id (Zendesk, HubSpot, Oracle B2C), without leading zeros. */
export function isNumericId(value: string): boolean {
  return /^[1-9][0-9]{0,19}$/.test(value);
}

export function entries(fields: Record<string, string>): Array<[string, string]> {
  if (typeof fields !== 'object' || fields === null) return [];
  return Object.keys(fields).map((k) => [k, String(fields[k] ?? '')]);
}
