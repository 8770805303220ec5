#!/usr/bin/env node
// Reads scripts/debian-packages.txt, the one list of system packages the set-up installs,
// and checks that the tools of some of its sections are there.
//
//   node scripts/system-packages.mjs check [SECTION...]   (default: build test base)
//
// prints nothing and exits 0 when every probe is found, else ONE line naming the missing
// packages (and the commands that showed it) and the set-up command, and exits 1.
// scripts/test.mjs runs the same check before the sandbox and vitest start, so a missing
// tool stops `npm test` at once instead of failing or skipping dozens of tests.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const LIST = path.join(root, 'scripts', 'debian-packages.txt');

/** The sections `npm test` needs. */
export const TEST_SECTIONS = ['build', 'test', 'base'];

/**
 * The list as `[{ section, name, probes }]`, in file order. A malformed line throws
 * (naming it), so a typo in the list fails the set-up's and the tests' checks loudly.
 */
export function readPackages(file = LIST) {
  const out = [];
  let section = null;
  readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const sec = /^\[([a-z]+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      return;
    }
    const m = /^([a-z0-9][a-z0-9+.-]*):((?:\s+\S+)+)$/.exec(line);
    if (!m || !section) throw new Error(`${file}:${i + 1}: expected "package: probe..." under a [section]: ${raw}`);
    const probes = m[2].trim().split(/\s+/).filter((p) => p !== '-');
    out.push({ section, name: m[1], probes });
  });
  return out;
}

/** Whether `cmd` is an executable file in one of PATH's directories (what spawn finds). */
export function onPath(cmd, envPath = process.env.PATH ?? '') {
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Whether a probe is satisfied: an absolute path exists, a command is on PATH. */
export function probeFound(probe, envPath) {
  return probe.startsWith('/') ? existsSync(probe) : onPath(probe, envPath);
}

/** The packages of `sections` with at least one probe not found, and those probes. */
export function missingPackages(sections = TEST_SECTIONS, envPath = process.env.PATH) {
  return readPackages()
    .filter((p) => sections.includes(p.section))
    .map((p) => ({ name: p.name, missing: p.probes.filter((probe) => !probeFound(probe, envPath)) }))
    .filter((p) => p.missing.length > 0);
}

/** The one line naming what is missing and how to install it. */
export function missingLine(missing) {
  const what = missing.map((p) => `${p.name} (${p.missing.join(', ')})`).join(', ');
  return `netplumb: missing system packages: ${what}; install them with scripts/setup.sh (see README.md)`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, ...sections] = process.argv.slice(2);
  if (cmd !== 'check') {
    console.error('usage: system-packages.mjs check [SECTION...]');
    process.exit(2);
  }
  const missing = missingPackages(sections.length ? sections : TEST_SECTIONS);
  if (missing.length) {
    console.error(missingLine(missing));
    process.exit(1);
  }
}
