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
  daemon    netplumbd: the networks of a state directory served on a unix socket
  network   networks: ls, inspect, create, rm, prune (through a daemon or a state directory)
  gc        remove what no record claims (tagged links, stale elements, dead records)
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

const DAEMON_USAGE = `usage: netplumb daemon --state-dir DIR [options]

netplumbd in the foreground: owns state directory DIR and serves its networks over an
HTTP/JSON API on a unix socket (docs/daemon.md), hosts the DNS resolver on the
networks' gateways and the userland proxy of ports published at [::1], answers the CNI
plugin's forwarded calls, and puts back what another
party deletes or flushes (its nftables table, a bridge) within a second. Logs are JSON
lines on stderr. SIGTERM or SIGINT: stop accepting, finish the requests in flight, close
(links waiting to be reaped are deleted), exit 0. Run it in the namespace the networks
live in.

options:
  --state-dir DIR      the state directory (required)
  --socket PATH        the socket (default /run/netplumb/netplumb.sock)
  --socket-mode MODE   octal mode of the socket (default 660: owner and group)
  --socket-group GROUP a group whose members may use the API (default the daemon's)
  --owner NAME         the owner tag (default netplumb)
  --netns-dir DIR      where named namespaces live (default /run/netns)
  --pool N             keep N namespaces ready for attaches that create one (default 0)
  --no-dns             no DNS resolver
  --no-proxy           no userland proxy for ports published at [::1]
  --dns-port N         the resolver's port (default 53)
  --upstream ADDR      the resolver's upstream (repeatable; default /etc/resolv.conf's)
  --max-body BYTES     largest request body (default 1048576); larger gets 413
  --no-watch           do not watch for (and repair) foreign changes
  -h, --help           this text

Exit codes: 0 stopped by a signal, 1 failure (the state cannot be opened, the socket is
in use by another daemon), 2 usage error.
`;

const NETWORK_USAGE = `usage: netplumb network <ls|inspect|create|rm|prune> [options] [NAME...]

  ls                 every network: name, driver, subnet, gateway, bridge, endpoints
  inspect NAME...    each network with its endpoints, as JSON
  create NAME        a network (bridge unless --driver says otherwise); prints its id
  rm NAME...         remove networks (refused while one has endpoints)
  prune              remove every network without endpoints (not the default one)

Where the networks are (one of):
  --socket PATH      a running daemon (default /run/netplumb/netplumb.sock when it exists)
  --state-dir DIR    a state directory, opened in this process (run it in the namespace
                     the networks live in)

create options:
  --driver D         bridge (default), overlay or macvlan
  --subnet CIDR      --gateway IP  --ip-range CIDR  --bridge NAME  --mtu N
  --ipv6             IPv6 too   --ipv6-subnet CIDR   --ipv4=false is --no-ipv4
  --internal         no way in or out but the network's own members
  --no-icc           containers of the network may not talk to each other
  --no-masquerade    no source NAT for traffic leaving the host
  --label K=V        a label (repeatable)
  --parent IF        macvlan: the parent link   --vni N --local IP --device IF: overlay

other options:
  --owner NAME       with --state-dir: the owner tag (default netplumb)
  --json             JSON instead of text
  -h, --help         this text

Exit codes: 0 success, 1 failure (no such network, it has endpoints, no daemon on the
socket), 2 usage error.
`;

const GC_USAGE = `usage: netplumb gc [--socket PATH | --state-dir DIR] [--json]

Removes what nothing claims (Networks.gc): records dead processes left half done, links
waiting to be reaped, host links carrying the owner's tag that no network or endpoint
claims, published-port elements of addresses no endpoint holds. Prints what it removed.

options:
  --socket PATH      a running daemon (default /run/netplumb/netplumb.sock when it exists)
  --state-dir DIR    a state directory, opened in this process
  --owner NAME       with --state-dir: the owner tag (default netplumb)
  --json             JSON instead of text
  -h, --help         this text

Exit codes: 0 success, 1 failure, 2 usage error.
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

async function daemon(args: string[]): Promise<number> {
  const { values } = parse(args, {
    'state-dir': { type: 'string' },
    socket: { type: 'string' },
    'socket-mode': { type: 'string' },
    'socket-group': { type: 'string' },
    owner: { type: 'string' },
    'netns-dir': { type: 'string' },
    pool: { type: 'string' },
    'no-dns': { type: 'boolean' },
    'no-proxy': { type: 'boolean' },
    'dns-port': { type: 'string' },
    upstream: { type: 'string', multiple: true },
    'max-body': { type: 'string' },
    'no-watch': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  const stateDir = values['state-dir'];
  if (stateDir === undefined) throw new UsageError('--state-dir is required');
  const mode = values['socket-mode'];
  if (mode !== undefined && !/^0?[0-7]{3}$/.test(mode)) throw new UsageError(`--socket-mode wants an octal mode such as 660, not ${JSON.stringify(mode)}`);
  const pool = int(values.pool, '--pool');
  const dnsPort = int(values['dns-port'], '--dns-port');
  const maxBody = int(values['max-body'], '--max-body');
  const { Daemon } = await import('./daemon/server');
  const { DEFAULT_SOCKET } = await import('./daemon/client');
  const d = await Daemon.start({
    stateDir,
    socket: values.socket ?? DEFAULT_SOCKET,
    ...(mode !== undefined && { socketMode: parseInt(mode, 8) }),
    ...(values['socket-group'] !== undefined && { socketGroup: values['socket-group'] }),
    ...(values.owner !== undefined && { owner: values.owner }),
    ...(values['netns-dir'] !== undefined && { netnsDir: values['netns-dir'] }),
    ...(pool !== undefined && { pool }),
    dns: values['no-dns'] ? false : { ...(dnsPort !== undefined && { port: dnsPort }), ...(values.upstream !== undefined && { upstreams: values.upstream }) },
    ...(maxBody !== undefined && { maxBodyBytes: maxBody }),
    ...(values['no-proxy'] && { proxy: false }),
    ...(values['no-watch'] && { watch: false as const }),
  });
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'signal', signal })}\n`);
  await d.stop();
  return 0;
}

// What the network and gc commands work on: a daemon's client, or a controller of a
// state directory opened here; the same few operations either way.
interface Backend {
  list(): Promise<import('./network/types').NetworkInfo[]>;
  inspect(name: string): Promise<unknown>;
  create(opts: import('./network/types').NetworkOptions): Promise<import('./network/types').NetworkInfo>;
  remove(name: string): Promise<void>;
  prune(): Promise<string[]>;
  gc(): Promise<import('./network/networks').GcResult>;
  endpointCount(net: import('./network/types').NetworkInfo): Promise<number>;
  close(): Promise<void>;
}

async function backend(values: { socket?: string | undefined; 'state-dir'?: string | undefined; owner?: string | undefined }): Promise<Backend> {
  if (values.socket !== undefined && values['state-dir'] !== undefined) throw new UsageError('--socket and --state-dir exclude each other');
  const { existsSync } = await import('node:fs');
  const { DEFAULT_SOCKET } = await import('./daemon/client');
  if (values['state-dir'] !== undefined) {
    const { Networks } = await import('./network/networks');
    const n = await Networks.open({ stateDir: values['state-dir'], ...(values.owner !== undefined && { owner: values.owner }) });
    return {
      list: async () => n.list(),
      inspect: async (name) => n.inspect(name),
      create: async (o) => (await n.create(o)).info,
      remove: (name) => n.remove(name),
      prune: () => n.prune(),
      gc: () => n.gc(),
      endpointCount: async (net) => n.endpointsOf(net.id).length,
      close: () => n.close(),
    };
  }
  if (values.owner !== undefined) throw new UsageError('--owner applies with --state-dir (a daemon has its own)');
  const socket = values.socket ?? DEFAULT_SOCKET;
  if (values.socket === undefined && !existsSync(socket)) throw new UsageError(`no daemon socket at ${socket}: give --socket PATH or --state-dir DIR`);
  const { Networks } = await import('./network/networks');
  const c = Networks.connect({ socket });
  return {
    list: () => c.list(),
    inspect: (name) => c.inspect(name),
    create: (o) => c.create(o),
    remove: (name) => c.remove(name),
    prune: () => c.prune(),
    gc: () => c.gc(),
    endpointCount: async (net) => (await c.endpoints(net.name)).length,
    close: async () => c.close(),
  };
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n') + '\n';
}

async function network(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    socket: { type: 'string' },
    'state-dir': { type: 'string' },
    owner: { type: 'string' },
    json: { type: 'boolean' },
    driver: { type: 'string' },
    subnet: { type: 'string' },
    gateway: { type: 'string' },
    'ip-range': { type: 'string' },
    bridge: { type: 'string' },
    mtu: { type: 'string' },
    ipv6: { type: 'boolean' },
    'ipv6-subnet': { type: 'string' },
    'no-ipv4': { type: 'boolean' },
    internal: { type: 'boolean' },
    'no-icc': { type: 'boolean' },
    'no-masquerade': { type: 'boolean' },
    label: { type: 'string', multiple: true },
    parent: { type: 'string' },
    vni: { type: 'string' },
    local: { type: 'string' },
    device: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    process.stdout.write(NETWORK_USAGE);
    return 0;
  }
  const [sub, ...names] = positionals;
  const subs = ['ls', 'list', 'inspect', 'create', 'rm', 'remove', 'prune'];
  if (sub === undefined) throw new UsageError(`network what? one of ls, inspect, create, rm, prune`);
  if (!subs.includes(sub)) throw new UsageError(`unknown network command ${JSON.stringify(sub)}: one of ls, inspect, create, rm, prune`);
  const createOnly = ['driver', 'subnet', 'gateway', 'ip-range', 'bridge', 'mtu', 'ipv6', 'ipv6-subnet', 'no-ipv4', 'internal', 'no-icc', 'no-masquerade', 'label', 'parent', 'vni', 'local', 'device'] as const;
  if (sub !== 'create') {
    const given = createOnly.find((k) => values[k] !== undefined);
    if (given) throw new UsageError(`--${given} applies to network create`);
  }
  if ((sub === 'ls' || sub === 'list' || sub === 'prune') && names.length > 0) throw new UsageError(`network ${sub} takes no names`);
  if ((sub === 'inspect' || sub === 'rm' || sub === 'remove') && names.length === 0) throw new UsageError(`network ${sub} needs a network name`);
  if (sub === 'create' && names.length !== 1) throw new UsageError('network create needs exactly one name');
  let opts: Record<string, unknown> | undefined;
  if (sub === 'create') {
    const labels: Record<string, string> = {};
    for (const l of values.label ?? []) {
      const i = l.indexOf('=');
      if (i <= 0) throw new UsageError(`--label wants KEY=VALUE, not ${JSON.stringify(l)}`);
      labels[l.slice(0, i)] = l.slice(i + 1);
    }
    const driver = values.driver ?? 'bridge';
    if (!['bridge', 'overlay', 'macvlan'].includes(driver)) throw new UsageError(`--driver is bridge, overlay or macvlan, not ${JSON.stringify(driver)}`);
    opts = {
      name: names[0],
      ...(values.driver !== undefined && { driver }),
      ...(values.subnet !== undefined && { subnet: values.subnet }),
      ...(values.gateway !== undefined && { gateway: values.gateway }),
      ...(values['ip-range'] !== undefined && { ipRange: values['ip-range'] }),
      ...(values.bridge !== undefined && { bridge: values.bridge }),
      ...(values.mtu !== undefined && { mtu: int(values.mtu, '--mtu') }),
      ...(values.ipv6 && { ipv6: true }),
      ...(values['ipv6-subnet'] !== undefined && { ipv6Subnet: values['ipv6-subnet'] }),
      ...(values['no-ipv4'] && { ipv4: false }),
      ...(values.internal && { internal: true }),
      ...(values['no-icc'] && { icc: false }),
      ...(values['no-masquerade'] && { masquerade: false }),
      ...(Object.keys(labels).length > 0 && { labels }),
      ...(values.parent !== undefined && { parent: values.parent }),
      ...(values.vni !== undefined && { vni: int(values.vni, '--vni') }),
      ...(values.local !== undefined && { local: values.local }),
      ...(values.device !== undefined && { device: values.device }),
    };
  }
  const b = await backend(values);
  const out = (v: unknown): void => {
    process.stdout.write(`${JSON.stringify(v, null, values.json ? undefined : 2)}\n`);
  };
  try {
    switch (sub) {
      case 'ls':
      case 'list': {
        const nets = await b.list();
        const counts = await Promise.all(nets.map((n) => b.endpointCount(n)));
        if (values.json) {
          out(nets.map((n, i) => ({ ...n, endpoints: counts[i] })));
        } else {
          const rows = [['NAME', 'DRIVER', 'SUBNET', 'GATEWAY', 'BRIDGE', 'ENDPOINTS', 'ID']];
          nets.forEach((n, i) => rows.push([n.name, n.driver, [n.subnet, n.ipv6Subnet].filter(Boolean).join(',') || '-', [n.gateway, n.ipv6Gateway].filter(Boolean).join(',') || '-', n.bridge || '-', String(counts[i]), n.id.slice(0, 12)]));
          process.stdout.write(table(rows));
        }
        return 0;
      }
      case 'inspect': {
        const all = [];
        for (const name of names) all.push(await b.inspect(name));
        out(all);
        return 0;
      }
      case 'create': {
        const info = await b.create(opts as unknown as import('./network/types').NetworkOptions);
        if (values.json) out(info);
        else process.stdout.write(`${info.id}\n`);
        return 0;
      }
      case 'rm':
      case 'remove': {
        let failed = 0;
        const removed: string[] = [];
        for (const name of names) {
          try {
            await b.remove(name);
            removed.push(name);
            if (!values.json) process.stdout.write(`${name}\n`);
          } catch (e) {
            failed++;
            process.stderr.write(`netplumb: ${name}: ${(e as Error).message}\n`);
          }
        }
        if (values.json) out({ removed });
        return failed > 0 ? 1 : 0;
      }
      default: {
        const removed = await b.prune();
        if (values.json) out({ removed });
        else process.stdout.write(removed.length ? `removed:\n${removed.map((r) => `  ${r}\n`).join('')}` : 'nothing to remove\n');
        return 0;
      }
    }
  } finally {
    await b.close();
  }
}

async function gc(args: string[]): Promise<number> {
  const { values } = parse(args, {
    socket: { type: 'string' },
    'state-dir': { type: 'string' },
    owner: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(GC_USAGE);
    return 0;
  }
  const b = await backend(values);
  try {
    const r = await b.gc();
    if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      process.stdout.write(
        `links removed: ${r.links.length ? r.links.join(', ') : 'none'}\n` +
          `published-port elements removed: ${r.elements}\nlinks reaped: ${r.reaped}\nhalf-done records undone: ${r.records}\n`,
      );
    }
  } finally {
    await b.close();
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
    case 'daemon':
      return daemon(rest);
    case 'network':
      return network(rest);
    case 'gc':
      return gc(rest);
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
      const hint = ['show', 'demo', 'dns', 'state', 'daemon', 'network', 'gc'].includes(cmd ?? '') ? `netplumb ${cmd} --help` : 'netplumb --help';
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
