// A small JSON Schema (2020-12 subset) interpreter for docs/popflow.schema.json. It walks the
// schema at run time (no code generation, so no eval / new Function: MV3 pages forbid both), and
// reports problems with a path, so the designer can put each message next to its field.
// Keywords: $ref (local), type, const, enum, required, properties, additionalProperties,
// propertyNames, maxProperties, items, minItems, maxItems, minLength, maxLength, pattern, minimum,
// maximum, allOf, anyOf, oneOf, not, if/then/else. Unknown keywords are ignored.

export type JsonSchema = {[key: string]: unknown} | boolean;

export interface SchemaProblem {
  /** Path of the offending value: property names and array indexes. */
  path: Array<string | number>;
  message: string;
}

const MAX_DEPTH = 64;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

const patternCache = new Map<string, RegExp>();
function regex(p: string): RegExp {
  let r = patternCache.get(p);
  if (!r) {
    r = new RegExp(p, 'u');
    patternCache.set(p, r);
  }
  return r;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

export class SchemaChecker {
  constructor(private readonly root: Record<string, unknown>) {}

  /** The sub-schema at a local reference such as "#/$defs/ifNode". */
  resolve(ref: string): JsonSchema {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported: ${ref}`);
    let cur: unknown = this.root;
    for (const part of ref.slice(2).split('/')) {
      cur = isObj(cur) ? cur[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    }
    if (cur === undefined) throw new Error(`unresolved $ref ${ref}`);
    return cur as JsonSchema;
  }

  check(value: unknown, schema: JsonSchema, path: Array<string | number> = []): SchemaProblem[] {
    const out: SchemaProblem[] = [];
    this.walk(value, schema, path, out, 0);
    return out;
  }

  private walk(v: unknown, s: JsonSchema, path: Array<string | number>, out: SchemaProblem[], depth: number): void {
    if (depth > MAX_DEPTH) {
      out.push({path, message: 'too deeply nested'});
      return;
    }
    if (s === true) return;
    if (s === false) {
      out.push({path, message: 'not allowed here'});
      return;
    }
    const add = (message: string, p = path) => out.push({path: p, message});
    if (typeof s.$ref === 'string') this.walk(v, this.resolve(s.$ref), path, out, depth + 1);

    if (typeof s.type === 'string' && !typeMatches(v, s.type)) {
      add(`must be ${s.type === 'integer' ? 'a whole number' : s.type === 'object' ? 'an object' : s.type === 'array' ? 'a list' : `a ${s.type}`}`);
      return;
    }
    if ('const' in s && !deepEqual(v, s.const)) add(`must be ${show(s.const)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(v, e))) {
      add(`must be one of ${s.enum.map((e) => show(e)).join(', ')}`);
    }

    if (typeof v === 'string') {
      const len = [...v].length;
      if (typeof s.minLength === 'number' && len < s.minLength) {
        add(s.minLength === 1 ? 'is required (empty)' : `must have at least ${s.minLength} characters`);
      }
      if (typeof s.maxLength === 'number' && len > s.maxLength) add(`must have at most ${s.maxLength} characters`);
      if (typeof s.pattern === 'string' && !regex(s.pattern).test(v)) {
        add(typeof s.description === 'string' ? `is not valid: ${s.description}` : `does not match ${s.pattern}`);
      }
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) add(`must be at least ${s.minimum}`);
      if (typeof s.maximum === 'number' && v > s.maximum) add(`must be at most ${s.maximum}`);
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems) add(`needs at least ${s.minItems} item(s)`);
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) add(`may have at most ${s.maxItems} items`);
      if (s.items !== undefined) v.forEach((item, i) => this.walk(item, s.items as JsonSchema, [...path, i], out, depth + 1));
    }
    if (isObj(v)) {
      const props = isObj(s.properties) ? s.properties : {};
      if (Array.isArray(s.required)) {
        for (const r of s.required) if (typeof r === 'string' && !(r in v)) add('is required', [...path, r]);
      }
      if (typeof s.maxProperties === 'number' && Object.keys(v).length > s.maxProperties) {
        add(`may have at most ${s.maxProperties} entries`);
      }
      for (const [k, val] of Object.entries(v)) {
        if (s.propertyNames !== undefined) {
          const names: SchemaProblem[] = [];
          this.walk(k, s.propertyNames as JsonSchema, [...path, k], names, depth + 1);
          if (names.length) add(`the name '${k}' is not allowed`, [...path, k]);
        }
        if (k in props) {
          this.walk(val, props[k] as JsonSchema, [...path, k], out, depth + 1);
        } else if (s.additionalProperties === false) {
          add(`'${k}' is not a field of this node`, [...path, k]);
        } else if (s.additionalProperties !== undefined) {
          this.walk(val, s.additionalProperties as JsonSchema, [...path, k], out, depth + 1);
        }
      }
    }

    if (Array.isArray(s.allOf)) for (const sub of s.allOf) this.walk(v, sub as JsonSchema, path, out, depth + 1);
    if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => this.check(v, sub as JsonSchema, path).length === 0)) {
      add('matches none of the allowed forms');
    }
    if (Array.isArray(s.oneOf)) {
      const n = s.oneOf.filter((sub) => this.check(v, sub as JsonSchema, path).length === 0).length;
      if (n !== 1) add(n === 0 ? 'matches none of the allowed forms' : 'matches more than one form');
    }
    if (s.not !== undefined && this.check(v, s.not as JsonSchema, path).length === 0) {
      // The schema's "not": {"required": [x]} means "field x is not used in this case".
      const not = s.not;
      if (isObj(not) && Array.isArray(not.required) && Object.keys(not).length === 1 && not.required.length === 1) {
        add('is not used with this setting', [...path, String(not.required[0])]);
      } else if (isObj(not) && 'const' in not) {
        add(`must not be ${show(not.const)}`);
      } else {
        add('is not allowed here');
      }
    }
    if (s.if !== undefined) {
      const holds = this.check(v, s.if as JsonSchema, path).length === 0;
      const branch = holds ? s.then : s.else;
      if (branch !== undefined) this.walk(v, branch as JsonSchema, path, out, depth + 1);
    }
  }
}
