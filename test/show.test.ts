// `netplumb show ... --json` against the reference tools' own JSON, field by field: a
// namespace is filled with iproute2, bridge and nft (never through netplumb), then every
// field netplumb prints must equal what `ip -j`, `bridge -j` or `nft -j` print for the
// same object, and the fields that matter most must be there at all.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip, ipj, run, Scope } from './helpers';
import { nftIn } from './nft-helpers';

type Json = Record<string, unknown>;
const CLI = path.resolve(__dirname, '../dist/cli.js');
const scope = new Scope();
let ns = '';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}
function show<T = Json[]>(...args: string[]): T {
  const r = cli('show', ...args, '--netns', ns, '--json');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/**
 * Every field of `mine` equals the same field of `theirs` (nested objects compared the
 * same way: ours may carry fewer fields, never different ones), and `required` are present.
 */
function sameFields(mine: Json, theirs: Json, required: string[], where: string): void {
  for (const k of required) expect(mine, `${where}: netplumb lacks ${k}`).toHaveProperty(k);
  for (const [k, v] of Object.entries(mine)) {
    expect(theirs, `${where}: ${k} is in netplumb's output, not in the tool's`).toHaveProperty(k);
    const t = theirs[k];
    if (k === 'expires' && typeof v === 'number' && typeof t === 'number') {
      // Seconds left of an element's timeout: the two listings are moments apart.
      expect(Math.abs(v - t), `${where}.${k}: ${v} vs ${t}`).toBeLessThanOrEqual(2);
    } else if (Array.isArray(v) && Array.isArray(t) && v.length === t.length && v.some((x) => x && typeof x === 'object')) {
      v.forEach((x, i) => (x && typeof x === 'object' && !Array.isArray(x)
        ? sameFields(x as Json, t[i] as Json, [], `${where}.${k}[${i}]`)
        : expect(x, `${where}.${k}[${i}]`).toEqual(t[i])));
    } else if (v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t)) {
      sameFields(v as Json, t as Json, [], `${where}.${k}`);
    } else {
      expect(v, `${where}.${k}`).toEqual(t);
    }
  }
}

/** Pairs each of ours with the tool's object of the same key; both sides must hold the same keys. */
function pair(mine: Json[], theirs: Json[], key: (o: Json) => string, what: string): [Json, Json, string][] {
  const index = new Map(theirs.map((o) => [key(o), o]));
  expect(mine.map(key).sort(), `${what}: the same objects`).toEqual([...index.keys()].sort());
  return mine.map((o) => [o, index.get(key(o))!, `${what} ${key(o)}`]);
}

beforeAll(async () => {
  const h = await scope.ns('show');
  ns = h.name!;
  const ipLine = (line: string) => ip(ns, ...line.split(' '));
  ipLine('link add br0 type bridge');
  ipLine('link add v0 type veth peer name v1');
  ipLine('link set v0 master br0');
  ipLine('link set br0 up');
  ipLine('link set v0 up');
  ipLine('link set v1 up mtu 1400');
  ipLine('link set v1 alias the-peer');
  ipLine('link add d0 type veth peer name d1');
  ipLine('link set d0 group 7 txqueuelen 50');
  ipLine('link add vx0 type vxlan id 42 dstport 4789 nolearning');
  ipLine('addr add 10.0.0.1/24 dev br0');
  ipLine('addr add 10.0.1.1/24 brd + dev v1');
  ipLine('addr add 10.0.1.2/24 dev v1'); // secondary
  ipLine('addr add 10.0.2.1 peer 10.0.2.2/32 dev d0');
  ipLine('-6 addr add fd00::1/64 dev v1 nodad');
  ipLine('addr add 10.0.3.1/24 dev d0 valid_lft 3600 preferred_lft 1800 noprefixroute');
  ipLine('link set d0 up');
  ipLine('route add 10.9.0.0/16 via 10.0.0.2 metric 50');
  ipLine('route add blackhole 10.8.0.0/16');
  ipLine('route add 10.7.0.1 dev br0 proto static');
  ipLine('route add 10.6.0.0/16 via 10.0.0.3 table 100');
  ipLine('-6 route add fd01::/64 via fd00::2 dev v1');
  ipLine('neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev br0');
  ipLine('neigh add 10.0.0.10 lladdr 02:00:00:00:00:0a dev br0 nud reachable');
  ipLine('neigh add fd00::9 lladdr 02:00:00:00:00:19 dev v1 router');
  run('ip', ['netns', 'exec', ns, 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '192.0.2.3']);
  run('ip', ['netns', 'exec', ns, 'bridge', 'fdb', 'add', '02:42:0a:00:00:05', 'dev', 'vx0', 'dst', '192.0.2.4', 'vni', '7', 'port', '4790']);
  run('ip', ['netns', 'exec', ns, 'bridge', 'fdb', 'add', '02:42:0a:00:00:06', 'dev', 'v0', 'master', 'static']);
  // The project's reference ruleset, plus elements of every shape it has.
  nftIn(ns, ['-f', '-'], readFileSync(path.join(__dirname, 'fixtures', 'nft-layout.nft'), 'utf8'));
  nftIn(ns, ['-f', '-'], [
    'add element inet netplumb dnat4_any { tcp . 8080 : 10.88.0.2 . 80 }',
    'add element inet netplumb dnat4_ip { 127.0.0.1 . udp . 5353 : 10.88.0.3 . 53 }',
    'add element inet netplumb pub4 { 10.88.0.2 . tcp . 80 }',
    'add element inet netplumb guard4 { 10.90.0.0-10.90.0.20 : drop }',
    'add table ip other { comment "someone else" ; }',
    'add set ip other blocked { type ipv4_addr; flags timeout; timeout 1h; size 100; elements = { 198.51.100.7 } ; }',
    'add chain ip other c { type filter hook input priority -10; policy drop; comment "in" ; }',
    'add rule ip other c ip saddr @blocked counter drop comment "blocked"',
  ].join('\n') + '\n');
});
afterAll(() => scope.cleanup());

describe('netplumb show --json, field by field against the tools', () => {
  it('links: ip -j -d link show', () => {
    const mine = show('links');
    const theirs = ipj<Json[]>(ns, 'link', 'show');
    for (const [m, t, where] of pair(mine, theirs, (o) => String(o.ifindex), 'link')) {
      sameFields(m, t, ['ifindex', 'ifname', 'flags', 'mtu', 'operstate', 'group', 'link_type', 'address', 'txqlen', 'num_tx_queues'], where);
    }
    const v1 = mine.find((l) => l.ifname === 'v1')!;
    expect(v1).toMatchObject({ link: 'v0', ifalias: 'the-peer', mtu: 1400 });
    expect(mine.find((l) => l.ifname === 'v0')).toMatchObject({ master: 'br0', linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge' } });
    expect(mine.find((l) => l.ifname === 'd0')).toMatchObject({ group: '7', txqlen: 50 });
  });

  it('addresses: ip -j addr show, and one family with -6', () => {
    const mine = show('addresses');
    const theirs = ipj<Json[]>(ns, 'addr', 'show');
    for (const [m, t, where] of pair(mine, theirs, (o) => String(o.ifindex), 'link')) {
      const { addr_info: ma, ...ml } = m;
      const { addr_info: ta, ...tl } = t;
      sameFields(ml, tl, ['ifindex', 'ifname', 'flags', 'mtu'], where);
      const key = (a: Json) => `${String(a.local)}/${String(a.prefixlen)}`;
      for (const [a, b, w] of pair(ma as Json[], ta as Json[], key, `${where} address`)) {
        sameFields(a, b, ['family', 'local', 'prefixlen', 'scope', 'valid_life_time', 'preferred_life_time'], w);
        // Boolean flags go both ways: none that ip prints is missing.
        for (const [k, v] of Object.entries(b)) if (v === true) expect(a[k], `${w}: ${k}`).toBe(true);
      }
    }
    const v1 = mine.find((l) => l.ifname === 'v1')!.addr_info as Json[];
    expect(v1.find((a) => a.local === '10.0.1.2')).toMatchObject({ secondary: true });
    expect(v1.find((a) => a.local === 'fd00::1')).toMatchObject({ nodad: true, family: 'inet6' });
    const six = show('addresses', '-6');
    expect(six.flatMap((l) => l.addr_info as Json[]).every((a) => a.family === 'inet6')).toBe(true);
  });

  it('routes: ip -j route show, -6, and --table', () => {
    const cases: [string[], string[]][] = [[[], []], [['-6'], ['-6']], [['--table', '100'], ['table', '100']]];
    for (const [flags, ipArgs] of cases) {
      const mine = show('routes', ...flags);
      const pre = ipArgs[0] === '-6' ? ['-6'] : [];
      // Without -d, as `ip route` prints by default (-d adds "type": "unicast" and more).
      const theirs = JSON.parse(run('ip', ['-j', '-n', ns, ...pre, 'route', 'show', ...ipArgs.filter((a) => a !== '-6')])) as Json[];
      const key = (r: Json) => `${String(r.type ?? '')} ${String(r.dst)} ${String(r.dev ?? '')} ${String(r.metric ?? '')}`;
      expect(mine.length, flags.join(' ')).toBeGreaterThan(0);
      for (const [m, t, where] of pair(mine, theirs, key, `route ${flags.join(' ')}`)) sameFields(m, t, ['dst', 'flags'], where);
    }
    expect(show('routes').find((r) => r.dst === '10.7.0.1')).toMatchObject({ protocol: 'static', scope: 'link', dev: 'br0' });
  });

  it('neighbours: ip -j neigh show', () => {
    const mine = show('neighbours');
    const theirs = ipj<Json[]>(ns, 'neigh', 'show');
    const key = (n: Json) => `${String(n.dst)} ${String(n.dev)}`;
    for (const [m, t, where] of pair(mine, theirs, key, 'neighbour')) sameFields(m, t, ['dst', 'dev', 'state'], where);
    expect(mine.find((n) => n.dst === 'fd00::9')).toMatchObject({ router: null, lladdr: '02:00:00:00:00:19' });
  });

  it('fdb: bridge -j fdb show', () => {
    const mine = show('fdb');
    const theirs = JSON.parse(run('ip', ['netns', 'exec', ns, 'bridge', '-j', 'fdb', 'show'])) as Json[];
    const key = (e: Json) => `${String(e.mac)} ${String(e.ifname)} ${String(e.dst ?? '')} ${String(e.master ?? '')} ${JSON.stringify(e.flags)}`;
    for (const [m, t, where] of pair(mine, theirs, key, 'fdb')) sameFields(m, t, ['mac', 'ifname', 'flags', 'state'], where);
    expect(mine.find((e) => e.mac === '02:42:0a:00:00:05')).toMatchObject({ dst: '192.0.2.4', vni: 7, port: 4790, state: 'permanent' });
    expect(mine.find((e) => e.mac === '02:42:0a:00:00:06')).toMatchObject({ master: 'br0', state: 'static' });
  });

  it('nft: nft -j list ruleset, every table, set, map, chain and rule', () => {
    const mine = show<{ nftables: Json[] }>('nft').nftables;
    const theirs = (JSON.parse(nftIn(ns, ['-j', 'list', 'ruleset'])) as { nftables: Json[] }).nftables.filter((o) => !('metainfo' in o));
    const key = (o: Json) => {
      const [kind, v] = Object.entries(o)[0] as [string, Json];
      return `${kind} ${String(v.family)} ${String(v.table ?? v.name)} ${String(v.name ?? v.chain)} ${String(v.handle)}`;
    };
    expect(mine.map(key)).toEqual(theirs.map(key)); // the same objects in the same order
    for (const [m, t, where] of pair(mine, theirs, key, 'nft')) {
      const [kind, mv] = Object.entries(m)[0] as [string, Json];
      const tv = t[kind] as Json;
      if (kind === 'rule') {
        // nft lifts expressions into its language ("expr"); netplumb prints the kernel's ("exprs").
        const { exprs, ...rest } = mv;
        expect((exprs as unknown[]).length, where).toBeGreaterThan(0);
        sameFields(rest, tv, ['family', 'table', 'chain', 'handle'], where);
        expect(rest.comment, where).toEqual(tv.comment);
      } else {
        sameFields(mv, tv, kind === 'table' ? ['family', 'name', 'handle'] : ['family', 'name', 'table', 'handle'], where);
        // Nothing nft prints about the object is missing, elements included.
        expect(Object.keys(mv).sort(), where).toEqual(Object.keys(tv).sort());
      }
    }
  });
});

describe('netplumb show: usage and errors', () => {
  it('tables by default, --help, exit code 2 for usage errors and 1 for failures, one line each', () => {
    const links = cli('show', 'links', '--netns', ns);
    expect(links.status).toBe(0);
    expect(links.stdout.split('\n')[0]).toMatch(/^INDEX\s+NAME\s+KIND\s+STATE\s+MTU\s+MAC/);
    expect(links.stdout).toMatch(/\bv1\s+veth\s+UP\s+1400\b/);
    const nft = cli('show', 'nft', '--netns', ns);
    expect(nft.stdout).toContain('table inet netplumb');
    expect(nft.stdout).toMatch(/chain forward: filter hook forward priority 0 policy accept; \d+ rules/);

    for (const args of [['--help'], ['show', '--help'], ['demo', '--help'], ['show', 'routes', '-h']]) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^usage: netplumb/);
      expect(r.stdout, args.join(' ')).toMatch(/Exit codes/);
    }
    const usage: [string[], RegExp][] = [
      [['show'], /what to show\?/],
      [['show', 'bogus'], /cannot show "bogus"/],
      [['show', 'links', '--bogus'], /Unknown option '--bogus'/],
      [['show', 'links', '--netns'], /--netns/],
      [['show', 'links', 'extra'], /unexpected argument "extra"/],
      [['show', 'routes', '-4', '-6'], /exclude each other/],
      [['show', 'routes', '--table', 'main'], /--table wants a table number/],
      [['demo', '--nope'], /Unknown option '--nope'/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, msg] of usage) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    const missing = cli('show', 'links', '--netns', 'no-such-ns');
    expect(missing.status).toBe(1);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^netplumb: .*no-such-ns.*ENOENT/);
  });
});
