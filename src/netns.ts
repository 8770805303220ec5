import * as path from 'node:path';
import { native, type NativeHandle, type NativeStep, type NativeStepResult } from './binding';
import { call, callSync, fromNative, NetlinkError } from './errors';
import { Addresses } from './addresses';
import { Batch, type PendingNetns } from './batch';
import { Conntrack } from './conntrack';
import { Fdb } from './fdb';
import { handleOf, registerHandle } from './handle';
import { Links } from './links';
import { Monitor, type MonitorOptions } from './monitor';
import { Neighbours } from './neighbours';
import { Routes } from './routes';
import { Sysctl } from './sysctl';
import type { RawStep } from './types';
import { Nft } from './nft/nft';
import { checkNetnsName, checkPath, checkPid } from './validate';

/** A namespace's identity: `'<dev>:<ino>'` of its nsfs inode (see Netns.id). */
export type NetnsId = string;

/** Options shared by the named-namespace calls. */
export interface NetnsOptions {
  /**
   * Directory of named namespaces, as `ip netns` uses it. Default: the
   * NETPLUMB_NETNS_DIR environment variable, else /run/netns.
   */
  netnsDir?: string;
}

/** The directory named namespaces live in unless an option says otherwise. */
export function defaultNetnsDir(): string {
  return process.env.NETPLUMB_NETNS_DIR || '/run/netns';
}

function dirOf(opts?: NetnsOptions): string {
  return checkPath(opts?.netnsDir ?? defaultNetnsDir(), 'netnsDir');
}

/**
 * A Netns for a named namespace that one native call makes together with what goes into
 * it (attachVeth's `create`): usable in batches, but requests on it fail with EBADF until
 * that call has made it; `made()` says whether it has. Internal (set in Netns's static
 * block, which can call its private constructor).
 */
export let pendingNetns: (name: string, opts?: NetnsOptions) => PendingNetns & { made(): boolean };

/**
 * A named namespace whose making has begun, ahead of the batches that go into it: the
 * namespace thread makes it while the caller does its own work (Networks commits the
 * attach's record meanwhile), and the first attachVeth given it sends its batches in the
 * same native operation, as soon as the namespace is made. One that is not used must be
 * aborted (deleted once made); if it is dropped unused, the native side aborts it.
 * Networks begins one for an attach to `{ create }` and hands it to the network's driver
 * as `AttachTarget.create.begun` (docs/drivers.md); a driver gives it to attachVethBegun.
 */
export interface BegunNetns extends PendingNetns {
  /** Whether the namespace is made yet (its handle then holds the namespace). */
  made(): boolean;
  /** Whether the gate was opened (the batches given) or aborted. */
  readonly used: boolean;
  /** @internal Gives the batches: the operation's outcome, as rtnlCreateSequence's. */
  open(batches: [NativeHandle, NativeStep[]][]): Promise<NativeStepResult[][]>;
  /** Withdraws, if not used yet: the namespace is deleted (once made) and the handle closed. */
  abort(): Promise<void>;
}

function ignoreRejection(p: Promise<unknown>): void {
  p.catch(() => undefined);
}

/** Begins making the named namespace `name` (see BegunNetns). Set in Netns's static block. */
export let beginNetns: (name: string, opts?: NetnsOptions) => BegunNetns;

/**
 * A handle on one network namespace: its nsfs file descriptor plus netlink sockets
 * opened inside it on first use. Requests through a handle run in that namespace
 * without moving any JS or libuv thread (an addon-owned thread opens the sockets).
 * Close it with close(), `using` or `await using`; closing never deletes the namespace.
 */
export class Netns {
  #handle: NativeHandle | null;
  /** Name under the netns directory, for named namespaces. */
  readonly name?: string;
  /** The file this handle was opened from, when there was one. */
  readonly path?: string;
  /** Links in this namespace (RTM_*LINK). */
  readonly links: Links;
  /** IP addresses in this namespace (RTM_*ADDR). */
  readonly addresses: Addresses;
  /** Routes in this namespace (RTM_*ROUTE). */
  readonly routes: Routes;
  #nft: Nft | undefined;

  private constructor(handle: NativeHandle, name?: string, file?: string) {
    this.#handle = handle;
    if (name !== undefined) this.name = name;
    if (file !== undefined) this.path = file;
    this.links = new Links(this);
    this.addresses = new Addresses(this);
    this.routes = new Routes(this);
    registerHandle(this, () => this.#live());
  }

  // The native handle; EBADF once closed.
  #live(): NativeHandle {
    if (!this.#handle) {
      throw new NetlinkError({ errno: 9, op: 'netns', detail: 'namespace handle is closed' });
    }
    return this.#handle;
  }

  /** A batch of link, address and route requests sent in one sendmsg on commit(). */
  batch(): Batch {
    return new Batch(this);
  }

  #neighbours?: Neighbours;
  #fdb?: Fdb;
  #sysctl?: Sysctl;

  /** ARP and NDP entries in this namespace (RTM_*NEIGH, AF_INET/AF_INET6). */
  get neighbours(): Neighbours {
    return (this.#neighbours ??= new Neighbours(this));
  }

  /** Bridge forwarding database entries in this namespace (RTM_*NEIGH, AF_BRIDGE). */
  get fdb(): Fdb {
    return (this.#fdb ??= new Fdb(this));
  }

  /** This namespace's sysctls under /proc/sys/net. */
  get sysctl(): Sysctl {
    return (this.#sysctl ??= new Sysctl(this));
  }

  /**
   * Watches rtnetlink notifications (RTNLGRP_* groups) of this namespace on the
   * caller's event loop. Subscribed when this returns: every later change is seen.
   * The monitor outlives close() of this handle; close it separately.
   */
  monitor(options?: MonitorOptions): Monitor {
    return new Monitor(this.#live(), options);
  }

  /**
   * Creates a namespace. With a name, as `ip netns add NAME` does: bind-mounted at
   * <netnsDir>/NAME (the directory made a shared mount point), visible to `ip netns`.
   * Without a name, an anonymous namespace that lives as long as handles to it (or
   * links, sockets or processes in it) do. EEXIST if the name is taken; a failure
   * leaves no file, mount or namespace behind.
   */
  static async create(name?: string, opts?: NetnsOptions): Promise<Netns> {
    if (name === undefined) {
      return new Netns(await call(native.nsCreate('', null)));
    }
    const n = checkNetnsName(name);
    const dir = dirOf(opts);
    return new Netns(await call(native.nsCreate(dir, n)), n, path.join(dir, n));
  }

  static {
    pendingNetns = (name, opts) => {
      const n = checkNetnsName(name);
      const dir = dirOf(opts);
      const netns = new Netns(callSync(() => native.nsPending()), n, path.join(dir, n));
      // Whether the call that makes it has made it: the handle then holds an fd.
      const made = (): boolean => !netns.closed && callSync(() => native.nsInfo(handleOf(netns))).fd >= 0;
      return { netns, dir, name: n, made };
    };
    beginNetns = (name, opts) => {
      const pending = pendingNetns(name, opts);
      const [done, gate] = callSync(() => native.rtnlCreateBegin(pending.dir, pending.name, handleOf(pending.netns)));
      // Awaited by open() or abort(); never an unhandled rejection meanwhile. (The handler
      // is made outside this scope: a closure made here would keep the gate reachable
      // from the pending promise, and a gate dropped unused could never be collected.)
      ignoreRejection(done);
      let used = false;
      return {
        ...pending,
        get used() {
          return used;
        },
        open(batches) {
          if (used) throw new Error('this namespace was given its batches or withdrawn already');
          callSync(() => native.rtnlGateOpen(gate, batches));
          used = true;
          return call(done);
        },
        async abort() {
          if (used) return;
          used = true;
          callSync(() => native.rtnlGateAbort(gate));
          await done.catch(() => undefined);
          pending.netns.close();
        },
      };
    };
  }

  /**
   * Opens an existing namespace: a name under the netns directory, or a path (anything
   * containing '/') to an nsfs file such as /proc/PID/ns/net. ENOENT if it does not
   * exist, EINVAL if the file is not a network namespace.
   */
  static async open(nameOrPath: string, opts?: NetnsOptions): Promise<Netns> {
    if (typeof nameOrPath === 'string' && nameOrPath.includes('/')) {
      const p = checkPath(nameOrPath);
      return new Netns(callSync(() => native.nsOpen(p)), undefined, p);
    }
    const n = checkNetnsName(nameOrPath);
    const file = path.join(dirOf(opts), n);
    return new Netns(callSync(() => native.nsOpen(file)), n, file);
  }

  /** Opens the network namespace of a process (/proc/PID/ns/net). */
  static async fromPid(pid: number): Promise<Netns> {
    const p = `/proc/${checkPid(pid)}/ns/net`;
    return new Netns(callSync(() => native.nsOpen(p)), undefined, p);
  }

  /** A handle on the caller's own network namespace. */
  static async current(): Promise<Netns> {
    return new Netns(callSync(() => native.nsCurrent()));
  }

  /**
   * Deletes a named namespace as `ip netns delete` does: detaches the bind mount and
   * removes the file. The namespace itself lives on while anything still holds it.
   * ENOENT if there is no such name.
   */
  static async delete(name: string, opts?: NetnsOptions): Promise<void> {
    await call(native.nsDelete(dirOf(opts), checkNetnsName(name)));
  }

  /** Names under the netns directory, sorted (`ip netns list`). */
  static async list(opts?: NetnsOptions): Promise<string[]> {
    return call(native.nsList(dirOf(opts)));
  }

  /**
   * Gives this namespace a name under the netns directory (as `ip netns attach`):
   * bind-mounts it at <netnsDir>/NAME and returns a handle that carries the name and
   * shares the sockets this one has open (so its first request needs no trip to the
   * namespace thread). EEXIST if the name is taken. This handle stays open and usable.
   */
  async bind(name: string, opts?: NetnsOptions): Promise<Netns> {
    const n = checkNetnsName(name);
    const dir = dirOf(opts);
    // A bind mount and an open, made on the calling thread: each takes microseconds,
    // less than a round trip through the libuv pool.
    const h = callSync(() => native.nsBindSync(this.#live(), dir, n));
    return new Netns(h, n, path.join(dir, n));
  }

  /** Another handle on the same namespace, with its own fd and sockets (closing one leaves the other open). */
  async duplicate(): Promise<Netns> {
    const { fd } = callSync(() => native.nsInfo(this.#live()));
    return new Netns(callSync(() => native.nsOpen(`/proc/self/fd/${fd}`)), this.name, this.path);
  }

  /** nftables in this namespace (NETLINK_NETFILTER): transactions and listings. */
  get nft(): Nft {
    this.#nft ??= new Nft(this);
    return this.#nft;
  }

  #conntrack?: Conntrack;

  /** IPv4 connection tracking entries in this namespace (ctnetlink, NETLINK_NETFILTER). */
  get conntrack(): Conntrack {
    return (this.#conntrack ??= new Conntrack(this));
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#handle === null;
  }

  /**
   * Identity of the namespace: `'<dev>:<ino>'` of its nsfs inode, equal for every handle
   * on one namespace. Endpoints record the same string (`EndpointInfo.netnsId`). The
   * kernel reuses the inode of a namespace that is gone for a new one.
   */
  get id(): NetnsId {
    const { dev, ino } = callSync(() => native.nsInfo(this.#live()));
    return `${dev}:${ino}`;
  }

  /** Whether two handles refer to the same namespace. */
  sameAs(other: Netns): boolean {
    return this.id === other.id;
  }

  /** Counters of the route socket: how many sendmsg and recvmsg calls it made. */
  socketStats(): { sends: number; receives: number; portId: number } {
    return callSync(() => native.nsSocketStats(this.#live()));
  }

  /**
   * Sends pre-encoded rtnetlink request messages (e.g. codec encoders' output, concatenated)
   * in ONE sendmsg on this namespace's route socket and returns one step per message, in
   * order. The socket overwrites nlmsg_seq and nlmsg_pid and adds NLM_F_ACK to each, so every
   * step ends with a definite answer. A step the kernel refused carries its NetlinkError
   * (`step` set) instead of failing the call. A buffer that is not a well-formed sequence of
   * request messages is a TypeError, and nothing is sent.
   */
  async rawRequest(messages: Buffer): Promise<RawStep[]> {
    if (!Buffer.isBuffer(messages)) throw new TypeError('messages must be a Buffer');
    const steps = await call(native.rtnlRaw(this.#live(), messages));
    return steps.map((s) => {
      const step: RawStep = { replies: s.replies };
      if (s.error) step.error = fromNative(s.error) as NetlinkError;
      if (s.dumpInterrupted) step.dumpInterrupted = true;
      return step;
    });
  }

  /** Closes the namespace fd and its sockets. Idempotent; does not delete anything. */
  close(): void {
    if (this.#handle) native.nsClose(this.#handle);
    this.#handle = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
