// Wire-level entry points, for tests and tools that compare netplumb's bytes with
// what iproute2 sends or replay captured replies. Requests are encoded with sequence
// number 0 and port id 0; the socket numbers them when it sends.
import { native, type NativeNftMessage, type NativeStep } from './binding';
import { callSync } from './errors';
import { fdbRequest, type FdbSpec } from './fdb';
import { neighTableEntries } from './neigh-table';
import { neighbourRequest, numericRequest, type NeighbourSpec } from './neighbours';
import type { FdbEntry, Link, Neighbour } from './types';
import { type Expr, fromNative } from './nft/expr';
import { encodeTransaction, type Transaction } from './nft/nft';
import { linkDeleteStep, linkSetStep, Ref, type LinkChanges } from './spec';
import { checkLinkRef } from './validate';

function checkIndex(v: unknown): number {
  if (typeof v !== 'number') throw new TypeError('the codec takes links as ifindexes');
  return checkLinkRef(v) as number;
}

// A step with every link reference already a number: the codec resolves no names.
function numericStep(step: ReturnType<typeof linkSetStep>): NativeStep {
  for (const [k, v] of Object.entries(step)) {
    if (v instanceof Ref) throw new TypeError(`the codec takes links as ifindexes (${k} is a name)`);
  }
  return step as NativeStep;
}

/** Wire-level encoders and decoders (rtnetlink links, neighbours, FDB; nftables batches and expressions), for tests and tools. */
export const codec = {
  /** RTM_GETLINK for one link (family AF_PACKET and ext mask RTEXT_FILTER_VF unless given). */
  encodeLinkGet(ref: string | number, opts: { family?: number; extMask?: number } = {}): Buffer {
    const r = checkLinkRef(ref);
    return callSync(() => native.encodeLinkGet(r, opts.family, opts.extMask));
  },
  /**
   * RTM_GETLINK dump request. `index` sets ifi_index, which the kernel refuses in a dump
   * under NETLINK_GET_STRICT_CHK: it exists to provoke that error in tests.
   */
  encodeLinkDump(opts: { family?: number; extMask?: number; master?: number; kind?: string; index?: number } = {}): Buffer {
    if (opts.index !== undefined && (!Number.isInteger(opts.index) || opts.index < 0 || opts.index > 0x7fffffff)) {
      throw new RangeError(`index must be a 32-bit integer >= 0, got ${opts.index}`);
    }
    return callSync(() => native.encodeLinkDump(opts));
  },
  /**
   * The RTM_NEWLINK messages links.set(index, changes) sends: one, or two when ipv4Conf
   * or addrGenMode come with an up/down (they go first, so they are in force when the
   * link comes up). Links (target, master) as ifindexes.
   */
  encodeLinkSet(index: number, changes: LinkChanges): Buffer {
    const step = linkSetStep(checkIndex(index), changes);
    return callSync(() => native.encodeRtnlSteps([numericStep(step)]));
  },
  /** The RTM_DELLINK links.delete sends: by ifindex, or every link of a group (ifi_index 0 + IFLA_GROUP). */
  encodeLinkDelete(ref: number | { group: number }): Buffer {
    const step = linkDeleteStep(typeof ref === 'number' ? checkIndex(ref) : ref);
    return callSync(() => native.encodeRtnlSteps([step]));
  },
  /** Decodes every RTM_NEWLINK/RTM_DELLINK in a buffer of netlink messages. */
  decodeLinks(buf: Buffer): Link[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeLinks expects a Buffer');
    return callSync(() => native.decodeLinks(buf));
  },
  /** RTM_NEWNEIGH (add: NLM_F_CREATE|NLM_F_EXCL, replace: NLM_F_CREATE|NLM_F_REPLACE) or RTM_DELNEIGH for an ARP/NDP entry; devices as ifindexes. */
  encodeNeighbour(op: 'add' | 'replace' | 'delete', spec: NeighbourSpec & { dev: number }): Buffer {
    const req = numericRequest(neighbourRequest(op, spec));
    return callSync(() => native.encodeNeigh(req));
  },
  /** RTM_NEWNEIGH (add, append: NLM_F_CREATE|NLM_F_APPEND, replace) or RTM_DELNEIGH for an AF_BRIDGE FDB entry; devices as ifindexes. */
  encodeFdb(op: 'add' | 'append' | 'replace' | 'delete', spec: FdbSpec & { dev: number; via?: number }): Buffer {
    const req = numericRequest(fdbRequest(op, spec));
    return callSync(() => native.encodeNeigh(req));
  },
  /** Decodes every RTM_NEWNEIGH/RTM_DELNEIGH in a buffer: Neighbour for AF_INET/AF_INET6, FdbEntry for AF_BRIDGE. */
  decodeNeighbours(buf: Buffer): (Neighbour | FdbEntry)[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeNeighbours expects a Buffer');
    return neighTableEntries(callSync(() => native.decodeNeighs(buf)));
  },
  /** The batch a transaction's commit() would send (NFNL_MSG_BATCH_BEGIN ... END, seq 0). */
  async encodeNftTransaction(tx: Transaction): Promise<Buffer> {
    return encodeTransaction(tx);
  },
  /** Decodes the payload of an NFTA_RULE_EXPRESSIONS attribute. */
  decodeNftExprs(buf: Buffer): Expr[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeNftExprs expects a Buffer');
    return callSync(() => native.nftDecodeExprs(buf)).map(fromNative);
  },
  /** Decodes nftables messages (tables, chains, rules, sets, elements) as the native side sees them. */
  decodeNftMessages(buf: Buffer): NativeNftMessage[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeNftMessages expects a Buffer');
    return callSync(() => native.nftDecodeMessages(buf));
  },
};
