import { native, type NativeNeighFilter, type NativeNeighRequest } from './binding';
import { handleOf } from './handle';
import { call, callSync } from './errors';
import { NEIGHBOUR_STATES } from './constants';
import { ipFamily } from './ip';
import { IfindexResolver } from './ifindex';
import { neighTableEntries } from './neigh-table';
import type { Netns } from './netns';
import type { Neighbour, NeighbourState } from './types';
import { checkIp, checkLinkRef, checkMac, checkObject, checkOneOf, checkOptBool } from './validate';

/** States a neighbour can be given (NUD_*); 'permanent' unless said otherwise. */
export type NeighbourSetState = Exclude<NeighbourState, 'none'>;
const SET_STATES = Object.keys(NEIGHBOUR_STATES).filter((s) => s !== 'none') as NeighbourSetState[];

/** An ARP/NDP entry to add or replace (RTM_NEWNEIGH, AF_INET or AF_INET6). */
export interface NeighbourSpec {
  /** The device, by name or ifindex (ndm_ifindex). */
  dev: string | number;
  /** The neighbour's IPv4 or IPv6 address (NDA_DST); its family picks ARP or NDP. */
  address: string;
  /** Its link-layer address (NDA_LLADDR); not for proxy entries. */
  mac?: string;
  /** NUD state; default 'permanent'. Ignored for proxy entries. */
  state?: NeighbourSetState;
  /** NTF_PROXY: answer ARP/NDP for `address` on `dev` (proxy entry). */
  proxy?: boolean;
  /** NTF_ROUTER: the neighbour is an IPv6 router. */
  router?: boolean;
  /** NTF_EXT_LEARNED: installed by a control plane, not learned. */
  externLearned?: boolean;
}

/** Names one neighbour entry for get and delete. */
export interface NeighbourKey {
  dev: string | number;
  address: string;
  /** The proxy entry rather than the cache entry (NTF_PROXY). */
  proxy?: boolean;
}

/** Filter for list() and flush(); device and master are filtered by the kernel (NDA_IFINDEX, NDA_MASTER). */
export interface NeighbourFilter {
  /** Only entries on this device. */
  dev?: string | number;
  /** Only entries on ports of this bridge/VRF. */
  master?: string | number;
  /** Only ARP (4) or NDP (6) entries. */
  family?: 4 | 6;
  /** Proxy entries instead of the cache (NTF_PROXY dump). */
  proxy?: boolean;
}

/** Filter for flush(). */
export interface NeighbourFlushFilter extends NeighbourFilter {
  /** Also delete permanent and noarp entries (`ip neigh flush` keeps them). */
  includePermanent?: boolean;
}

/** A validated RTM_*NEIGH request whose devices may still be names. */
export interface PendingNeighRequest {
  req: NativeNeighRequest;
  dev: string | number;
  via?: string | number;
}

/** Resolves the device names of a validated request (a RTM_GETLINK per distinct name). */
export async function resolveRequest(p: PendingNeighRequest, devs: IfindexResolver): Promise<NativeNeighRequest> {
  const out = { ...p.req, ifindex: await devs.index(p.dev) };
  if (p.via !== undefined) out.via = await devs.index(p.via);
  return out;
}

/** The request with devices given as ifindexes only (for the codec, which has no namespace). */
export function numericRequest(p: PendingNeighRequest): NativeNeighRequest {
  if (typeof p.dev !== 'number' || (p.via !== undefined && typeof p.via !== 'number')) {
    throw new TypeError('the codec takes devices as ifindexes');
  }
  const out = { ...p.req, ifindex: p.dev };
  if (p.via !== undefined) out.via = p.via as number;
  return out;
}

const FAMILY = { 4: 'inet', 6: 'inet6' } as const;

/** Validates an ARP/NDP request (TypeError/RangeError); nothing is sent. */
export function neighbourRequest(
  op: 'add' | 'replace' | 'delete' | 'get', spec: NeighbourSpec, what = 'neighbour',
): PendingNeighRequest {
  const s = checkObject<NeighbourSpec>(spec, what);
  const address = checkIp(s.address, `${what}.address`);
  const family = ipFamily(address) as 4 | 6;
  const proxy = checkOptBool(s.proxy, `${what}.proxy`);
  const req: NativeNeighRequest = { op, family: FAMILY[family], ifindex: 0, dst: address };
  if (proxy) req.proxy = true;
  if (op === 'add' || op === 'replace') {
    if (s.mac !== undefined) {
      if (proxy) throw new TypeError(`${what}: a proxy entry has no mac`);
      req.lladdr = checkMac(s.mac, `${what}.mac`);
    }
    const state = checkOneOf(s.state, `${what}.state`, SET_STATES);
    if (state && !proxy) req.state = state;
    if (checkOptBool(s.router, `${what}.router`)) req.router = true;
    if (checkOptBool(s.externLearned, `${what}.externLearned`)) req.externLearned = true;
  }
  return { req, dev: checkLinkRef(s.dev, `${what}.dev`) };
}

/** A validated dump filter whose devices may still be names. */
interface PendingFilter {
  out: NativeNeighFilter;
  dev?: string | number;
  master?: string | number;
}

function checkFilter(f: NeighbourFilter | undefined): PendingFilter {
  const o = checkObject(f, 'filter');
  const out: NativeNeighFilter = {};
  if (o.family !== undefined) {
    if (o.family !== 4 && o.family !== 6) throw new TypeError('filter.family must be 4 or 6');
    out.family = FAMILY[o.family];
  }
  if (checkOptBool(o.proxy, 'filter.proxy')) out.proxy = true;
  const p: PendingFilter = { out };
  if (o.dev !== undefined) p.dev = checkLinkRef(o.dev, 'filter.dev');
  if (o.master !== undefined) p.master = checkLinkRef(o.master, 'filter.master');
  return p;
}

async function filterOf(f: NeighbourFilter | undefined, devs: IfindexResolver): Promise<NativeNeighFilter> {
  const { out, dev, master } = checkFilter(f);
  if (dev !== undefined) out.ifindex = await devs.index(dev);
  if (master !== undefined) out.master = await devs.index(master);
  return out;
}

/**
 * Sends validated neighbour and FDB requests of one namespace together: several
 * RTM_NEWNEIGH/RTM_DELNEIGH per sendmsg, devices resolved once per name. With
 * `rollback`, the entries added are deleted again if one fails; with `ignoreMissing`, a
 * delete that finds nothing is not a failure. Returns how many took effect. (The
 * overlay driver's control plane sends its FDB and ARP entries this way.)
 */
export async function applyNeighRequests(
  ns: Netns, requests: readonly PendingNeighRequest[], opts: { rollback?: boolean; ignoreMissing?: boolean } = {},
): Promise<number> {
  if (requests.length === 0) return 0;
  const devs = new IfindexResolver(ns.links);
  const resolved = await Promise.all(requests.map((r) => resolveRequest(r, devs)));
  return call(native.neighApply(handleOf(ns), resolved, opts.rollback ?? false, opts.ignoreMissing ?? false));
}

/** ARP and NDP entries of one namespace: the requests `ip neigh` makes. */
export class Neighbours {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** Adds an entry (RTM_NEWNEIGH, NLM_F_CREATE|NLM_F_EXCL); EEXIST if there is one. */
  async add(spec: NeighbourSpec): Promise<void> {
    const req = await resolveRequest(neighbourRequest('add', spec), new IfindexResolver(this.#ns.links));
    await call(native.neighApply(handleOf(this.#ns), [req], false));
  }

  /** Adds or overwrites an entry (RTM_NEWNEIGH, NLM_F_CREATE|NLM_F_REPLACE). */
  async replace(spec: NeighbourSpec): Promise<void> {
    const req = await resolveRequest(neighbourRequest('replace', spec), new IfindexResolver(this.#ns.links));
    await call(native.neighApply(handleOf(this.#ns), [req], false));
  }

  /**
   * Adds many entries, several RTM_NEWNEIGH (NLM_F_CREATE|NLM_F_EXCL) per sendmsg. If
   * one fails, the NetlinkError's `step` is its index and the entries this call added
   * are deleted again, so nothing is left half done.
   */
  async addMany(specs: readonly NeighbourSpec[]): Promise<void> {
    if (!Array.isArray(specs)) throw new TypeError('addMany expects an array of neighbour specs');
    // Every request is validated before any name is resolved.
    const pending = specs.map((s, i) => neighbourRequest('add', s, `neighbours[${i}]`));
    const devs = new IfindexResolver(this.#ns.links);
    const reqs = await Promise.all(pending.map((p) => resolveRequest(p, devs)));
    if (reqs.length === 0) return;
    await call(native.neighApply(handleOf(this.#ns), reqs, true));
  }

  /** Deletes an entry (RTM_DELNEIGH); ENOENT if there is none. */
  async delete(key: NeighbourKey): Promise<void> {
    const req = await resolveRequest(neighbourRequest('delete', key), new IfindexResolver(this.#ns.links));
    await call(native.neighApply(handleOf(this.#ns), [req], false));
  }

  /** One entry (RTM_GETNEIGH for an address on a device); ENOENT if there is none. */
  async get(key: NeighbourKey): Promise<Neighbour> {
    const req = await resolveRequest(neighbourRequest('get', key), new IfindexResolver(this.#ns.links));
    return neighTableEntries(await call(native.neighGet(handleOf(this.#ns), req)))[0] as Neighbour;
  }

  /** Every entry, or those matching the filter (RTM_GETNEIGH dump, filtered in the kernel). */
  async list(filter?: NeighbourFilter): Promise<Neighbour[]> {
    const f = await filterOf(filter, new IfindexResolver(this.#ns.links));
    return neighTableEntries(await call(native.neighList(handleOf(this.#ns), f))) as Neighbour[];
  }

  /**
   * The same dump as list(), made on the calling thread (device names resolved with
   * links.getSync): no hop to the libuv pool and back. It blocks the event loop while
   * the kernel dumps the table (about 5 ms for 10,000 entries): for callers that need
   * the answer now, not for routine polling of big tables.
   */
  listSync(filter?: NeighbourFilter): Neighbour[] {
    const { out, dev, master } = checkFilter(filter);
    const devs = new IfindexResolver(this.#ns.links);
    if (dev !== undefined) out.ifindex = devs.indexSync(dev);
    if (master !== undefined) out.master = devs.indexSync(master);
    return neighTableEntries(callSync(() => native.neighListSync(handleOf(this.#ns), out))) as Neighbour[];
  }

  /**
   * Deletes the entries a dump finds (as `ip neigh flush`: all but permanent and noarp
   * entries unless `includePermanent`), many RTM_DELNEIGH per sendmsg. Returns how
   * many were deleted; entries that vanish meanwhile are not an error.
   */
  async flush(filter?: NeighbourFlushFilter): Promise<number> {
    const o = checkObject(filter, 'filter');
    const all = checkOptBool(o.includePermanent, 'filter.includePermanent') ?? false;
    const f = await filterOf(o, new IfindexResolver(this.#ns.links));
    return call(native.neighFlush(handleOf(this.#ns), f, all));
  }
}
