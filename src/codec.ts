// Wire-level entry points, for tests and tools that compare netplumb's bytes with
// what iproute2 sends or replay captured replies. Requests are encoded with sequence
// number 0 and port id 0; the socket numbers them when it sends.
import { native } from './binding';
import { callSync } from './errors';
import type { Link } from './types';
import { checkLinkRef } from './validate';

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
  /** Decodes every RTM_NEWLINK/RTM_DELLINK in a buffer of netlink messages. */
  decodeLinks(buf: Buffer): Link[] {
    if (!Buffer.isBuffer(buf)) throw new TypeError('decodeLinks expects a Buffer');
    return callSync(() => native.decodeLinks(buf));
  },
};
