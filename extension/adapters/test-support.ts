// Helpers for the adapters' unit tests (node:test). Not part of the extension bundle.

import vm from 'node:vm';
import type { MainWorldFunction } from './types.js';

/** Values that must never change a URL's structure. */
export const HOSTILE = {
  amp: 'a&b=c',
  hash: 'x#frag',
  slash: 'a/b',
  dots: '..',
  dot: '.',
  traversal: '../../admin',
  unicode: 'Zoë 東京 😀',
  js: 'javascript:alert(1)',
  pctLiteral: '%2e%2e',
  comma: 'a,b=c',
  quote: "O'Brien\"",
  html: '<img src=x onerror=alert(1)>',
  loneSurrogate: 'a\uD800b',
} as const;

/** Runs a main-world function the way chrome.scripting does: from its source text, in a fresh
 *  global scope that has only `globals` (plus the JavaScript built-ins and timers). This proves
 *  the function is self-contained as well as testing it. */
export function inPage(fn: MainWorldFunction, globals: Record<string, unknown>): MainWorldFunction {
  const context = vm.createContext({ setTimeout, clearTimeout, ...globals });
  return vm.runInContext(`(${fn.toString()})`, context) as MainWorldFunction;
}

/** Source patterns a main-world function must not contain. */
export const FORBIDDEN_IN_MAIN_WORLD = [
  /\beval\s*\(/,
  /\bFunction\s*\(/,
  /innerHTML/,
  /outerHTML/,
  /insertAdjacentHTML/,
  /document\.write/,
  /DOMParser/,
  /createContextualFragment/,
  /setTimeout\s*\(\s*['"`]/,
];

/** Plain JSON copy, so objects made in another vm context compare with deepEqual. */
export function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
