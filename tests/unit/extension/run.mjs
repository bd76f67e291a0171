// Compiles the extension's unit tests (*.test.ts) with esbuild into a temp dir and runs them with
// node's test runner. `npm test` calls this.
import * as esbuild from 'esbuild';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tests = readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort();
const out = mkdtempSync(join(tmpdir(), 'omnibridge-unit-'));
try {
  await esbuild.build({
    entryPoints: tests.map((t) => join(here, t)),
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    outExtension: {'.js': '.mjs'},
    logLevel: 'warning',
  });
  const files = tests.map((t) => join(out, t.replace(/\.ts$/, '.mjs')));
  const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...files], {stdio: 'inherit'});
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(out, {recursive: true, force: true});
}
