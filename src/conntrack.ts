// Connection tracking entries of a namespace (ctnetlink over NETLINK_NETFILTER):
// filtered listing and deletion of IPv4 or IPv6 flows, e.g. the stale DNAT of a port
// that was published to a container that is gone.
import { native, type NativeCtFilter } from './binding';
import { handleOf } from './handle';
import { IP_PROTOCOLS } from './constants';
import { call } from './errors';
import { ipFamily } from './ip';
import type { Netns } from './netns';
import type { ConntrackEntry, ConntrackProtocol } from './types';
import { checkInt, checkObject } from './validate';

export type { ConntrackEntry, ConntrackProtocol, ConntrackTuple } from './types';

const PROTO_NUM: Readonly<Record<ConntrackProtocol, number>> = IP_PROTOCOLS;
const PROTO_NAME = new Map<number, ConntrackProtocol>(Object.entries(PROTO_NUM).map(([k, v]) => [v, k as ConntrackProtocol]));

/**
 * Which entries to match (all given fields must match). The reply direction is the
 * answer's view: after DNAT its source is the address and port the flow was sent to.
 */
export interface ConntrackFilter {
  /** The entries' address family (nfgen_family of the dump): default replySrc's, else 4. */
  family?: 4 | 6;
  protocol: ConntrackProtocol;
  /** Source address of the reply direction (the DNAT target, e.g. a container's IP). */
  replySrc?: string;
  /** Source port of the reply direction (the DNAT target's port). */
  replySrcPort?: number;
  /** Destination port of the original direction (e.g. a published host port). */
  origDstPort?: number;
}

function nativeFilter(filter: unknown, needProtocol: boolean): NativeCtFilter {
  const f = checkObject(filter as Partial<ConntrackFilter> | undefined, 'conntrack filter');
  const out: NativeCtFilter = {};
  if (f.family !== undefined && f.family !== 4 && f.family !== 6) throw new TypeError(`conntrack filter family must be 4 or 6, got ${String(f.family)}`);
  if (f.protocol !== undefined || needProtocol) {
    if (typeof f.protocol !== 'string' || !Object.hasOwn(PROTO_NUM, f.protocol)) {
      throw new TypeError(`conntrack filter protocol must be 'tcp', 'udp' or 'sctp', got ${String(f.protocol)}`);
    }
    out.protocol = PROTO_NUM[f.protocol];
  }
  const family = f.family ?? (typeof f.replySrc === 'string' && ipFamily(f.replySrc) === 6 ? 6 : 4);
  out.family = family;
  if (f.replySrc !== undefined) {
    // No zone ids: a conntrack tuple has none.
    if (typeof f.replySrc !== 'string' || ipFamily(f.replySrc) !== family) {
      throw new TypeError(`conntrack filter replySrc must be an IPv${family} address, got ${String(f.replySrc)}`);
    }
    out.replySrc = f.replySrc;
  }
  for (const k of ['replySrcPort', 'origDstPort'] as const) {
    if (f[k] === undefined) continue;
    if (out.protocol === undefined) throw new TypeError(`conntrack filter ${k} needs a protocol`);
    out[k] = checkInt(f[k], `conntrack filter ${k}`, 1, 65535);
  }
  for (const k of Object.keys(f)) {
    if (!['family', 'protocol', 'replySrc', 'replySrcPort', 'origDstPort'].includes(k)) throw new TypeError(`unknown conntrack filter field ${k}`);
  }
  return out;
}

/** The connection tracking table of one namespace (IPv4 and IPv6 entries, one family per call). */
export class Conntrack {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /**
   * Entries of one family matching the filter (every IPv4 entry without one): one
   * IPCTNL_MSG_CT_GET dump, filtered by the kernel where it can (CTA_FILTER) and checked
   * again here.
   */
  async list(filter: Partial<ConntrackFilter> = {}): Promise<ConntrackEntry[]> {
    const f = nativeFilter(filter, false);
    const entries = await call(native.ctList(handleOf(this.#ns), f));
    return entries.map((e) => ({ ...e, protocol: PROTO_NAME.get(e.protocol) ?? e.protocol }));
  }

  /**
   * Deletes the entries matching the filter (of its family): one filtered dump, then one
   * IPCTNL_MSG_CT_DELETE per entry (by original tuple and id) in a single sendmsg (more
   * only for hundreds of entries). Returns how many were deleted; an entry that expired
   * meanwhile is not an error. With only a protocol, every entry of it goes.
   */
  async delete(filter: ConntrackFilter): Promise<number> {
    const f = nativeFilter(filter, true);
    return call(native.ctDelete(handleOf(this.#ns), f));
  }
}
