// The nftables side of bridge networks, in the shape of shared/nft-layout.nft (IPv4) and
// its dual-stack extension test/fixtures/nft-layout-ip6.nft: one inet table per owner;
// per-network chains of constant size; everything per container or per port an element
// of a set or map, so attach, detach, publish and unpublish are O(1) element operations
// in one atomic transaction. IPv6 has the twins of the IPv4 maps (guard6, dnat6_ip,
// dnat6_any, pub6); a network's chains get IPv6 rules only when it has IPv6, so an
// IPv4-only network's chains and its endpoints' elements are exactly the IPv4 layout's.
import type { NetlinkError } from '../errors';
import type { Netns } from '../netns';
import {
  accept, concat, counter, ct, dnat, drop, fib, iifname, ip, ip6, jump, masquerade, meta, oifname, th, verdict,
  type ChainSpec, type ElementSpec, type Family, type SetSpec, type Transaction,
} from '../nft';
import { portBindings, proxiedOnly } from './ports';
import type { EndpointInfo, NetworkInfo, PortMapping, PortProtocol } from './types';

const F: Family = 'inet';

/** Chain names of one network: a short, stable prefix from its id. */
function chains(net: NetworkInfo): { in: string; out: string; snat: string; hairpin: string; guard: string } {
  const p = `n${net.id.slice(0, 12)}`;
  return { in: `${p}_in`, out: `${p}_out`, snat: `${p}_snat`, hairpin: `${p}_hairpin`, guard: `${p}_guard` };
}

type RuleItems = Parameters<Transaction['addRule']>[0]['rule'];

// The base of the layout (shared/nft-layout.nft and its dual-stack extension), declared
// once: ensureBase makes it from these, checks a table against them, and the benchmarks
// load it through ensureBase too.
const BASE_SETS4: Omit<SetSpec, 'family' | 'table'>[] = [
  { name: 'fwd_in', key: 'ifname', map: 'verdict' },
  { name: 'fwd_out', key: 'ifname', map: 'verdict' },
  { name: 'snat_in', key: 'ifname', map: 'verdict' },
  { name: 'snat_out', key: 'ifname', map: 'verdict' },
  { name: 'guard4', key: 'ipv4_addr', map: 'verdict', flags: ['interval'] },
  { name: 'dnat4_ip', key: { typeof: [ip.daddr, meta.l4proto, th.dport] }, map: { typeof: [ip.daddr, th.dport] } },
  { name: 'dnat4_any', key: { typeof: [meta.l4proto, th.dport] }, map: { typeof: [ip.daddr, th.dport] } },
  { name: 'pub4', key: { typeof: [ip.daddr, meta.l4proto, th.dport] } },
  { name: 'lo_pub4', key: { typeof: [meta.l4proto, th.dport] } },
];
// The IPv6 twins of the IPv4 sets (no lo_pub6: a packet to ::1 from outside is dropped
// by the kernel on arrival, and ::1 is published by the userland proxy, not by NAT). A
// table from before IPv6 lacks them.
const BASE_SETS6: Omit<SetSpec, 'family' | 'table'>[] = [
  { name: 'guard6', key: 'ipv6_addr', map: 'verdict', flags: ['interval'] },
  { name: 'dnat6_ip', key: { typeof: [ip6.daddr, meta.l4proto, th.dport] }, map: { typeof: [ip6.daddr, th.dport] } },
  { name: 'dnat6_any', key: { typeof: [meta.l4proto, th.dport] }, map: { typeof: [ip6.daddr, th.dport] } },
  { name: 'pub6', key: { typeof: [ip6.daddr, meta.l4proto, th.dport] } },
];
const BASE_CHAINS: Omit<ChainSpec, 'family' | 'table'>[] = [
  // The user's own chain, jumped to first from forward: the DOCKER-USER of this world.
  { name: 'user_forward' },
  { name: 'raw_pre', type: 'filter', hook: 'prerouting', priority: 'raw', policy: 'accept' },
  { name: 'forward', type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' },
  { name: 'pub' },
  { name: 'nat_pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' },
  { name: 'nat_out', type: 'nat', hook: 'output', priority: -100, policy: 'accept' },
  { name: 'nat_post', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' },
];
// The base chains' rules, in order: [chain, rule] (made when asked: compiling them
// encodes values natively).
const baseRules4 = (): [string, RuleItems][] => [
  // Direct access to a container address from outside its bridge: dropped before routing.
  ['raw_pre', [ip.daddr.vmap('guard4')]],
  // Ports published on 127.0.0.1 are reachable from this host only.
  ['raw_pre', [iifname.neq('lo'), ip.daddr.eq('127.0.0.0/8'), concat(meta.l4proto, th.dport).in('lo_pub4'), drop()]],
  ['forward', [jump('user_forward')]],
  ['forward', [oifname.vmap('fwd_in')]],
  ['forward', [iifname.vmap('fwd_out')]],
  ['pub', [dnat({ family: 'ip', map: concat(ip.daddr, meta.l4proto, th.dport).map('dnat4_ip'), withPort: true })]],
  ['pub', [dnat({ family: 'ip', map: concat(meta.l4proto, th.dport).map('dnat4_any'), withPort: true })]],
  ['nat_pre', [fib.daddrType.eq('local'), jump('pub')]],
  ['nat_out', [fib.daddrType.eq('local'), jump('pub')]],
  ['nat_post', [oifname.vmap('snat_in')]],
  ['nat_post', [iifname.vmap('snat_out')]],
];
// The IPv6 rules, each appended to its chain after the IPv4 ones. An IPv6 packet matching
// a dnat4_any key loads an IPv4 target and the `dnat ip` does nothing (the kernel's nat
// expression skips a packet of the other family), so it goes on to these.
const baseRules6 = (): [string, RuleItems][] => [
  ['raw_pre', [ip6.daddr.vmap('guard6')]],
  // [::1] cannot be NATed (the replies would be dropped): connections to it from the host
  // are left to the LoopbackProxy's sockets (proxy.ts), which then reach the container.
  ['pub', [ip6.daddr.eq('::1'), verdict.return()]],
  ['pub', [dnat({ family: 'ip6', map: concat(ip6.daddr, meta.l4proto, th.dport).map('dnat6_ip'), withPort: true })]],
  ['pub', [dnat({ family: 'ip6', map: concat(meta.l4proto, th.dport).map('dnat6_any'), withPort: true })]],
];

function isLoopback(ip4: string): boolean {
  return ip4.startsWith('127.');
}

/** The endpoint fields the published-port elements depend on. */
export type Publisher = Pick<EndpointInfo, 'ip' | 'publish'> & { ip6?: string | undefined };

/**
 * The set and map elements an endpoint's published ports make, per binding (ports.ts):
 * IPv4, dnat4_ip (bound to a host address) or dnat4_any, lo_pub4 for a loopback address;
 * IPv6, dnat6_ip or dnat6_any; and one pub4 / pub6 element per container port.
 * publish() and unpublish() send exactly these (the benchmarks too). An IPv4-only
 * endpoint makes the IPv4 elements only, as it always has.
 */
export function portElements(ep: Publisher): { set: string; el: ElementSpec }[] {
  const out: { set: string; el: ElementSpec }[] = [];
  const seen = new Set<string>();
  for (const p of portBindings(ep.publish, ep.ip !== '', ep.ip6 !== undefined)) {
    if (proxiedOnly(p)) continue; // the LoopbackProxy's, not the kernel's
    const six = p.family === 6;
    const to = six ? ep.ip6! : ep.ip;
    if (p.hostIp) out.push({ set: six ? 'dnat6_ip' : 'dnat4_ip', el: { key: [p.hostIp, p.protocol, p.hostPort], value: [to, p.containerPort] } });
    else out.push({ set: six ? 'dnat6_any' : 'dnat4_any', el: { key: [p.protocol, p.hostPort], value: [to, p.containerPort] } });
    if (!six && p.hostIp && isLoopback(p.hostIp)) out.push({ set: 'lo_pub4', el: { key: [p.protocol, p.hostPort] } });
    // One pub element per family and container port.
    const pub = six ? `6/${p.protocol}/${p.containerPort}` : `${p.protocol}/${p.containerPort}`;
    if (!seen.has(pub)) {
      seen.add(pub);
      out.push({ set: six ? 'pub6' : 'pub4', el: { key: [to, p.protocol, p.containerPort] } });
    }
  }
  return out;
}

/** The rules of a network's chains, in order: [chain, rule]. */
function networkRules(net: NetworkInfo, c: ReturnType<typeof chains>): [string, RuleItems][] {
  const out: [string, RuleItems][] = [];
  const r = (chain: string, ...rule: RuleItems) => out.push([chain, rule]);
  const br = net.bridge;
  const v4 = net.subnet !== '' ? net.subnet : undefined;
  const v6 = net.ipv6Subnet;
  if (net.internal) {
    // No way in or out: members talk over the bridge, and to the gateway (input/output);
    // anything routed to or from the network is dropped. With br_netfilter loaded,
    // bridged traffic between members passes this hook too (in and out the bridge):
    // it must be let through, or members cannot reach each other.
    r(c.in, iifname.eq(br), accept());
    r(c.in, counter(), drop());
    r(c.out, counter(), drop());
  } else {
    r(c.in, ct.state.any('established', 'related'), accept());
    r(c.in, iifname.eq(br), accept());
    if (v4) r(c.in, concat(ip.daddr, meta.l4proto, th.dport).in('pub4'), accept());
    if (v6) r(c.in, concat(ip6.daddr, meta.l4proto, th.dport).in('pub6'), accept());
    r(c.in, counter(), drop());
    r(c.out, accept());
    if (v4 && net.masquerade) r(c.snat, oifname.neq(br), ip.saddr.eq(v4), masquerade());
    if (v6 && net.ipv6Masquerade !== false) r(c.snat, oifname.neq(br), ip6.saddr.eq(v6), masquerade());
  }
  r(c.hairpin, ct.status.any('dnat'), fib.saddrType.eq('local'), masquerade());
  if (v4) r(c.hairpin, ct.status.any('dnat'), ip.saddr.eq(v4), masquerade());
  if (v6) r(c.hairpin, ct.status.any('dnat'), ip6.saddr.eq(v6), masquerade());
  r(c.guard, iifname.neq(br), counter(), drop());
  return out;
}

/** Manages the owner's nftables table in the host namespace. */
export class Firewall {
  readonly #ns: Netns;
  /** The table (and owner) name. */
  readonly table: string;

  constructor(host: Netns, table: string) {
    this.#ns = host;
    this.table = table;
  }

  #t(): { family: Family; table: string } {
    return { family: F, table: this.table };
  }

  // The elements operation of one set, written out: an object spread ({ ...this.#t() })
  // costs more than the rest of building the operation on the publish path.
  #els(set: string, elements: ElementSpec[]): { family: Family; table: string; set: string; elements: ElementSpec[] } {
    return { family: F, table: this.table, set, elements };
  }

  /**
   * Creates the table with its sets, maps and base chains unless it is already complete.
   * Nothing outside this table is ever touched.
   */
  async ensureBase(): Promise<void> {
    const tables = await this.#ns.nft.listTables({ family: F });
    if (tables.some((t) => t.name === this.table)) {
      const listing = await this.#ns.nft.listTable({ family: F, name: this.table });
      const have = new Set(listing.chains.map((c) => c.name));
      const sets = new Set(listing.sets.map((x) => x.name));
      const missing = [...BASE_SETS4, ...BASE_SETS6].filter((x) => !sets.has(x.name));
      if (BASE_CHAINS.every((c) => have.has(c.name))) {
        if (missing.length === 0) return;
        if (missing.length === BASE_SETS6.length && missing.every((x) => BASE_SETS6.includes(x))) {
          // A table from before IPv6: its twins added in place, in one transaction, so
          // the user's chain, the networks' chains and every published port stay.
          const tx = this.#ns.nft.transaction();
          this.#base(tx, BASE_SETS6, [], baseRules6());
          await tx.commit();
          return;
        }
      }
      // Incomplete (a crash mid-creation cannot happen: creation is one transaction):
      // someone edited our table. Rebuild it whole (the networks' chains and the
      // published ports are made again by the reconcile that follows).
      const tx = this.#ns.nft.transaction();
      tx.destroyTable({ family: F, name: this.table });
      await tx.commit();
    }
    const tx = this.#ns.nft.transaction();
    tx.addTable({ family: F, name: this.table });
    this.#base(tx, [...BASE_SETS4, ...BASE_SETS6], BASE_CHAINS, [...baseRules4(), ...baseRules6()]);
    await tx.commit();
  }

  #base(tx: Transaction, sets: typeof BASE_SETS4, chains: typeof BASE_CHAINS, rules: [string, RuleItems][]): void {
    const t = this.#t();
    for (const s of sets) tx.addSet({ ...t, ...s });
    for (const c of chains) tx.addChain({ ...t, ...c });
    for (const [chain, rule] of rules) tx.addRule({ ...t, chain, rule });
  }

  /**
   * A network's five chains and their map elements (a guard element per family the
   * network has), in one transaction (idempotent). IPv6 rules only for a network with
   * IPv6; IPv4 rules only for one with IPv4. Chains that exist with other rules than
   * these (a network with IPv6 made before netplumb published over IPv6) get theirs
   * again, in the same way: one transaction, so no packet sees them half made.
   */
  async addNetwork(net: NetworkInfo): Promise<void> {
    const c = chains(net);
    const want = networkRules(net, c);
    const listing = await this.#ns.nft.listTable({ family: F, name: this.table });
    const tx = this.#ns.nft.transaction();
    const t = this.#t();
    if (listing.chains.some((ch) => ch.name === c.in)) {
      const ours = new Set(Object.values(c));
      const have = new Map<string, number>();
      for (const rule of listing.rules) if (ours.has(rule.chain)) have.set(rule.chain, (have.get(rule.chain) ?? 0) + 1);
      const count = new Map<string, number>();
      for (const [chain] of want) count.set(chain, (count.get(chain) ?? 0) + 1);
      if ([...ours].every((ch) => (have.get(ch) ?? 0) === (count.get(ch) ?? 0))) return;
      for (const rule of listing.rules) if (ours.has(rule.chain)) tx.deleteRule({ ...t, chain: rule.chain, handle: rule.handle });
    } else {
      for (const name of Object.values(c)) tx.addChain({ ...t, name });
    }
    for (const [chain, rule] of want) tx.addRule({ ...t, chain, rule });
    const br = net.bridge;
    const v = (chain: string): ElementSpec['value'] => ({ verdict: 'jump', chain });
    tx.addElements({ ...t, set: 'fwd_in', elements: [{ key: br, value: v(c.in) }] });
    tx.addElements({ ...t, set: 'fwd_out', elements: [{ key: br, value: v(c.out) }] });
    tx.addElements({ ...t, set: 'snat_in', elements: [{ key: br, value: v(c.hairpin) }] });
    tx.addElements({ ...t, set: 'snat_out', elements: [{ key: br, value: v(c.snat) }] });
    if (net.subnet !== '') tx.addElements({ ...t, set: 'guard4', elements: [{ key: net.subnet, value: v(c.guard) }] });
    if (net.ipv6Subnet !== undefined) {
      // Routed IPv6 (no NAT66): containers' own addresses are reached from outside, so no
      // guard; the network's input chain lets in what is published, as for DNATed traffic.
      if (net.internal || net.ipv6Masquerade !== false) tx.addElements({ ...t, set: 'guard6', elements: [{ key: net.ipv6Subnet, value: v(c.guard) }] });
      else tx.destroyElements({ ...t, set: 'guard6', elements: [{ key: net.ipv6Subnet }] });
    }
    await tx.commit();
  }

  /** Removes a network's elements and chains (idempotent). */
  async removeNetwork(net: NetworkInfo): Promise<void> {
    const c = chains(net);
    const listing = await this.#ns.nft.listTable({ family: F, name: this.table }).catch((e: NetlinkError) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!listing) return;
    const tx = this.#ns.nft.transaction();
    const t = this.#t();
    const br = net.bridge;
    for (const set of ['fwd_in', 'fwd_out', 'snat_in', 'snat_out']) tx.destroyElements({ ...t, set, elements: [{ key: br }] });
    if (net.subnet !== '') tx.destroyElements({ ...t, set: 'guard4', elements: [{ key: net.subnet }] });
    if (net.ipv6Subnet !== undefined) tx.destroyElements({ ...t, set: 'guard6', elements: [{ key: net.ipv6Subnet }] });
    const ours = new Set(Object.values(c));
    for (const rule of listing.rules) if (ours.has(rule.chain)) tx.deleteRule({ ...t, chain: rule.chain, handle: rule.handle });
    for (const ch of listing.chains) if (ours.has(ch.name)) tx.deleteChain({ ...t, name: ch.name });
    await tx.commit();
  }

  /**
   * Publishes an endpoint's ports: one transaction of element creations (NLM_F_EXCL),
   * so a port another container already holds fails the whole publish with EEXIST and
   * changes nothing, instead of shadowing the other rule.
   */
  async publish(_net: NetworkInfo | undefined, ep: Publisher): Promise<void> {
    const tx = this.#publishTx(ep);
    if (tx) await tx.commit();
  }

  /** publish() on the calling thread (Transaction.commitSync): no hop to the thread pool. */
  publishSync(ep: Publisher): void {
    this.#publishTx(ep)?.commitSync();
  }

  /**
   * Re-adds the published ports of many endpoints in one transaction, without failing on
   * elements that are there already (a restart after a flushed or rebooted ruleset).
   */
  republish(eps: readonly Publisher[]): void {
    const tx = this.#ns.nft.transaction();
    let n = 0;
    for (const ep of eps) {
      for (const { set, el } of portElements(ep)) {
        tx.addElements(this.#els(set, [el]));
        n++;
      }
    }
    if (n > 0) tx.commitSync();
  }

  #publishTx(ep: Publisher): Transaction | undefined {
    const els = portElements(ep);
    if (els.length === 0) return undefined;
    const tx = this.#ns.nft.transaction();
    for (const { set, el } of els) tx.createElements(this.#els(set, [el]));
    return tx;
  }

  /** Removes an endpoint's published ports (idempotent: DESTROYSETELEM). */
  async unpublish(_net: NetworkInfo | undefined, ep: Publisher): Promise<void> {
    const tx = this.#unpublishTx(ep);
    if (tx) await tx.commit();
  }

  /** unpublish() on the calling thread. */
  unpublishSync(ep: Publisher): void {
    this.#unpublishTx(ep)?.commitSync();
  }

  #unpublishTx(ep: Publisher): Transaction | undefined {
    const els = portElements(ep);
    if (els.length === 0) return undefined;
    const tx = this.#ns.nft.transaction();
    for (const { set, el } of els) tx.destroyElements(this.#els(set, [{ key: el.key }]));
    return tx;
  }

  /**
   * The published ports in the table, by container address (a rebuild's view of the
   * dnat maps). A binding on every address of a family has hostIp '0.0.0.0' or '::';
   * rebuild.ts merges an endpoint's two families back into its mappings.
   */
  async publishedByAddress(): Promise<Map<string, PortMapping[]>> {
    const out = new Map<string, PortMapping[]>();
    const add = (ip: string, m: PortMapping) => out.set(ip, [...(out.get(ip) ?? []), m]);
    for (const set of ['dnat4_any', 'dnat4_ip', 'dnat6_any', 'dnat6_ip']) {
      const info = await this.#ns.nft.getSet({ family: F, table: this.table, name: set }).catch(() => undefined);
      const any = set.endsWith('_any') ? (set.startsWith('dnat6') ? '::' : '0.0.0.0') : undefined;
      for (const el of info?.elements ?? []) {
        const key = el.key as (string | number)[];
        const [ip, port] = el.value as [string, number];
        const [hostIp, proto, hostPort] = any === undefined ? key : [any, ...key];
        add(ip, { hostIp: String(hostIp), hostPort: Number(hostPort), containerPort: port, protocol: proto as PortProtocol });
      }
    }
    return out;
  }

  /**
   * @internal
   * Whether the table still holds what these networks and endpoints need, read in one
   * listing: the base chains and sets, every base chain but the user's with its rules,
   * each network's chains with as many rules as it makes and its bridge in the maps, and
   * at least as many published-port elements in each set as the endpoints make (more is
   * an attach in flight). Returns what is missing, or undefined. A daemon's watch on
   * foreign changes (docs/daemon.md).
   */
  async damage(nets: readonly NetworkInfo[], eps: readonly Publisher[]): Promise<string | undefined> {
    let listing;
    try {
      listing = await this.#ns.nft.listTable({ family: F, name: this.table });
    } catch (e) {
      if ((e as NetlinkError).code === 'ENOENT') return `table inet ${this.table} is gone`;
      throw e;
    }
    const rules = new Map<string, number>();
    for (const r of listing.rules) rules.set(r.chain, (rules.get(r.chain) ?? 0) + 1);
    const chainNames = new Set(listing.chains.map((c) => c.name));
    const sets = new Map(listing.sets.map((x) => [x.name, x]));
    for (const { name: c } of BASE_CHAINS) {
      if (!chainNames.has(c)) return `chain ${c} is gone`;
      if (c !== 'user_forward' && (rules.get(c) ?? 0) === 0) return `chain ${c} was flushed`;
    }
    for (const { name: x } of [...BASE_SETS4, ...BASE_SETS6]) if (!sets.has(x)) return `set ${x} is gone`;
    for (const net of nets) {
      if (net.driver !== 'bridge') continue;
      const c = chains(net);
      const want = new Map<string, number>();
      for (const [chain] of networkRules(net, c)) want.set(chain, (want.get(chain) ?? 0) + 1);
      for (const name of Object.values(c)) {
        if (!chainNames.has(name)) return `chain ${name} of network ${net.name} is gone`;
        if ((rules.get(name) ?? 0) !== (want.get(name) ?? 0)) return `chain ${name} of network ${net.name} has ${rules.get(name) ?? 0} rules, not ${want.get(name) ?? 0}`;
      }
      if (!(sets.get('fwd_in')?.elements ?? []).some((e) => e.key === net.bridge)) return `network ${net.name}'s bridge is not in fwd_in`;
    }
    const need = new Map<string, number>();
    for (const ep of eps) for (const { set } of portElements(ep)) need.set(set, (need.get(set) ?? 0) + 1);
    for (const [set, n] of need) {
      const have = sets.get(set)?.elements?.length ?? 0;
      if (have < n) return `set ${set} has ${have} elements, the endpoints publish ${n}`;
    }
    return undefined;
  }

  /** Removes published-port elements pointing at addresses no endpoint holds; returns how many. */
  async gc(_nets: NetworkInfo[], eps: EndpointInfo[]): Promise<number> {
    const claimed = new Set(eps.flatMap((e) => (e.ip6 === undefined ? [e.ip] : [e.ip, e.ip6])));
    const tx = this.#ns.nft.transaction();
    let n = 0;
    for (const set of ['dnat4_ip', 'dnat4_any', 'pub4', 'dnat6_ip', 'dnat6_any', 'pub6']) {
      const info = await this.#ns.nft.getSet({ family: F, table: this.table, name: set }).catch(() => undefined);
      for (const el of info?.elements ?? []) {
        const target = set.startsWith('pub') ? (el.key as (string | number)[])[0] : (el.value as (string | number)[])[0];
        if (typeof target === 'string' && !claimed.has(target)) {
          tx.destroyElements(this.#els(set, [{ key: el.key }]));
          n++;
        }
      }
    }
    if (n > 0) await tx.commit();
    return n;
  }
}
