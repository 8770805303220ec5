// Docker's network model on top of the namespace, link, sysctl and nftables layers: the
// orchestration. Drivers (drivers/) make each kind of network in the kernel; this module
// keeps the state (store.ts), hands out addresses, publishes ports, writes hosts files,
// rolls back what fails and reconciles what a crash left, without asking which driver a
// network has.
//
// Every attach and detach is recorded before the kernel is touched and finished after:
//
//   attach:  tx [lease, ports, endpoint 'attaching']  kernel [driver.attach, publish]  tx [endpoint 'ready']
//   detach:  tx [endpoint 'detaching']  kernel [unpublish, driver.detach (quiesce)]  tx [rows deleted]
//
// so a process killed anywhere leaves a row that says what to finish or undo, and the
// next Networks.open (in any process) does it. Transactions are synchronous and short;
// several attaches are in flight at once, each holding the database only for its own
// transactions.
import { accessSync, constants as fsc, readFileSync, statSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { NetlinkError } from '../errors';
import * as path from 'node:path';
import { beginNetns, defaultNetnsDir, Netns, type NetnsOptions } from '../netns';
import { checkIfname, checkMac, checkNetnsName, checkPath, own } from '../validate';
import type { AttachTarget, DriverContext, HostLinks, NetworkBase, NetworkDriver } from './driver';
import { driverOf, OverlayNetwork } from './drivers';
import { Firewall } from './firewall';
import { resolvConfContent, servesDns } from './dns/resolvconf';
import { checkHostName, hostsFileContent, HostsWriter, type ContainerFile } from './hosts';
import { macFromIp, macFromIp6, normalizeIp, parseIp, randomMac, ulaPools, type SubnetPoolSpec } from './ipam';
import { importLegacy, readLegacy } from './legacy';
import { containerMode, hostMode, noneMode, type ModeContext } from './modes';
import { Network, type NetworkController } from './network';
import { randomBytes } from '../crypto';
import { newToken, randomId, tokenAlive } from './owner';
import { checkPortFamilies, checkPorts, conntrackFilters, portBindings, portKey } from './ports';
import { Reaper } from './reaper';
import { NetworksClient, type ConnectOptions } from '../daemon/client';
import { moveAside, readNetworkFiles, scan, type Adopted, type RebuildResult } from './rebuild';
import {
  networkFileIds, NetworkStore, poolIds, removeNetworkFile, writeNetworkFile, type StoredEndpoint, type StoreTx,
} from './store';
import type {
  AttachedEndpoint, AttachOptions, BridgeNetworkOptions, EndpointInfo, MacvlanNetworkOptions, NetworkInfo, NetworkOptions,
  NewContainer, OverlayNetworkOptions, PortMapping,
} from './types';

/** Options of Networks.open. */
export interface NetworksOptions extends NetnsOptions {
  /** Where networks and endpoints are kept (created if missing); see docs/store.md. */
  stateDir: string;
  /** The namespace bridges live in and ports are published on; default the caller's own. */
  host?: Netns;
  /** Owner tag: the nftables table name and the prefix of link aliases. Default 'netplumb'. */
  owner?: string;
  /** Name of the default network's bridge (default 'np0'; docker0 in Docker). */
  defaultBridge?: string;
  /** Subnet of the default network (default 172.17.0.0/16, as docker0). */
  defaultSubnet?: string;
  /**
   * IFLA_GROUP of host-side links waiting to be deleted (default: derived from the owner,
   * 0x6e70xxxx). Every link in this group of the host namespace is deleted in bulk: give
   * no other link this group.
   */
  reapGroup?: number;
  /**
   * When detached endpoints' links are deleted: `delayMs` after the first one waits
   * (default 200), or at once when `batch` wait (default 128). reap(), gc() and close()
   * delete them at once.
   */
  reap?: { delayMs?: number; batch?: number };
  /** Run SQLite's quick integrity check of the state on open (default true). */
  checkState?: boolean;
  /**
   * What open() reconciles. 'full' (the default): everything below. 'records': only the
   * half-done records of dead processes undone and the reap group deleted, nothing listed
   * or re-made in the kernel: for a one-shot process on a host where a long-running
   * owner (the daemon) or the next full open() does the rest; reconcile() does it on demand.
   */
  reconcile?: 'full' | 'records';
  /**
   * Where networks with IPv6 and no ipv6Subnet get theirs: subnets of `size` carved from
   * each `base`, first free one first. Default: the /64s of a unique local /48 derived
   * from this machine's id and the owner (ulaPools).
   */
  ipv6Pools?: SubnetPoolSpec[];
}

/** What gc() removed. */
export interface GcResult {
  /** Tagged host links no network or endpoint claims. */
  links: string[];
  /** Published-port elements pointing at addresses no endpoint holds. */
  elements: number;
  /** Links this controller had sent to the reap group since the last deletion (another controller may have deleted some already); all deleted now. */
  reaped: number;
  /** Endpoint records a dead process left half made or half removed, now undone. */
  records: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const OWNER_RE = /^[a-z][a-z0-9_]{0,31}$/;

/** The default reap group of an owner: 0x6e70 ('np') above a 16-bit FNV-1a hash of its name. */
function reapGroupOf(owner: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < owner.length; i++) h = Math.imul(h ^ owner.charCodeAt(i), 0x01000193) >>> 0;
  return ((0x6e70 << 16) | ((h ^ (h >>> 16)) & 0xffff)) >>> 0;
}

// What seeds the default IPv6 pool: the machine's id (systemd's, else D-Bus's), else
// its host name; stable across restarts either way.
function machineId(): string {
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(f, 'utf8').trim();
      if (id !== '') return id;
    } catch {
      // next
    }
  }
  return hostname();
}

const warn = (message: string): void => {
  process.emitWarning(`netplumb: ${message}`, 'NetplumbWarning');
};

/**
 * The network controller: networks, endpoints and their state for one host namespace
 * and owner. Open with Networks.open; close() (or `await using`) deletes what waits in
 * the reap group and releases its handles; the networks stay.
 *
 * Several controllers, in one process or many, may share a state directory: every
 * change is a transaction of the shared database, and each controller sees the others'
 * changes before it decides anything (docs/store.md).
 */
export class Networks implements NetworkController {
  readonly owner: string;
  readonly host: Netns;
  readonly firewall: Firewall;
  /** IFLA_GROUP of links waiting to be deleted. */
  readonly reapGroup: number;
  readonly #store: NetworkStore;
  readonly #opts: NetworksOptions;
  readonly #ownHost: boolean;
  readonly #ctx: DriverContext;
  readonly #reaper: Reaper;
  readonly #hosts: HostsWriter;
  // This controller's token: records it is in the middle of name it.
  readonly #token = newToken();
  // Endpoints this controller is attaching or detaching right now: a row it holds that is
  // not among them was left by a failure it could not record (a full disk) and is stale.
  readonly #inflight = new Set<string>();
  // Network creation, removal and gc, one at a time per controller; driver operations one
  // at a time per network. Attaches and detaches are not queued.
  #admin: Promise<unknown> = Promise.resolve();
  readonly #perNetwork = new Map<string, Promise<unknown>>();
  #closed = false;

  private constructor(opts: NetworksOptions, host: Netns, ownHost: boolean, store: NetworkStore) {
    this.owner = opts.owner ?? 'netplumb';
    this.host = host;
    this.#ownHost = ownHost;
    this.#opts = opts;
    this.#store = store;
    this.firewall = new Firewall(host, this.owner);
    this.reapGroup = opts.reapGroup ?? reapGroupOf(this.owner);
    this.#reaper = new Reaper(host, this.reapGroup, { warn, ...opts.reap });
    const owner = this.owner;
    let ula: SubnetPoolSpec[] | undefined;
    this.#ctx = {
      host,
      owner,
      // Hashed when a network first asks for an IPv6 subnet: hashing loads node:crypto,
      // ~5 ms of a short-lived process's start (the CNI plugin's).
      get ipv6Pools(): SubnetPoolSpec[] {
        return opts.ipv6Pools ?? (ula ??= ulaPools(`${machineId()}/${owner}`));
      },
      firewall: this.firewall,
      store,
      write: (fn) => store.write(fn),
      reapGroup: this.reapGroup,
      warn,
    };
    this.#hosts = new HostsWriter((nets, netns) => this.#containerFiles(nets, netns), warn);
  }

  /**
   * Opens the controller: opens the state (importing a 0.1.0 state directory once) and
   * reconciles it with the kernel, so that what open() returns is consistent whatever a
   * crash left: the table, each network's kernel objects and every endpoint's published
   * ports re-made; endpoints whose kernel side is gone dropped (address and ports
   * released); half-made or half-removed endpoints of dead processes undone; links left
   * waiting in the reap group deleted.
   */
  static async open(input: NetworksOptions): Promise<Networks> {
    if (typeof input !== 'object' || input === null) throw new TypeError('Networks.open needs options');
    const opts = own(input, 'Networks.open options');
    if (typeof opts.stateDir !== 'string' || opts.stateDir.length === 0) throw new TypeError('stateDir must be a directory path');
    if (opts.owner !== undefined && !OWNER_RE.test(opts.owner)) throw new TypeError('owner must match [a-z][a-z0-9_]{0,31}');
    if (opts.defaultBridge !== undefined) checkIfname(opts.defaultBridge, 'defaultBridge');
    if (opts.reapGroup !== undefined && (!Number.isInteger(opts.reapGroup) || opts.reapGroup < 1 || opts.reapGroup > 0xffffffff)) {
      throw new RangeError('reapGroup must be an integer in 1..4294967295 (0 is every link\'s default group)');
    }
    if (opts.host !== undefined && !(opts.host instanceof Netns)) throw new TypeError('host must be a Netns');
    if (opts.reap !== undefined) {
      const r = own(opts.reap, 'reap');
      if (r.delayMs !== undefined && (!Number.isInteger(r.delayMs) || r.delayMs < 0 || r.delayMs > 3_600_000)) throw new RangeError('reap.delayMs must be an integer in 0..3600000');
      if (r.batch !== undefined && (!Number.isInteger(r.batch) || r.batch < 1 || r.batch > 100_000)) throw new RangeError('reap.batch must be an integer in 1..100000');
    }
    const store = NetworkStore.open(opts.stateDir, { check: opts.checkState ?? true });
    const ownHost = opts.host === undefined;
    let host: Netns | undefined;
    try {
      host = opts.host ?? (await Netns.current());
      const n = new Networks(opts, host, ownHost, store);
      n.#importLegacy();
      if (opts.reconcile === 'records') await n.#reconcileRecords();
      else await n.#reconcile();
      return n;
    } catch (e) {
      store.close();
      if (ownHost) host?.close();
      throw e;
    }
  }

  /**
   * A client of a running daemon (`netplumb daemon`, docs/daemon.md) over its unix
   * socket: the same operations and types as this controller's, async, with container
   * namespaces given as paths or names (see NetworksClient). Connects on first request.
   */
  static connect(opts: ConnectOptions = {}): NetworksClient {
    return new NetworksClient(opts);
  }

  /**
   * Rebuilds a state directory whose database is lost or damaged (StateCorruptError on
   * open), from the network definition files and the kernel: the database is set aside
   * (`netplumb.db.broken-<time>`), the networks come back from `<stateDir>/networks/`,
   * and each driver adopts the endpoints the kernel shows (host links tagged with this
   * owner, container ends in the named namespaces of the netns directory, published
   * ports from the owner's maps; an overlay's peers and remote endpoints from its FDB).
   * What the kernel never held is lost: container names, aliases and hosts files; an
   * endpoint in an anonymous namespace is not found (its host link is listed in
   * `unmatched`, and gc() removes it). See docs/store.md.
   */
  static async rebuild(input: NetworksOptions): Promise<RebuildResult> {
    if (typeof input !== 'object' || input === null) throw new TypeError('Networks.rebuild needs options');
    const opts = own(input, 'Networks.rebuild options');
    if (typeof opts.stateDir !== 'string' || opts.stateDir.length === 0) throw new TypeError('stateDir must be a directory path');
    const dir = path.resolve(opts.stateDir);
    const defs = readNetworkFiles(dir);
    const movedTo = moveAside(dir);
    const store = NetworkStore.open(dir, { rebuilding: true });
    const ownHost = opts.host === undefined;
    const host = opts.host ?? (await Netns.current());
    const n = new Networks(opts, host, ownHost, store);
    try {
      const seen = await scan(host, n.firewall, opts.netnsDir === undefined ? {} : { netnsDir: opts.netnsDir });
      const adopted = new Map<string, Adopted>();
      for (const net of defs) adopted.set(net.id, await driverOf(net.driver).adopt(n.#ctx, net, seen));
      const taken: string[] = [];
      store.write(
        (tx) => {
          for (const net of defs) {
            tx.putNetwork(net);
            for (const r of adopted.get(net.id)!.records) tx.putRecord(net.id, r.kind, r.key, r.value);
          }
          for (const net of defs) {
            for (const ep of adopted.get(net.id)!.endpoints) {
              const ids = poolIds(net.id);
              const v4 = ep.ip !== '' ? store.pools.get(ids.v4) : undefined;
              const v6 = ep.ip6 !== undefined ? store.pools.get(ids.v6) : undefined;
              if (v4?.ownerOf(ep.ip) !== undefined || (ep.ip6 !== undefined && v6?.ownerOf(ep.ip6) !== undefined)) {
                taken.push(ep.hostIfname || ep.id);
                continue;
              }
              if (v4) tx.claim(ids.v4, ep.ip, ep.id);
              if (v6) tx.claim(ids.v6, ep.ip6!, ep.id);
              const keys = portBindings(ep.publish, ep.ip !== '', ep.ip6 !== undefined).map(portKey);
              const ports = keys.filter((k) => tx.claimPort(k, ep.id));
              tx.putEndpoint({ ...ep, publish: ports.length === keys.length ? ep.publish : [] }, 'ready');
            }
          }
        },
        { durable: true },
      );
      const adoptedLinks = new Set([...store.endpoints.values()].map((e) => e.info.hostIfname));
      const unmatched = seen.hostLinks
        .filter((l) => l.alias?.startsWith(`${n.owner}:ep:`) && l.group !== n.reapGroup && !adoptedLinks.has(l.name))
        .map((l) => l.name);
      return {
        ...(movedTo !== undefined && { movedTo }),
        networks: defs.map((d) => d.name),
        endpoints: [...store.endpoints.keys()],
        unmatched: [...unmatched, ...taken.filter((t) => !unmatched.includes(t))],
      };
    } finally {
      await n.close();
    }
  }

  /** Deletes what waits in the reap group, finishes the hosts-file writes, releases the controller's handles. The networks stay. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // A host handle its owner closed already cannot reap: the next open() will.
      if (!this.host.closed) await this.#reaper.flush().catch((e: Error) => warn(`reaping links on close failed: ${e.message}`));
      await this.#hosts.flush();
    } finally {
      this.#store.close();
      if (this.#ownHost) this.host.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #importLegacy(): void {
    if (!this.#store.created && this.#store.networks.size > 0) return;
    const legacy = readLegacy(this.#store.dir);
    if (!legacy) return;
    const nets = importLegacy(this.#store, legacy, (doc) => {
      const d = driverOf(doc.driver);
      return d.fromLegacy ? d.fromLegacy(doc) : { info: doc, records: [] };
    });
    for (const net of nets) writeNetworkFile(this.#store.dir, net);
  }

  // --- reconcile --------------------------------------------------------------------

  async #reconcile(): Promise<void> {
    const st = this.#store;
    st.sync();
    await this.firewall.ensureBase();
    for (const net of [...st.networks.values()]) {
      await this.#driver(net).reconcile(this.#ctx, net, st.endpointsOf(net.id).map((e) => e.info));
    }
    // Each network's durable definition file (a crash may fall between the database and
    // the file). A file without a network is left alone: it may be all a rebuild has.
    const files = new Set(networkFileIds(st.dir));
    for (const net of st.networks.values()) if (!files.has(net.id)) writeNetworkFile(st.dir, net);
    await this.#settleEndpoints();
    await this.#reaper.flush().catch((e: Error) => warn(`reaping the links left in group ${this.reapGroup} failed: ${e.message}`));
  }

  // The light reconcile of a one-shot process: dead processes' half-done rows undone (a
  // store read; kernel requests only for rows there are), the reap group deleted.
  async #reconcileRecords(): Promise<void> {
    const st = this.#store;
    st.sync();
    for (const stored of [...st.endpoints.values()]) {
      if (stored.phase !== 'ready' && !this.#busy(stored)) await this.#undo(stored);
    }
    await this.#reaper.flush().catch((e: Error) => warn(`reaping the links left in group ${this.reapGroup} failed: ${e.message}`));
  }

  // Endpoint rows against the kernel: dead processes' half-done attaches and detaches
  // undone, endpoints whose kernel side is gone dropped, published ports of the others
  // re-made (one nftables transaction). Returns how many half-done rows it undid.
  async #settleEndpoints(): Promise<number> {
    const st = this.#store;
    const links: HostLinks = new Map((await this.host.links.list()).map((l) => [l.name, { index: l.index, ...(l.group !== undefined && { group: l.group }), ...(l.master !== undefined && { master: l.master }) }]));
    let undone = 0;
    const live: EndpointInfo[] = [];
    for (const stored of [...st.endpoints.values()]) {
      const ep = stored.info;
      const net = st.networks.get(ep.network);
      if (stored.phase !== 'ready') {
        if (this.#busy(stored)) continue;
        await this.#undo(stored);
        undone++;
        continue;
      }
      if (!net) {
        this.#drop(ep);
        continue;
      }
      if (await this.#driver(net).alive(this.#ctx, net, ep, links)) {
        if (ep.publish.length > 0) live.push(ep);
      } else {
        await this.#forget(ep);
      }
    }
    await this.firewall.republish(live);
    return undone;
  }

  // Undoes a row a dead process left mid-attach or mid-detach: the driver's leftovers
  // (by the names the row gives), the published ports, then the rows.
  async #undo(stored: StoredEndpoint): Promise<void> {
    const ep = stored.info;
    const net = this.#store.networks.get(ep.network);
    if (net) {
      await this.#driver(net).abort(this.#ctx, net, ep).catch((e: Error) => warn(`could not undo endpoint ${ep.id}: ${e.message}`));
      if (ep.publish.length > 0) this.firewall.unpublishSync(ep);
    }
    this.#drop(ep);
  }

  // Drops an endpoint whose kernel side is gone: published ports removed, the conntrack
  // entries of its UDP and SCTP ports flushed (after the unpublish, so no new datagram
  // recreates them: a flow that keeps sending would otherwise stay DNATed to the old
  // address and never reach the next container publishing the port), rows deleted.
  async #forget(ep: EndpointInfo): Promise<void> {
    if (ep.publish.length > 0) {
      this.firewall.unpublishSync(ep);
      await this.#flushConntrack(ep);
    }
    this.#drop(ep);
  }

  async #flushConntrack(ep: EndpointInfo): Promise<void> {
    for (const f of conntrackFilters(ep)) {
      await this.host.conntrack.delete(f).catch((e: Error) => {
        warn(`could not flush conntrack entries of ${f.replySrc} (${f.protocol}): ${e.message}`);
      });
    }
  }

  // The endpoint's rows: the endpoint, its leases, its ports.
  #drop(ep: EndpointInfo): void {
    this.#store.write((tx) => this.#deleteRows(tx, ep));
    this.#touchHosts(ep);
  }

  #deleteRows(tx: StoreTx, ep: EndpointInfo): void {
    const ids = poolIds(ep.network);
    if (ep.ip !== '' && tx.store.pools.get(ids.v4)?.ownerOf(ep.ip) === ep.id) tx.release(ids.v4, ep.ip);
    if (ep.ip6 !== undefined && tx.store.pools.get(ids.v6)?.ownerOf(ep.ip6) === ep.id) tx.release(ids.v6, ep.ip6);
    for (const p of portBindings(ep.publish, ep.ip !== '', ep.ip6 !== undefined)) {
      const key = portKey(p);
      if (tx.store.ports.get(key) === ep.id) tx.releasePort(key);
    }
    tx.deleteEndpoint(ep.id);
  }

  // Whether a row that is not ready is someone's work in progress (a live process, and if
  // it is this controller, an operation still running).
  #busy(stored: StoredEndpoint): boolean {
    if (stored.holder === undefined) return false;
    if (stored.holder === this.#token) return this.#inflight.has(stored.info.id);
    return tokenAlive(stored.holder);
  }

  // The MAC of an endpoint with only an IPv6 address (ipam.macFromIp6), else a random one
  // that no endpoint of the network has (inside the attach's transaction: no other
  // process can take it meanwhile).
  #mac6(net: NetworkInfo, ip6: string): string {
    const derived = macFromIp6(ip6, net.ipv6Subnet!);
    if (derived !== undefined) return derived;
    const taken = new Set(this.#store.endpointsOf(net.id).map((e) => e.info.mac));
    for (;;) {
      const mac = randomMac(randomBytes);
      if (!taken.has(mac)) return mac;
    }
  }

  #driver(net: NetworkInfo): NetworkDriver {
    return driverOf(net.driver);
  }

  /**
   * Brings this controller's view up to date with other processes' changes. Reads
   * (list, inspect, get, endpoints) do this by themselves; this is for callers who
   * want to, say, time it.
   */
  async refresh(): Promise<void> {
    this.#open().sync();
  }

  #open(): NetworkStore {
    if (this.#closed) throw new Error('the Networks controller is closed');
    return this.#store;
  }

  // --- reading ----------------------------------------------------------------------

  /** Every network. */
  list(): NetworkInfo[] {
    const st = this.#open();
    st.sync();
    return [...st.networks.values()].map((n) => structuredClone(n));
  }

  /** A network's details and its endpoints. */
  inspect(name: string): NetworkInfo & { endpoints: EndpointInfo[] } {
    const net = this.#find(name);
    return { ...structuredClone(net), endpoints: this.endpointsOf(net.id) };
  }

  /** A handle on an existing network (an OverlayNetwork for overlay networks). */
  get(name: string): Network {
    return this.#handle(this.#find(name));
  }

  /** A handle on an existing overlay network; TypeError if the network is of another driver. */
  overlay(name: string): OverlayNetwork {
    const h = this.get(name);
    if (!(h instanceof OverlayNetwork)) throw new TypeError(`network ${name} is not an overlay network`);
    return h;
  }

  #handle(net: NetworkInfo): Network {
    return this.#driver(net).handle?.(this, net.id) ?? new Network(this, net.id);
  }

  #find(nameOrId: string): NetworkInfo {
    const st = this.#open();
    st.sync();
    for (const n of st.networks.values()) if (n.name === nameOrId || n.id === nameOrId) return n;
    throw new NetlinkError({ errno: 2, op: 'network', detail: `no network named ${JSON.stringify(nameOrId)}` });
  }

  /** @internal */
  info(id: string): NetworkInfo {
    return this.#find(id);
  }

  /** @internal */
  endpointsOf(id: string): EndpointInfo[] {
    const st = this.#open();
    st.sync();
    return st.endpointsOf(id).filter((e) => e.phase === 'ready').map((e) => copyEndpoint(e.info));
  }

  /** @internal A ready endpoint by its key, copied alone (the others are only looked at). */
  endpointByKey(id: string, key: string): EndpointInfo | undefined {
    const st = this.#open();
    st.sync();
    const e = st.endpointsOf(id).find((x) => x.phase === 'ready' && x.info.key === key);
    return e && copyEndpoint(e.info);
  }

  /** @internal */
  records<T>(id: string, kind: string): T[] {
    const st = this.#open();
    st.sync();
    return [...st.records<T>(id, kind).values()].map((r) => structuredClone(r));
  }

  /** @internal */
  driverOp<T>(id: string, op: (ctx: DriverContext, net: NetworkInfo) => Promise<T>): Promise<T> {
    const prev = this.#perNetwork.get(id) ?? Promise.resolve();
    const run = prev.then(() => op(this.#ctx, this.#find(id)));
    const tail = run.catch(() => undefined);
    this.#perNetwork.set(id, tail);
    void tail.then(() => {
      if (this.#perNetwork.get(id) === tail) this.#perNetwork.delete(id);
    });
    return run;
  }

  // --- networks -----------------------------------------------------------------------

  /** The default network (like docker0: 172.17.0.0/16, no name resolution), created on first use. */
  async defaultNetwork(): Promise<Network> {
    return this.#serial(async () => {
      const st = this.#open();
      st.sync();
      for (const n of st.networks.values()) if (n.isDefault) return this.#handle(n);
      return this.#create(
        { name: 'bridge', bridge: this.#opts.defaultBridge ?? 'np0', subnet: this.#opts.defaultSubnet ?? '172.17.0.0/16' },
        true,
      );
    });
  }

  /**
   * Creates a network. The bridge driver (the default): a user-defined bridge network
   * (bridge, gateway address, sysctls, nftables chains). 'overlay': this host's half of
   * a VXLAN overlay (see OverlayNetworkOptions). 'macvlan': containers get macvlan
   * children of a parent link (see MacvlanNetworkOptions). The definition is committed
   * durably (it survives a reboot) and written to `<stateDir>/networks/<id>.json`.
   */
  create(opts: OverlayNetworkOptions): Promise<OverlayNetwork>;
  create(opts: BridgeNetworkOptions | MacvlanNetworkOptions): Promise<Network>;
  create(opts: NetworkOptions): Promise<Network>;
  async create(opts: NetworkOptions): Promise<Network> {
    return this.#serial(() => this.#create(opts, false));
  }

  async #create(input: NetworkOptions, isDefault: boolean): Promise<Network> {
    if (typeof input !== 'object' || input === null) throw new TypeError('network options must be an object');
    const opts = own(input, 'network options') as NetworkOptions & Record<string, unknown>;
    const driver = driverOf(opts.driver ?? 'bridge');
    if (typeof opts.name !== 'string' || !NAME_RE.test(opts.name)) {
      throw new TypeError(`network name must match ${NAME_RE}, got ${JSON.stringify(opts.name)}`);
    }
    const checked = driver.validate(opts);
    const st = this.#open();
    st.sync();
    const taken = (): void => {
      for (const n of st.networks.values()) {
        if (n.name === opts.name) throw new NetlinkError({ errno: 17, op: 'network', detail: `network ${JSON.stringify(opts.name)} already exists` });
      }
    };
    taken();
    const base: NetworkBase = { id: randomId(), name: opts.name, labels: {}, created: new Date().toISOString() };
    const made = await driver.create(this.#ctx, base, checked, [...st.networks.values()]);
    const info: NetworkInfo = { ...made.info, isDefault };
    try {
      // Durable before it is answered: written to the state's file, then committed with a sync.
      writeNetworkFile(st.dir, info);
      st.write(
        (tx) => {
          taken();
          // Another process may have made a network meanwhile: the driver's clash checks again.
          const others = [...st.networks.values()];
          const clash = others.find((n) => (n.subnet !== '' && n.subnet === info.subnet)
            || (n.ipv6Subnet !== undefined && n.ipv6Subnet === info.ipv6Subnet)
            || (n.bridge !== '' && n.bridge === info.bridge));
          if (clash) {
            throw new NetlinkError({ errno: 17, op: 'network', detail: `network ${clash.name} took ${[clash.subnet, clash.ipv6Subnet].filter(Boolean).join(' and ')} or its bridge meanwhile` });
          }
          tx.putNetwork(info);
          for (const r of made.records ?? []) tx.putRecord(info.id, r.kind, r.key, r.value);
        },
        { durable: true },
      );
    } catch (e) {
      removeNetworkFile(st.dir, info.id);
      await driver.remove(this.#ctx, info).catch(() => undefined);
      throw e;
    }
    return this.#handle(info);
  }

  /** Removes a network: its kernel objects, its state and its file. EBUSY while endpoints remain. */
  async remove(name: string): Promise<void> {
    return this.#serial(async () => {
      const net = this.#find(name);
      const st = this.#store;
      const eps = st.endpointsOf(net.id);
      if (eps.length > 0) {
        throw new NetlinkError({ errno: 16, op: 'network', detail: `network ${net.name} still has ${eps.length} endpoint(s); detach them first` });
      }
      await this.#driver(net).remove(this.#ctx, net);
      // The file first: a crash before the commit leaves the network without its file,
      // which the next open writes again; never a file a rebuild would bring back.
      removeNetworkFile(st.dir, net.id);
      try {
        st.write(
          (tx) => {
            if (st.endpointsOf(net.id).length > 0) {
              throw new NetlinkError({ errno: 16, op: 'network', detail: `network ${net.name} got an endpoint meanwhile` });
            }
            // Addresses a driver holds for others (the overlay's remote endpoints) go with it.
            for (const pid of Object.values(poolIds(net.id))) {
              for (const [address] of st.pools.get(pid)?.allocations() ?? []) tx.release(pid, address);
            }
            tx.deleteNetwork(net.id);
          },
          { durable: true },
        );
      } catch (e) {
        writeNetworkFile(st.dir, net);
        throw e;
      }
    });
  }

  /**
   * Removes every network that has no endpoint (the default network stays), as `docker
   * network prune`; resolves with the names removed. A network that gets an endpoint
   * meanwhile stays (its removal fails with EBUSY and is skipped).
   */
  async prune(): Promise<string[]> {
    const st = this.#open();
    st.sync();
    const removed: string[] = [];
    for (const net of [...st.networks.values()]) {
      if (net.isDefault || st.endpointsOf(net.id).length > 0) continue;
      try {
        await this.remove(net.id);
        removed.push(net.name);
      } catch (e) {
        if ((e as NetlinkError).code !== 'EBUSY' && (e as NetlinkError).code !== 'ENOENT') throw e;
      }
    }
    return removed;
  }

  /**
   * Reconciles the kernel with the state as open() does, on a controller that is open:
   * the table, its sets and chains, each network's bridge (its endpoints' host ends made
   * its ports again when it had to be re-made) and chains, every ready endpoint's
   * published ports; endpoints whose kernel side is gone dropped, dead processes' half-done
   * rows undone. What a daemon runs when another party deleted or flushed its objects.
   */
  async reconcile(): Promise<void> {
    return this.#serial(async () => {
      this.#open();
      await this.#reconcile();
    });
  }

  /**
   * What another party removed from this controller's kernel objects, or undefined when
   * nothing is missing: a network's bridge, the table, its chains, sets and rules, the
   * ready endpoints' published ports (Firewall.damage). Reads only; reconcile() repairs.
   */
  async damage(): Promise<string | undefined> {
    const st = this.#open();
    st.sync();
    const nets = [...st.networks.values()];
    const names = new Set((await this.host.links.list()).map((l) => l.name));
    for (const net of nets) if (net.bridge !== '' && !names.has(net.bridge)) return `bridge ${net.bridge} of network ${net.name} is gone`;
    const eps = [...st.endpoints.values()].filter((e) => e.phase === 'ready' && e.info.publish.length > 0).map((e) => e.info);
    return this.firewall.damage(nets, eps);
  }

  /**
   * damage() and, when something is missing, reconcile(), in one turn of the controller's
   * admin queue (after any network creation or removal in progress, so that a bridge
   * half-way through its network's removal is not taken for damage). Resolves with what
   * was found missing, or undefined.
   */
  async repair(): Promise<string | undefined> {
    return this.#serial(async () => {
      const found = await this.damage();
      if (found !== undefined) await this.#reconcile();
      return found;
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#admin.then(fn);
    this.#admin = run.catch(() => undefined);
    return run;
  }

  // --- attach and detach --------------------------------------------------------------

  /** @internal Network.attach; `via` marks the parts of an attach with a gateway network. */
  async attach(networkId: string, target: Netns | NewContainer, input: AttachOptions, via?: { forGateway?: boolean }): Promise<AttachedEndpoint> {
    const t = checkTarget(target);
    const opts = checkAttach(input);
    // From memory when known: the attach's transaction catches up with other processes
    // and refuses a network they removed (one PRAGMA fewer per attach).
    const net = this.#open().networks.get(networkId) ?? this.#find(networkId);
    const driver = this.#driver(net);
    if (opts.gatewayNetwork !== undefined || opts.gatewayIfname !== undefined) {
      if (!driver.features.gatewayNetwork) throw new TypeError(`gatewayNetwork and gatewayIfname are for networks that have one (not ${net.driver})`);
      if (opts.gatewayNetwork !== undefined) return this.#attachWithGateway(net, t, opts);
    }
    if (opts.publish.length > 0 && !driver.features.ports) {
      throw new TypeError(driver.features.gatewayNetwork
        ? `a ${net.driver} container publishes ports through its gatewayNetwork`
        : `a ${net.driver} container has no host side to publish ports on`);
    }
    checkFamilies(net, opts);
    // A driver that cannot make the namespace in its own call gets one made first. One
    // that can gets it begun now: the namespace thread makes it while the attach is
    // recorded (the record still comes before anything of the network's exists in the
    // kernel: the driver's batches wait for it), and the driver's batches go to the same
    // native operation.
    const creating = t.create;
    let made: Netns | undefined;
    if (creating && !driver.features.create) {
      made = await Netns.create(creating.name, t.netnsOptions);
      t.netns = made;
      delete t.create;
    } else if (creating) {
      t.create = { ...creating, begun: beginNetns(creating.name, t.netnsOptions) };
    }
    try {
      const ep = await this.#attachOne(net, driver, t, opts, via);
      return made ? { ...ep, netns: made } : ep;
    } catch (e) {
      // Refused before the driver sent anything (the record's checks, an address or a
      // port taken): the begun namespace is deleted again.
      await t.create?.begun?.abort();
      if (made) {
        made.close();
        await Netns.delete(creating!.name, t.netnsOptions).catch(() => undefined);
      }
      throw e;
    }
  }

  async #attachOne(net: NetworkInfo, driver: NetworkDriver, t: CheckedTarget, opts: CheckedAttach, via?: { forGateway?: boolean }): Promise<AttachedEndpoint> {
    const netnsId = t.netns ? t.netns.id : '';
    // The kernel reuses a dead namespace's nsfs inode for a new one: endpoints recorded
    // under this identity whose kernel side is gone belonged to a namespace that died
    // without a detach, and must not be taken for this one. Nothing to look up for a
    // namespace nobody recorded (the usual case).
    if (netnsId !== '') await this.#dropDead(netnsId);
    if (t.netns && this.#reaper.pendingFor(netnsId)) {
      // This namespace's previous interface may still be waiting to be reaped under the
      // same name: delete it first.
      await this.#reaper.flush();
    }
    const id = randomId();
    this.#inflight.add(id);
    try {
      return await this.#attachRecorded(net, driver, t, opts, id, netnsId, via);
    } finally {
      this.#inflight.delete(id);
    }
  }

  async #attachRecorded(
    net: NetworkInfo, driver: NetworkDriver, t: CheckedTarget, opts: CheckedAttach, id: string, netnsId: string, via?: { forGateway?: boolean },
  ): Promise<AttachedEndpoint> {
    const st = this.#store;
    const ports = portBindings(opts.publish, net.subnet !== '', net.ipv6Subnet !== undefined).map(portKey);
    // 1. The record, before anything exists in the kernel: address, ports, endpoint.
    const ep = st.write((tx) => {
      if (!st.networks.has(net.id)) throw new NetlinkError({ errno: 2, op: 'network', detail: `no network named ${JSON.stringify(net.name)}` });
      if (netnsId !== '') {
        for (const e of st.endpointsIn(netnsId)) {
          if (e.info.network === net.id) throw new NetlinkError({ errno: 17, op: 'attach', detail: `that namespace is already attached to ${net.name}` });
          if (e.info.ifname === opts.ifname) throw new NetlinkError({ errno: 17, op: 'attach', detail: `the namespace already has an endpoint named ${opts.ifname}` });
        }
      }
      if (opts.key !== undefined) {
        const same = st.endpointsOf(net.id).find((e) => e.info.key === opts.key);
        if (same) throw new NetlinkError({ errno: 17, op: 'attach', detail: `attachment ${JSON.stringify(opts.key)} exists on ${net.name} already (endpoint ${same.info.id})` });
      }
      const pools = poolIds(net.id);
      const ip = net.subnet !== '' ? tx.allocate(pools.v4, id, opts.ip) : '';
      const ip6 = net.ipv6Subnet !== undefined ? tx.allocate(pools.v6, id, opts.ip6) : undefined;
      for (const key of ports) {
        if (!tx.claimPort(key, id)) {
          throw new NetlinkError({ errno: 17, op: 'attach', detail: `host port ${key} is published by endpoint ${st.ports.get(key)} already` });
        }
      }
      const hasDefault = netnsId !== '' && st.endpointsIn(netnsId).some((e) => e.info.defaultRoute);
      const info: EndpointInfo = {
        id,
        network: net.id,
        ...(opts.name !== undefined && { name: opts.name }),
        aliases: opts.aliases,
        ifname: opts.ifname,
        hostIfname: driver.features.hostLink ? `np${id.slice(0, 10)}` : '',
        ip,
        ...(ip6 !== undefined && { ip6 }),
        mac: opts.mac ?? (ip !== '' ? macFromIp(ip) : this.#mac6(net, ip6!)),
        publish: opts.publish,
        ...(t.path !== undefined && { netnsPath: t.path }),
        netnsId,
        ...(opts.hostsFile !== undefined && { hostsFile: opts.hostsFile }),
        ...(opts.hostsFile !== undefined && opts.hostsFileScope === 'members' && { hostsFileScope: 'members' as const }),
        ...(opts.resolvConf !== undefined && { resolvConf: opts.resolvConf }),
        defaultRoute: !net.internal && (opts.defaultRoute ?? !hasDefault),
        ...(via?.forGateway && { forGateway: true }),
        ...(opts.key !== undefined && { key: opts.key }),
      };
      tx.putEndpoint(info, 'attaching', this.#token);
      return info;
    });
    // 2. The kernel: the driver's interface, then the published ports.
    let kernel: Awaited<ReturnType<NetworkDriver['attach']>> | undefined;
    let published = false;
    try {
      const target: AttachTarget = t.create ? { create: t.create } : { netns: t.netns! };
      try {
        kernel = await driver.attach(this.#ctx, net, ep, target);
      } catch (e) {
        const code = (e as NetlinkError).code;
        // The namespace's previous interface of that name may be waiting in the reap group,
        // detached by another controller (another process): delete the group, once, and retry.
        // EXFULL: a Linux bridge takes 1,023 ports, and detached ports waiting in the reap
        // group still count: delete those, once, and retry.
        const retry = (code === 'EEXIST' && t.netns !== undefined) || (code === 'EXFULL' && this.#reaper.pending > 0);
        if (!retry) throw bridgeFull(e, net);
        await this.#reaper.flush();
        kernel = await driver.attach(this.#ctx, net, ep, target).catch((again: unknown) => {
          throw bridgeFull(again, net);
        });
      }
      if (kernel.mac !== undefined) ep.mac = kernel.mac;
      if (kernel.netns) ep.netnsId = kernel.netns.id;
      if (ep.publish.length > 0) {
        this.firewall.publishSync(ep);
        published = true;
      }
      // 3. Done: the record says so.
      st.write((tx) => tx.putEndpoint(ep, 'ready'));
    } catch (e) {
      if (published) {
        try {
          this.firewall.unpublishSync(ep);
        } catch {
          // gc() finds elements pointing at an address nobody holds
        }
      }
      await driver.abort(this.#ctx, net, ep).catch(() => undefined);
      if (kernel?.netns) {
        kernel.netns.close();
        if (t.create) await Netns.delete(t.create.name, t.netnsOptions).catch(() => undefined);
      }
      try {
        st.write((tx) => this.#deleteRows(tx, ep));
      } catch (e2) {
        warn(`could not drop the record of failed attach ${ep.id}: ${(e2 as Error).message}`);
      }
      throw e;
    }
    this.#touchHosts(ep);
    const out: AttachedEndpoint = copyEndpoint(ep);
    if (kernel.netns) out.netns = kernel.netns;
    return out;
  }

  // An attach with a gateway network (the overlay's docker_gwbridge): the endpoint on this
  // network (no default route, no ports), then the container's endpoint on the gateway
  // network (reused if it has one) with the default route and the published ports. A
  // failure leaves neither.
  async #attachWithGateway(net: NetworkInfo, t: CheckedTarget, opts: CheckedAttach): Promise<AttachedEndpoint> {
    const gw = this.#find(opts.gatewayNetwork!);
    if (!this.#driver(gw).features.ports) throw new TypeError(`gatewayNetwork ${gw.name} is not a network with a host side`);
    const gwIfname = checkIfname(opts.gatewayIfname ?? 'eth1', 'gatewayIfname');
    if (gwIfname === opts.ifname) throw new TypeError('gatewayIfname and ifname must differ');
    const { gatewayNetwork: _g, gatewayIfname: _i, publish, ...rest } = opts;
    const ep = await this.attach(net.id, t.create ? { create: t.create.name, ...(t.create.netnsDir !== undefined && { netnsDir: t.create.netnsDir }) } : t.netns!, { ...rest, publish: [] });
    const netns = ep.netns ?? t.netns!;
    let made: EndpointInfo | undefined;
    try {
      const have = this.#store.endpointsIn(ep.netnsId).find((e) => e.info.network === gw.id)?.info;
      if (have && publish.length > 0) {
        throw new NetlinkError({ errno: 17, op: 'attach', detail: `the namespace is on ${gw.name} already; publish its ports there` });
      }
      const g = have ?? (made = await this.attach(gw.id, netns, { ifname: gwIfname, publish }, { forGateway: true }));
      const linked = this.#store.write((tx) => {
        const cur = tx.store.endpoints.get(ep.id);
        if (!cur) throw new NetlinkError({ errno: 2, op: 'attach', detail: 'the endpoint was detached meanwhile' });
        const info = { ...cur.info, gatewayEndpoint: g.id };
        tx.putEndpoint(info, cur.phase, cur.holder);
        return info;
      });
      return ep.netns ? { ...linked, netns: ep.netns } : linked;
    } catch (e) {
      // Rolled back, not detached: what this attach made is deleted now, not reaped later.
      for (const x of [ep, made]) {
        const stored = x && this.#store.endpoints.get(x.id);
        if (stored) await this.#undo(stored);
      }
      if (ep.netns) {
        ep.netns.close();
        if (t.create) await Netns.delete(t.create.name, t.netnsOptions).catch(() => undefined);
      }
      throw e;
    }
  }

  /** @internal Network.detach: idempotent; a gone namespace or link is fine. Returns the endpoint it removed. */
  async detach(networkId: string, target: Netns | EndpointInfo | string | { key: string }): Promise<EndpointInfo | undefined> {
    // A closed handle no longer says which namespace it was: detaching "nothing" would
    // leave the endpoint behind without a word.
    if (target instanceof Netns && target.closed) {
      throw new TypeError('detach: the namespace handle is closed; detach by endpoint or endpoint id');
    }
    const net = this.#find(networkId);
    const st = this.#store;
    let stored: StoredEndpoint | undefined;
    if (target instanceof Netns) {
      const nid = target.id;
      stored = st.endpointsIn(nid).find((e) => e.info.network === net.id);
    } else if (typeof target === 'object' && target !== null && !('id' in target) && 'key' in target) {
      const key = checkKey(target.key);
      stored = st.endpointsOf(net.id).find((e) => e.info.key === key);
    } else {
      const id = typeof target === 'string' ? target : (target as EndpointInfo | undefined)?.id;
      if (typeof id !== 'string') throw new TypeError('detach needs a Netns, an endpoint or an endpoint id');
      const e = st.endpoints.get(id);
      if (e?.info.network === net.id) stored = e;
    }
    if (!stored) return undefined;
    if (stored.phase !== 'ready' && this.#busy(stored)) {
      throw new NetlinkError({ errno: 16, op: 'detach', detail: `endpoint ${stored.info.id} is being ${stored.phase === 'attaching' ? 'attached' : 'detached'}` });
    }
    this.#inflight.add(stored.info.id);
    try {
      return await this.#detachRecorded(net, stored, target);
    } finally {
      this.#inflight.delete(stored.info.id);
    }
  }

  async #detachRecorded(net: NetworkInfo, stored: StoredEndpoint, target: Netns | EndpointInfo | string | { key: string }): Promise<EndpointInfo> {
    const st = this.#store;
    const ep = stored.info;
    // 1. Recorded as going away: an open() elsewhere leaves it to us (or finishes it if we die).
    st.write((tx) => {
      const cur = tx.store.endpoints.get(ep.id);
      if (cur) tx.putEndpoint(cur.info, 'detaching', this.#token);
    });
    // 2. The kernel: ports unpublished, the endpoint unreachable (its link to the reaper).
    const driver = this.#driver(net);
    try {
      if (ep.publish.length > 0) this.firewall.unpublishSync(ep);
      if (await driver.detach(this.#ctx, net, ep, target instanceof Netns ? target : undefined)) this.#reaper.add(ep.netnsId);
    } catch (e) {
      st.write((tx) => {
        const cur = tx.store.endpoints.get(ep.id);
        if (cur) tx.putEndpoint(cur.info, 'ready');
      });
      if (ep.publish.length > 0) this.firewall.republish([ep]);
      throw e;
    }
    if (ep.publish.length > 0) await this.#flushConntrack(ep);
    // 3. Gone: address and ports free.
    st.write((tx) => this.#deleteRows(tx, ep));
    this.#touchHosts(ep, true);
    // The gateway endpoint an attach made goes with the last endpoint using it.
    const gwId = ep.gatewayEndpoint;
    const gw = gwId === undefined ? undefined : st.endpoints.get(gwId)?.info;
    if (gw?.forGateway && ![...st.endpoints.values()].some((e) => e.info.gatewayEndpoint === gwId)) await this.detach(gw.network, gw.id);
    return copyEndpoint(ep);
  }

  // Endpoints recorded under this namespace identity whose kernel side is gone (see
  // #attachOne): one link lookup for each, none when there are none.
  async #dropDead(netnsId: string): Promise<void> {
    const same = this.#store.endpointsIn(netnsId).filter((e) => e.phase === 'ready');
    if (same.length === 0) return;
    const links = new Map<string, { index: number; group?: number }>();
    for (const e of same) {
      if (e.info.hostIfname === '') continue;
      const l = await this.host.links.get(e.info.hostIfname).catch((err: NetlinkError) => {
        if (err.code === 'ENODEV') return undefined;
        throw err;
      });
      if (l) links.set(l.name, { index: l.index, ...(l.group !== undefined && { group: l.group }) });
    }
    for (const e of same) {
      const net = this.#store.networks.get(e.info.network);
      if (!net || !(await this.#driver(net).alive(this.#ctx, net, e.info, links))) await this.#forget(e.info);
    }
  }

  // --- names --------------------------------------------------------------------------

  /**
   * Hosts-file content for a container namespace (a Netns, or its id): localhost and its
   * own names (scope 'own', the default, as Docker's file on user-defined networks), and
   * with scope 'members' the names of every member of its user-defined networks too (the
   * default network has no name resolution, as in Docker); a line for each IPv4 and IPv6
   * address.
   */
  hostsFor(netns: Netns | string, opts: { scope?: 'own' | 'members' } = {}): string {
    const netnsId = typeof netns === 'string' ? netns : netns.id;
    const st = this.#open();
    st.sync();
    const mine = st.endpointsIn(netnsId).filter((e) => e.phase !== 'attaching').map((e) => e.info);
    // One line per address, IPv4 first, then IPv6 (glibc asks for IPv6 first: a name the
    // file has only for IPv4 would go on to DNS for its AAAA).
    const lines = (e: EndpointInfo): { ip: string; names: string[] }[] => {
      const names = [...(e.name ? [e.name] : []), ...e.aliases];
      const out = e.ip !== '' ? [{ ip: e.ip, names }] : [];
      if (e.ip6 !== undefined) out.push({ ip: e.ip6, names });
      return out;
    };
    const self = mine.flatMap(lines);
    const peers: { ip: string; names: string[] }[] = [];
    if (opts.scope === 'members') {
      for (const e of mine) {
        const net = st.networks.get(e.network);
        if (!net || net.isDefault) continue;
        for (const p of st.endpointsOf(net.id)) {
          if (p.info.netnsId === netnsId || p.phase === 'attaching') continue;
          peers.push(...lines(p.info));
        }
      }
    }
    return hostsFileContent(self, peers);
  }

  /**
   * resolv.conf content for a container namespace (a Netns, or its id): a `nameserver`
   * for the gateway of each of its networks where the DNS resolver answers (user-defined
   * networks whose gateway is an address of the host: bridge networks; see docs/dns.md),
   * at most three (glibc reads three); `search` and `options` as the host's
   * /etc/resolv.conf has them (or as given), with `ndots:0` so that a container name is
   * asked as it is first. A container on none of those networks gets the host's
   * nameservers that it can reach (not the host's loopback ones), as Docker's default
   * bridge does.
   */
  resolvConfFor(netns: Netns | string, opts: { search?: string[]; options?: string[]; hostResolvConf?: string } = {}): string {
    const netnsId = typeof netns === 'string' ? netns : netns.id;
    const st = this.#open();
    st.sync();
    const gateways: string[] = [];
    for (const e of st.endpointsIn(netnsId)) {
      if (e.phase === 'attaching') continue;
      const net = st.networks.get(e.info.network);
      if (!net || !servesDns(net)) continue;
      gateways.push(net.gateway);
      if (net.ipv6Gateway !== undefined && e.info.ip6 !== undefined) gateways.push(net.ipv6Gateway);
    }
    return resolvConfContent(gateways, opts);
  }

  /** Resolves when every hosts file is written as of the last change. */
  flushHosts(): Promise<void> {
    return this.#hosts.flush();
  }

  /** @internal The state store (the DNS resolver follows it). */
  get stateStore(): NetworkStore {
    return this.#open();
  }

  // A change to `ep` concerns its container's own files (its hosts file and resolv.conf:
  // O(1)), also after a detach, so that they lose that network; and the all-members hosts
  // files of its network's members that keep one (opt-in): nothing, in O(1), when none does.
  #touchHosts(ep: EndpointInfo, removed = false): void {
    const st = this.#store;
    const mine = st.endpointsIn(ep.netnsId);
    if (removed) {
      // Its own files go with the last endpoint using them.
      for (const f of [ep.hostsFile, ep.resolvConf]) {
        if (f !== undefined && !mine.some((e) => e.info.hostsFile === f || e.info.resolvConf === f)) this.#hosts.remove(f);
      }
    }
    if (mine.some((e) => e.info.hostsFile !== undefined || e.info.resolvConf !== undefined)) this.#hosts.touchNetns(ep.netnsId);
    if (st.hostsFileEndpoints(ep.network).length > 0) this.#hosts.touch([ep.network]);
    // A member whose all-members file is kept by its endpoint on another network lists
    // this network's names too. Looked for only when some endpoint keeps such a file
    // (an opt-in): the default path stays free of a walk over the members.
    if (st.hasMembersFiles()) {
      for (const e of st.endpointsOf(ep.network)) {
        const id = e.info.netnsId;
        if (id === ep.netnsId) continue;
        const keeps = st.endpointsIn(id).some((o) => o.info.network !== ep.network && o.info.hostsFile !== undefined && o.info.hostsFileScope === 'members');
        if (keeps) this.#hosts.touchNetns(id);
      }
    }
  }

  // The files to rewrite: the all-members hosts files of these networks, and every file
  // of these namespaces.
  *#containerFiles(networks: ReadonlySet<string>, netnsIds: ReadonlySet<string>): Iterable<ContainerFile> {
    const st = this.#store;
    const seen = new Set<string>();
    const hosts = (netnsId: string, file: string): ContainerFile => ({
      file,
      content: () => {
        const members = st.endpointsIn(netnsId).some((e) => e.info.hostsFile === file && e.info.hostsFileScope === 'members');
        return this.hostsFor(netnsId, { scope: members ? 'members' : 'own' });
      },
    });
    for (const net of networks) {
      for (const e of st.hostsFileEndpoints(net)) {
        const f = e.info.hostsFile!;
        if (e.phase === 'attaching' || seen.has(f)) continue;
        seen.add(f);
        yield hosts(e.info.netnsId, f);
      }
    }
    for (const id of netnsIds) {
      for (const e of st.endpointsIn(id)) {
        if (e.phase === 'attaching') continue;
        const { hostsFile, resolvConf } = e.info;
        if (hostsFile !== undefined && !seen.has(hostsFile)) {
          seen.add(hostsFile);
          yield hosts(id, hostsFile);
        }
        if (resolvConf !== undefined && !seen.has(resolvConf)) {
          seen.add(resolvConf);
          yield { file: resolvConf, content: () => this.resolvConfFor(id) };
        }
      }
    }
  }

  // --- modes --------------------------------------------------------------------------

  #modeContext(): ModeContext {
    return {
      host: this.host,
      netnsOptions: this.#opts.netnsDir === undefined ? {} : { netnsDir: this.#opts.netnsDir },
      endpoint: (id) => {
        this.#open().sync();
        return this.#store.endpoints.get(id)?.info;
      },
      warn,
    };
  }

  /** Host mode: the container uses the host's namespace; publishing does not apply. */
  hostMode(opts: { publish?: PortMapping[] } = {}): Promise<Netns> {
    return hostMode.join(this.#modeContext(), opts);
  }

  /** None mode: a new namespace with only lo, up. Named when a name is given. */
  noneMode(name?: string): Promise<Netns> {
    return noneMode.join(this.#modeContext(), name);
  }

  /** Container mode: join the namespace of an existing endpoint (ENOENT if it is gone). */
  containerMode(endpoint: EndpointInfo | string): Promise<Netns> {
    return containerMode.join(this.#modeContext(), endpoint);
  }

  // --- gc -----------------------------------------------------------------------------

  /**
   * Deletes the host-side links of detached endpoints now (one RTM_DELLINK of the reap
   * group) instead of within the next few milliseconds; resolves with how many of this
   * controller's links it covered, once the kernel has deleted them.
   */
  reap(): Promise<number> {
    this.#open();
    return this.#reaper.flush();
  }

  /**
   * Collects what nothing claims: endpoint records of dead processes undone, the reap
   * group deleted, host links carrying this owner's tag that no network or endpoint
   * claims, and nftables elements of unknown endpoints. Returns what it removed.
   */
  async gc(): Promise<GcResult> {
    return this.#serial(async () => {
      const st = this.#open();
      st.sync();
      let records = 0;
      for (const stored of [...st.endpoints.values()]) {
        if (stored.phase === 'ready' || this.#busy(stored)) continue;
        await this.#undo(stored);
        records++;
      }
      const reaped = await this.#reaper.flush();
      const claimed = new Set<string>();
      for (const net of st.networks.values()) {
        for (const name of this.#driver(net).hostLinks(net, st.endpointsOf(net.id).map((e) => e.info))) claimed.add(name);
      }
      const removed: string[] = [];
      for (const l of await this.host.links.list()) {
        if (!l.alias?.startsWith(`${this.owner}:`) || claimed.has(l.name)) continue;
        await this.host.links.delete(l.index).catch(() => undefined);
        removed.push(l.name);
      }
      const eps = [...st.endpoints.values()].map((e) => e.info);
      const elements = await this.firewall.gc([...st.networks.values()], eps);
      return { links: removed, elements, reaped, records };
    });
  }
}

// --- input -------------------------------------------------------------------------

/** An endpoint the caller may change without touching the state (its arrays copied too). */
function copyEndpoint(ep: EndpointInfo): EndpointInfo {
  return { ...ep, aliases: [...ep.aliases], publish: ep.publish.map((p) => ({ ...p, ...(Array.isArray(p.hostPort) && { hostPort: [...p.hostPort] as [number, number] }) })) };
}

interface CheckedTarget {
  netns?: Netns;
  create?: AttachTarget['create'];
  /** The namespace's path, when it has one (named, or /proc/PID/ns/net). */
  path?: string;
  netnsOptions: NetnsOptions;
}

function checkTarget(target: Netns | NewContainer): CheckedTarget {
  if (target instanceof Netns) {
    if (target.closed) throw new TypeError('attach: the namespace handle is closed');
    return { netns: target, ...(target.path !== undefined && { path: target.path }), netnsOptions: {} };
  }
  if (typeof target !== 'object' || target === null) throw new TypeError('attach needs a Netns handle or { create: name }');
  const o = own(target, 'container');
  if (typeof o.create !== 'string') throw new TypeError('attach needs a Netns handle or { create: name }');
  const netnsOptions: NetnsOptions = o.netnsDir === undefined ? {} : { netnsDir: o.netnsDir };
  const name = checkNetnsName(o.create);
  // The path the namespace will have, as Netns.create(name) gives it.
  const dir = checkPath(o.netnsDir ?? defaultNetnsDir(), 'netnsDir');
  return { create: { name, ...(o.netnsDir !== undefined && { netnsDir: dir }) }, path: path.join(dir, name), netnsOptions };
}

// The hosts file and resolv.conf are written later, off the attach's path: a path that
// can never be written is refused now (its nearest existing ancestor must be a writable directory).
function checkWritable(file: string): void {
  let dir = path.dirname(file);
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (st) {
      if (!st.isDirectory()) throw new NetlinkError({ errno: 20, op: 'attach', detail: `${file}: ${dir} is not a directory` });
      accessSync(dir, fsc.W_OK);
      return;
    }
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

type CheckedAttach = Omit<AttachOptions, 'publish' | 'aliases' | 'ifname'> & { ifname: string; aliases: string[]; publish: PortMapping[] };

/** The address families a network gives its containers. */
function familiesOfNetwork(net: NetworkInfo): { v4: boolean; v6: boolean } {
  return { v4: net.subnet !== '', v6: net.ipv6Subnet !== undefined };
}

// Static addresses and published ports of families the network has (TypeError before
// anything is recorded or sent).
function checkFamilies(net: NetworkInfo, opts: CheckedAttach): void {
  const fam = familiesOfNetwork(net);
  if (opts.ip !== undefined && !fam.v4) throw new TypeError(`ip: network ${net.name} has no IPv4 (give ip6)`);
  if (opts.ip6 !== undefined && !fam.v6) throw new TypeError(`ip6: network ${net.name} has no IPv6`);
  checkPortFamilies(opts.publish, fam, net.name);
}

function checkAttach(input: AttachOptions): CheckedAttach {
  const opts = own(input, 'attach options');
  const ifname = checkIfname(opts.ifname ?? 'eth0', 'ifname');
  if (!Array.isArray(opts.aliases ?? [])) throw new TypeError('aliases must be an array');
  const aliases = (opts.aliases ?? []).map((a, i) => checkHostName(a, `aliases[${i}]`));
  const out: CheckedAttach = { ifname, aliases, publish: checkPorts(opts.publish) };
  if (opts.name !== undefined) out.name = checkHostName(opts.name, 'name');
  if (opts.mac !== undefined) out.mac = checkMac(opts.mac);
  if (opts.ip !== undefined) {
    if (typeof opts.ip !== 'string') throw new TypeError('ip must be an address');
    out.ip = opts.ip;
  }
  if (opts.ip6 !== undefined) {
    const v = parseIp(opts.ip6, 'ip6');
    if (v.family !== 6) throw new TypeError(`ip6 must be an IPv6 address, got ${opts.ip6}`);
    out.ip6 = normalizeIp(opts.ip6);
  }
  for (const k of ['hostsFile', 'resolvConf'] as const) {
    const f = opts[k];
    if (f === undefined) continue;
    if (typeof f !== 'string' || !f.startsWith('/')) throw new TypeError(`${k} must be an absolute path`);
    checkWritable(f);
    out[k] = f;
  }
  if (opts.hostsFileScope !== undefined) {
    if (opts.hostsFileScope !== 'own' && opts.hostsFileScope !== 'members') throw new TypeError("hostsFileScope must be 'own' or 'members'");
    out.hostsFileScope = opts.hostsFileScope;
  }
  if (opts.defaultRoute !== undefined) {
    if (typeof opts.defaultRoute !== 'boolean') throw new TypeError('defaultRoute must be a boolean');
    out.defaultRoute = opts.defaultRoute;
  }
  if (opts.gatewayNetwork !== undefined) {
    if (typeof opts.gatewayNetwork !== 'string') throw new TypeError('gatewayNetwork must be the name of a bridge network');
    out.gatewayNetwork = opts.gatewayNetwork;
  }
  if (opts.gatewayIfname !== undefined) out.gatewayIfname = checkIfname(opts.gatewayIfname, 'gatewayIfname');
  if (opts.key !== undefined) out.key = checkKey(opts.key);
  return out;
}

const KEY_RE = /^[\x21-\x7e][\x20-\x7e]{0,511}$/;

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY_RE.test(key)) throw new TypeError('key must be 1-512 printable ASCII characters, not starting with a space');
  return key;
}

/** A bridge that has all the ports it can take (EXFULL) says so, and which network's it is. */
function bridgeFull(e: unknown, net: NetworkInfo): unknown {
  if (!(e instanceof NetlinkError) || e.code !== 'EXFULL') return e;
  return new NetlinkError({
    errno: e.errno,
    op: e.op,
    ...(e.step !== undefined && { step: e.step }),
    detail: `network "${net.name}": its bridge has all the ports a Linux bridge takes (1,023); detach containers or spread them over more networks`,
  });
}
