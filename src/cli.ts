#!/usr/bin/env node
// The `netplumb` command.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const USAGE = `usage: netplumb <command>

commands:
  demo [--json]   build Docker's network model (default and user-defined bridge networks,
                  published ports, name resolution, isolation) in a throwaway sandbox,
                  check it with real traffic, print what each check saw, clean up
  dns --state-dir DIR [--port N] [--upstream ADDR]... [--timeout MS] [--resolv-conf FILE]
                  the DNS resolver of the networks of state directory DIR, in the foreground:
                  listens on each user-defined network's gateway in this network namespace
                  (run it where the bridges are: ip netns exec <host-netns> netplumb dns ...),
                  follows the state as any process changes it; SIGINT/SIGTERM stop it.
                  Upstreams default to the nameservers of /etc/resolv.conf (docs/dns.md)
  version         print the version
`;

// netplumb dns: the resolver until a signal; its listeners reported on stderr as they change.
async function dns(args: string[]): Promise<number> {
  const opts: { stateDir?: string; port?: number; upstreams?: string[]; timeoutMs?: number; resolvConf?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new TypeError(`${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new TypeError(`${flag} needs a number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    switch (flag) {
      case '--state-dir': opts.stateDir = value(); break;
      case '--port': opts.port = int(); break;
      case '--upstream': (opts.upstreams ??= []).push(value()); break;
      case '--timeout': opts.timeoutMs = int(); break;
      case '--resolv-conf': opts.resolvConf = value(); break;
      default:
        process.stderr.write(`netplumb dns: unknown option ${JSON.stringify(a)}\n${USAGE}`);
        return 2;
    }
  }
  if (opts.stateDir === undefined) {
    process.stderr.write(`netplumb dns: --state-dir is required\n${USAGE}`);
    return 2;
  }
  const { Resolver } = await import('./network/dns');
  const r = await Resolver.open({ ...opts, stateDir: opts.stateDir, warn: (m) => process.stderr.write(`netplumb dns: ${m}\n`) });
  let shown = '';
  const report = (): void => {
    const now = r.listeners.map((l) => `${l.address}:${l.port} (${l.network})`).join(', ');
    if (now !== shown) process.stderr.write(`netplumb dns: listening on ${now || 'no network yet'}\n`);
    shown = now;
  };
  report();
  const tick = setInterval(report, 1000);
  // The line a supervisor (or a test) waits for.
  process.stdout.write(`netplumb dns: ready (pid ${process.pid})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(tick);
  await r.close();
  return 0;
}

function sandboxed(args: string[]): number {
  // Re-run this command inside a user + network + mount namespace with a tmpfs over /run
  // (scripts/in-netns.mjs): nothing can touch the machine's own network.
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'in-netns.mjs'), process.execPath, __filename, ...args], {
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'demo': {
      if (process.env.NETPLUMB_SANDBOX !== '1') return sandboxed(['demo', ...rest]);
      const { runDemo } = await import('./demo');
      return runDemo({ json: rest.includes('--json') });
    }
    case 'dns':
      return dns(rest);
    case 'version':
    case '--version':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      process.stdout.write(`${(require('../package.json') as { version: string }).version}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      process.stderr.write(`netplumb: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`netplumb: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
