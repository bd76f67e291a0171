// MV3 extension pages run under `script-src 'self'`: no eval, no new Function, no inline or remote
// script. Builds the extension (extension/build.mjs) into a temp dir and greps what it would ship.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test} from 'node:test';

test('the built bundles have no eval, new Function, inline or remote scripts', () => {
  const out = mkdtempSync(join(tmpdir(), 'omnibridge-csp-'));
  try {
    const r = spawnSync(process.execPath, ['extension/build.mjs', '--outdir', out], {encoding: 'utf8'});
    assert.equal(r.status, 0, `build failed: ${r.stderr}`);
    const files = readdirSync(out);
    assert.ok(files.includes('designer.js') && files.includes('designer.html') && files.includes('designer.css'), files.join(' '));
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const js = readFileSync(join(out, f), 'utf8');
      // \beval( also matches identifiers ending in "eval" only at a word boundary: e.g. "retrieval(" does not match.
      assert.doesNotMatch(js, /(^|[^\w$.])eval\s*\(/m, `${f} calls eval`);
      assert.doesNotMatch(js, /new\s+Function\s*\(/, `${f} uses new Function`);
      assert.doesNotMatch(js, /\bFunction\s*\(\s*["'`]/, `${f} builds a function from text`);
      assert.doesNotMatch(js, /setTimeout\s*\(\s*["'`]/, `${f} passes text to setTimeout`);
      assert.doesNotMatch(js, /\bimport\s*\(\s*["'`]https?:/, `${f} imports remote code`);
    }
    for (const f of files.filter((x) => x.endsWith('.html'))) {
      const html = readFileSync(join(out, f), 'utf8');
      for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
        assert.match(m[1]!, /\bsrc="[\w.-]+\.js"/, `${f}: only local script files`);
        assert.equal(m[2]!.trim(), '', `${f}: no inline script`);
      }
      assert.doesNotMatch(html, /\son[a-z]+=/i, `${f}: no inline event handlers`);
      assert.doesNotMatch(html, /(src|href)="https?:/i, `${f}: nothing remote`);
    }
    // The designer renders node data as React text, never as HTML.
    const designerSrc = readdirSync('extension/designer').filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join('extension/designer', f), 'utf8')).join('\n');
    assert.doesNotMatch(designerSrc, /dangerouslySetInnerHTML|innerHTML|insertAdjacentHTML|document\.write/);
  } finally {
    rmSync(out, {recursive: true, force: true});
  }
});
