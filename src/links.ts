import { echoCreatedLinks } from './batch';
import { native } from './binding';
import { call, callSync } from './errors';
import { handleOf } from './handle';
import { IfindexResolver } from './ifindex';
import type { Netns } from './netns';
import type { LinkChanges, LinkRef, LinkSpec } from './spec';
import type { Link } from './types';
import { checkLinkRef } from './validate';

/** Filter for links.list(); applied by the kernel (NETLINK_GET_STRICT_CHK). */
export interface LinkFilter {
  /** Only ports of this master (bridge), by name or index (IFLA_MASTER). */
  master?: string | number;
  /** Only links of this kind (IFLA_INFO_KIND). */
  kind?: string;
}

/** Links of one namespace: the requests `ip link` makes. */
export class Links {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** One link by name or index (RTM_GETLINK). ENODEV if there is none. */
  async get(ref: LinkRef): Promise<Link> {
    const r = checkLinkRef(ref);
    return call(native.linkGet(handleOf(this.#ns), r));
  }

  /**
   * The same request as get(), made on the calling thread: one sendmsg and one recvmsg,
   * a few microseconds, with no hop to the libuv pool (which costs more than the request).
   * It blocks the event loop for that long, and longer if another process holds the
   * kernel's RTNL lock: for latency-critical callers, not for bulk work.
   */
  getSync(ref: LinkRef): Link {
    const r = checkLinkRef(ref);
    return callSync(() => native.linkGetSync(handleOf(this.#ns), r));
  }

  /** Every link, or those matching the filter (RTM_GETLINK dump, filtered in the kernel). */
  async list(filter: LinkFilter = {}): Promise<Link[]> {
    const f: { master?: number; kind?: string } = {};
    if (filter.master !== undefined) f.master = await this.index(filter.master);
    if (filter.kind !== undefined) {
      if (typeof filter.kind !== 'string' || filter.kind.length === 0 || filter.kind.length > 64) {
        throw new TypeError('kind must be a non-empty string');
      }
      f.kind = filter.kind;
    }
    return call(native.linkList(handleOf(this.#ns), f));
  }

  /** The ifindex of a link given by name or index. */
  async index(ref: LinkRef): Promise<number> {
    return new IfindexResolver(this).index(checkLinkRef(ref));
  }

  /**
   * Creates a link (RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL|NLM_F_ECHO) and returns it
   * as the kernel reports it. A veth's peer is created directly in its namespace, and
   * master and up state go in the same message; follow-up changes the kernel only takes
   * on an existing link (addrGenMode, ipv4Conf, bridge-port options) share its sendmsg.
   */
  async add(spec: LinkSpec): Promise<Link> {
    const [r] = await echoCreatedLinks(this.#ns.batch().links.add(spec)).commit();
    // The echo shows the link as created; follow-up changes (addrGenMode, bridge-port
    // options, a deferred up) came after it, and a link made in another namespace is
    // echoed there: read those back.
    const followUps = spec.addrGenMode !== undefined || spec.ipv4Conf !== undefined || spec.bridgePort !== undefined || spec.alias !== undefined;
    if (r?.link && !followUps) return r.link;
    return (spec.netns ?? this.#ns).links.get(spec.name);
  }

  /** Changes a link (RTM_NEWLINK without NLM_F_CREATE): up/down, MTU, MAC, name, master, namespace, ... */
  async set(ref: LinkRef, changes: LinkChanges): Promise<void> {
    await this.#ns.batch().links.set(ref, changes).commit();
  }

  /** Deletes a link (RTM_DELLINK), or every link of a group with `{ group }`. */
  async delete(ref: LinkRef | { group: number }): Promise<void> {
    await this.#ns.batch().links.delete(ref).commit();
  }
}
