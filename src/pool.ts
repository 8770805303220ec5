// A pool of ready network namespaces, so that creating one (unshare, lo up, sysctls)
// leaves a launcher's critical path.
import { NetlinkError } from './errors';
import { Netns, type NetnsOptions } from './netns';
import type { SysctlValue } from './sysctl';
import { own } from './validate';

/** Options of a NetnsPool. */
export interface NetnsPoolOptions extends NetnsOptions {
  /** How many ready namespaces to keep (default 8). */
  size?: number;
  /** How many to prepare at once while refilling (default 2). */
  concurrency?: number;
  /**
   * Refilling starts when fewer than this many are ready (default: size, i.e. at once).
   * A launcher that starts bursts of containers can set it low so that refilling, which
   * competes for the kernel's RTNL lock, happens between bursts rather than during one.
   */
  lowWater?: number;
  /** Bring lo up (default true). */
  loUp?: boolean;
  /**
   * Sysctls applied inside each namespace. Default: IPv6 disabled for every link made
   * later (net.ipv6.conf.default.disable_ipv6 = 1) and on lo, so that containers on
   * IPv4-only networks do no IPv6 autoconf, DAD or MLD. Pass {} for none.
   */
  sysctls?: Record<string, SysctlValue>;
}

const DEFAULT_SYSCTLS: Record<string, SysctlValue> = {
  'net.ipv6.conf.default.disable_ipv6': 1,
  'net.ipv6.conf.all.disable_ipv6': 1,
};

/**
 * Keeps `size` anonymous namespaces prepared (lo up, sysctls set) and hands them out;
 * take() refills in the background. take(name) also names the namespace under the
 * netns directory (a bind mount, as `ip netns attach`).
 */
export class NetnsPool {
  readonly #ready: Netns[] = [];
  readonly #waiters: { resolve: (ns: Netns) => void; reject: (e: unknown) => void }[] = [];
  readonly #opts: Required<Pick<NetnsPoolOptions, 'size' | 'concurrency' | 'loUp' | 'lowWater'>> & NetnsPoolOptions;
  #refilling = false;
  #filling = 0;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;
  #lastError: unknown;

  private constructor(input: NetnsPoolOptions) {
    const opts = own(input, 'pool options');
    const size = opts.size ?? 8;
    const concurrency = opts.concurrency ?? 2;
    if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError('size must be an integer in 1..4096');
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new RangeError('concurrency must be an integer in 1..64');
    if (opts.loUp !== undefined && typeof opts.loUp !== 'boolean') throw new TypeError('loUp must be a boolean');
    if (opts.sysctls !== undefined && (typeof opts.sysctls !== 'object' || opts.sysctls === null)) throw new TypeError('sysctls must be an object');
    const lowWater = opts.lowWater ?? size;
    if (!Number.isInteger(lowWater) || lowWater < 0 || lowWater > size) throw new RangeError('lowWater must be an integer in 0..size');
    this.#opts = { ...opts, size, concurrency, lowWater, loUp: opts.loUp ?? true };
  }

  /** Creates a pool and waits until it holds `size` ready namespaces. */
  static async create(opts: NetnsPoolOptions = {}): Promise<NetnsPool> {
    const pool = new NetnsPool(opts);
    await pool.fill();
    return pool;
  }

  /** Namespaces ready to hand out right now. */
  get ready(): number {
    return this.#ready.length;
  }

  async #prepare(): Promise<Netns> {
    const ns = await Netns.create();
    try {
      const sysctls = this.#opts.sysctls ?? DEFAULT_SYSCTLS;
      await ns.sysctl.set(sysctls);
      if (this.#opts.loUp) await ns.links.set('lo', { up: true });
      return ns;
    } catch (e) {
      ns.close();
      throw e;
    }
  }

  // Tops the pool up to size, `concurrency` at a time, once it fell below lowWater;
  // hands namespaces to waiters first.
  #refill(): void {
    if (this.#ready.length + this.#filling >= this.#opts.lowWater && this.#waiters.length === 0 && !this.#refilling) return;
    this.#refilling = this.#ready.length + this.#filling < this.#opts.size + this.#waiters.length;
    while (!this.#closed && this.#filling < this.#opts.concurrency && this.#ready.length + this.#filling < this.#opts.size + this.#waiters.length) {
      this.#filling++;
      const p = this.#prepare().then(
        (ns) => {
          this.#filling--;
          const w = this.#waiters.shift();
          if (this.#closed) ns.close();
          else if (w) w.resolve(ns);
          else this.#ready.push(ns);
          this.#refill();
        },
        (e: unknown) => {
          this.#filling--;
          this.#lastError = e;
          // A failing preparation fails those waiting instead of retrying forever.
          for (const w of this.#waiters.splice(0)) w.reject(e);
        },
      );
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
    }
  }

  /** Waits until the pool is full (rejects with the preparation error if one failed). */
  async fill(): Promise<void> {
    this.#lastError = undefined;
    this.#refilling = true;
    while (!this.#closed && this.#ready.length < this.#opts.size) {
      this.#refill();
      await new Promise((r) => setTimeout(r, 1));
      if (this.#lastError) throw this.#lastError;
    }
  }

  /**
   * A prepared namespace, from the pool when one is ready (no system call on this path
   * but the bind mount for a name), else prepared now. The pool refills in the background.
   */
  async take(name?: string): Promise<Netns> {
    if (this.#closed) throw new NetlinkError({ errno: 9, op: 'netns pool', detail: 'the pool is closed' });
    let ns = this.#ready.pop();
    if (!ns) {
      ns = await new Promise<Netns>((resolve, reject) => {
        this.#waiters.push({ resolve, reject });
        this.#refill();
      });
    }
    this.#refill();
    if (name === undefined) return ns;
    try {
      return await ns.bind(name, this.#opts);
    } finally {
      ns.close();
    }
  }

  /**
   * Closes the namespaces still in the pool (they vanish: nothing else holds them), and
   * those being prepared once they are ready.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const ns of this.#ready.splice(0)) ns.close();
    for (const w of this.#waiters.splice(0)) w.reject(new NetlinkError({ errno: 9, op: 'netns pool', detail: 'the pool is closed' }));
    await Promise.allSettled([...this.#inFlight]);
  }
}
