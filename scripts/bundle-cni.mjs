#!/usr/bin/env node
// Bundles the CNI plugin's Node side (dist/cni/run.js with the library it loads) into
// dist/cni/run.bundle.js, which dist/cni/main.js loads when it is there. A plugin
// process without a daemon lives ~50 ms; resolving, reading and wrapping ~70 modules
// cost it ~3 ms of that (docs/cni.md). The bundle is of the compiled JavaScript only:
// the addon stays the one binding.gyp build, loaded at run time as before
// (node-gyp-build too, left outside). Run by build:ts after tsc; quiet when esbuild is
// not installed (a production install of the package, which ships the bundle).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const entry = path.join(root, 'dist', 'cni', 'run.js');
if (!existsSync(entry)) process.exit(0);
let esbuild;
try {
  esbuild = createRequire(import.meta.url)('esbuild');
} catch {
  process.exit(0);
}
await esbuild.build({
  entryPoints: [entry],
  outfile: path.join(root, 'dist', 'cni', 'run.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['node-gyp-build'],
  logLevel: 'warning',
});
