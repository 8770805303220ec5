// What the resolver answers, kept from the state store as it changes: per network, the
// names and addresses of its ready endpoints; per container namespace, its networks.
// Every change to the store (this process's transactions, other processes' commits
// applied by sync()) updates exactly the rows it names: O(1) per attach or detach,
// whatever the size of the network, and a lookup is a few map reads.
import { contains, normalizeIp } from '../ipam';
import type { NetworkStore, StoreChange } from '../store';
import type { NetworkInfo } from '../types';
import { servesDns } from './resolvconf';

/** An endpoint as the resolver sees it. */
export interface ZoneEndpoint {
  id: string;
  network: string;
  netnsId: string;
  /** Lower-case names: the container name, then its aliases. */
  names: string[];
  /** The name a PTR answers with, as given (the container name, else the first alias). */
  ptr?: string;
  ip: string;
  ip6?: string;
}

/** One network's names and addresses. */
interface NetZone {
  info?: NetworkInfo;
  /** Lower-case network name: `name.<network>` resolves too. */
  suffix: string;
  /** Lower-case name -> endpoints carrying it (several: a shared alias answers every address). */
  names: Map<string, Set<ZoneEndpoint>>;
  /** Address (v4 or v6, canonical) -> endpoint: who may ask (members only), and PTR. */
  byIp: Map<string, ZoneEndpoint>;
}

/** The result of a name lookup. */
export interface NameHit {
  /** Addresses of the asked family, on the first network (in the asker's order) that has the name. */
  addresses: string[];
}

/** The result of a reverse lookup. */
export type ReverseHit = { name: string } | { nxdomain: true } | undefined;

/**
 * The names the resolver answers for, following a NetworkStore. `onNetworks` is called
 * when the set of networks (or one's gateway) changes: the resolver's sockets follow it.
 */
export class DnsZone {
  readonly #store: NetworkStore;
  readonly #nets = new Map<string, NetZone>();
  readonly #eps = new Map<string, ZoneEndpoint>();
  readonly #byNetns = new Map<string, Set<ZoneEndpoint>>();
  // A namespace's networks with name resolution, computed on first ask after a change.
  readonly #visible = new Map<string, NetZone[]>();
  readonly #onNetworks: () => void;
  readonly #off: () => void;
  /** Changes applied (a measure for tests and the follow benchmark). */
  changes = 0;

  constructor(store: NetworkStore, onNetworks: () => void = () => undefined) {
    this.#store = store;
    this.#onNetworks = onNetworks;
    this.#off = store.onChange((c) => this.#apply(c));
    this.#rebuild();
  }

  /** Stops following the store. */
  close(): void {
    this.#off();
  }

  /** The networks the resolver listens for (user-defined, gateway on the host). */
  served(): NetworkInfo[] {
    const out: NetworkInfo[] = [];
    for (const z of this.#nets.values()) if (z.info && servesDns(z.info)) out.push(z.info);
    return out;
  }

  /** Number of endpoints indexed. */
  get size(): number {
    return this.#eps.size;
  }

  /** The ready endpoint of a network holding this source address: the asker, or nobody (not a member). */
  member(networkId: string, address: string): ZoneEndpoint | undefined {
    return this.#nets.get(networkId)?.byIp.get(address);
  }

  /**
   * Looks a lower-case name up for an asker: on the network the query came in on first,
   * then on the asker's other user-defined networks; `name.<network>` on that network
   * only. Undefined when no network the asker is on has the name.
   */
  lookup(asker: ZoneEndpoint, name: string, family: 4 | 6): NameHit | undefined {
    for (const z of this.#visibleTo(asker)) {
      let eps = z.names.get(name);
      if (!eps && name.length > z.suffix.length + 1 && name.endsWith(z.suffix) && name.charCodeAt(name.length - z.suffix.length - 1) === 46 /* . */) {
        eps = z.names.get(name.slice(0, name.length - z.suffix.length - 1));
      }
      if (!eps || eps.size === 0) continue;
      const addresses: string[] = [];
      for (const e of eps) {
        const a = family === 4 ? e.ip : e.ip6;
        if (a !== undefined) addresses.push(a);
      }
      return { addresses };
    }
    return undefined;
  }

  /** Whether a lower-case name is under one of the asker's networks (`x.<network>`): ours to deny. */
  inZone(asker: ZoneEndpoint, name: string): boolean {
    for (const z of this.#visibleTo(asker)) {
      if (name === z.suffix || (name.endsWith(z.suffix) && name.charCodeAt(name.length - z.suffix.length - 1) === 46)) return true;
    }
    return false;
  }

  /**
   * Reverse lookup of an address for an asker: the name of the endpoint holding it on one
   * of the asker's networks; `nxdomain` when the address is in one of their subnets but
   * nobody named holds it (answered here, not asked upstream); undefined otherwise.
   */
  reverse(asker: ZoneEndpoint, address: string): ReverseHit {
    let inside = false;
    for (const z of this.#visibleTo(asker)) {
      const e = z.byIp.get(address);
      if (e?.ptr !== undefined) return { name: e.ptr };
      if (e || (z.info && (contains(z.info.subnet, address) || (z.info.ipv6Subnet !== undefined && contains(z.info.ipv6Subnet, address))))) inside = true;
    }
    return inside ? { nxdomain: true } : undefined;
  }

  // The asker's networks with names: the one it asked on first.
  #visibleTo(asker: ZoneEndpoint): NetZone[] {
    let v = this.#visible.get(asker.netnsId);
    if (!v) {
      v = [];
      for (const e of this.#byNetns.get(asker.netnsId) ?? []) {
        const z = this.#nets.get(e.network);
        if (z?.info && !z.info.isDefault) v.push(z);
      }
      this.#visible.set(asker.netnsId, v);
    }
    const first = this.#nets.get(asker.network);
    if (v[0] === first || !first) return v;
    return [first, ...v.filter((z) => z !== first)];
  }

  #apply(c: StoreChange): void {
    this.changes++;
    if (c.kind === 'reload') {
      this.#rebuild();
      this.#onNetworks();
    } else if (c.kind === 'network') {
      this.#setNetwork(c.id, this.#store.networks.get(c.id));
      this.#onNetworks();
    } else {
      this.#setEndpoint(c.id);
    }
  }

  #rebuild(): void {
    this.#nets.clear();
    this.#eps.clear();
    this.#byNetns.clear();
    this.#visible.clear();
    for (const [id, info] of this.#store.networks) this.#setNetwork(id, info);
    for (const id of this.#store.endpoints.keys()) this.#setEndpoint(id);
  }

  #zone(id: string): NetZone {
    let z = this.#nets.get(id);
    if (!z) this.#nets.set(id, (z = { suffix: '', names: new Map(), byIp: new Map() }));
    return z;
  }

  #setNetwork(id: string, info: NetworkInfo | undefined): void {
    if (info) {
      const z = this.#zone(id);
      z.info = info;
      z.suffix = info.name.toLowerCase();
    } else {
      const z = this.#nets.get(id);
      if (!z) return;
      delete z.info;
      if (z.byIp.size === 0) this.#nets.delete(id);
    }
    this.#visible.clear();
  }

  #setEndpoint(id: string): void {
    const old = this.#eps.get(id);
    if (old) this.#unindex(old);
    const st = this.#store.endpoints.get(id);
    // Only ready endpoints answer and ask: one being attached has no interface yet, one
    // being detached is going away (it stops resolving as its detach begins).
    if (!st || st.phase !== 'ready') return;
    const i = st.info;
    const names = [...(i.name !== undefined ? [i.name] : []), ...i.aliases];
    const e: ZoneEndpoint = {
      id,
      network: i.network,
      netnsId: i.netnsId,
      names: [...new Set(names.map((n) => n.toLowerCase()))],
      ip: normalizeIp(i.ip),
      ...(names[0] !== undefined && { ptr: names[0] }),
      ...(i.ip6 !== undefined && { ip6: normalizeIp(i.ip6) }),
    };
    this.#index(e);
  }

  #index(e: ZoneEndpoint): void {
    const z = this.#zone(e.network);
    this.#eps.set(e.id, e);
    for (const n of e.names) {
      let s = z.names.get(n);
      if (!s) z.names.set(n, (s = new Set()));
      s.add(e);
    }
    z.byIp.set(e.ip, e);
    if (e.ip6 !== undefined) z.byIp.set(e.ip6, e);
    let ns = this.#byNetns.get(e.netnsId);
    if (!ns) this.#byNetns.set(e.netnsId, (ns = new Set()));
    ns.add(e);
    this.#visible.delete(e.netnsId);
  }

  #unindex(e: ZoneEndpoint): void {
    this.#eps.delete(e.id);
    const z = this.#nets.get(e.network);
    if (z) {
      for (const n of e.names) {
        const s = z.names.get(n);
        s?.delete(e);
        if (s?.size === 0) z.names.delete(n);
      }
      if (z.byIp.get(e.ip) === e) z.byIp.delete(e.ip);
      if (e.ip6 !== undefined && z.byIp.get(e.ip6) === e) z.byIp.delete(e.ip6);
      if (!z.info && z.byIp.size === 0) this.#nets.delete(e.network);
    }
    const ns = this.#byNetns.get(e.netnsId);
    ns?.delete(e);
    if (ns?.size === 0) this.#byNetns.delete(e.netnsId);
    this.#visible.delete(e.netnsId);
  }
}
