// `netplumb show`: what a namespace holds, read through the library itself (links,
// addresses, routes, neighbours, the bridge FDB, nftables), as human tables or as JSON
// shaped like the reference tools' own (`ip -j -d link show`, `ip -j addr`, `ip -j route`,
// `ip -j neigh`, `bridge -j fdb`, `nft -j list ruleset`), so either can be checked
// against the other. The JSON is built from the library's decoded objects; the field
// names, units and spellings follow iproute2 6.1 and nftables 1.0.6.
import type { Netns } from './netns';
import type { Address, FdbEntry, Link, Neighbour, Route } from './types';
import type { ChainInfo, ElementInfo, RuleInfo, SetInfo, TableInfo } from './nft/nft';
import type { Family } from './nft/constants';

/** What `netplumb show` can list. */
export const SHOW_OBJECTS = ['links', 'addresses', 'routes', 'neighbours', 'fdb', 'nft'] as const;
/** One of {@link SHOW_OBJECTS}. */
export type ShowObject = (typeof SHOW_OBJECTS)[number];

type Json = Record<string, unknown>;

// IFF_* in the order iproute2's print_link_flags() prints them.
const IFF: [string, number][] = [
  ['LOOPBACK', 0x8], ['BROADCAST', 0x2], ['POINTOPOINT', 0x10], ['MULTICAST', 0x1000], ['NOARP', 0x80],
  ['ALLMULTI', 0x200], ['PROMISC', 0x100], ['NOTRAILERS', 0x20], ['DEBUG', 0x4], ['DYNAMIC', 0x8000],
  ['AUTOMEDIA', 0x4000], ['PORTSEL', 0x2000], ['SLAVE', 0x800], ['MASTER', 0x400], ['UP', 0x1],
  ['LOWER_UP', 0x10000], ['DORMANT', 0x20000], ['ECHO', 0x40000],
];
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;

/** Link flags as `ip` names them (NO-CARRIER when up without carrier, M-DOWN when the peer is down). */
function linkFlags(flags: number, mdown: boolean): string[] {
  const out: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) out.push('NO-CARRIER');
  let rest = flags & ~IFF_RUNNING;
  for (const [name, bit] of IFF) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(rest.toString(16));
  if (mdown) out.push('M-DOWN');
  return out;
}

// ARPHRD_* names as iproute2's ll_type_n2a() prints them (the common ones).
const ARPHRD: Record<number, string> = {
  1: 'ether', 24: 'ieee1394', 512: 'ppp', 768: 'ipip', 769: 'tunnel6', 776: 'sit', 778: 'gre', 772: 'loopback',
  823: 'gre6', 65534: 'none', 65535: 'void', 824: 'netlink',
};

/** The fields `ip -j -d link show` prints for a link that the library decodes. */
function linkJson(l: Link, byIndex: Map<number, Link>): Json {
  const j: Json = { ifindex: l.index };
  let mdown = false;
  if (l.link !== undefined) {
    if (l.link === 0) j.link = null;
    else if (l.linkNetnsId !== undefined) j.link_index = l.link;
    else {
      const peer = byIndex.get(l.link);
      if (peer) {
        j.link = peer.name;
        mdown = !peer.up;
      } else j.link = `if${l.link}`;
    }
  }
  j.ifname = l.name;
  j.flags = linkFlags(l.flags, mdown);
  if (l.mtu !== undefined) j.mtu = l.mtu;
  if (l.qdisc !== undefined) j.qdisc = l.qdisc;
  if (l.master !== undefined) j.master = byIndex.get(l.master)?.name ?? `if${l.master}`;
  if (l.operstate !== undefined) j.operstate = String(l.operstate).toUpperCase();
  if (l.group !== undefined) j.group = l.group === 0 ? 'default' : String(l.group);
  if (l.txqlen !== undefined) j.txqlen = l.txqlen;
  j.link_type = ARPHRD[l.type] ?? `[${l.type}]`;
  if (l.mac !== undefined) j.address = l.mac;
  if (l.broadcast !== undefined) j.broadcast = l.broadcast;
  if (l.permanentMac !== undefined) j.permaddr = l.permanentMac;
  if (l.linkNetnsId !== undefined) j.link_netnsid = l.linkNetnsId;
  if (l.promiscuity !== undefined) j.promiscuity = l.promiscuity;
  if (l.minMtu !== undefined) j.min_mtu = l.minMtu;
  if (l.maxMtu !== undefined) j.max_mtu = l.maxMtu;
  if (l.kind !== undefined || l.portKind !== undefined) {
    const info: Json = {};
    if (l.kind !== undefined) info.info_kind = l.kind;
    if (l.portKind !== undefined) info.info_slave_kind = l.portKind;
    j.linkinfo = info;
  }
  if (typeof l.addrGenMode === 'string') j.inet6_addr_gen_mode = l.addrGenMode;
  if (l.numTxQueues !== undefined) j.num_tx_queues = l.numTxQueues;
  if (l.numRxQueues !== undefined) j.num_rx_queues = l.numRxQueues;
  if (l.alias !== undefined) j.ifalias = l.alias;
  return j;
}

/** `ip -j -d link show`. */
export function linksJson(links: Link[]): Json[] {
  const byIndex = new Map(links.map((l) => [l.index, l]));
  return links.map((l) => linkJson(l, byIndex));
}

const SCOPE: Record<string, string> = { universe: 'global', site: 'site', link: 'link', host: 'host', nowhere: 'nowhere' };
const scopeName = (s: string | number) => (typeof s === 'number' ? String(s) : SCOPE[s] ?? s);

// IFA_F_* flags and the key `ip -j addr` prints for each (iproute2's ifa_flag_names).
const IFA_F: [number, string][] = [
  [0x01, 'secondary'], [0x02, 'nodad'], [0x04, 'optimistic'], [0x08, 'dadfailed'], [0x10, 'home'],
  [0x20, 'deprecated'], [0x40, 'tentative'], [0x100, 'mngtmpaddr'], [0x200, 'noprefixroute'],
  [0x400, 'autojoin'], [0x800, 'stable-privacy'],
];
const IFA_F_SECONDARY = 0x01;
const IFA_F_PERMANENT = 0x80;
const FOREVER = 4294967295;

function addrInfo(a: Address): Json {
  const j: Json = { family: a.family === 4 ? 'inet' : 'inet6', local: a.address, prefixlen: a.prefixlen };
  if (a.peer !== undefined) j.address = a.peer;
  if (a.broadcast !== undefined) j.broadcast = a.broadcast;
  j.scope = scopeName(a.scope);
  if (a.metric !== undefined) j.metric = a.metric;
  // ip names IFA_F_SECONDARY "temporary" for IPv6, and prints "dynamic" for what is not permanent.
  if (!(a.flags & IFA_F_PERMANENT)) j.dynamic = true;
  for (const [bit, name] of IFA_F) {
    if (a.flags & bit) j[bit === IFA_F_SECONDARY && a.family === 6 ? 'temporary' : name] = true;
  }
  if (a.label !== undefined) j.label = a.label;
  j.valid_life_time = a.validLifetime ?? FOREVER;
  j.preferred_life_time = a.preferredLifetime ?? FOREVER;
  return j;
}

/** `ip -j addr show`: each link with its addresses (addr_info). */
export function addressesJson(links: Link[], addresses: Address[]): Json[] {
  return linksJson(links).map((l) => {
    const { link_netnsid: _n, promiscuity: _p, min_mtu: _a, max_mtu: _b, linkinfo: _i, inet6_addr_gen_mode: _g,
      num_tx_queues: _t, num_rx_queues: _r, ifalias: _al, permaddr: _pm, ...plain } = l;
    void _n; void _p; void _a; void _b; void _i; void _g; void _t; void _r; void _al; void _pm;
    return { ...plain, addr_info: addresses.filter((a) => a.index === l.ifindex).map(addrInfo) };
  });
}

// rtnh flags as `ip route` names them.
const RTNH_F: [number, string][] = [[0x1, 'dead'], [0x2, 'pervasive'], [0x4, 'onlink'], [0x8, 'offload'], [0x10, 'linkdown'], [0x20, 'unresolved'], [0x40, 'trap']];

/** `ip -j route show [table ID]` (one table, one family, so no "table" field, as ip): the fields the library decodes. */
export function routesJson(routes: Route[], links: Link[]): Json[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  const max = (r: Route) => (r.family === 4 ? 32 : 128);
  return routes.map((r) => {
    const j: Json = {};
    if (r.type !== 'unicast') j.type = String(r.type);
    // ip prints a host route without its /32 (/128).
    j.dst = r.dst === 'default6' ? 'default' : r.dst.endsWith(`/${max(r)}`) ? r.dst.slice(0, r.dst.lastIndexOf('/')) : r.dst;
    if (r.gateway !== undefined) j.gateway = r.gateway;
    if (r.oif !== undefined) j.dev = names.get(r.oif) ?? `if${r.oif}`;
    if (r.protocol !== 'boot') j.protocol = String(r.protocol);
    if (r.scope !== 'universe') j.scope = scopeName(r.scope);
    if (r.prefsrc !== undefined) j.prefsrc = r.prefsrc;
    if (r.metric !== undefined) j.metric = r.metric;
    j.flags = RTNH_F.filter(([bit]) => r.flags & bit).map(([, n]) => n);
    if (r.mtu !== undefined) j.metrics = [{ mtu: r.mtu }];
    return j;
  });
}

// NUD_* bits as `ip neigh` names them, in its order.
const NUD: [number, string][] = [
  [0x01, 'INCOMPLETE'], [0x02, 'REACHABLE'], [0x04, 'STALE'], [0x08, 'DELAY'], [0x10, 'PROBE'],
  [0x20, 'FAILED'], [0x40, 'NOARP'], [0x80, 'PERMANENT'],
];

const NUD_NOARP = 0x40;

/**
 * `ip -j neigh show`: like ip, without the entries it hides by default (state NOARP, as
 * the kernel makes for multicast and broadcast addresses, and NONE), unless `all`.
 */
export function neighboursJson(neighbours: Neighbour[], links: Link[], all = false): Json[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  const shown = all ? neighbours : neighbours.filter((n) => n.proxy || n.flags.includes('extern_learn') || (n.ndmState & ~NUD_NOARP) !== 0);
  return shown.map((n) => {
    const j: Json = { dst: n.address, dev: names.get(n.ifindex) ?? `if${n.ifindex}` };
    if (n.linkNetnsId !== undefined) j.link_netnsid = n.linkNetnsId;
    if (n.mac !== undefined) j.lladdr = n.mac;
    if (n.router) j.router = null;
    if (n.proxy) j.proxy = null;
    if (n.flags.includes('extern_learn')) j.extern_learn = null;
    if (n.flags.includes('offload')) j.offload = null;
    if (!n.proxy) j.state = n.ndmState === 0 ? ['NONE'] : NUD.filter(([bit]) => n.ndmState & bit).map(([, s]) => s);
    return j;
  });
}

/** `bridge -j fdb show`. */
export function fdbJson(entries: FdbEntry[], links: Link[]): Json[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  const name = (i: number) => names.get(i) ?? `if${i}`;
  return entries.map((e) => {
    const j: Json = { mac: e.mac, ifname: name(e.ifindex) };
    if (e.vlan !== undefined) j.vlan = e.vlan;
    if (e.dst !== undefined) j.dst = e.dst;
    if (e.port !== undefined) j.port = e.port;
    if (e.vni !== undefined) j.vni = e.vni;
    if (e.srcVni !== undefined) j.src_vni = e.srcVni;
    if (e.via !== undefined) j.via = name(e.via);
    if (e.nhid !== undefined) j.nhid = e.nhid;
    if (e.linkNetnsId !== undefined) j.linkNetns = e.linkNetnsId;
    // bridge lists the flags it knows in this order; 'master' shows as the master's name.
    j.flags = ['self', 'router', 'extern_learn', 'offload', 'sticky'].filter((f) => e.flags.includes(f as never));
    if (e.master !== undefined) j.master = name(e.master);
    // bridge's state_n2a(): REACHABLE (a learned entry) prints as ''.
    j.state = e.ndmState & 0x80 ? 'permanent' : e.ndmState & 0x40 ? 'static' : e.ndmState & 0x04 ? 'stale' : '';
    return j;
  });
}

// nft's JSON names for chain priorities are plain numbers ("prio"); verdicts are objects.
function verdictJson(v: unknown): unknown {
  if (v && typeof v === 'object' && 'verdict' in (v as Json)) {
    const { verdict, chain } = v as { verdict: string; chain?: string };
    return chain !== undefined ? { [verdict]: { target: chain } } : { [verdict]: null };
  }
  return v;
}

function scalarJson(s: unknown): unknown {
  if (typeof s !== 'string') return s;
  // Interval elements come back merged as 'a/len' and 'a-b', as nft prints them.
  const prefix = /^([0-9a-f.:]+)\/(\d+)$/i.exec(s);
  if (prefix && (prefix[1]!.includes('.') || prefix[1]!.includes(':'))) return { prefix: { addr: prefix[1], len: Number(prefix[2]) } };
  const range = /^([0-9a-f.:]+)-([0-9a-f.:]+)$/i.exec(s);
  if (range && (range[1]!.includes('.') || range[1]!.includes(':'))) return { range: [range[1], range[2]] };
  return s;
}

function keyJson(k: ElementInfo['key']): unknown {
  return Array.isArray(k) ? { concat: k.map(scalarJson) } : scalarJson(k);
}

function elemJson(e: ElementInfo, isMap: boolean): unknown {
  let key = keyJson(e.key);
  if (e.timeout !== undefined || e.expires !== undefined || e.comment !== undefined) {
    const elem: Json = { val: key };
    // Seconds, truncated, as nft prints them.
    if (e.timeout !== undefined) elem.timeout = Math.floor(e.timeout / 1000);
    if (e.expires !== undefined) elem.expires = Math.floor(e.expires / 1000);
    if (e.comment !== undefined) elem.comment = e.comment;
    key = { elem };
  }
  if (!isMap) return key;
  const v = e.value;
  const value = Array.isArray(v) ? { concat: v.map(scalarJson) } : v && typeof v === 'object' ? verdictJson(v) : scalarJson(v);
  return [key, value];
}

/** The datatype(s) of a key or map value as nft -j prints them: a name, or an array for a concatenation. */
function typeJson(t: string): string | string[] {
  const parts = t.split(' . ');
  return parts.length > 1 ? parts : parts[0]!;
}

function setJson(s: SetInfo): Json {
  const isMap = s.map !== undefined;
  const j: Json = { family: s.family, name: s.name, table: s.table, type: typeJson(s.key), handle: s.handle };
  // nft prints a concatenated key as an array of types but a concatenated value as one string.
  if (isMap) j.map = s.map;
  if (s.comment !== undefined) j.comment = s.comment;
  const flags = s.flags.filter((f) => ['constant', 'interval', 'timeout', 'dynamic'].includes(f));
  if (flags.length) j.flags = flags;
  if (s.timeout !== undefined) j.timeout = Math.floor(s.timeout / 1000);
  if (s.gcInterval !== undefined) j['gc-interval'] = Math.floor(s.gcInterval / 1000);
  if (s.size !== undefined) j.size = s.size;
  if (s.elements?.length) j.elem = s.elements.map((e) => elemJson(e, isMap));
  return { [isMap ? 'map' : 'set']: j };
}

function chainJson(c: ChainInfo): Json {
  // (nft 1.0.6 prints no chain comment in JSON; nor does this.)
  const j: Json = { family: c.family, table: c.table, name: c.name, handle: c.handle };
  if (c.type !== undefined) j.type = c.type;
  if (c.hook !== undefined) j.hook = c.hook;
  if (c.priority !== undefined) j.prio = c.priority;
  if (c.device !== undefined) j.dev = c.device;
  if (c.policy !== undefined) j.policy = c.policy;
  return { chain: j };
}

function hexBuffers(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && (x as Json).type === 'Buffer' && Array.isArray((x as Json).data)
      ? Buffer.from((x as { data: number[] }).data).toString('hex')
      : x));
}

function ruleJson(r: RuleInfo): Json {
  const j: Json = { family: r.family, table: r.table, chain: r.chain, handle: r.handle };
  if (r.comment !== undefined) j.comment = r.comment;
  // nft -j lifts expressions back into its language ("match", "payload", ...); netplumb
  // gives the kernel's expressions as it decodes them (netplumb.nft.Expr), data in hex.
  j.exprs = hexBuffers(r.exprs);
  return { rule: j };
}

/** One table's listing, for {@link nftJson}. */
export interface NftTableDump { table: TableInfo; chains: ChainInfo[]; sets: SetInfo[]; rules: RuleInfo[] }

/** `nft -j list ruleset`: per table, the table, its sets and maps, its chains, its rules. */
export function nftJson(tables: NftTableDump[]): { nftables: Json[] } {
  const out: Json[] = [];
  for (const t of tables) {
    const table: Json = { family: t.table.family, name: t.table.name, handle: t.table.handle };
    if (t.table.flags.length) table.flags = t.table.flags;
    // (nft 1.0.6 prints no table comment in JSON; nor does this.)
    out.push({ table });
    out.push(...t.sets.map(setJson), ...t.chains.map(chainJson), ...t.rules.map(ruleJson));
  }
  return { nftables: out };
}

/** Options of {@link show}. */
export interface ShowOptions {
  /** 4 or 6: addresses, routes and neighbours of one family only (routes default to 4, as `ip route`). */
  family?: 4 | 6;
  /** Routing table for routes (default 254, main). */
  table?: number;
}

/** Reads one kind of object from a namespace and returns it in the JSON shape of the reference tool. */
export async function showJson(ns: Netns, what: ShowObject, opts: ShowOptions = {}): Promise<unknown> {
  const links = await ns.links.list();
  switch (what) {
    case 'links':
      return linksJson(links);
    case 'addresses':
      return addressesJson(links, await ns.addresses.list(opts.family ? { family: opts.family } : {}));
    case 'routes':
      return routesJson(await ns.routes.list({ family: opts.family ?? 4, table: opts.table ?? 254 }), links);
    case 'neighbours':
      return neighboursJson(await ns.neighbours.list(opts.family ? { family: opts.family } : undefined), links);
    case 'fdb':
      return fdbJson(await ns.fdb.list(), links);
    case 'nft': {
      const tables = await ns.nft.listTables();
      const dumps = await Promise.all(tables.map((t) => ns.nft.listTable({ family: t.family as Family, name: t.name })));
      return nftJson(dumps);
    }
  }
}

/** Left-aligned columns with a header row; empty cells as '-'. */
export function table(header: string[], rows: (string | number | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The same objects as {@link showJson}, as a human-readable table. */
export async function showText(ns: Netns, what: ShowObject, opts: ShowOptions = {}): Promise<string> {
  const j = (await showJson(ns, what, opts)) as Json[];
  const s = (v: unknown) => (v === undefined ? undefined : Array.isArray(v) ? v.join(',') : String(v));
  switch (what) {
    case 'links':
      return table(['INDEX', 'NAME', 'KIND', 'STATE', 'MTU', 'MAC', 'MASTER', 'PEER', 'FLAGS'], j.map((l) => [
        s(l.ifindex), s(l.ifname), s((l.linkinfo as Json | undefined)?.info_kind), s(l.operstate), s(l.mtu), s(l.address), s(l.master),
        s(l.link ?? (l.link_index !== undefined ? `if${String(l.link_index)}@netns${String(l.link_netnsid)}` : undefined)), s(l.flags),
      ]));
    case 'addresses':
      return table(['DEV', 'FAMILY', 'ADDRESS', 'SCOPE', 'FLAGS'], j.flatMap((l) => (l.addr_info as Json[]).map((a) => [
        s(l.ifname), s(a.family), `${String(a.local)}/${String(a.prefixlen)}`, s(a.scope),
        Object.keys(a).filter((k) => a[k] === true).join(','),
      ])));
    case 'routes':
      return table(['DST', 'GATEWAY', 'DEV', 'PROTO', 'SCOPE', 'SRC', 'METRIC', 'TYPE'], j.map((r) => [
        s(r.dst), s(r.gateway), s(r.dev), s(r.protocol ?? 'boot'), s(r.scope ?? 'global'), s(r.prefsrc), s(r.metric), s(r.type ?? 'unicast'),
      ]));
    case 'neighbours':
      return table(['ADDRESS', 'DEV', 'MAC', 'STATE', 'FLAGS'], j.map((n) => [
        s(n.dst), s(n.dev), s(n.lladdr), s(n.state),
        ['router', 'proxy', 'extern_learn', 'offload'].filter((k) => k in n).join(','),
      ]));
    case 'fdb':
      return table(['MAC', 'DEV', 'MASTER', 'DST', 'VLAN', 'VNI', 'STATE', 'FLAGS'], j.map((e) => [
        s(e.mac), s(e.ifname), s(e.master), s(e.dst), s(e.vlan), s(e.vni), s(e.state) || 'dynamic', s(e.flags),
      ]));
    case 'nft': {
      const objs = (j as unknown as { nftables: Json[] }).nftables;
      const lines: string[] = [];
      for (const o of objs) {
        const [kind, v] = Object.entries(o)[0] as [string, Json];
        if (kind === 'table') lines.push(`table ${String(v.family)} ${String(v.name)} (handle ${String(v.handle)})`);
        else if (kind === 'chain') {
          const rules = objs.filter((r) => (r.rule as Json | undefined)?.chain === v.name && (r.rule as Json).table === v.table).length;
          const base = v.hook ? ` ${String(v.type)} hook ${String(v.hook)} priority ${String(v.prio)} policy ${String(v.policy ?? 'accept')};` : '';
          lines.push(`  chain ${String(v.name)}:${base} ${rules} rule${rules === 1 ? '' : 's'}`);
        } else if (kind === 'set' || kind === 'map') {
          const type = (t: unknown) => (Array.isArray(t) ? t.join(' . ') : String(t));
          const elems = (v.elem as unknown[] | undefined)?.length ?? 0;
          lines.push(`  ${kind} ${String(v.name)}: ${type(v.type)}${kind === 'map' ? ` : ${type(v.map)}` : ''}; ${elems} element${elems === 1 ? '' : 's'}`);
        }
      }
      return lines.length ? `${lines.join('\n')}\n` : '(no tables)\n';
    }
  }
}
