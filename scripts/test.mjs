#!/usr/bin/env node
// npm test: the whole vitest suite inside a throwaway sandbox (see in-netns.mjs), after a
// check that the system tools it runs are installed (scripts/debian-packages.txt).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { missingLine, missingPackages } from './system-packages.mjs';
import { nodeHeadersDir } from './node-headers.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

// Debian keeps nft, conntrack, iptables and sysctl in /usr/sbin, which an ordinary
// user's PATH lacks; the tests run them (as root of the sandbox's user namespace).
const dirs = (process.env.PATH ?? '').split(':');
for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
process.env.PATH = dirs.filter(Boolean).join(':');

const missing = missingPackages();
if (missing.length) {
  console.error(missingLine(missing));
  process.exit(1);
}

// The prebuild test compiles the addon when prebuilds/ is stale: with the running Node's
// own headers, never by downloading them.
if (!process.env.npm_config_nodedir) {
  const dir = nodeHeadersDir();
  if (dir) process.env.npm_config_nodedir = dir;
}

// The import graph of src/ is layered and acyclic (scripts/check-imports.mjs): a cycle
// fails the run before any test does.
const imports = spawnSync(process.execPath, [path.join(root, 'scripts', 'check-imports.mjs')], { stdio: 'inherit', cwd: root });
if (imports.status !== 0) process.exit(imports.status ?? 1);

const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(
  process.execPath,
  [path.join(root, 'scripts', 'in-netns.mjs'), process.execPath, vitest, 'run', ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
