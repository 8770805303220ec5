import { EventEmitter } from 'node:events';
import { native, type NativeHandle, type NativeMonitor, type NativeMonitorEvent } from './binding';
import { MONITOR_GROUPS } from './constants';
import { callSync, NetlinkError } from './errors';
import { neighTableEntries } from './neigh-table';
import type { Address, FdbEntry, Link, Neighbour, Route } from './types';
import { checkInt, checkObject, checkOptBool } from './validate';

/** What to watch; each flag joins RTNLGRP_* multicast groups. Default: everything. */
export interface MonitorOptions {
  /** RTNLGRP_LINK: RTM_NEWLINK / RTM_DELLINK. */
  links?: boolean;
  /** RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR: RTM_NEWADDR / RTM_DELADDR. */
  addresses?: boolean;
  /** RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE: RTM_NEWROUTE / RTM_DELROUTE. */
  routes?: boolean;
  /** RTNLGRP_NEIGH: RTM_NEWNEIGH / RTM_DELNEIGH, ARP/NDP entries and FDB entries alike. */
  neighbours?: boolean;
  /**
   * SO_RCVBUF of the socket in bytes (default 1 MiB; the kernel caps it at
   * net.core.rmem_max unless the process may use SO_RCVBUFFORCE). Events that
   * overflow it are lost and reported as a `resync`.
   */
  receiveBuffer?: number;
  /**
   * Events kept for the async iterator while nobody reads it (default 10000); past
   * that the backlog is dropped and replaced by one `resync` ('backlog'). Events are
   * queued from the start, so an iterator begun later misses nothing, unless 'event'
   * listeners are attached and no iterator is running.
   */
  highWaterMark?: number;
  /** Keep the event loop alive while open (default true, like a socket). */
  ref?: boolean;
}

/** A change the kernel announced: RTM_NEW* is 'new' (created or changed), RTM_DEL* is 'delete'. */
export type MonitorChange =
  | { type: 'new' | 'delete'; kind: 'link'; value: Link }
  | { type: 'new' | 'delete'; kind: 'address'; value: Address }
  | { type: 'new' | 'delete'; kind: 'route'; value: Route }
  | { type: 'new' | 'delete'; kind: 'neighbour'; value: Neighbour }
  | { type: 'new' | 'delete'; kind: 'fdb'; value: FdbEntry };

/**
 * Events were lost: the socket's receive buffer overflowed (ENOBUFS), a notification
 * could not be decoded, or the iterator's backlog overflowed. Re-list what you track.
 * A sustained burst can yield several in a row: re-list once it settles.
 */
export interface ResyncEvent {
  type: 'resync';
  reason: 'overflow' | 'decode' | 'truncated' | 'backlog';
  detail?: string;
}

/** Everything a monitor yields, in the order the kernel sent it. */
export type MonitorEvent = MonitorChange | ResyncEvent;

const GROUPS = MONITOR_GROUPS;

// A native event as the public one: neighbour and FDB events carry a one-row NeighTable.
function toEvent(ev: Exclude<NativeMonitorEvent, { type: 'error' }>): MonitorEvent {
  if (ev.type === 'resync') return ev;
  if (ev.kind === 'neighbour') return { type: ev.type, kind: 'neighbour', value: neighTableEntries(ev.value)[0] as Neighbour };
  if (ev.kind === 'fdb') return { type: ev.type, kind: 'fdb', value: neighTableEntries(ev.value)[0] as FdbEntry };
  return ev;
}
const DEFAULT_HWM = 10_000;

/** The events a Monitor emits, typed (declaration merging with the class below). */
export interface Monitor {
  /** Every change and resync, in order. */
  on(event: 'event', listener: (e: MonitorEvent) => void): this;
  /** Events were lost: re-list. */
  on(event: 'resync', listener: (e: ResyncEvent) => void): this;
  /** The socket failed; the monitor is closed. */
  on(event: 'error', listener: (err: Error) => void): this;
  /** The monitor was closed. */
  on(event: 'close', listener: () => void): this;
  once(event: 'event', listener: (e: MonitorEvent) => void): this;
  once(event: 'resync', listener: (e: ResyncEvent) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'close', listener: () => void): this;
  off(event: 'event' | 'resync' | 'error' | 'close', listener: (...args: never[]) => void): this;
}

/**
 * A stream of rtnetlink notifications from one namespace: an EventEmitter ('event',
 * 'resync', 'error', 'close') and an async iterable of the same events. The socket is
 * opened inside the namespace and polled on the caller's event loop; nothing runs on
 * another thread. Close it with close() (or break out of for-await, or `using`).
 */
export class Monitor extends EventEmitter implements AsyncIterable<MonitorEvent> {
  #native: NativeMonitor | null;
  readonly #hwm: number;
  #queue: MonitorEvent[] = [];
  #waiters: { resolve: (r: IteratorResult<MonitorEvent>) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | null = null;
  #iterating = 0;

  /** @internal use Netns.monitor() */
  constructor(handle: NativeHandle, options?: MonitorOptions) {
    super();
    const o = checkObject(options, 'monitor options');
    let groups = 0;
    let any = false;
    for (const [key, bit] of Object.entries(GROUPS) as [keyof typeof GROUPS, number][]) {
      const v = checkOptBool(o[key], `monitor.${key}`);
      if (v !== undefined) any = true;
      if (v) groups |= bit;
    }
    if (!any) groups = GROUPS.links | GROUPS.addresses | GROUPS.routes | GROUPS.neighbours;
    if (groups === 0) throw new TypeError('monitor: nothing to watch (every group is false)');
    const rcvbuf = o.receiveBuffer === undefined ? 0 : checkInt(o.receiveBuffer, 'monitor.receiveBuffer', 1024, 0x7fffffff);
    this.#hwm = o.highWaterMark === undefined ? DEFAULT_HWM : checkInt(o.highWaterMark, 'monitor.highWaterMark', 1, 0x7fffffff);
    const ref = checkOptBool(o.ref, 'monitor.ref') ?? true;
    this.#native = callSync(() => native.monitorOpen(handle, groups, rcvbuf, (evs) => this.#deliver(evs)));
    if (!ref) native.monitorRef(this.#native, false);
  }

  /** Whether close() has been called (or the socket failed). */
  get closed(): boolean {
    return this.#native === null;
  }

  /** Keeps the event loop alive while the monitor is open (the default). */
  ref(): this {
    if (this.#native) native.monitorRef(this.#native, true);
    return this;
  }

  /** Lets the process exit even though the monitor is open. */
  unref(): this {
    if (this.#native) native.monitorRef(this.#native, false);
    return this;
  }

  /** Stops watching and closes the socket; iterators finish after the events already queued. Idempotent. */
  close(): void {
    if (!this.#native) return;
    native.monitorClose(this.#native);
    this.#native = null;
    this.#settleWaiters();
    this.emit('close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<MonitorEvent> {
    this.#iterating++;
    let done = false;
    const finish = (): IteratorResult<MonitorEvent> => {
      if (!done) {
        done = true;
        this.#iterating--;
      }
      return { value: undefined, done: true };
    };
    return {
      next: () => {
        if (done) return Promise.resolve(finish());
        const ev = this.#queue.shift();
        if (ev) return Promise.resolve({ value: ev, done: false });
        if (this.#failure) {
          const err = this.#failure;
          this.#failure = null;
          finish();
          return Promise.reject(err);
        }
        if (!this.#native) return Promise.resolve(finish());
        return new Promise((resolve, reject) => {
          this.#waiters.push({
            resolve: (r) => resolve(r.done ? finish() : r),
            reject: (e) => {
              finish();
              reject(e);
            },
          });
        });
      },
      // break / return in for-await: the consumer is done with the monitor.
      return: () => {
        this.close();
        return Promise.resolve(finish());
      },
    };
  }

  #push(ev: MonitorEvent): void {
    const w = this.#waiters.shift();
    if (w) {
      w.resolve({ value: ev, done: false });
      return;
    }
    // Queue for a later iterator, unless the consumer listens instead of iterating.
    if (this.#iterating === 0 && this.listenerCount('event') > 0) return;
    if (this.#queue.length >= this.#hwm) {
      this.#queue = [{ type: 'resync', reason: 'backlog', detail: `more than ${this.#hwm} events queued unread` }];
      return;
    }
    this.#queue.push(ev);
  }

  #settleWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (this.#failure) {
        w.reject(this.#failure);
        this.#failure = null;
      } else {
        w.resolve({ value: undefined, done: true });
      }
    }
  }

  // Called by the native poll callback with every event one wake-up read.
  #deliver(events: NativeMonitorEvent[]): void {
    for (const ev of events) {
      if (!this.#native) return;  // closed by a listener earlier in this batch
      if (ev.type === 'error') {
        const err = new NetlinkError({ errno: ev.errno, op: 'monitor', detail: ev.detail });
        // The native side closes the socket after an error.
        this.#native = null;
        if (this.#iterating > 0) this.#failure = err;
        this.#settleWaiters();
        if (this.#iterating === 0 || this.listenerCount('error') > 0) this.emit('error', err);
        this.emit('close');
        return;
      }
      const e = toEvent(ev);
      this.#push(e);
      this.emit('event', e);
      if (e.type === 'resync') this.emit('resync', e);
    }
  }
}
