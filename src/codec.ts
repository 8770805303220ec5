// Wire-level entry points, for tests and tools that compare netplumb's bytes with
// what iproute2 sends or replay captured replies. Requests are encoded with sequence
// number 0 and port id 0; the socket numbers them when it sends.
import { native } from './binding';
import { callSync } from './errors';
import type { Link } from './types';
import { type Expr, fromNative } from './nft/expr';
import type { Transaction } from './nft/nft';
import { checkLinkRef } from './validate';

export const codec = {
  /** RTM_GETLINK for one link (family AF_PACKET and ext mask RTEXT_FILTER_VF unless given). */
  encodeLinkGet(ref: string | number, opts: { family?: number; extMask?: number } = {}): Buffer {
    const r = checkLinkRef(ref);
    return callSync(() => native.encodeLinkGet(r, opts.family, opts.extMask));
  },
  /** RTM_GETLINK dump request. */
  encodeLinkDump(opts: { family?: number; extMask?: number; master?: number; kind?: string } = {}): Buffer {
    return callSync(() => native.encodeLinkDump(opts));
  },
  /** Decodes every RTM_NEWLINK/RTM_DELLINK in a buffer of netlink messages. */
  decodeLinks(buf: Buffer): Link[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeLinks expects a Buffer');
    return callSync(() => native.decodeLinks(buf));
  },
  /** The batch a transaction's commit() would send (NFNL_MSG_BATCH_BEGIN ... END, seq 0). */
  async encodeNftTransaction(tx: Transaction): Promise<Buffer> {
    const ops = await tx.build();
    return callSync(() => native.nftEncodeBatch(ops));
  },
  /** Decodes the payload of an NFTA_RULE_EXPRESSIONS attribute. */
  decodeNftExprs(buf: Buffer): Expr[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeNftExprs expects a Buffer');
    return callSync(() => native.nftDecodeExprs(buf)).map(fromNative);
  },
  /** Decodes nftables messages (tables, chains, rules, sets, elements) as the native side sees them. */
  decodeNftMessages(buf: Buffer): { type: number; flags: number; msg?: string; object?: Record<string, unknown> }[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeNftMessages expects a Buffer');
    return callSync(() => native.nftDecodeMessages(buf));
  },
};
