// Docker's single-host network model on top of the namespace, link, sysctl and
// nftables layers: bridge networks (a default one like docker0, and user-defined ones
// with name resolution), endpoints (a veth into a container namespace), published
// ports, and the host / none / container modes. The overlay and macvlan drivers
// (overlay.ts, macvlan.ts) plug into the same attach, detach, IPAM and state machinery.
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { attachVeth } from '../attach';
import { NetlinkError } from '../errors';
import { Netns, type NetnsOptions } from '../netns';
import type { Link } from '../types';
import { checkIfname, checkMac, own } from '../validate';
import { Firewall } from './firewall';
import { checkPorts, conntrackFilters } from './ports';
import { checkHostName, hostsFileContent, writeFileAtomic } from './hosts';
import { AddressPool, type AddressPoolState, contains, macFromIp, overlaps, parseCidr, pickSubnet } from './ipam';
import { StateStore } from './store';
import { nsIdOf, type CreatedNetwork } from './drivers';
import {
  attachMacvlanEndpoint, checkMacvlanOptions, createMacvlan, detachMacvlanEndpoint, macvlanChildIn, macvlanEndpointGone,
} from './macvlan';
import {
  addPeer, addRemoteEndpoint, checkOverlayOptions, createOverlay, ensureOverlay, removeOverlay, removePeer, removeRemoteEndpoint,
} from './overlay';
import type {
  AttachOptions, BridgeNetworkOptions, EndpointInfo, MacvlanNetworkOptions, NetworkInfo, NetworkOptions, OverlayNetworkOptions,
  PortMapping, RemoteEndpoint,
} from './types';

/** Options of Networks.open. */
export interface NetworksOptions extends NetnsOptions {
  /** Where networks and endpoints are persisted (created if missing). */
  stateDir: string;
  /** The namespace bridges live in and ports are published on; default the caller's own. */
  host?: Netns;
  /** Owner tag: the nftables table name and the prefix of link aliases. Default 'netplumb'. */
  owner?: string;
  /** Name of the default network's bridge (default 'np0'; docker0 in Docker). */
  defaultBridge?: string;
  /** Subnet of the default network (default 172.17.0.0/16, as docker0). */
  defaultSubnet?: string;
}

interface State {
  networks: NetworkInfo[];
  endpoints: EndpointInfo[];
  pools: Record<string, AddressPoolState>;
}

const STATE_KEY = 'networks';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const OWNER_RE = /^[a-z][a-z0-9_]{0,31}$/;

function hex(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/**
 * The network controller: networks, endpoints and their persisted state for one host
 * namespace and owner. Open with Networks.open; close() releases its handles (the
 * networks stay).
 */
export class Networks {
  readonly owner: string;
  readonly host: Netns;
  readonly firewall: Firewall;
  readonly #store: StateStore;
  readonly #opts: NetworksOptions;
  readonly #ownHost: boolean;
  #state: State = { networks: [], endpoints: [], pools: {} };
  readonly #pools = new Map<string, AddressPool>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(opts: NetworksOptions, host: Netns, ownHost: boolean, store: StateStore) {
    this.owner = opts.owner ?? 'netplumb';
    this.host = host;
    this.#ownHost = ownHost;
    this.#opts = opts;
    this.#store = store;
    this.firewall = new Firewall(host, this.owner);
  }

  /**
   * Opens the controller: loads the persisted state and reconciles it with the kernel
   * (missing bridges, the nftables table, each bridge network's chains and every
   * endpoint's published ports re-made; endpoints whose host-side veth is gone are
   * dropped and their addresses and ports released). Several controllers may share a
   * state directory: each rereads the state under the lock when another changed it.
   */
  static async open(input: NetworksOptions): Promise<Networks> {
    if (typeof input !== 'object' || input === null) throw new TypeError('Networks.open needs options');
    const opts = own(input, 'Networks.open options');
    if (typeof opts.stateDir !== 'string' || opts.stateDir.length === 0) throw new TypeError('stateDir must be a directory path');
    if (opts.owner !== undefined && !OWNER_RE.test(opts.owner)) throw new TypeError('owner must match [a-z][a-z0-9_]{0,31}');
    if (opts.defaultBridge !== undefined) checkIfname(opts.defaultBridge, 'defaultBridge');
    const store = await StateStore.open(opts.stateDir);
    const ownHost = opts.host === undefined;
    const host = opts.host ?? (await Netns.current());
    const n = new Networks(opts, host, ownHost, store);
    try {
      await n.#serial(() => n.#load());
    } catch (e) {
      if (ownHost) host.close();
      throw e;
    }
    return n;
  }

  /** Releases the controller's own handles; networks, endpoints and rules stay. */
  close(): void {
    if (this.#ownHost) this.host.close();
  }

  // One request at a time per controller, and one process at a time per state directory:
  // allocation, kernel changes and the state file move together.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() =>
      this.#store.withLock(async () => {
        await this.#refresh();
        return fn();
      }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // The state file as last read or written by this controller (mtime, size, inode: an
  // atomic write makes a new inode), to notice another process's changes.
  #stamp = '';

  async #stampNow(): Promise<string> {
    const st = await stat(this.#store.pathOf(STATE_KEY)).catch(() => undefined);
    return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : '';
  }

  // Rereads the state when another process changed it since (under the lock, so what
  // we read is what every later step builds on).
  async #refresh(): Promise<boolean> {
    const now = await this.#stampNow();
    if (now === this.#stamp) return false;
    await this.#read();
    return true;
  }

  async #read(): Promise<State | undefined> {
    const s = await this.#store.load<State>(STATE_KEY);
    this.#state = s ?? { networks: [], endpoints: [], pools: {} };
    this.#pools.clear();
    for (const net of this.#state.networks) {
      const saved = this.#state.pools[net.id];
      this.#pools.set(net.id, saved ? AddressPool.fromJSON(saved) : this.#newPool(net));
    }
    this.#stamp = await this.#stampNow();
    return s;
  }

  async #load(): Promise<void> {
    const s = await this.#read();
    // Re-make what the kernel may have lost (a reboot, someone's flush): the table, each
    // network's bridge and chains, and every endpoint's published ports.
    await this.firewall.ensureBase();
    for (const net of this.#state.networks) {
      if (net.driver === 'overlay') {
        // One overlay whose underlay is gone must not keep every other network down.
        await ensureOverlay(this.host, this.owner, net, this.endpointsOf(net.id)).catch((e: Error) => {
          process.emitWarning(`netplumb: overlay network ${net.name} not reconciled: ${e.message}`, 'NetplumbWarning');
        });
      } else if (net.driver !== 'macvlan') {
        await this.#ensureBridge(net);
        await this.firewall.addNetwork(net);
      }
    }
    // Endpoints whose host-side veth vanished (container namespace destroyed) are stale;
    // a macvlan endpoint has no host side and is stale when its namespace or child is gone.
    const links = new Set((await this.host.links.list()).map((l) => l.name));
    const macvlans = new Set(this.#state.networks.filter((n) => n.driver === 'macvlan').map((n) => n.id));
    const stale: EndpointInfo[] = [];
    for (const e of this.#state.endpoints) {
      if (macvlans.has(e.network) ? await macvlanEndpointGone(e) : !links.has(e.hostIfname)) stale.push(e);
    }
    for (const ep of stale) await this.#forget(ep);
    for (const ep of this.#state.endpoints) {
      const net = this.#state.networks.find((n) => n.id === ep.network);
      if (net) await this.firewall.publish(net, ep, { exclusive: false });
    }
    if (stale.length > 0 || !s) await this.#save();
  }

  #newPool(net: NetworkInfo): AddressPool {
    return new AddressPool(net.subnet, { gateway: net.gateway, ...(net.ipRange && { range: net.ipRange }) });
  }

  async #save(): Promise<void> {
    for (const [id, pool] of this.#pools) this.#state.pools[id] = pool.toJSON();
    await this.#store.save(STATE_KEY, this.#state);
    this.#stamp = await this.#stampNow();
  }

  /**
   * Rereads the state if another controller (process) changed it. Every change
   * (create, attach, detach, remove, gc) does this under the lock by itself; list(),
   * inspect() and get() answer from the state as last read.
   */
  async refresh(): Promise<void> {
    await this.#serial(async () => undefined);
  }

  /** Every network. */
  list(): NetworkInfo[] {
    return this.#state.networks.map((n) => structuredClone(n));
  }

  /** A network's details and its endpoints. */
  inspect(name: string): NetworkInfo & { endpoints: EndpointInfo[] } {
    const net = this.#find(name);
    return { ...structuredClone(net), endpoints: this.#state.endpoints.filter((e) => e.network === net.id).map((e) => structuredClone(e)) };
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
    return net.driver === 'overlay' ? new OverlayNetwork(this, net.id) : new Network(this, net.id);
  }

  #find(nameOrId: string): NetworkInfo {
    const net = this.#state.networks.find((n) => n.name === nameOrId || n.id === nameOrId);
    if (!net) throw new NetlinkError({ errno: 2, op: 'network', detail: `no network named ${JSON.stringify(nameOrId)}` });
    return net;
  }

  /** @internal */
  info(id: string): NetworkInfo {
    return this.#find(id);
  }

  /** @internal */
  endpointsOf(id: string): EndpointInfo[] {
    return this.#state.endpoints.filter((e) => e.network === id);
  }

  /** The default network (like docker0: 172.17.0.0/16, no name resolution), created on first use. */
  async defaultNetwork(): Promise<Network> {
    const existing = this.#state.networks.find((n) => n.isDefault);
    if (existing) return new Network(this, existing.id);
    return this.#create(
      { name: 'bridge', bridge: this.#opts.defaultBridge ?? 'np0', subnet: this.#opts.defaultSubnet ?? '172.17.0.0/16' },
      true,
    );
  }

  /**
   * Creates a network. The bridge driver (the default): a user-defined bridge network
   * (bridge, gateway address, sysctls, nftables chains). 'overlay': this host's half of
   * a VXLAN overlay (see OverlayNetworkOptions). 'macvlan': containers get macvlan
   * children of a parent link (see MacvlanNetworkOptions).
   */
  create(opts: OverlayNetworkOptions): Promise<OverlayNetwork>;
  create(opts: BridgeNetworkOptions | MacvlanNetworkOptions): Promise<Network>;
  create(opts: NetworkOptions): Promise<Network>;
  async create(opts: NetworkOptions): Promise<Network> {
    const driver = (opts as { driver?: unknown } | null)?.driver;
    if (driver === 'overlay' || driver === 'macvlan') return this.#createDriven(opts as OverlayNetworkOptions | MacvlanNetworkOptions);
    if (driver !== undefined && driver !== 'bridge') throw new TypeError(`driver must be bridge, overlay or macvlan, got ${String(driver)}`);
    return this.#create(opts as BridgeNetworkOptions, false);
  }

  // Overlay and macvlan networks: options checked before anything is sent; the driver
  // checks the host and builds what it needs (leaving nothing if it fails); the network
  // and its pool join the state.
  async #createDriven(opts: OverlayNetworkOptions | MacvlanNetworkOptions): Promise<Network> {
    if (typeof opts.name !== 'string' || !NAME_RE.test(opts.name)) {
      throw new TypeError(`network name must match ${NAME_RE}, got ${JSON.stringify(opts.name)}`);
    }
    const checked = opts.driver === 'overlay' ? { overlay: checkOverlayOptions(opts) } : { macvlan: checkMacvlanOptions(opts) };
    return this.#serial(async () => {
      if (this.#state.networks.some((n) => n.name === opts.name)) {
        throw new NetlinkError({ errno: 17, op: 'network', detail: `network ${JSON.stringify(opts.name)} already exists` });
      }
      const id = hex(`${this.owner}/${opts.name}/${randomBytes(8).toString('hex')}`, 64);
      const base = { id, name: opts.name, labels: {}, created: new Date().toISOString() };
      const made: CreatedNetwork = checked.overlay
        ? await createOverlay(this.host, this.owner, base, checked.overlay, this.#state.networks)
        : await createMacvlan(this.host, base, checked.macvlan!, this.#state.networks);
      this.#pools.set(id, made.pool);
      this.#state.networks.push(made.info);
      try {
        await this.#save();
      } catch (e) {
        this.#state.networks = this.#state.networks.filter((n) => n.id !== id);
        this.#pools.delete(id);
        if (made.info.driver === 'overlay') await removeOverlay(this.host, made.info).catch(() => undefined);
        throw e;
      }
      return this.#handle(made.info);
    });
  }

  /** @internal OverlayNetwork's control-plane calls: one at a time with everything else, state saved after. */
  async overlayOp(id: string, op: (host: Netns, net: NetworkInfo, pool: AddressPool) => Promise<void>): Promise<void> {
    return this.#serial(async () => {
      const net = this.#find(id);
      if (net.driver !== 'overlay' || !net.overlay) throw new TypeError(`network ${net.name} is not an overlay network`);
      await op(this.host, net, this.#pools.get(net.id)!);
      await this.#save();
    });
  }

  async #create(input: BridgeNetworkOptions, isDefault: boolean): Promise<Network> {
    const opts = own(input, 'network options');
    if (typeof opts.name !== 'string' || !NAME_RE.test(opts.name)) {
      throw new TypeError(`network name must match ${NAME_RE}, got ${JSON.stringify(opts.name)}`);
    }
    const bool = (v: unknown, w: string, d: boolean) => {
      if (v === undefined) return d;
      if (typeof v !== 'boolean') throw new TypeError(`${w} must be a boolean`);
      return v;
    };
    const masquerade = bool(opts.masquerade, 'masquerade', true);
    const icc = bool(opts.icc, 'icc', true);
    const internal = bool(opts.internal, 'internal', false);
    if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 65535)) {
      throw new RangeError(`mtu must be an integer in 68..65535, got ${opts.mtu}`);
    }
    if (opts.labels !== undefined && (typeof opts.labels !== 'object' || opts.labels === null || Object.values(opts.labels).some((v) => typeof v !== 'string'))) {
      throw new TypeError('labels must map strings to strings');
    }
    if (opts.bridge !== undefined) checkIfname(opts.bridge, 'bridge');
    const subnetIn = opts.subnet === undefined ? undefined : parseCidr(opts.subnet, 'subnet');
    if (subnetIn && subnetIn.family !== 4) throw new TypeError('subnet must be IPv4 (use ipv6Subnet for IPv6)');
    const v6 = opts.ipv6Subnet === undefined ? undefined : parseCidr(opts.ipv6Subnet, 'ipv6Subnet');
    if (v6 && v6.family !== 6) throw new TypeError('ipv6Subnet must be IPv6');

    return this.#serial(async () => {
      if (this.#state.networks.some((n) => n.name === opts.name)) {
        throw new NetlinkError({ errno: 17, op: 'network', detail: `network ${JSON.stringify(opts.name)} already exists` });
      }
      const id = hex(`${this.owner}/${opts.name}/${randomBytes(8).toString('hex')}`, 64);
      const bridge = opts.bridge ?? `br-${id.slice(0, 12)}`;
      if (this.#state.networks.some((n) => n.bridge === bridge)) {
        throw new NetlinkError({ errno: 17, op: 'network', detail: `bridge ${bridge} belongs to another network` });
      }
      // Subnets routed on the host or held by another network are off limits.
      const routed = (await this.host.routes.list({ family: 4, table: 'all' }))
        .filter((r) => r.dst !== 'default' && r.type === 'unicast')
        .map((r) => r.dst);
      const used = [...routed, ...this.#state.networks.map((n) => n.subnet)];
      let subnet: string;
      if (subnetIn) {
        const clash = this.#state.networks.find((n) => overlaps(n.subnet, subnetIn.cidr));
        if (clash) throw new NetlinkError({ errno: 17, op: 'network', detail: `subnet ${subnetIn.cidr} overlaps network ${clash.name} (${clash.subnet})` });
        subnet = subnetIn.cidr;
      } else {
        subnet = pickSubnet({ avoid: used });
      }
      if (opts.ipRange !== undefined && !contains(subnet, opts.ipRange)) throw new RangeError(`ipRange ${opts.ipRange} is not inside ${subnet}`);
      const probe = new AddressPool(subnet, { ...(opts.gateway !== undefined && { gateway: opts.gateway }), ...(opts.ipRange && { range: opts.ipRange }) });
      const mtu = opts.mtu ?? (await this.#defaultMtu());
      const net: NetworkInfo = {
        id,
        name: opts.name,
        driver: 'bridge',
        bridge,
        subnet,
        gateway: probe.gateway!,
        ...(opts.ipRange && { ipRange: opts.ipRange }),
        mtu,
        masquerade,
        icc,
        internal,
        isDefault,
        labels: { ...(opts.labels ?? {}) },
        created: new Date().toISOString(),
      };
      if (v6) {
        const pool6 = new AddressPool(v6.cidr);
        net.ipv6Subnet = v6.cidr;
        net.ipv6Gateway = pool6.gateway!;
        this.#pools.set(`${id}/6`, pool6);
      }
      try {
        await this.#ensureBridge(net);
        await this.firewall.addNetwork(net);
      } catch (e) {
        await this.firewall.removeNetwork(net).catch(() => undefined);
        await this.host.links.delete(bridge).catch(() => undefined);
        this.#pools.delete(`${id}/6`);
        throw e;
      }
      this.#pools.set(id, probe);
      this.#state.networks.push(net);
      await this.#save();
      return new Network(this, id);
    });
  }

  // MTU of the host's default-route interface, else 1500.
  async #defaultMtu(): Promise<number> {
    const def = (await this.host.routes.list({ family: 4 })).find((r) => r.dst === 'default' && r.oif);
    if (!def?.oif) return 1500;
    const l = await this.host.links.get(def.oif).catch(() => undefined);
    return l?.mtu ?? 1500;
  }

  // The bridge with its gateway address, up; created if missing (restart, or new network).
  async #ensureBridge(net: NetworkInfo): Promise<void> {
    let link: Link | undefined = await this.host.links.get(net.bridge).catch((e: NetlinkError) => {
      if (e.code === 'ENODEV') return undefined;
      throw e;
    });
    const tag = `${this.owner}:net:${net.id.slice(0, 12)}`;
    if (link && link.kind !== 'bridge') {
      throw new NetlinkError({ errno: 17, op: 'network', detail: `${net.bridge} exists and is not a bridge` });
    }
    const b = this.host.batch();
    if (!link) {
      b.links.add({
        name: net.bridge,
        kind: 'bridge',
        mtu: net.mtu,
        alias: tag,
        // A MAC of its own: a bridge without one takes the lowest of its ports' MACs, so
        // it would change (and stale every container's ARP entry for the gateway) as
        // containers come and go.
        mac: macFromIp(net.gateway),
        // A network without IPv6 does no IPv6 at all: no link-local address, no DAD, no MLD.
        ...(net.ipv6Subnet ? {} : { addrGenMode: 'none' as const }),
        bridge: { stp: false, multicastSnooping: false },
        up: true,
      });
    }
    b.addresses.replace(net.bridge, `${net.gateway}/${parseCidr(net.subnet).prefixlen}`, { broadcast: true });
    if (net.ipv6Subnet && net.ipv6Gateway) {
      b.addresses.replace(net.bridge, `${net.ipv6Gateway}/${parseCidr(net.ipv6Subnet).prefixlen}`, { nodad: true });
    }
    if (link && !link.up) b.links.set(net.bridge, { up: true });
    await b.commit();
    link ??= await this.host.links.get(net.bridge);
    // Forwarding between the bridge and the rest of the host; loose reverse-path
    // filtering (a container's replies may come back asymmetrically); ARP notify.
    const sysctls: [string, string | number][] = [
      ['net.ipv4.ip_forward', 1],
      [`net.ipv4.conf.${net.bridge}.rp_filter`, 2],
      [`net.ipv4.conf.${net.bridge}.arp_notify`, 1],
      // Hairpin NAT to the container itself and 127.0.0.1 publishing need these.
      [`net.ipv4.conf.${net.bridge}.route_localnet`, 1],
    ];
    if (net.ipv6Subnet) sysctls.push(['net.ipv6.conf.all.forwarding', 1], [`net.ipv6.conf.${net.bridge}.disable_ipv6`, 0]);
    for (const [k, v] of sysctls) await this.host.sysctl.set(k, v);
  }

  /** Removes a network: its nftables chains and elements, the bridge, the state. EBUSY while endpoints remain. */
  async remove(name: string): Promise<void> {
    return this.#serial(async () => {
      const net = this.#find(name);
      const eps = this.#state.endpoints.filter((e) => e.network === net.id);
      if (eps.length > 0) {
        throw new NetlinkError({ errno: 16, op: 'network', detail: `network ${net.name} still has ${eps.length} endpoint(s); detach them first` });
      }
      if (net.driver === 'overlay') {
        await removeOverlay(this.host, net);
      } else if (net.driver === 'bridge') {
        await this.firewall.removeNetwork(net);
        await this.host.links.delete(net.bridge).catch((e: NetlinkError) => {
          if (e.code !== 'ENODEV') throw e;
        });
      }
      this.#state.networks = this.#state.networks.filter((n) => n.id !== net.id);
      this.#pools.delete(net.id);
      this.#pools.delete(`${net.id}/6`);
      delete this.#state.pools[net.id];
      delete this.#state.pools[`${net.id}/6`];
      await this.#save();
    });
  }

  /** @internal Network.attach; `via` marks the parts of an overlay attach. */
  async attach(networkId: string, netns: Netns, input: AttachOptions, via?: { core?: boolean; forGateway?: boolean }): Promise<EndpointInfo> {
    if (!(netns instanceof Netns)) throw new TypeError('attach needs a Netns handle');
    if (netns.closed) throw new TypeError('attach: the namespace handle is closed');
    const opts = own(input, 'attach options');
    const ifname = checkIfname(opts.ifname ?? 'eth0', 'ifname');
    const aliases = (opts.aliases ?? []).map((a, i) => checkHostName(a, `aliases[${i}]`));
    if (!Array.isArray(opts.aliases ?? [])) throw new TypeError('aliases must be an array');
    const name = opts.name === undefined ? undefined : checkHostName(opts.name, 'name');
    const publish = checkPorts(opts.publish);
    const mac = opts.mac === undefined ? undefined : checkMac(opts.mac);
    if (opts.hostsFile !== undefined && (typeof opts.hostsFile !== 'string' || !opts.hostsFile.startsWith('/'))) {
      throw new TypeError('hostsFile must be an absolute path');
    }
    if (opts.defaultRoute !== undefined && typeof opts.defaultRoute !== 'boolean') throw new TypeError('defaultRoute must be a boolean');
    const driver = this.#find(networkId).driver;
    if (driver === 'overlay' && !via?.core) return this.#attachOverlay(networkId, netns, opts, publish);
    if (driver !== 'overlay' && (opts.gatewayNetwork !== undefined || opts.gatewayIfname !== undefined)) {
      throw new TypeError('gatewayNetwork and gatewayIfname are for overlay networks');
    }
    if (driver === 'macvlan' && publish.length > 0) throw new TypeError('a macvlan container has no host side to publish ports on');
    const netnsId = nsIdOf(netns);

    return this.#serial(async () => {
      const net = this.#find(networkId);
      await this.#dropDead(netnsId, netns);
      if (this.#state.endpoints.some((e) => e.network === net.id && e.netnsId === netnsId)) {
        throw new NetlinkError({ errno: 17, op: 'attach', detail: `that namespace is already attached to ${net.name}` });
      }
      if (this.#state.endpoints.some((e) => e.netnsId === netnsId && e.ifname === ifname)) {
        throw new NetlinkError({ errno: 17, op: 'attach', detail: `the namespace already has an endpoint named ${ifname}` });
      }
      const id = hex(`${net.id}/${netnsId}/${ifname}/${randomBytes(8).toString('hex')}`, 64);
      const pool = this.#pools.get(net.id)!;
      const ip = pool.allocate(id, opts.ip);
      const pool6 = this.#pools.get(`${net.id}/6`);
      let ip6: string | undefined;
      const hostIfname = `np${id.slice(0, 10)}`;
      let created = false;
      let published = false;
      let saved = false;
      try {
        ip6 = pool6?.allocate(id);
        const ep: EndpointInfo = {
          id,
          network: net.id,
          ...(name !== undefined && { name }),
          aliases,
          ifname,
          // A macvlan child has no host side; hostIfname is its temporary name in the container.
          hostIfname: net.driver === 'macvlan' ? '' : hostIfname,
          ip,
          ...(ip6 && { ip6 }),
          mac: mac ?? macFromIp(ip),
          publish,
          ...(netns.path && { netnsPath: netns.path }),
          netnsId,
          ...(opts.hostsFile && { hostsFile: opts.hostsFile }),
          defaultRoute: opts.defaultRoute ?? (!net.internal && !this.#state.endpoints.some((e) => e.netnsId === netnsId && e.defaultRoute)),
          ...(via?.forGateway && { forGateway: true }),
        };
        if (net.internal) ep.defaultRoute = false;
        // One native call, two sendmsg: the veth with its peer made inside the container
        // namespace, enslaved, hairpin on (isolated when icc is off), up; then lo up, the
        // interface up (no IPv6 autoconf on a network without IPv6), address, default route.
        const prefix = parseCidr(net.subnet).prefixlen;
        if (net.driver === 'macvlan') ep.mac = await attachMacvlanEndpoint(this.host, netns, net, { ifname, tmpIfname: hostIfname, ip, mac: ep.mac, defaultRoute: ep.defaultRoute });
        else await attachVeth(this.host, netns, {
          bridge: net.bridge,
          hostIfname,
          ifname,
          address: `${ip}/${prefix}`,
          ...(ep.defaultRoute && { gateway: net.gateway }),
          ...(ip6 && net.ipv6Subnet && { address6: `${ip6}/${parseCidr(net.ipv6Subnet).prefixlen}` }),
          ...(ip6 && ep.defaultRoute && net.ipv6Gateway && { gateway6: net.ipv6Gateway }),
          mac: ep.mac,
          mtu: net.mtu,
          alias: `${this.owner}:ep:${id.slice(0, 12)}`,
          hairpin: true,
          isolated: !net.icc,
          ipv6: !!net.ipv6Subnet,
        });
        created = true;
        await netns.sysctl.set(`net.ipv4.conf.${ifname}.arp_notify`, 1);
        await this.firewall.publish(net, ep);
        published = true;
        this.#state.endpoints.push(ep);
        saved = true; // from here on the state file may hold the endpoint
        await this.#save();
        await this.#writeHosts(net.id);
        return { ...ep };
      } catch (e) {
        // Roll back everything this attach made, in reverse.
        if (published) await this.firewall.unpublish(net, { ip, publish } as EndpointInfo).catch(() => undefined);
        if (created) {
          if (net.driver === 'macvlan') await netns.links.delete(ifname).catch(() => undefined);
          else await this.host.links.delete(hostIfname).catch(() => undefined);
        }
        pool.release(ip, id);
        if (ip6) pool6?.release(ip6, id);
        this.#state.endpoints = this.#state.endpoints.filter((x) => x.id !== id);
        if (saved) {
          // The state file and the other members' hosts files may already name it.
          await this.#save().catch(() => undefined);
          await this.#writeHosts(net.id).catch(() => undefined);
        }
        throw e;
      }
    });
  }

  // An overlay attach: the overlay endpoint (no default route, no ports), then, with a
  // gatewayNetwork, the container's endpoint there (reused if it has one) with the default
  // route and the published ports. A failure leaves neither.
  async #attachOverlay(networkId: string, netns: Netns, opts: AttachOptions, publish: PortMapping[]): Promise<EndpointInfo> {
    const { gatewayNetwork, gatewayIfname, publish: _ports, ...rest } = opts;
    let gw: NetworkInfo | undefined;
    if (gatewayNetwork !== undefined) {
      if (typeof gatewayNetwork !== 'string') throw new TypeError('gatewayNetwork must be the name of a bridge network');
      gw = this.#find(gatewayNetwork);
      if (gw.driver !== 'bridge') throw new TypeError(`gatewayNetwork ${gatewayNetwork} is not a bridge network`);
    } else if (publish.length > 0) {
      throw new TypeError('an overlay container publishes ports through its gatewayNetwork');
    }
    const gwIfname = checkIfname(gatewayIfname ?? 'eth1', 'gatewayIfname');
    if (gw && gwIfname === (rest.ifname ?? 'eth0')) throw new TypeError('gatewayIfname and ifname must differ');
    const ep = await this.attach(networkId, netns, { ...rest, publish: [] }, { core: true });
    if (!gw) return ep;
    let made: EndpointInfo | undefined;
    try {
      const have = this.#state.endpoints.find((e) => e.network === gw.id && e.netnsId === ep.netnsId);
      if (have && publish.length > 0) {
        throw new NetlinkError({ errno: 17, op: 'attach', detail: `the namespace is on ${gw.name} already; publish its ports there` });
      }
      const g = have ?? (made = await this.attach(gw.id, netns, { ifname: gwIfname, publish }, { core: true, forGateway: true }));
      await this.#serial(async () => {
        const e = this.#state.endpoints.find((x) => x.id === ep.id);
        if (!e) throw new NetlinkError({ errno: 2, op: 'attach', detail: 'the overlay endpoint was detached meanwhile' });
        e.gatewayEndpoint = g.id;
        await this.#save();
      });
      return { ...ep, gatewayEndpoint: g.id };
    } catch (e) {
      await this.detach(networkId, ep.id).catch(() => undefined);
      if (made) await this.detach(made.network, made.id).catch(() => undefined);
      throw e;
    }
  }

  /** @internal Network.detach: idempotent; a gone namespace or link is fine. Returns the endpoint it removed. */
  async detach(networkId: string, target: Netns | EndpointInfo | string): Promise<EndpointInfo | undefined> {
    // A closed handle no longer says which namespace it was: detaching "nothing" would
    // leave the endpoint behind without a word.
    if (target instanceof Netns && target.closed) {
      throw new TypeError('detach: the namespace handle is closed; detach by endpoint or endpoint id');
    }
    const nid = target instanceof Netns ? nsIdOf(target) : undefined;
    const removed = await this.#serial(async () => {
      const net = this.#find(networkId);
      let ep: EndpointInfo | undefined;
      if (target instanceof Netns) {
        ep = this.#state.endpoints.find((e) => e.network === net.id && e.netnsId === nid);
      } else {
        const id = typeof target === 'string' ? target : target?.id;
        ep = this.#state.endpoints.find((e) => e.network === net.id && e.id === id);
      }
      if (!ep) return undefined;
      await this.firewall.unpublish(net, ep);
      if (net.driver === 'macvlan') await detachMacvlanEndpoint(ep, target instanceof Netns ? target : undefined);
      else await this.host.links.delete(ep.hostIfname).catch((e: NetlinkError) => {
        if (e.code !== 'ENODEV') throw e;
      });
      await this.#forget(ep, { unpublished: true });
      await this.#save();
      await this.#writeHosts(net.id);
      return ep;
    });
    // The gateway endpoint an overlay attach made goes with the last overlay endpoint using it.
    const gwId = removed?.gatewayEndpoint;
    const gw = gwId === undefined ? undefined : this.#state.endpoints.find((e) => e.id === gwId);
    if (gw?.forGateway && !this.#state.endpoints.some((e) => e.gatewayEndpoint === gwId)) await this.detach(gw.network, gw.id);
    return removed;
  }

  // The kernel reuses a dead namespace's nsfs inode for a new one: endpoints with this
  // identity whose host-side veth is gone belonged to a namespace that died without a
  // detach, and must not be taken for the new one (refused as "already attached",
  // sharing its hosts file). One lookup per such endpoint, none in the usual case. A
  // macvlan endpoint has no host side: it is alive if its child is in `netns`.
  async #dropDead(netnsId: string, netns: Netns): Promise<void> {
    const same = this.#state.endpoints.filter((e) => e.netnsId === netnsId);
    const dead: EndpointInfo[] = [];
    for (const e of same) {
      const macvlan = this.#state.networks.find((n) => n.id === e.network)?.driver === 'macvlan';
      const alive = macvlan ? await macvlanChildIn(netns, e) : await this.host.links.get(e.hostIfname).then(
        () => true,
        (err: NetlinkError) => {
          if (err.code === 'ENODEV') return false;
          throw err;
        },
      );
      if (!alive) dead.push(e);
    }
    if (dead.length === 0) return;
    for (const e of dead) await this.#forget(e);
    await this.#save();
    for (const network of new Set(dead.map((e) => e.network))) await this.#writeHosts(network);
  }

  // Drops an endpoint from state: address released, published ports removed, and the
  // conntrack entries of its UDP and SCTP ports flushed (after the unpublish, so no new
  // datagram recreates them): a flow that keeps sending would otherwise stay DNATed to
  // the old address and never reach the next container publishing the port. A detach
  // has unpublished already (before deleting the veth): no second nftables batch.
  async #forget(ep: EndpointInfo, done: { unpublished?: boolean } = {}): Promise<void> {
    const net = this.#state.networks.find((n) => n.id === ep.network);
    if (net) {
      if (!done.unpublished) await this.firewall.unpublish(net, ep);
      for (const f of conntrackFilters(ep)) {
        await this.host.conntrack.delete(f).catch((e: Error) => {
          process.emitWarning(`netplumb: could not flush conntrack entries of ${ep.ip} (${f.protocol}): ${e.message}`, 'NetplumbWarning');
        });
      }
      this.#pools.get(net.id)?.release(ep.ip, ep.id);
      if (ep.ip6) this.#pools.get(`${net.id}/6`)?.release(ep.ip6, ep.id);
    }
    this.#state.endpoints = this.#state.endpoints.filter((e) => e.id !== ep.id);
  }

  /** Hosts-file content for a container namespace: the names on its user-defined networks. */
  hostsFor(netnsId: string): string {
    const mine = this.#state.endpoints.filter((e) => e.netnsId === netnsId);
    const self = mine.map((e) => ({ ip: e.ip, names: [...(e.name ? [e.name] : []), ...e.aliases] }));
    const peers: { ip: string; names: string[] }[] = [];
    for (const e of mine) {
      const net = this.#state.networks.find((n) => n.id === e.network);
      if (!net || net.isDefault) continue; // the default bridge has no name resolution, as in Docker
      for (const p of this.#state.endpoints) {
        if (p.network !== net.id || p.netnsId === netnsId) continue;
        peers.push({ ip: p.ip, names: [...(p.name ? [p.name] : []), ...p.aliases] });
      }
    }
    return hostsFileContent(self, peers);
  }

  async #writeHosts(networkId: string): Promise<void> {
    const affected = new Set(this.#state.endpoints.filter((e) => e.network === networkId).map((e) => e.netnsId));
    for (const e of this.#state.endpoints) {
      if (e.hostsFile && affected.has(e.netnsId)) writeFileAtomic(e.hostsFile, this.hostsFor(e.netnsId));
    }
  }

  /** Host mode: the container uses the host's namespace; publishing does not apply. */
  async hostMode(opts: { publish?: PortMapping[] } = {}): Promise<Netns> {
    if (opts.publish && opts.publish.length > 0) {
      process.emitWarning('netplumb: published ports are ignored in host network mode (the container uses the host ports directly)', 'NetplumbWarning');
    }
    return this.host.duplicate();
  }

  /** None mode: a new namespace with only lo, up. Named when a name is given. */
  async noneMode(name?: string): Promise<Netns> {
    const ns = await Netns.create(name, this.#opts);
    try {
      await ns.links.set('lo', { up: true });
    } catch (e) {
      ns.close();
      if (name) await Netns.delete(name, this.#opts).catch(() => undefined);
      throw e;
    }
    return ns;
  }

  /** Container mode: join the namespace of an existing endpoint (ENOENT if it is gone). */
  async containerMode(endpoint: EndpointInfo | string): Promise<Netns> {
    const id = typeof endpoint === 'string' ? endpoint : endpoint.id;
    const ep = this.#state.endpoints.find((e) => e.id === id);
    if (!ep) throw new NetlinkError({ errno: 2, op: 'container mode', detail: `no endpoint ${id}` });
    if (!ep.netnsPath) throw new NetlinkError({ errno: 2, op: 'container mode', detail: 'that endpoint has no namespace path (an anonymous namespace); keep its handle instead' });
    return Netns.open(ep.netnsPath);
  }

  /**
   * Removes what carries this owner's tag and no state claims: host-side veths and
   * bridges (by their alias), and nftables elements of unknown endpoints. Returns what it removed.
   */
  async gc(): Promise<{ links: string[]; elements: number }> {
    return this.#serial(async () => {
      const claimed = new Set([
        ...this.#state.networks.map((n) => n.bridge),
        ...this.#state.networks.flatMap((n) => (n.overlay ? [n.overlay.vxlan] : [])),
        ...this.#state.endpoints.map((e) => e.hostIfname),
      ]);
      const removed: string[] = [];
      for (const l of await this.host.links.list()) {
        if (!l.alias?.startsWith(`${this.owner}:`) || claimed.has(l.name)) continue;
        await this.host.links.delete(l.index).catch(() => undefined);
        removed.push(l.name);
      }
      const elements = await this.firewall.gc(this.#state.networks, this.#state.endpoints);
      return { links: removed, elements };
    });
  }
}

/** A handle on one network; attach and detach containers. */
export class Network {
  readonly #ctl: Networks;
  readonly id: string;

  /** @internal */
  constructor(ctl: Networks, id: string) {
    this.#ctl = ctl;
    this.id = id;
  }

  /** The network's persisted description. */
  get info(): NetworkInfo {
    return structuredClone(this.#ctl.info(this.id));
  }

  /** The network's name. */
  get name(): string {
    return this.info.name;
  }

  /**
   * Attaches a container namespace: a veth with its peer inside the namespace (MAC from
   * the IP as Docker does), address, lo up, default route, hairpin on the bridge port,
   * published ports. A failure rolls back everything this attach made.
   */
  attach(netns: Netns, opts: AttachOptions = {}): Promise<EndpointInfo> {
    return this.#ctl.attach(this.id, netns, opts);
  }

  /**
   * Detaches an endpoint (by namespace handle, endpoint or endpoint id): its ports
   * unpublished and the conntrack entries DNATed to its UDP/SCTP ports flushed, its veth
   * deleted, its address released. Idempotent.
   */
  async detach(target: Netns | EndpointInfo | string): Promise<void> {
    await this.#ctl.detach(this.id, target);
  }

  /** The network's endpoints. */
  endpoints(): EndpointInfo[] {
    return this.#ctl.endpointsOf(this.id).map((e) => ({ ...e }));
  }
}

/**
 * An overlay network on this host, fed by a control plane of the caller's choosing:
 * peer VTEPs and the endpoints of other hosts. Every change is persisted and reapplied
 * when the controller is opened again. Attach and detach as on any network; with
 * `gatewayNetwork` an overlay container also joins a local bridge network for the outside.
 */
export class OverlayNetwork extends Network {
  readonly #c: Networks;

  /** @internal */
  constructor(ctl: Networks, id: string) {
    super(ctl, id);
    this.#c = ctl;
  }

  /** Floods broadcast and unknown unicast to this VTEP too (RTM_NEWNEIGH AF_BRIDGE, NLM_F_APPEND, 00:00:00:00:00:00 dst vtep). Idempotent. */
  addPeer(vtep: string): Promise<void> {
    return this.#c.overlayOp(this.id, (host, net) => addPeer(host, net, vtep));
  }

  /** Stops flooding to the VTEP and removes every remote endpoint behind it (RTM_DELNEIGH). Idempotent. */
  removePeer(vtep: string): Promise<void> {
    return this.#c.overlayOp(this.id, (host, net, pool) => removePeer(host, net, pool, vtep));
  }

  /**
   * Adds or replaces a remote endpoint: FDB entry MAC -> VTEP (AF_BRIDGE, NLM_F_REPLACE)
   * and a permanent neighbour IP -> MAC (AF_INET, NLM_F_REPLACE) on the VXLAN device,
   * which answers the containers' ARP for it. Its address is never handed out here.
   */
  addRemoteEndpoint(ep: RemoteEndpoint): Promise<void> {
    return this.#c.overlayOp(this.id, (host, net, pool) => addRemoteEndpoint(host, net, pool, ep));
  }

  /** Removes a remote endpoint (by IP): its neighbour entry, and its FDB entry unless another address shares the MAC on that VTEP. Idempotent. */
  removeRemoteEndpoint(ep: string | Pick<RemoteEndpoint, 'ip'>): Promise<void> {
    const ip = typeof ep === 'object' && ep !== null ? ep.ip : ep;
    return this.#c.overlayOp(this.id, (host, net, pool) => removeRemoteEndpoint(host, net, pool, ip));
  }

  /** The peer VTEPs, in the order they were added. */
  peers(): string[] {
    return [...(this.info.overlay?.peers ?? [])];
  }

  /** The remote endpoints, in the order they were (last) added. */
  remoteEndpoints(): RemoteEndpoint[] {
    return (this.info.overlay?.remoteEndpoints ?? []).map((r) => ({ ...r }));
  }
}
