import type { Links } from './links';

/**
 * Link names to ifindexes in one namespace: the one resolver every request that names
 * links uses (batches, neighbours, the FDB, filters). Each distinct name costs one
 * RTM_GETLINK per resolver (a resolver lives for one request); an ifindex costs nothing.
 * ENODEV for a name that does not exist.
 */
export class IfindexResolver {
  readonly #links: Links;
  readonly #names = new Map<string, Promise<number>>();

  constructor(links: Links) {
    this.#links = links;
  }

  /** The ifindex of a checked reference (checkLinkRef). */
  index(ref: string | number): Promise<number> {
    if (typeof ref === 'number') return Promise.resolve(ref);
    let p = this.#names.get(ref);
    if (!p) {
      p = this.#links.get(ref).then((l) => l.index);
      this.#names.set(ref, p);
    }
    return p;
  }

  /** index() on the calling thread (links.getSync). */
  indexSync(ref: string | number): number {
    return typeof ref === 'number' ? ref : this.#links.getSync(ref).index;
  }
}
