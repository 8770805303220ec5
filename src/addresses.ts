import { native } from './binding';
import { handleOf } from './handle';
import { call } from './errors';
import type { Netns } from './netns';
import type { AddressOptions, LinkRef } from './spec';
import type { Address } from './types';

/** IP addresses of one namespace: the requests `ip addr` makes. */
export class Addresses {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** Adds an address (RTM_NEWADDR, NLM_F_CREATE|NLM_F_EXCL): `ip addr add CIDR dev DEV`. */
  async add(dev: LinkRef, cidr: string, opts?: AddressOptions): Promise<void> {
    await this.#ns.batch().addresses.add(dev, cidr, opts).commit();
  }

  /** Adds or updates an address (RTM_NEWADDR, NLM_F_CREATE|NLM_F_REPLACE). */
  async replace(dev: LinkRef, cidr: string, opts?: AddressOptions): Promise<void> {
    await this.#ns.batch().addresses.replace(dev, cidr, opts).commit();
  }

  /** Removes an address (RTM_DELADDR). */
  async delete(dev: LinkRef, cidr: string): Promise<void> {
    await this.#ns.batch().addresses.delete(dev, cidr).commit();
  }

  /** Addresses, optionally of one family or one link (RTM_GETADDR dump, filtered in the kernel). */
  async list(filter: { family?: 4 | 6; dev?: LinkRef } = {}): Promise<Address[]> {
    if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6) throw new TypeError('family must be 4 or 6');
    const index = filter.dev === undefined ? 0 : await this.#ns.links.index(filter.dev);
    return call(native.addrList(handleOf(this.#ns), filter.family ?? 0, index));
  }
}
