import { native } from './binding';
import { handleOf } from './handle';
import { call } from './errors';
import type { Netns } from './netns';
import { addressSpecOf, type AddressKey, type AddressOptions, type AddressSpec, type LinkRef } from './spec';
import type { Address } from './types';

/** IP addresses of one namespace: the requests `ip addr` makes. */
export class Addresses {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** Adds an address (RTM_NEWADDR, NLM_F_CREATE|NLM_F_EXCL): `ip addr add ADDRESS dev DEV`. */
  async add(spec: AddressSpec): Promise<void>;
  /** @deprecated Give one object: `add({ dev, address, ...options })`. The positional form goes in netplumb 0.3. */
  async add(dev: LinkRef, cidr: string, opts?: AddressOptions): Promise<void>;
  async add(a: AddressSpec | LinkRef, cidr?: string, opts?: AddressOptions): Promise<void> {
    await this.#ns.batch().addresses.add(addressSpecOf(a, cidr, opts)).commit();
  }

  /** Adds or updates an address (RTM_NEWADDR, NLM_F_CREATE|NLM_F_REPLACE). */
  async replace(spec: AddressSpec): Promise<void>;
  /** @deprecated Give one object: `replace({ dev, address, ...options })`. The positional form goes in netplumb 0.3. */
  async replace(dev: LinkRef, cidr: string, opts?: AddressOptions): Promise<void>;
  async replace(a: AddressSpec | LinkRef, cidr?: string, opts?: AddressOptions): Promise<void> {
    await this.#ns.batch().addresses.replace(addressSpecOf(a, cidr, opts)).commit();
  }

  /** Removes an address (RTM_DELADDR). */
  async delete(key: AddressKey): Promise<void>;
  /** @deprecated Give one object: `delete({ dev, address })`. The positional form goes in netplumb 0.3. */
  async delete(dev: LinkRef, cidr: string): Promise<void>;
  async delete(a: AddressKey | LinkRef, cidr?: string): Promise<void> {
    await this.#ns.batch().addresses.delete(addressSpecOf(a, cidr)).commit();
  }

  /** Addresses, optionally of one family or one link (RTM_GETADDR dump, filtered in the kernel). */
  async list(filter: { family?: 4 | 6; dev?: LinkRef } = {}): Promise<Address[]> {
    if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6) throw new TypeError('family must be 4 or 6');
    const index = filter.dev === undefined ? 0 : await this.#ns.links.index(filter.dev);
    return call(native.addrList(handleOf(this.#ns), filter.family ?? 0, index));
  }
}
