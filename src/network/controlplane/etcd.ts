// The overlay's control plane on etcd v3: every host's controller keeps its VTEP and its
// local endpoints in etcd under a lease it keeps alive, watches the network's keys, and
// programs the other hosts' VTEPs and endpoints through the overlay network's own
// operations (OverlayNetwork.update / sync: the path addPeer and addRemoteEndpoint take).
// Addresses are claimed cluster-wide by compare-and-swap. docs/overlay-etcd.md has the
// model; the key layout under the prefix (default /netplumb):
//
//   networks/<net>                       definition {vni, subnet, gateway, dstport, mtu?, labels}   no lease
//   networks/<net>/vteps/<vtep>          {vtep}                 a host on the network               host lease
//   networks/<net>/endpoints/<ip>        {ip, mac, vtep}        a container on it                   host lease
//   networks/<net>/ipam/<ip>             {vtep}                 the address's claim                 no lease
//
// A dead host's VTEP and endpoints go with its lease; its claims stay until it comes back
// (it then releases those it no longer uses) or releaseHost() frees them: an address is
// never given to two containers, even when a host was only cut off for longer than the TTL.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Etcd3, IKeyValue, IOptions, Lease, Watcher, IWatchResponse } from 'etcd3';
import type { Netns } from '../../netns';
import { AddressInUseError, AddressPool, macFromIp, normalizeIp, nthAddress, parseCidr } from '../ipam';
import type { Networks } from '../networks';
import type { OverlayNetwork, OverlayUpdate } from '../drivers/overlay';
import type { AttachedEndpoint, AttachOptions, EndpointInfo, NewContainer, RemoteEndpoint } from '../types';
import { checkMac } from '../../validate';

/** How to reach the etcd cluster. */
export interface EtcdConnection {
  /** Client URLs of the members, `https://10.0.0.1:2379` (`http://` only without TLS). */
  endpoints: string[];
  /**
   * TLS: the CA that signed the members' certificates, and this client's certificate and
   * key when the cluster asks for one (`--client-cert-auth`); PEM contents.
   */
  tls?: { ca: Buffer | string; cert?: Buffer | string; key?: Buffer | string };
  /** etcd's own user and password (`etcdctl user add`), if the cluster has auth enabled. */
  auth?: { username: string; password: string };
  /** Milliseconds to wait for a connection (default 5,000). */
  dialTimeout?: number;
}

/** Options of OverlayControlPlane.start. */
export interface ControlPlaneOptions {
  /** The cluster, or a client the caller made (then the caller closes it). */
  etcd: EtcdConnection | Etcd3;
  /** Key prefix (default '/netplumb'): several installations can share one cluster. */
  prefix?: string;
  /** Lease TTL in seconds (default 10): a dead host's VTEP and endpoints vanish from the others this long after it stops renewing. */
  ttl?: number;
  /** Milliseconds between tries while etcd cannot be reached (default 250, doubling up to 2,000). */
  retryMs?: number;
  /** Where warnings go (default process.emitWarning). Keys and addresses only; never a credential. */
  warn?: (message: string) => void;
}

/** What every host joining an overlay network shares: stored once in etcd. */
export interface OverlayDefinition {
  /** Network name, 1-64 chars of [A-Za-z0-9_.-]. */
  name: string;
  vni: number;
  subnet: string;
  /** Reserved in the subnet (default its first address). */
  gateway?: string;
  dstport?: number;
  mtu?: number;
  labels?: Record<string, string>;
}

/** This host's part of a network it joins. */
export interface OverlayJoinOptions {
  /** This host's underlay address: its VTEP. */
  local: string;
  /** The underlay link. */
  device: string;
  /** Automatic addresses on this host come from this part of the subnet (still claimed cluster-wide). */
  ipRange?: string;
  bridge?: string;
  vxlan?: string;
}

/** Requests this control plane sent to etcd, by kind; `writes` counts the puts and deletes inside them. */
export interface ControlPlaneStats {
  range: number;
  txn: number;
  put: number;
  delete: number;
  lease: number;
  compact: number;
  writes: number;
  /** Full resyncs (start, compaction, a watch that could not resume). */
  resyncs: number;
  /** Watches resumed from the last revision seen, without a resync. */
  resumes: number;
  /** Watch events applied. */
  events: number;
  /** Remote endpoints added or removed through watch events. */
  programmed: number;
  /** Milliseconds spent programming them (OverlayNetwork.update: store transaction and netlink batch). */
  programmingMs: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// etcd's default --max-txn-ops.
const MAX_TXN_OPS = 128;

interface EndpointValue {
  ip: string;
  mac: string;
  vtep: string;
}

// One joined network: the definition, this host's part, and what etcd said last.
interface Joined {
  name: string;
  net: OverlayNetwork;
  vtep: string;
  def: Required<Pick<OverlayDefinition, 'name' | 'vni' | 'subnet' | 'gateway' | 'dstport'>> & OverlayDefinition;
  /** Cluster-wide claims mirrored from networks/<net>/ipam/, plus this host's attaches in flight. */
  pool: AddressPool;
  /** Keys under networks/<net>/ as etcd holds them (by the last revision applied). */
  vteps: Map<string, { lease: string }>;
  endpoints: Map<string, EndpointValue & { lease: string }>;
  claims: Map<string, string>;
  /** Addresses this host is attaching or detaching right now. */
  busy: Set<string>;
  /** The last revision applied. */
  rev: bigint;
  watcher?: Watcher;
  /** Watch responses and resyncs, applied one at a time in order. */
  queue: Promise<void>;
  stopped: boolean;
}

const warnDefault = (message: string): void => {
  process.emitWarning(`netplumb: ${message}`, 'NetplumbWarning');
};

function parseJson<T>(buf: Buffer | string, what: string): T {
  try {
    return JSON.parse(buf.toString()) as T;
  } catch {
    throw new TypeError(`${what} is not JSON`);
  }
}

function checkPrefix(p: unknown): string {
  if (p === undefined) return '/netplumb';
  if (typeof p !== 'string' || p.length === 0 || p.length > 200 || /[\0\s]/.test(p)) throw new TypeError('prefix must be a non-empty string without whitespace');
  return p.replace(/\/+$/, '');
}

/**
 * An overlay control plane on etcd v3 for one host's Networks controller. start() connects
 * and grants the host's lease; define() stores a network's definition once; join() makes
 * the network here, registers this host's VTEP, lists the network's keys (a resync) and
 * watches them from that revision; attach() and detach() claim and release addresses
 * cluster-wide and register the endpoint (one etcd transaction each).
 *
 * Events: 'resync' (network, revision), 'update' (network, { added, removed }),
 * 'online' / 'offline' (etcd reachable again / not), 'lease' (a new lease after the old expired).
 */
export class OverlayControlPlane extends EventEmitter {
  readonly prefix: string;
  readonly ttl: number;
  readonly stats: ControlPlaneStats = { range: 0, txn: 0, put: 0, delete: 0, lease: 0, compact: 0, writes: 0, resyncs: 0, resumes: 0, events: 0, programmed: 0, programmingMs: 0 };
  readonly #ctl: Networks;
  readonly #client: Etcd3;
  readonly #ownClient: boolean;
  readonly #warn: (m: string) => void;
  readonly #retryMs: number;
  readonly #joined = new Map<string, Joined>();
  #lease: Lease | undefined;
  #leaseId: string | undefined;
  #leaseGrant: Promise<string> | undefined;
  #closed = false;
  #online = true;

  private constructor(ctl: Networks, client: Etcd3, ownClient: boolean, opts: ControlPlaneOptions) {
    super();
    this.#ctl = ctl;
    this.#client = client;
    this.#ownClient = ownClient;
    this.prefix = checkPrefix(opts.prefix);
    this.ttl = opts.ttl ?? 10;
    this.#warn = opts.warn ?? warnDefault;
    this.#retryMs = opts.retryMs ?? 250;
  }

  /** Connects to etcd (one request proves it) and grants this host's lease. */
  static async start(networks: Networks, input: ControlPlaneOptions): Promise<OverlayControlPlane> {
    if (typeof input !== 'object' || input === null) throw new TypeError('OverlayControlPlane.start needs options');
    const opts = { ...input };
    if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl < 1 || opts.ttl > 3600)) throw new RangeError('ttl must be whole seconds, 1..3600');
    if (opts.retryMs !== undefined && (!Number.isFinite(opts.retryMs) || opts.retryMs < 10)) throw new RangeError('retryMs must be at least 10');
    checkPrefix(opts.prefix);
    // etcd3 (and gRPC with it) is loaded only when a control plane starts.
    const { Etcd3: Client } = require('etcd3') as typeof import('etcd3');
    const own = !(opts.etcd instanceof Client);
    const client = own ? new Client(clientOptions(opts.etcd as EtcdConnection)) : (opts.etcd as Etcd3);
    const cp = new OverlayControlPlane(networks, client, own, opts);
    try {
      cp.stats.range++;
      await client.get(`${cp.prefix}/`).exec();
      await cp.#currentLease();
    } catch (e) {
      if (own) client.close();
      throw new Error(`etcd not reachable at ${own ? (opts.etcd as EtcdConnection).endpoints.join(', ') : 'the given client'}: ${(e as Error).message}`);
    }
    return cp;
  }

  /** The client (for the caller's own requests; counted in no stat). */
  get client(): Etcd3 {
    return this.#client;
  }

  /** This host's current lease id, as etcd names it (decimal). */
  get leaseId(): string | undefined {
    return this.#leaseId;
  }

  /**
   * Stores a network's definition once (`<prefix>/networks/<name>`, created only if
   * absent, in one transaction). An existing definition is returned as it is if it says
   * the same; one that differs is an error (EEXIST), never overwritten.
   */
  async define(input: OverlayDefinition): Promise<OverlayDefinition> {
    const def = checkDefinition(input);
    const key = this.#defKey(def.name);
    const value = JSON.stringify(def);
    this.stats.txn++;
    const r = await this.#client.if(key, 'Create', '==', 0).then(this.#client.put(key).value(value)).else(this.#client.get(key)).commit();
    if (r.succeeded) {
      this.stats.writes++;
      return def;
    }
    const kv = r.responses[0]?.response_range?.kvs[0];
    const stored = kv ? checkDefinition(parseJson<OverlayDefinition>(kv.value, key)) : undefined;
    if (stored && JSON.stringify(stored) === value) return stored;
    throw Object.assign(new Error(`network ${def.name} is defined in etcd with other settings: ${kv?.value.toString()}`), { code: 'EEXIST' });
  }

  /** The definition of a network in etcd, or undefined. */
  async definition(name: string): Promise<OverlayDefinition | undefined> {
    this.stats.range++;
    const r = await this.#client.get(this.#defKey(checkName(name))).exec();
    const kv = r.kvs[0];
    return kv ? checkDefinition(parseJson<OverlayDefinition>(kv.value, this.#defKey(name))) : undefined;
  }

  /**
   * Joins a network defined in etcd: makes it on this host (or opens the one there, which
   * must have the definition's VNI and subnet), registers this host's VTEP under the
   * lease, then lists the network's keys (the other hosts' VTEPs and endpoints programmed
   * through OverlayNetwork.sync, which compares them with the kernel; this host's own
   * endpoints registered again where missing) and watches from that revision.
   */
  async join(name: string, local: OverlayJoinOptions): Promise<OverlayNetwork> {
    checkName(name);
    if (this.#closed) throw new Error('control plane is closed');
    if (this.#joined.has(name)) return this.#joined.get(name)!.net;
    if (typeof local !== 'object' || local === null) throw new TypeError('join needs { local, device }');
    const def = await this.definition(name);
    if (!def) throw Object.assign(new Error(`network ${name} is not defined in etcd (${this.#defKey(name)})`), { code: 'ENOENT' });
    const full = { ...def, gateway: def.gateway ?? firstHost(def.subnet), dstport: def.dstport ?? 4789 } as Joined['def'];
    let net: OverlayNetwork;
    const have = this.#ctl.list().find((n) => n.name === name);
    if (have) {
      if (have.driver !== 'overlay' || have.overlay?.vni !== full.vni || have.subnet !== parseCidr(full.subnet).cidr) {
        throw Object.assign(new Error(`network ${name} on this host is not the overlay defined in etcd (VNI ${full.vni}, ${full.subnet})`), { code: 'EEXIST' });
      }
      net = this.#ctl.overlay(name);
    } else {
      net = await this.#ctl.create({
        driver: 'overlay', name, vni: full.vni, subnet: full.subnet, gateway: full.gateway, dstport: full.dstport,
        local: local.local, device: local.device,
        ...(local.ipRange !== undefined && { ipRange: local.ipRange }),
        ...(full.mtu !== undefined && { mtu: full.mtu }),
        ...(full.labels !== undefined && { labels: full.labels }),
        ...(local.bridge !== undefined && { bridge: local.bridge }),
        ...(local.vxlan !== undefined && { vxlan: local.vxlan }),
      });
    }
    const info = net.info;
    const j: Joined = {
      name, net, vtep: info.overlay!.local, def: full,
      pool: new AddressPool(info.subnet, { gateway: info.gateway, ...(local.ipRange ?? info.ipRange ? { range: (local.ipRange ?? info.ipRange)! } : {}) }),
      vteps: new Map(), endpoints: new Map(), claims: new Map(), busy: new Set(), rev: 0n, queue: Promise.resolve(), stopped: false,
    };
    this.#joined.set(name, j);
    try {
      await this.#resync(j);
    } catch (e) {
      this.#joined.delete(name);
      throw e;
    }
    return net;
  }

  /** The handle of a joined network. */
  network(name: string): OverlayNetwork {
    return this.#get(name).net;
  }

  /**
   * Attaches a container to a joined network with an address claimed cluster-wide: the
   * lowest free address of this host's range (or `opts.ip`) claimed and the endpoint
   * registered in one etcd transaction (compare-and-swap on `ipam/<ip>`; an address
   * someone else claimed first is skipped, or AddressInUseError for a static `ip`), then
   * the local attach with that address. A failed local attach withdraws both keys.
   */
  async attach(name: string, target: Netns | NewContainer, opts: AttachOptions = {}): Promise<AttachedEndpoint> {
    const j = this.#get(name);
    const lease = await this.#currentLease();
    let ip: string;
    for (;;) {
      ip = opts.ip !== undefined ? this.#takeStatic(j, opts.ip) : this.#takeNext(j);
      j.busy.add(ip);
      const mac = opts.mac !== undefined ? checkMac(opts.mac, 'mac') : macFromIp(ip);
      const claimKey = this.#key(j, 'ipam', ip);
      this.stats.txn++;
      let won: boolean;
      let holder: string | undefined;
      try {
        const r = await this.#client
          .if(claimKey, 'Create', '==', 0)
          .then(
            this.#client.put(claimKey).value(JSON.stringify({ vtep: j.vtep })),
            this.#client.put(this.#key(j, 'endpoints', ip)).value(JSON.stringify({ ip, mac, vtep: j.vtep })).lease(lease),
          )
          .else(this.#client.get(claimKey))
          .commit();
        won = r.succeeded;
        const kv = r.responses[0]?.response_range?.kvs[0];
        if (!won && kv) holder = parseJson<{ vtep?: string }>(kv.value, claimKey).vtep ?? '?';
      } catch (e) {
        this.#unhold(j, ip);
        throw e;
      }
      if (won) {
        this.stats.writes += 2;
        break;
      }
      // Someone claimed it first (this host has not seen that claim yet): it is theirs.
      this.#unhold(j, ip);
      this.#mirrorClaim(j, ip, holder ?? '?');
      if (opts.ip !== undefined) throw new AddressInUseError(ip, j.def.subnet, `host ${holder}`);
    }
    try {
      return await j.net.attach(target, { ...opts, ip, mac: opts.mac ?? macFromIp(ip) });
    } catch (e) {
      await this.#withdraw(j, ip).catch((w: Error) => this.#warn(`${j.name}: ${ip} stays claimed in etcd after a failed attach (${w.message}); the next resync releases it`));
      throw e;
    } finally {
      j.busy.delete(ip);
    }
  }

  /**
   * Detaches a container (as Network.detach), then withdraws its endpoint and its claim
   * in one etcd transaction. Without etcd the local detach still happens and the
   * withdrawal waits for the next resync.
   */
  async detach(name: string, target: Netns | EndpointInfo | string): Promise<EndpointInfo | undefined> {
    const j = this.#get(name);
    const ep = await j.net.detach(target);
    if (!ep) return undefined;
    j.busy.add(ep.ip);
    try {
      await this.#withdraw(j, ep.ip);
    } catch (e) {
      this.#warn(`${j.name}: endpoint ${ep.ip} detached here, not yet withdrawn from etcd (${(e as Error).message}); the next resync does it`);
    } finally {
      j.busy.delete(ep.ip);
    }
    return ep;
  }

  /**
   * Frees the claims of a host that is gone for good (its VTEP key has expired with its
   * lease): its addresses can then be handed out again. Refused (EBUSY) while the host is
   * registered. Returns how many claims went.
   */
  async releaseHost(name: string, vtep: string): Promise<number> {
    const j = this.#get(name);
    const v = normalizeIp(vtep);
    this.stats.range++;
    const r = await this.#client.getAll().prefix(`${this.#netKey(j.name)}/`).exec();
    const vkey = this.#key(j, 'vteps', v);
    if (r.kvs.some((kv) => kv.key.toString() === vkey)) {
      throw Object.assign(new Error(`host ${v} is registered on ${j.name}: its claims are in use`), { code: 'EBUSY' });
    }
    const mine = r.kvs.filter((kv) => kv.key.toString().startsWith(`${this.#netKey(j.name)}/ipam/`) && parseJson<{ vtep?: string }>(kv.value, 'claim').vtep === v);
    let n = 0;
    for (let i = 0; i < mine.length; i += MAX_TXN_OPS) {
      const chunk = mine.slice(i, i + MAX_TXN_OPS);
      // Deleted only if nobody re-claimed them since the listing.
      let t = this.#client.if(chunk[0]!.key, 'Mod', '==', Number(chunk[0]!.mod_revision));
      for (const kv of chunk.slice(1)) t = t.and(kv.key, 'Mod', '==', Number(kv.mod_revision));
      this.stats.txn++;
      const res = await t.then(...chunk.map((kv) => this.#client.delete().key(kv.key))).commit();
      if (res.succeeded) {
        this.stats.writes += chunk.length;
        n += chunk.length;
      }
    }
    return n;
  }

  /**
   * Stops watching and keeping the lease alive. The registrations stay until the lease
   * expires (a controller restarted within the TTL takes them over without a gap);
   * `revoke: true` withdraws them everywhere now. The local networks stay.
   */
  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const j of this.#joined.values()) {
      j.stopped = true;
      const w = j.watcher;
      j.watcher = undefined;
      if (w) await w.cancel().catch(() => undefined);
      await j.queue.catch(() => undefined);
    }
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease) {
      if (opts.revoke) await lease.revoke().catch((e: Error) => this.#warn(`lease not revoked: ${e.message}`));
      else lease.release();
    }
    if (this.#ownClient) this.#client.close();
  }

  // --- keys ---------------------------------------------------------------------------

  #defKey(name: string): string {
    return `${this.prefix}/networks/${name}`;
  }

  #netKey(name: string): string {
    return `${this.prefix}/networks/${name}`;
  }

  #key(j: Joined, kind: 'vteps' | 'endpoints' | 'ipam', id: string): string {
    return `${this.#netKey(j.name)}/${kind}/${id}`;
  }

  #get(name: string): Joined {
    const j = this.#joined.get(name);
    if (!j) throw Object.assign(new Error(`network ${name} is not joined`), { code: 'ENOENT' });
    return j;
  }

  // --- addresses ----------------------------------------------------------------------

  // The lowest address of this host's range that no claim this host has seen holds (a
  // claim it has not seen yet loses the compare-and-swap and is skipped). An address the
  // local controller holds without a claim (an attach made behind the control plane's
  // back) fails the local attach, which withdraws the claim again.
  #takeNext(j: Joined): string {
    return j.pool.allocate(`attach:${j.vtep}`);
  }

  #takeStatic(j: Joined, want: string): string {
    const ip = normalizeIp(want);
    if (j.busy.has(ip)) throw new AddressInUseError(ip, j.def.subnet, 'an attach in flight here');
    const owner = j.pool.ownerOf(ip);
    if (owner !== undefined) throw new AddressInUseError(ip, j.def.subnet, owner);
    j.pool.allocate(`attach:${j.vtep}`, ip);
    return ip;
  }

  #unhold(j: Joined, ip: string): void {
    j.busy.delete(ip);
    const owner = j.claims.get(ip);
    j.pool.release(ip);
    if (owner !== undefined) j.pool.claim(ip, `host:${owner}`);
  }

  #mirrorClaim(j: Joined, ip: string, vtep: string | undefined): void {
    if (vtep === undefined) {
      j.claims.delete(ip);
      if (!j.busy.has(ip)) j.pool.release(ip);
      return;
    }
    j.claims.set(ip, vtep);
    if (j.busy.has(ip)) return; // this host's attach in flight holds it already
    j.pool.release(ip);
    try {
      j.pool.claim(ip, `host:${vtep}`);
    } catch {
      /* a reserved address (gateway) claimed by hand: nothing to mirror */
    }
  }

  // One transaction: the endpoint key and the claim, if the claim is still this host's.
  async #withdraw(j: Joined, ip: string): Promise<void> {
    const claimKey = this.#key(j, 'ipam', ip);
    this.stats.txn++;
    await this.#client
      .if(claimKey, 'Value', '==', JSON.stringify({ vtep: j.vtep }))
      .then(this.#client.delete().key(this.#key(j, 'endpoints', ip)), this.#client.delete().key(claimKey))
      .else(this.#client.delete().key(this.#key(j, 'endpoints', ip)))
      .commit();
    this.stats.writes += 2;
  }

  // --- the lease ----------------------------------------------------------------------

  // The lease every registration of this host is bound to; a new one once etcd has let the
  // old one expire (after which every registration is made again, see #register).
  async #currentLease(): Promise<string> {
    if (this.#leaseId !== undefined && this.#lease && !this.#lease.revoked()) return this.#leaseId;
    if (this.#leaseGrant) return this.#leaseGrant;
    this.#leaseGrant = (async () => {
      const lease = this.#client.lease(this.ttl, { autoKeepAlive: true });
      lease.on('lost', () => {
        if (this.#lease !== lease || this.#closed) return;
        this.#lease = undefined;
        this.#leaseId = undefined;
        this.#warn(`etcd lease lost (not renewed within ${this.ttl}s): registering again`);
        void this.#reregisterAll();
      });
      // A failed keepalive is etcd out of reach: the watches say so too.
      lease.on('keepaliveFailed', () => undefined);
      this.stats.lease++;
      const id = await lease.grant();
      this.#lease = lease;
      this.#leaseId = id;
      return id;
    })();
    try {
      return await this.#leaseGrant;
    } finally {
      this.#leaseGrant = undefined;
    }
  }

  async #reregisterAll(): Promise<void> {
    for (let delay = this.#retryMs; !this.#closed; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.#currentLease();
        this.emit('lease', this.#leaseId);
        for (const j of this.#joined.values()) this.#enqueue(j, () => this.#register(j));
        return;
      } catch {
        await sleep(delay);
      }
    }
  }

  // This host's VTEP and endpoints in etcd as the local controller has them: missing or
  // stale registrations (another lease, other values) put again; registrations and claims
  // of endpoints it no longer has withdrawn. Uses the mirror of etcd (j.vteps, ...).
  async #register(j: Joined): Promise<void> {
    const lease = await this.#currentLease();
    const ops: { key: string; value?: string; lease?: boolean }[] = [];
    const mineV = j.vteps.get(j.vtep);
    if (!mineV || mineV.lease !== lease) ops.push({ key: this.#key(j, 'vteps', j.vtep), value: JSON.stringify({ vtep: j.vtep }), lease: true });
    const local = new Map(j.net.endpoints().map((e) => [e.ip, e]));
    for (const [ip, e] of local) {
      const reg = j.endpoints.get(ip);
      const value: EndpointValue = { ip, mac: e.mac, vtep: j.vtep };
      if (!reg || reg.lease !== lease || reg.mac !== e.mac || reg.vtep !== j.vtep) ops.push({ key: this.#key(j, 'endpoints', ip), value: JSON.stringify(value), lease: true });
      const claim = j.claims.get(ip);
      if (claim === undefined) ops.push({ key: this.#key(j, 'ipam', ip), value: JSON.stringify({ vtep: j.vtep }) });
      else if (claim !== j.vtep) this.#warn(`${j.name}: ${ip} is used here and claimed by ${claim} in etcd: not registered`);
    }
    for (const [ip, reg] of j.endpoints) {
      if (reg.vtep === j.vtep && !local.has(ip) && !j.busy.has(ip)) ops.push({ key: this.#key(j, 'endpoints', ip) });
    }
    for (const [ip, vtep] of j.claims) {
      if (vtep === j.vtep && !local.has(ip) && !j.busy.has(ip)) ops.push({ key: this.#key(j, 'ipam', ip) });
    }
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS) {
      const chunk = ops.slice(i, i + MAX_TXN_OPS);
      this.stats.txn++;
      await this.#client
        .if(this.#defKey(j.name), 'Create', '>', 0)
        .then(...chunk.map((o) => (o.value === undefined ? this.#client.delete().key(o.key) : o.lease ? this.#client.put(o.key).value(o.value).lease(lease) : this.#client.put(o.key).value(o.value))))
        .commit();
      this.stats.writes += chunk.length;
    }
  }

  // --- resync and watch ---------------------------------------------------------------

  // Runs fn after everything queued on the network, one at a time.
  #enqueue(j: Joined, fn: () => Promise<void>): Promise<void> {
    const run = j.queue.then(() => (j.stopped ? undefined : fn()));
    j.queue = run.catch((e: Error) => {
      if (!j.stopped) this.#warn(`${j.name}: ${e.message}`);
    });
    return run;
  }

  // The whole network from etcd at one revision: mirrors rebuilt, the other hosts'
  // VTEPs and endpoints handed to OverlayNetwork.sync (records and kernel made to match
  // them, element by element), this host's registrations made good; then a watch from
  // the next revision.
  #resync(j: Joined): Promise<void> {
    return this.#enqueue(j, async () => {
      this.stats.range++;
      const r = await this.#client.getAll().prefix(`${this.#netKey(j.name)}/`).exec();
      j.vteps.clear();
      j.endpoints.clear();
      for (const ip of [...j.claims.keys()]) this.#mirrorClaim(j, ip, undefined);
      for (const kv of r.kvs) this.#mirror(j, kv, false);
      const peers = [...j.vteps.keys()].filter((v) => v !== j.vtep);
      const endpoints: RemoteEndpoint[] = [...j.endpoints.values()].filter((e) => e.vtep !== j.vtep).map(({ ip, mac, vtep }) => ({ ip, mac, vtep }));
      const res = await j.net.sync({ peers, endpoints });
      for (const x of res.rejected) this.#warn(`${j.name}: ${JSON.stringify(x.item)} not programmed: ${x.error.message}`);
      j.rev = BigInt(r.header.revision);
      this.stats.resyncs++;
      await this.#register(j);
      this.emit('resync', j.name, j.rev.toString());
      this.#watch(j);
    });
  }

  // A watch from the revision after the last one applied. A watch that breaks is
  // cancelled and made again from that revision once etcd answers (a resume: what
  // changed meanwhile arrives as events); one etcd refuses (the revision compacted away)
  // means a resync.
  #watch(j: Joined): void {
    if (j.stopped) return;
    const w = this.#client.watch().prefix(`${this.#netKey(j.name)}/`).startRevision((j.rev + 1n).toString()).withPreviousKV().watcher();
    j.watcher = w;
    let done = false;
    const drop = (cancel: boolean): boolean => {
      if (done || j.watcher !== w) return false;
      done = true;
      j.watcher = undefined;
      w.removeAllListeners('data');
      // A watch etcd cancelled itself has nothing left to cancel (and would wait forever).
      if (cancel) void w.cancel().catch(() => undefined);
      return true;
    };
    w.on('data', (res: IWatchResponse) => {
      if (j.watcher !== w) return;
      void this.#enqueue(j, () => this.#apply(j, res));
    });
    w.on('connected', () => this.#setOnline(true));
    w.on('disconnected', () => {
      if (!drop(true)) return;
      this.#setOnline(false);
      void this.#enqueue(j, () => this.#resume(j));
    });
    w.on('error', (e: Error) => {
      if (!drop(false)) return;
      this.#warn(`${j.name}: watch ended (${e.message}): resync`);
      void this.#resync(j).catch(() => this.#enqueue(j, () => this.#resume(j, true)));
    });
  }

  // Waits until etcd answers (a one-key read, retried with backoff), then watches again
  // from the last revision applied; `full` resyncs instead.
  async #resume(j: Joined, full = false): Promise<void> {
    for (let delay = this.#retryMs; !j.stopped; delay = Math.min(delay * 2, 2000)) {
      try {
        this.stats.range++;
        await this.#client.get(this.#defKey(j.name)).exec();
        break;
      } catch {
        await sleep(delay);
      }
    }
    if (j.stopped) return;
    this.#setOnline(true);
    if (full) {
      void this.#resync(j).catch(() => this.#enqueue(j, () => this.#resume(j, true)));
      return;
    }
    this.stats.resumes++;
    this.#watch(j);
    // Registrations lost while away (the lease expired) come back with the events or the lease's 'lost'.
  }

  #setOnline(on: boolean): void {
    if (this.#online === on) return;
    this.#online = on;
    this.emit(on ? 'online' : 'offline');
  }

  // Keeps the mirror of one key; returns what it means for the kernel.
  #mirror(j: Joined, kv: IKeyValue, deleted: boolean): { peer?: [string, boolean]; endpoint?: [string, EndpointValue | undefined] } {
    const key = kv.key.toString();
    const rest = key.slice(this.#netKey(j.name).length + 1);
    const slash = rest.indexOf('/');
    const kind = rest.slice(0, slash);
    const id = rest.slice(slash + 1);
    try {
      switch (kind) {
        case 'vteps':
          if (deleted) j.vteps.delete(id);
          else j.vteps.set(id, { lease: String(kv.lease) });
          return { peer: [id, !deleted] };
        case 'endpoints': {
          if (deleted) {
            j.endpoints.delete(id);
            return { endpoint: [id, undefined] };
          }
          const v = parseJson<EndpointValue>(kv.value, key);
          const e = { ip: String(v.ip), mac: String(v.mac), vtep: String(v.vtep) };
          j.endpoints.set(id, { ...e, lease: String(kv.lease) });
          return { endpoint: [id, e] };
        }
        case 'ipam':
          this.#mirrorClaim(j, id, deleted ? undefined : (parseJson<{ vtep?: string }>(kv.value, key).vtep ?? '?'));
          return {};
      }
    } catch (e) {
      this.#warn(`${j.name}: ignoring ${key}: ${(e as Error).message}`);
    }
    return {};
  }

  // One watch response: the last event of each key decides; the other hosts' changes go
  // to OverlayNetwork.update as one change (one store transaction, one netlink batch of
  // the entries they touch); this host's own keys deleted behind its back (its lease
  // expired) are registered again.
  async #apply(j: Joined, res: IWatchResponse): Promise<void> {
    const peers = new Map<string, boolean>();
    const eps = new Map<string, EndpointValue | undefined>();
    const own = new Set<string>();
    let mineGone = false;
    for (const ev of res.events) {
      const rev = BigInt(ev.kv.mod_revision);
      if (rev <= j.rev) continue; // seen before a resume
      this.stats.events++;
      const m = this.#mirror(j, ev.kv, ev.type === 'Delete');
      if (m.peer) {
        const [vtep, present] = m.peer;
        if (vtep === j.vtep) mineGone ||= !present;
        else peers.set(vtep, present);
      }
      if (m.endpoint) {
        const [ip, v] = m.endpoint;
        const prevMine = ev.prev_kv ? parseJson<Partial<EndpointValue>>(ev.prev_kv.value, 'endpoint').vtep === j.vtep : false;
        if (v?.vtep === j.vtep || (!v && prevMine)) {
          if (!v && j.net.endpoints().some((e) => e.ip === ip)) mineGone = true;
          eps.set(ip, undefined); // not a remote endpoint (any more): nothing to program unless it was one
          own.add(ip);
        } else {
          own.delete(ip);
          eps.set(ip, v);
        }
      }
    }
    const last = res.events.at(-1);
    if (last) j.rev = BigInt(last.kv.mod_revision) > j.rev ? BigInt(last.kv.mod_revision) : j.rev;
    const u: Required<OverlayUpdate> = { addPeers: [], removePeers: [], addEndpoints: [], removeEndpoints: [] };
    for (const [v, present] of peers) (present ? u.addPeers : u.removePeers).push(v);
    for (const [ip, v] of eps) {
      if (v) u.addEndpoints.push(v);
      else u.removeEndpoints.push(ip);
    }
    if (u.addPeers.length + u.removePeers.length + u.addEndpoints.length + u.removeEndpoints.length > 0) {
      const t0 = performance.now();
      const r = await j.net.update(u);
      this.stats.programmingMs += performance.now() - t0;
      this.stats.programmed += u.addEndpoints.length + u.removeEndpoints.length - own.size;
      for (const x of r.rejected) this.#warn(`${j.name}: ${JSON.stringify(x.item)} not programmed: ${x.error.message}`);
      this.emit('update', j.name, { added: u.addEndpoints.length, removed: u.removeEndpoints.length, peers: u.addPeers.length - u.removePeers.length });
    }
    if (mineGone && !j.stopped) await this.#register(j);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw new TypeError('network name must be 1-64 chars of [A-Za-z0-9_.-]');
  return name;
}

function firstHost(subnet: string): string {
  return nthAddress(subnet, 1);
}

function checkDefinition(input: OverlayDefinition): OverlayDefinition {
  if (typeof input !== 'object' || input === null) throw new TypeError('an overlay definition must be an object');
  const name = checkName(input.name);
  if (!Number.isInteger(input.vni) || input.vni < 1 || input.vni > 0xffffff) throw new RangeError('vni must be 1..16777215');
  if (typeof input.subnet !== 'string') throw new TypeError('subnet must be an IPv4 CIDR');
  const c = parseCidr(input.subnet);
  if (c.family !== 4) throw new TypeError('an overlay subnet must be IPv4');
  const def: OverlayDefinition = { name, vni: input.vni, subnet: c.cidr };
  if (input.gateway !== undefined) def.gateway = normalizeIp(input.gateway);
  if (input.dstport !== undefined) {
    if (!Number.isInteger(input.dstport) || input.dstport < 1 || input.dstport > 65535) throw new RangeError('dstport must be 1..65535');
    def.dstport = input.dstport;
  }
  if (input.mtu !== undefined) {
    if (!Number.isInteger(input.mtu) || input.mtu < 68 || input.mtu > 65535) throw new RangeError('mtu must be 68..65535');
    def.mtu = input.mtu;
  }
  if (input.labels !== undefined) {
    if (typeof input.labels !== 'object' || input.labels === null) throw new TypeError('labels must be an object of strings');
    def.labels = Object.fromEntries(Object.entries(input.labels).map(([k, v]) => [k, String(v)]));
  }
  return def;
}

// etcd3's options from ours. The key and password go straight to gRPC and etcd3; nothing
// here logs or keeps them.
function clientOptions(c: EtcdConnection): IOptions {
  if (typeof c !== 'object' || c === null || !Array.isArray(c.endpoints) || c.endpoints.length === 0) {
    throw new TypeError('etcd needs { endpoints: ["https://host:2379", ...] }');
  }
  for (const e of c.endpoints) {
    if (typeof e !== 'string' || !/^https?:\/\/[^\s/]+$/.test(e)) throw new TypeError(`etcd endpoint ${String(e)} is not http(s)://host:port`);
    if (c.tls && e.startsWith('http://')) throw new TypeError(`etcd endpoint ${e} is plain http but tls is configured`);
  }
  const buf = (v: Buffer | string | undefined): Buffer | undefined => (v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(v));
  const opts: IOptions = {
    hosts: c.endpoints,
    dialTimeout: c.dialTimeout ?? 5000,
    // Come back within seconds of etcd coming back, not gRPC's default two minutes.
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 2000 },
    // Unary calls fail rather than hang while etcd is out of reach; streams have no deadline.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 5000 }),
  };
  if (c.tls) {
    if (c.tls.ca === undefined) throw new TypeError('tls needs ca (PEM)');
    if ((c.tls.cert === undefined) !== (c.tls.key === undefined)) throw new TypeError('tls needs cert and key together');
    opts.credentials = { rootCertificate: buf(c.tls.ca)!, ...(c.tls.cert !== undefined && { certChain: buf(c.tls.cert)!, privateKey: buf(c.tls.key)! }) };
  }
  if (c.auth) {
    if (typeof c.auth.username !== 'string' || typeof c.auth.password !== 'string') throw new TypeError('auth needs username and password strings');
    opts.auth = { username: c.auth.username, password: c.auth.password };
  }
  return opts;
}

