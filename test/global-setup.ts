// Refuse to run anywhere but inside the throwaway sandbox of scripts/in-netns.mjs:
// the tests create namespaces, links and rules, and must never do so in the machine's
// own network namespace.
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import * as path from 'node:path';

const TMPFS_MAGIC = 0x01021994;

export default function setup(): void {
  if (process.env.NETPLUMB_SANDBOX !== '1') {
    throw new Error('netplumb tests run only inside the sandbox: use `npm test` (scripts/in-netns.mjs), not vitest directly');
  }
  if (statfsSync('/run/netns').type !== TMPFS_MAGIC) {
    throw new Error('/run/netns is not on the sandbox tmpfs; refusing to run');
  }
  // Tests import src/ directly; the few that run the package in a child process (strace,
  // prebuild) use dist/, so compile it once per run to keep it current.
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  // The CNI plugin executable beside dist/cni/main.js (the daemon and CNI tests run it).
  execFileSync(process.execPath, [path.join(root, 'scripts', 'cni-bin.mjs')], { stdio: 'inherit' });
}
