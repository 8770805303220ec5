#!/usr/bin/env node
// npm test: the whole vitest suite inside a throwaway sandbox (see in-netns.mjs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(
  process.execPath,
  [path.join(root, 'scripts', 'in-netns.mjs'), process.execPath, vitest, 'run', ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
