#!/usr/bin/env node
// Puts the CNI plugin executable where docs/cni.md says it is: dist/cni/netplumb, beside
// the in-process plugin it falls back to (dist/cni/main.js). It comes from this
// machine's build (build/Release/netplumb-cni, `npm run build`) or, in an installed
// package, from the prebuild of this machine's arch (prebuilds/linux-<arch>/). Run by
// build:ts (which empties dist/) and by the package's install script; quiet when
// neither exists yet (a build:ts before the first native build).
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const from = [
  path.join(root, 'build', 'Release', 'netplumb-cni'),
  path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'netplumb-cni'),
].find((f) => existsSync(f));
const to = path.join(root, 'dist', 'cni', 'netplumb');
if (from && existsSync(path.join(root, 'dist', 'cni', 'main.js'))) {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, 0o755);
  chmodSync(path.join(root, 'dist', 'cni', 'main.js'), 0o755);
}
