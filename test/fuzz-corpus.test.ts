// The fuzzers' seeds: real kernel replies, as iproute2 and nft received them (strace
// -e read=all of their recvmsg/recvfrom), for a namespace holding every kind of object
// the decoders know. Each capture is checked against what the tool itself printed, so a
// seed is a reply the decoders are known to get right; with NETPLUMB_WRITE_CORPUS=1 the
// captures are (re)written to fuzz/corpus/<target>/ (review the diff, then commit).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codec, NetlinkError } from '../src';
import { run, Scope } from './helpers';
import { messages, strace } from './strace';

const ROOT = path.join(__dirname, '..');
const CORPUS = path.join(ROOT, 'fuzz', 'corpus');
const WRITE = process.env.NETPLUMB_WRITE_CORPUS === '1';
const TARGETS = readdirSync(path.join(ROOT, 'fuzz'))
  .filter((f) => f.endsWith('.cc'))
  .map((f) => f.slice(0, -3));

const RTM = { NEWLINK: 16, NEWADDR: 20, NEWROUTE: 24, NEWNEIGH: 28 };
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG = { NEWTABLE: 0, NEWCHAIN: 3, NEWRULE: 6, NEWSET: 9, NEWSETELEM: 12 };

// Veths stand in for dummies (not every kernel has the module); vlan and ipvlan are
// left out for the same reason (the link codec tests cover their attributes).
const SETUP = `
link add d0 type veth peer name p0
link add d1 type veth peer name p1
link set d0 up
link set d1 up
link set p0 up
link set p1 up
link add br0 type bridge stp_state 0 forward_delay 400 ageing_time 1000 priority 100 mcast_snooping 0
link add va mtu 1400 address 02:11:22:33:44:55 type veth peer name vb
link set va alias "peer one" master br0
link add vx0 type vxlan id 42 local 10.1.0.1 dstport 4789 dev d0 ttl 9 tos 3 ageing 100 nolearning srcport 2000 3000
link add vx6 type vxlan id 43 group ff05::1 dstport 4790 dev d0
link add link d0 name mv0 type macvlan mode bridge
link set br0 up
link set va up
link set vb up
link set vx0 up
addr add 10.1.0.1/24 brd + label d0:a dev d0
addr add 10.2.0.1 peer 10.2.0.2/32 dev d0
addr add fd00::1/64 dev d0 valid_lft 100 preferred_lft 50 nodad
addr add 10.4.0.1/24 dev d1 metric 77
route add 10.3.0.0/16 via 10.1.0.2 metric 50 mtu 1300 dev d0
route add default via 10.1.0.254 dev d0 table 1000 onlink
route add blackhole 10.9.0.0/16
route add fd01::/64 via fd00::2 dev d0
route add 10.5.0.0/16 dev d1 src 10.4.0.1 proto static scope link
neigh add 10.1.0.5 lladdr 02:00:00:00:00:05 dev d0 nud permanent
neigh add fd00::5 lladdr 02:00:00:00:00:06 dev d0 nud stale router
neigh add proxy 10.1.0.6 dev d0
rule add from 10.1.0.0/24 table 1000
`;

const FDB = [
  ['fdb', 'add', '02:00:00:00:00:07', 'dev', 'va', 'master', 'static'],
  ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.1.0.9', 'port', '4790', 'vni', '44', 'via', 'd0'],
  ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.1.0.10'],
];

// Every expression kind the tables know, sets with timeouts, intervals, comments and
// typeof concatenations, and tables of other families.
const RULESET = `
table inet fz {
  comment "fuzz corpus"
  set s4 { type ipv4_addr; flags interval, timeout; timeout 1h; comment "v4 set"; elements = { 10.0.0.0/8 timeout 30m comment "ten", 192.168.1.1 } }
  set pairs { typeof ip daddr . tcp dport; elements = { 10.1.1.1 . 80, 10.1.1.2 . 443 } }
  map m { type ifname : verdict; elements = { "d0" : jump c2, "lo" : accept } }
  map dn { typeof ip daddr . meta l4proto . th dport : ip daddr . th dport; elements = { 10.0.0.1 . tcp . 80 : 10.88.0.2 . 8080 } }
  map marks { type ether_addr : mark; size 128; elements = { 02:00:00:00:00:01 : 0x10 } }
  chain c1 {
    type filter hook input priority filter; policy accept; comment "input"
    iifname "lo" accept
    ip saddr @s4 counter drop comment "blocked"
    ip daddr . tcp dport @pairs accept
    meta l4proto tcp tcp dport != 20-30 reject with tcp reset
    ip protocol icmp limit rate 10/second burst 5 packets accept
    tcp flags & (syn | ack) == syn log prefix "syn " group 2
    ct state established,related accept
    ct mark set 0x2
    meta mark set ether saddr map @marks
    iifname vmap @m
    fib daddr type local counter
    ip6 nexthdr icmpv6 reject with icmpv6 admin-prohibited
    reject with icmpx port-unreachable
  }
  chain c2 { counter accept; }
  chain pre { type filter hook prerouting priority raw; notrack; }
  chain nat_pre { type nat hook prerouting priority dstnat; dnat ip to ip daddr . meta l4proto . th dport map @dn
    tcp dport 8080 redirect to :80
    udp dport 53 dnat ip to 10.0.0.53:5353
  }
  chain nat_post { type nat hook postrouting priority srcnat; oifname != "lo" masquerade random,persistent
    ip saddr 10.0.0.0/8 snat ip to 1.2.3.4-1.2.3.9
  }
}
table netdev nd { chain ing { type filter hook ingress device "d0" priority -500; ether type arp counter; }; }
table bridge br { chain f { type filter hook forward priority 0; ether saddr 02:00:00:00:00:01 drop; }; }
table ip6 v6 { chain o { type filter hook output priority 0; ip6 daddr fd00::/8 meta mark 0x1 accept; }; }
`;

const scope = new Scope();
let ns = '';

beforeAll(async () => {
  ns = (await scope.ns('fz')).name!;
  run('ip', ['-n', ns, '-batch', '-'], SETUP);
  for (const f of FDB) run('bridge', ['-n', ns, ...f]);
  run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], RULESET);
});
afterAll(() => scope.cleanup());

/**
 * The buffers a command received from netlink (no MSG_PEEK reads) and what it printed
 * from them (the same run, so both see the same state); the command may fail.
 */
function traced(cmd: string[]): { bufs: Buffer[]; out: string } {
  const line = ['ip', 'netns', 'exec', ns, ...cmd].map((a) => `'${a}'`).join(' ');
  const { calls, stdout } = strace(['sh', '-c', `${line} 2>/dev/null; true`], ['recvmsg', 'recvfrom'], 'read');
  return { bufs: calls.filter((c) => !c.line.includes('MSG_PEEK') && c.data.length >= 16).map((c) => c.data), out: stdout };
}

function received(cmd: string[]): Buffer[] {
  return traced(cmd).bufs;
}

/** The JSON a command printed alongside what it received. */
function tracedJson<T>(cmd: string[]): { bufs: Buffer[]; printed: T } {
  const { bufs, out } = traced(cmd);
  return { bufs, printed: JSON.parse(out.trim() || '[]') as T };
}

/** The buffers holding at least one message of a type (ip reads links first, for names). */
function having(bufs: Buffer[], type: number): Buffer[] {
  return bufs.filter((b) => messages(b).some((m) => m.type === type));
}

function typesOf(bufs: Buffer[]): number[] {
  return bufs.flatMap((b) => messages(b).map((m) => m.type));
}

/** Attribute `type` (flags masked) of a message body after a 4-byte family header. */
function attr(body: Buffer, type: number): Buffer | undefined {
  for (let o = 4; o + 4 <= body.length; ) {
    const len = body.readUInt16LE(o);
    if (len < 4) break;
    if ((body.readUInt16LE(o + 2) & 0x3fff) === type) return body.subarray(o + 4, o + len);
    o += (len + 3) & ~3;
  }
  return undefined;
}

/** Every message of a buffer with the given type predicate, as its own buffer. */
function split(bufs: Buffer[], want: (type: number) => boolean): Buffer[] {
  return bufs.flatMap((b) => messages(b).filter((m) => want(m.type)).map((m) => b.subarray(m.off, m.off + m.len)));
}

const seeds = new Map<string, Map<string, Buffer>>();
function seed(target: string, name: string, data: Buffer): void {
  if (!seeds.has(target)) seeds.set(target, new Map());
  seeds.get(target)!.set(name.replace(/[^a-z0-9.-]+/gi, '-'), data);
}

describe('fuzz corpus: replies as iproute2 and nft received them', () => {
  it('ip -d link show: RTM_NEWLINK decoded for every link ip printed', () => {
    const { bufs, printed } = tracedJson<{ ifname: string }[]>(['ip', '-j', '-d', 'link', 'show']);
    const links = bufs.flatMap((b) => codec.decodeLinks(b));
    expect(links.map((l) => l.name)).toEqual(printed.map((l) => l.ifname));
    expect(links.find((l) => l.name === 'vx0')).toMatchObject({ kind: 'vxlan' });
    having(bufs, RTM.NEWLINK).forEach((b, i) => seed('rtnl_link', `ip-d-link-show-${i}`, b));
    split(bufs, (t) => t === RTM.NEWLINK).forEach((m, i) => seed('rtnl_link', `newlink-${i}`, m));
  });

  it('ip addr show: one RTM_NEWADDR per address ip printed', () => {
    const { bufs, printed } = tracedJson<{ addr_info: unknown[] }[]>(['ip', '-j', 'addr', 'show']);
    expect(typesOf(bufs).filter((t) => t === RTM.NEWADDR)).toHaveLength(printed.flatMap((l) => l.addr_info).length);
    having(bufs, RTM.NEWADDR).forEach((b, i) => seed('rtnl_addr', `ip-addr-show-${i}`, b));
    split(bufs, (t) => t === RTM.NEWADDR).forEach((m, i) => seed('rtnl_addr', `newaddr-${i}`, m));
  });

  it('ip route show table all (IPv4 and IPv6): one RTM_NEWROUTE per route ip printed', () => {
    for (const fam of ['-4', '-6']) {
      const { bufs, printed } = tracedJson<unknown[]>(['ip', '-j', fam, 'route', 'show', 'table', 'all']);
      expect(typesOf(bufs).filter((t) => t === RTM.NEWROUTE)).toHaveLength(printed.length);
      having(bufs, RTM.NEWROUTE).forEach((b, i) => seed('rtnl_route', `ip${fam}-route-show-table-all-${i}`, b));
      split(bufs, (t) => t === RTM.NEWROUTE).forEach((m, i) => seed('rtnl_route', `newroute${fam}-${i}`, m));
    }
  });

  it('ip neigh show, ip neigh show proxy, bridge fdb show: decoded entries match what was printed', () => {
    const decodedAll = (cmd: string[]): { bufs: Buffer[]; decoded: unknown[] } => {
      const { bufs, printed } = tracedJson<unknown[]>(cmd);
      const decoded = bufs.flatMap((b) => codec.decodeNeighbours(b));
      expect(decoded, cmd.join(' ')).toHaveLength(printed.length);
      return { bufs, decoded };
    };
    const { bufs: neigh } = decodedAll(['ip', '-j', 'neigh', 'show', 'nud', 'all']);
    const { bufs: proxy } = decodedAll(['ip', '-j', 'neigh', 'show', 'proxy']);
    const { bufs: fdb, decoded: entries } = decodedAll(['bridge', '-j', 'fdb', 'show']);
    expect(entries).toContainEqual(expect.objectContaining({ vni: 44, port: 4790, dst: '10.1.0.9' }));
    having(neigh, RTM.NEWNEIGH).forEach((b, i) => seed('rtnl_neigh', `ip-neigh-show-${i}`, b));
    having(proxy, RTM.NEWNEIGH).forEach((b, i) => seed('rtnl_neigh', `ip-neigh-show-proxy-${i}`, b));
    having(fdb, RTM.NEWNEIGH).forEach((b, i) => seed('rtnl_neigh', `bridge-fdb-show-${i}`, b));
    split([...neigh, ...proxy, ...fdb], (t) => t === RTM.NEWNEIGH).forEach((m, i) => seed('rtnl_neigh', `newneigh-${i}`, m));
  });

  it('nft list ruleset: every table, chain, rule and set element nft printed, decoded', () => {
    const t = tracedJson<{ nftables: Record<string, unknown>[] }>(['nft', '-j', 'list', 'ruleset']);
    const bufs = t.bufs.filter((b) => messages(b).some((m) => m.type >> 8 === NFNL_SUBSYS_NFTABLES));
    const decoded = bufs.flatMap((b) => codec.decodeNftMessages(b));
    const listed = t.printed.nftables;
    const n = (k: string): number => listed.filter((o) => k in o).length;
    const of = (msg: number): unknown[] => decoded.filter((d) => d.type === ((NFNL_SUBSYS_NFTABLES << 8) | msg));
    expect(of(NFT_MSG.NEWTABLE)).toHaveLength(n('table'));
    expect(of(NFT_MSG.NEWCHAIN)).toHaveLength(n('chain'));
    expect(of(NFT_MSG.NEWRULE)).toHaveLength(n('rule'));
    expect(of(NFT_MSG.NEWSET)).toHaveLength(n('set') + n('map'));
    // An interval is two kernel elements, its start and its end (NFT_SET_ELEM_INTERVAL_END).
    const elems = (of(NFT_MSG.NEWSETELEM) as { object: { elements: { flags: number }[] } }[])
      .reduce((a, d) => a + d.object.elements.filter((e) => !(e.flags & 1)).length, 0);
    const listedElems = listed.reduce((a, o) => a + (((o.set ?? o.map) as { elem?: unknown[] } | undefined)?.elem?.length ?? 0), 0);
    expect(elems).toBe(listedElems);
    // Every expression kind of the tables shows up (raw = one the tables do not know).
    const names = new Set(
      (of(NFT_MSG.NEWRULE) as { object: { exprs: { type: string; raw?: Buffer }[] } }[])
        .flatMap((d) => d.object.exprs.filter((e) => !e.raw).map((e) => e.type)),
    );
    for (const e of ['payload', 'meta', 'cmp', 'bitwise', 'immediate', 'lookup', 'nat', 'masq', 'redir', 'ct', 'counter', 'range', 'limit', 'log', 'reject', 'notrack', 'fib']) {
      expect(names, e).toContain(e);
    }

    bufs.forEach((b, i) => seed('nft_objects', `nft-list-ruleset-${i}`, b));
    const nft = split(bufs, (t) => t >> 8 === NFNL_SUBSYS_NFTABLES);
    nft.forEach((m, i) => seed('nft_objects', `msg-${i}`, m));
    // NFTA_RULE_EXPRESSIONS payloads, and userdata of tables (6), chains (12), rules (7), sets (13).
    const UDATA: Record<number, number> = { [NFT_MSG.NEWTABLE]: 6, [NFT_MSG.NEWCHAIN]: 12, [NFT_MSG.NEWRULE]: 7, [NFT_MSG.NEWSET]: 13 };
    nft.forEach((m, i) => {
      const msg = m.readUInt16LE(4) & 0xff;
      const body = m.subarray(16);
      if (msg === NFT_MSG.NEWRULE) {
        const list = attr(body, 4);
        if (list) seed('nft_exprs', `rule-${i}`, list);
      }
      const u = UDATA[msg] !== undefined ? attr(body, UDATA[msg]) : undefined;
      if (u) seed('nft_udata', `udata-${msg}-${i}`, u);
    });
    expect(seeds.get('nft_exprs')?.size).toBeGreaterThan(10);
    expect(seeds.get('nft_udata')?.size).toBeGreaterThan(5);
  });

  it('acks: errors with extended-ack text, capped acks and dump ends', () => {
    const failing = [
      ['ip', 'link', 'add', 'd0', 'type', 'veth'], // EEXIST
      ['ip', 'link', 'del', 'nosuch0'], // ENODEV
      ['ip', 'link', 'set', 'd0', 'mtu', '100000'], // EINVAL with extack text
      ['ip', 'route', 'add', '10.77.0.0/16', 'via', '10.99.0.1'], // ENETUNREACH, extack
      ['nft', 'add', 'chain', 'inet', 'nosuch', 'c'], // ENOENT from a batch
      ['nft', 'add', 'rule', 'inet', 'fz', 'c1', 'ip', 'saddr', '@nosuch', 'accept'],
    ];
    let errors = 0;
    failing.forEach((cmd, i) => {
      const bufs = received(cmd).filter((b) => messages(b).some((m) => m.type === NLMSG_ERROR || m.type === NLMSG_DONE));
      for (const b of bufs) {
        for (const m of messages(b)) if (m.type === NLMSG_ERROR && b.readInt32LE(m.off + 16) < 0) errors++;
      }
      bufs.forEach((b, j) => seed('netlink_ack', `${cmd.slice(0, 3).join('-')}-${i}-${j}`, b));
    });
    expect(errors).toBeGreaterThanOrEqual(failing.length);
    // Dump ends (NLMSG_DONE with its error code) from the listings above.
    const done = received(['ip', 'link', 'show']).filter((b) => messages(b).some((m) => m.type === NLMSG_DONE));
    expect(done.length).toBeGreaterThan(0);
    done.forEach((b, i) => seed('netlink_ack', `dump-done-${i}`, b));
  });

  it('every fuzz target has seeds in fuzz/corpus (and they are rewritten on request)', () => {
    for (const t of TARGETS) {
      if (WRITE && seeds.has(t)) {
        const dir = path.join(CORPUS, t);
        mkdirSync(dir, { recursive: true });
        for (const [name, data] of seeds.get(t)!) writeFileSync(path.join(dir, name), data);
      }
      const dir = path.join(CORPUS, t);
      expect(existsSync(dir) ? readdirSync(dir).length : 0, t).toBeGreaterThan(0);
    }
  });

  it('the committed corpus (seeds and reproducers) goes through the addon\'s own decoders: objects or EBADMSG, never a crash', () => {
    const decoders: Record<string, (b: Buffer) => unknown> = {
      rtnl_link: codec.decodeLinks,
      rtnl_neigh: codec.decodeNeighbours,
      nft_objects: codec.decodeNftMessages,
      nft_exprs: codec.decodeNftExprs,
    };
    let decoded = 0;
    for (const [t, decode] of Object.entries(decoders)) {
      const dir = path.join(CORPUS, t);
      for (const f of existsSync(dir) ? readdirSync(dir) : []) {
        try {
          decode(readFileSync(path.join(dir, f)));
          decoded++;
        } catch (e) {
          expect(e, `${t}/${f}`).toBeInstanceOf(NetlinkError);
          expect((e as NetlinkError).code, `${t}/${f}`).toBe('EBADMSG');
        }
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
