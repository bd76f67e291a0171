// Builds the unpacked extension into extension/dist/ (loadable by Chromium and Edge).
// Usage: node extension/build.mjs [--outdir DIR] [--watch]
import * as esbuild from 'esbuild';
import {cpSync, mkdirSync, rmSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIdx = args.indexOf('--outdir');
const outdir = resolve(outIdx >= 0 ? args[outIdx + 1] : join(here, 'dist'));

rmSync(outdir, {recursive: true, force: true});
mkdirSync(outdir, {recursive: true});

const entries = {
  background: 'src/background/service-worker.ts',
  content: 'src/content/content.ts',
  popup: 'src/popup/popup.ts',
  options: 'src/options/options.ts',
  designer: 'designer/main.ts',
};

const options = {
  absWorkingDir: here,
  entryPoints: entries,
  outdir,
  bundle: true,
  format: 'iife',
  target: 'chrome120',
  sourcemap: 'linked',
  legalComments: 'none',
  // React picks its production build by process.env.NODE_ENV (designer page).
  define: {'process.env.NODE_ENV': '"production"'},
  logLevel: 'warning',
};

for (const f of ['manifest.json', 'managed_schema.json', 'src/popup/popup.html',
  'src/options/options.html', 'src/pages.css', 'designer/designer.html']) {
  cpSync(join(here, f), join(outdir, f.split('/').pop()));
}

if (args.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching; output in ${outdir}`);
} else {
  await esbuild.build(options);
  console.log(`built ${outdir}`);
}
