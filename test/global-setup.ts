// Refuse to run anywhere but inside the throwaway sandbox of scripts/in-netns.mjs:
// the tests create namespaces, links and rules, and must never do so in the machine's
// own network namespace.
import { statfsSync } from 'node:fs';

const TMPFS_MAGIC = 0x01021994;

export default function setup(): void {
  if (process.env.NETPLUMB_SANDBOX !== '1') {
    throw new Error('netplumb tests run only inside the sandbox: use `npm test` (scripts/in-netns.mjs), not vitest directly');
  }
  if (statfsSync('/run/netns').type !== TMPFS_MAGIC) {
    throw new Error('/run/netns is not on the sandbox tmpfs; refusing to run');
  }
}
