#!/usr/bin/env node
// The `netplumb` command. Arguments are parsed by node:util's parseArgs (strict: an
// unknown option or a missing value is a usage error), which ships with Node and needs
// no dependency for a handful of commands and flags.
//
// Exit codes: 0 success, 1 failure (the kernel refused, a namespace does not exist, a
// demo check failed), 2 usage error. Errors are one line on stderr.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

const USAGE = `usage: netplumb <command> [options]

commands:
  demo      build Docker's network model in a throwaway sandbox, check it with real
            traffic, print what each check saw, clean up
  show      list links, addresses, routes, neighbours, fdb or nft of a namespace
  dns       the DNS resolver of a state directory's networks, in the foreground
  state     the state directory: rebuild it from the kernel when its database is lost
  version   print the version

netplumb <command> --help describes a command. Exit codes: 0 success, 1 failure,
2 usage error.
`;

const SHOW_USAGE = `usage: netplumb show <links|addresses|routes|neighbours|fdb|nft> [options]

Lists what a network namespace holds, read over netlink by netplumb itself:
  links       as ip -d link show          addresses  as ip addr show
  routes      as ip route show            neighbours as ip neigh show
  fdb         as bridge fdb show          nft        as nft list ruleset
Tables by default; with --json, JSON shaped like the tool's own -j output (ip -j -d
link, ip -j addr, ip -j route, ip -j neigh, bridge -j fdb, nft -j list ruleset; nft
rules carry netplumb's decoded expressions in "exprs" instead of nft's "expr").

options:
  --netns NAME|PATH  the namespace to read: a name under /run/netns or a path such as
                     /proc/PID/ns/net (default: this process's own)
  --json             JSON instead of a table
  -4, -6             addresses, routes, neighbours: one family (routes default to -4)
  --table ID         routes: the routing table (default 254, main)
  -h, --help         this text

Reading links, addresses, routes, neighbours and the FDB needs no privilege in your own
namespace; nftables listings need CAP_NET_ADMIN, another namespace CAP_SYS_ADMIN over it.
Exit codes: 0 success, 1 failure (no such namespace, the kernel refused), 2 usage error.
`;

const DNS_USAGE = `usage: netplumb dns --state-dir DIR [options]

The DNS resolver of the networks of state directory DIR, in the foreground: answers the
containers of each user-defined network on that network's gateway address (A, AAAA and
PTR for container names and aliases, the rest forwarded upstream), in this process's
network namespace: run it where the bridges are (ip netns exec <host-netns> netplumb dns
...). It keeps no state of its own and follows the state as any process changes it;
SIGINT or SIGTERM stop it. See docs/dns.md.

options:
  --state-dir DIR    the state directory (required)
  --port N           the port to listen on (default 53)
  --upstream ADDR    an upstream resolver, ip or ip:port (repeatable; default: the
                     nameservers of /etc/resolv.conf)
  --timeout MS       how long to wait for an upstream (default 2000)
  --resolv-conf FILE the resolv.conf to read upstreams from
  -h, --help         this text

Exit codes: 0 stopped by a signal, 1 failure (the state cannot be opened, a socket
cannot be bound), 2 usage error.
`;

const STATE_USAGE = `usage: netplumb state rebuild --state-dir DIR [options]

When a state directory's database is damaged (netplumb reports StateCorruptError), sets
it aside (netplumb.db.broken-<time>) and rebuilds the state from the network
definitions in DIR/networks/ and from the kernel: the endpoints' host links, their
container ends in the named namespaces, the published ports. Container names, aliases
and hosts files cannot come back; see docs/store.md. Run it in the namespace the
networks live in.

options:
  --state-dir DIR    the state directory (required)
  --owner NAME       the owner tag (default netplumb)
  --netns-dir DIR    where named namespaces live (default /run/netns)
  --json             print the result as JSON
  -h, --help         this text

Exit codes: 0 rebuilt, 1 failure, 2 usage error.
`;

/** A usage error: exit code 2, the command's usage hint. */
class UsageError extends Error {}

function parse<T extends ParseArgsConfig['options']>(args: string[], options: T, positionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals });
  } catch (e) {
    // parseArgs's messages start with one sentence ("Unknown option '--x'.") and may go
    // on with advice: keep the sentence.
    throw new UsageError((e as Error).message.split(/\.\s|\n/)[0]!.replace(/\.$/, ''));
  }
}

// The demo is its own entry point (dist/demo.js, also the netplumb-demo command): the
// CLI hands the command over whole, arguments, usage and exit code included.
function demo(args: string[]): number {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'demo.js'), ...args], { stdio: 'inherit' });
  return r.status ?? 1;
}

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    netns: { type: 'string' },
    json: { type: 'boolean' },
    table: { type: 'string' },
    '4': { type: 'boolean', short: '4' },
    '6': { type: 'boolean', short: '6' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(SHOW_USAGE);
    return 0;
  }
  const { SHOW_OBJECTS, showJson, showText } = await import('./show');
  const what = positionals[0];
  if (what === undefined) throw new UsageError(`what to show? one of ${SHOW_OBJECTS.join(', ')}`);
  if (!(SHOW_OBJECTS as readonly string[]).includes(what)) throw new UsageError(`cannot show ${JSON.stringify(what)}: one of ${SHOW_OBJECTS.join(', ')}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  if (values['4'] && values['6']) throw new UsageError('-4 and -6 exclude each other');
  let tableId: number | undefined;
  if (values.table !== undefined) {
    tableId = Number(values.table);
    if (!/^\d+$/.test(values.table) || tableId > 0xffffffff) throw new UsageError(`--table wants a table number, not ${JSON.stringify(values.table)}`);
    if (what !== 'routes') throw new UsageError('--table applies to routes only');
  }
  const family = values['4'] ? 4 : values['6'] ? 6 : undefined;
  const { Netns } = await import('./netns');
  const ns = values.netns !== undefined ? await Netns.open(values.netns) : await Netns.current();
  try {
    const opts = { ...(family ? { family } as const : {}), ...(tableId !== undefined ? { table: tableId } : {}) };
    const kind = what as (typeof SHOW_OBJECTS)[number];
    process.stdout.write(values.json ? `${JSON.stringify(await showJson(ns, kind, opts))}\n` : await showText(ns, kind, opts));
  } finally {
    ns.close();
  }
  return 0;
}

function int(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${what} wants a number, not ${JSON.stringify(v)}`);
  return Number(v);
}

// netplumb dns: the resolver until a signal; its listeners reported on stderr as they change.
async function dns(args: string[]): Promise<number> {
  const { values } = parse(args, {
    'state-dir': { type: 'string' },
    port: { type: 'string' },
    upstream: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    'resolv-conf': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DNS_USAGE);
    return 0;
  }
  const stateDir = values['state-dir'];
  if (stateDir === undefined) throw new UsageError('--state-dir is required');
  const port = int(values.port, '--port');
  const timeoutMs = int(values.timeout, '--timeout');
  const { Resolver } = await import('./network/dns');
  const r = await Resolver.open({
    stateDir,
    ...(port !== undefined && { port }),
    ...(values.upstream !== undefined && { upstreams: values.upstream }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(values['resolv-conf'] !== undefined && { resolvConf: values['resolv-conf'] }),
    warn: (m) => process.stderr.write(`netplumb dns: ${m}\n`),
  });
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

async function state(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    'state-dir': { type: 'string' },
    owner: { type: 'string' },
    'netns-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(STATE_USAGE);
    return 0;
  }
  if (positionals[0] !== 'rebuild' || positionals.length > 1) throw new UsageError('the state command is: state rebuild --state-dir DIR');
  const stateDir = values['state-dir'];
  if (stateDir === undefined) throw new UsageError('--state-dir is required');
  const { Networks } = await import('./network/networks');
  const r = await Networks.rebuild({
    stateDir,
    ...(values.owner !== undefined && { owner: values.owner }),
    ...(values['netns-dir'] !== undefined && { netnsDir: values['netns-dir'] }),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    process.stdout.write(
      `${r.movedTo ? `the damaged database is now ${r.movedTo}\n` : ''}` +
        `networks: ${r.networks.join(', ') || 'none'}\nendpoints rebuilt: ${r.endpoints.length}\n` +
        (r.unmatched.length ? `links not matched to a container (netplumb gc removes them): ${r.unmatched.join(', ')}\n` : ''),
    );
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'demo':
      return demo(rest);
    case 'show':
      return show(rest);
    case 'dns':
      return dns(rest);
    case 'state':
      return state(rest);
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
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      const cmd = process.argv[2];
      const hint = ['show', 'demo', 'dns', 'state'].includes(cmd ?? '') ? `netplumb ${cmd} --help` : 'netplumb --help';
      process.stderr.write(`netplumb: ${e.message} (see ${hint})\n`);
      process.exit(2);
    }
    // One line: the error's own message carries the errno name and the kernel's text.
    const err = e as { code?: string; message?: string };
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    process.stderr.write(`netplumb: ${msg}${err.code && !msg.includes(err.code) ? ` (${err.code})` : ''}\n`);
    if (process.env.NETPLUMB_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  },
);
