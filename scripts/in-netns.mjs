#!/usr/bin/env node
// Runs a command inside a throwaway sandbox: a new user namespace (mapped to root), a
// new network namespace and a new mount namespace with a tmpfs over /run, so that
// /run/netns (where `ip netns` and netplumb keep named namespaces) is private too.
// Nothing the command does can reach the machine's own network namespace, its
// /run/netns or its nftables ruleset; no packet can leave the machine.
//
// Works as root and as an unprivileged user wherever unprivileged user namespaces are
// allowed; says what is missing where they are not.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: in-netns.mjs COMMAND [ARGS...]');
  process.exit(2);
}

if (process.env.NETPLUMB_SANDBOX === '1') {
  // Already inside one: run directly.
  const r = spawnSync(args[0], args.slice(1), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

for (const cmd of ['unshare', 'mount', 'ip']) {
  if (!have(cmd)) {
    console.error(`netplumb sandbox: '${cmd}' is missing (install util-linux and iproute2).`);
    process.exit(1);
  }
}

const probe = spawnSync('unshare', ['--user', '--map-root-user', '--net', '--mount', 'true'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(
    'netplumb sandbox: cannot create a user + network + mount namespace:\n  ' +
      (probe.stderr || '').trim() +
      '\nThe tests need unprivileged user namespaces (sysctl user.max_user_namespaces > 0, and on\n' +
      'Debian/Ubuntu kernel.unprivileged_userns_clone=1 or an AppArmor profile allowing them).',
  );
  process.exit(1);
}

const setup = [
  'set -e',
  // A private tmpfs over /run: named namespaces made here never touch the host's.
  'mount -t tmpfs -o mode=755 netplumb-run /run',
  'mkdir -p /run/netns',
  'ip link set lo up',
  'exec "$@"',
].join('\n');

const r = spawnSync(
  'unshare',
  ['--user', '--map-root-user', '--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup, 'sandbox', ...args],
  { stdio: 'inherit', env: { ...process.env, NETPLUMB_SANDBOX: '1' } },
);
if (r.error) {
  console.error(`netplumb sandbox: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? (r.signal ? 128 : 1));
