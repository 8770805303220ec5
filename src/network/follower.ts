// What the state's followers (the DNS resolver, the LoopbackProxy) share: the store they
// read, from a controller of this process or a state directory opened read-only.
import { Netns } from '../netns';
import type { Networks } from './networks';
import { NetworkStore } from './store';

/** A follower's source of state: a controller of this process, or a state directory. */
export interface FollowedState {
  networks?: Networks;
  stateDir?: string;
}

/**
 * The store a follower named `who` reads, and whether it opened it (and so closes it).
 * A controller must live in this process's network namespace, since the follower's
 * sockets open here: otherwise an Error that says `where` they belong.
 */
export async function followedStore(opts: FollowedState, who: string, where: string): Promise<{ store: NetworkStore; own: boolean }> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`${who}.open needs options`);
  if ((opts.networks === undefined) === (opts.stateDir === undefined)) throw new TypeError(`${who}.open needs either networks or stateDir`);
  if (opts.networks === undefined) {
    if (typeof opts.stateDir !== 'string' || opts.stateDir.length === 0) throw new TypeError('stateDir must be a directory path');
    return { store: NetworkStore.open(opts.stateDir, { readOnly: true, check: false }), own: true };
  }
  const here = await Netns.current();
  try {
    if (opts.networks.host.id !== here.id) {
      throw new Error(`${who}: the networks live in another network namespace than this process, and ${where}`);
    }
  } finally {
    here.close();
  }
  return { store: opts.networks.stateStore, own: false };
}
