import { native, type NativeNeighFilter, type NativeNeighRequest } from './binding';
import { handleOf } from './handle';
import { call } from './errors';
import type { Netns } from './netns';
import { neighTableEntries } from './neigh-table';
import { IfindexResolver } from './ifindex';
import { resolveRequest, type PendingNeighRequest } from './neighbours';
import type { FdbEntry } from './types';
import { checkInt, checkIp, checkLinkRef, checkMac, checkObject, checkOneOf, checkOptBool } from './validate';

/** FDB entry states one can set: permanent (local, the default, as in `bridge fdb`), static, dynamic. */
export type FdbSetState = 'permanent' | 'static' | 'dynamic';
const SET_STATES: readonly FdbSetState[] = ['permanent', 'static', 'dynamic'];

/** Names one FDB entry (for delete; add/append/replace take an FdbSpec). */
export interface FdbKey {
  /** NDA_LLADDR; '00:00:00:00:00:00' on a VXLAN device is the flood (BUM) entry. */
  mac: string;
  /** The bridge port, bridge or VXLAN device (ndm_ifindex), by name or ifindex. */
  dev: string | number;
  /**
   * NDA_DST: remote VTEP (VXLAN). For delete, removes just that remote; the kernel
   * matches it on dst, port, vni and via together, and deleting a remote that matches
   * none succeeds without deleting anything (vxlan quirk): give the same fields as at add.
   */
  dst?: string;
  /** NDA_VNI, 0..2^24-1 (VXLAN). */
  vni?: number;
  /** NDA_SRC_VNI, 0..2^24-1 (collect-metadata VXLAN). */
  srcVni?: number;
  /** NDA_PORT: remote UDP port (VXLAN), 1..65535. */
  port?: number;
  /** NDA_VLAN, 1..4094 (bridge with VLAN filtering). */
  vlan?: number;
  /** NDA_IFINDEX: underlay device towards the remote (VXLAN `via`). */
  via?: string | number;
  /** NTF_SELF: the device's own table (VXLAN, or the bridge device itself). */
  self?: boolean;
  /** NTF_MASTER: the table of the bridge `dev` is a port of. Neither self nor master means self, as in `bridge fdb`. */
  master?: boolean;
}

/** An FDB entry to add, append or replace (RTM_NEWNEIGH, family AF_BRIDGE). */
export interface FdbSpec extends FdbKey {
  /** Default 'permanent' (NUD_PERMANENT|NUD_NOARP), as `bridge fdb add`; note a permanent
   * entry on a bridge port is local: frames to it end at the bridge. Use 'static' for ports. */
  state?: FdbSetState;
  /** NTF_STICKY: the entry may not roam to another port. */
  sticky?: boolean;
  /** NTF_EXT_LEARNED: installed by a control plane. */
  externLearned?: boolean;
}

/** Filter for list(), applied by the kernel: the header's ifindex (port) and NDA_MASTER (bridge). */
export interface FdbFilter {
  /** Only entries of this device (bridge port, VXLAN device, or the bridge's own). */
  dev?: string | number;
  /** Only entries of this bridge and its ports. */
  bridge?: string | number;
}

/** Validates an FDB request (TypeError/RangeError); nothing is sent. */
export function fdbRequest(op: 'add' | 'replace' | 'append' | 'delete', spec: FdbSpec): PendingNeighRequest {
  const s = checkObject<FdbSpec>(spec, 'fdb entry');
  const req: NativeNeighRequest = { op, family: 'bridge', ifindex: 0, lladdr: checkMac(s.mac, 'fdb.mac') };
  if (s.dst !== undefined) req.dst = checkIp(s.dst, 'fdb.dst');
  if (s.vni !== undefined) req.vni = checkInt(s.vni, 'fdb.vni', 0, 0xffffff);
  if (s.srcVni !== undefined) req.srcVni = checkInt(s.srcVni, 'fdb.srcVni', 0, 0xffffff);
  if (s.port !== undefined) req.port = checkInt(s.port, 'fdb.port', 1, 65535);
  if (s.vlan !== undefined) req.vlan = checkInt(s.vlan, 'fdb.vlan', 1, 4094);
  const self = checkOptBool(s.self, 'fdb.self');
  const master = checkOptBool(s.master, 'fdb.master');
  if (self || !master) req.self = true;
  if (master) req.master = true;
  if (op !== 'delete') {
    const state = checkOneOf(s.state, 'fdb.state', SET_STATES);
    if (state) req.state = state;
    if (checkOptBool(s.sticky, 'fdb.sticky')) req.sticky = true;
    if (checkOptBool(s.externLearned, 'fdb.externLearned')) req.externLearned = true;
  }
  if (op === 'append' && req.dst === undefined) throw new TypeError('fdb.append needs dst (the remote to add)');
  const p: PendingNeighRequest = { req, dev: checkLinkRef(s.dev, 'fdb.dev') };
  if (s.via !== undefined) p.via = checkLinkRef(s.via, 'fdb.via');
  return p;
}

/** Bridge forwarding database entries: the requests `bridge fdb` makes. */
export class Fdb {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  async #apply(op: 'add' | 'replace' | 'append' | 'delete', spec: FdbSpec): Promise<void> {
    const req = await resolveRequest(fdbRequest(op, spec), new IfindexResolver(this.#ns.links));
    await call(native.neighApply(handleOf(this.#ns), [req], false));
  }

  /** Adds an entry (RTM_NEWNEIGH, NLM_F_CREATE|NLM_F_EXCL); EEXIST if the MAC is there. */
  add(spec: FdbSpec): Promise<void> {
    return this.#apply('add', spec);
  }

  /**
   * Adds one more remote to a VXLAN entry (RTM_NEWNEIGH, NLM_F_CREATE|NLM_F_APPEND):
   * appending `dst` to the all-zeros MAC once per peer is how BUM traffic floods to
   * every VTEP.
   */
  append(spec: FdbSpec & { dst: string }): Promise<void> {
    return this.#apply('append', spec);
  }

  /** Adds or overwrites an entry (RTM_NEWNEIGH, NLM_F_CREATE|NLM_F_REPLACE). */
  replace(spec: FdbSpec): Promise<void> {
    return this.#apply('replace', spec);
  }

  /** Deletes an entry, or with `dst` one remote of a VXLAN entry (RTM_DELNEIGH). */
  delete(key: FdbKey): Promise<void> {
    return this.#apply('delete', key);
  }

  /** Every FDB entry, or those of a device or bridge (RTM_GETNEIGH dump, AF_BRIDGE, filtered in the kernel). */
  async list(filter?: FdbFilter): Promise<FdbEntry[]> {
    const o = checkObject(filter, 'filter');
    const devs = new IfindexResolver(this.#ns.links);
    const f: NativeNeighFilter = { family: 'bridge' };
    const dev = o.dev !== undefined ? checkLinkRef(o.dev, 'filter.dev') : undefined;
    const bridge = o.bridge !== undefined ? checkLinkRef(o.bridge, 'filter.bridge') : undefined;
    if (dev !== undefined) f.ifindex = await devs.index(dev);
    if (bridge !== undefined) f.master = await devs.index(bridge);
    return neighTableEntries(await call(native.neighList(handleOf(this.#ns), f))) as FdbEntry[];
  }
}
