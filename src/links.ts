import { native } from './binding';
import { call } from './errors';
import type { Netns } from './netns';
import type { Link } from './types';
import { checkIfname, checkLinkRef } from './validate';

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
  async get(ref: string | number): Promise<Link> {
    const r = checkLinkRef(ref);
    return call(native.linkGet(this.#ns.handle(), r));
  }

  /** Every link, or those matching the filter (RTM_GETLINK dump, filtered in the kernel). */
  async list(filter: LinkFilter = {}): Promise<Link[]> {
    const f: { master?: number; kind?: string } = {};
    if (filter.master !== undefined) {
      const m = checkLinkRef(filter.master, 'master');
      f.master = typeof m === 'number' ? m : (await this.get(m)).index;
    }
    if (filter.kind !== undefined) {
      if (typeof filter.kind !== 'string' || filter.kind.length === 0 || filter.kind.length > 64) {
        throw new TypeError('kind must be a non-empty string');
      }
      f.kind = filter.kind;
    }
    return call(native.linkList(this.#ns.handle(), f));
  }

  /** The ifindex of a link given by name or index. */
  async index(ref: string | number): Promise<number> {
    return typeof ref === 'number' ? checkLinkRef(ref) as number : (await this.get(checkIfname(ref))).index;
  }
}
