// Teardown off the caller's path. Deleting a link (RTM_DELLINK) waits for the kernel's
// RCU grace period (~30 ms here) before it is acknowledged; a detach instead moves its
// host-side link, down, into the owner's reap group (IFLA_GROUP) and returns, and the
// reaper deletes the whole group in one request: one grace period for every link that
// gathered meanwhile. The backlog is bounded (a full batch is flushed at once), drained by
// Networks.close() and gc(), and whatever a crashed process left in the group is deleted
// by the next Networks.open().
import type { NetlinkError } from '../errors';
import type { Netns } from '../netns';

/** Options of a Reaper. */
export interface ReaperOptions {
  /** Wait this long after the first link before deleting the group (default 200 ms). */
  delayMs?: number;
  /** Delete at once when this many links wait (default 128). */
  batch?: number;
  warn?: (message: string) => void;
}

/** Deletes the links of one group of a namespace in bulk. */
export class Reaper {
  readonly host: Netns;
  readonly group: number;
  readonly #delayMs: number;
  readonly #batch: number;
  readonly #warn: (message: string) => void;
  #pending = 0;
  readonly #netns = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> = Promise.resolve(0);

  constructor(host: Netns, group: number, opts: ReaperOptions = {}) {
    this.host = host;
    this.group = group;
    this.#delayMs = opts.delayMs ?? 200;
    this.#batch = opts.batch ?? 128;
    this.#warn = opts.warn ?? (() => undefined);
  }

  /** Links moved into the group by this process and not yet deleted. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether a link of this namespace (by identity) waits to be deleted. */
  pendingFor(netnsId: string): boolean {
    return (this.#netns.get(netnsId) ?? 0) > 0;
  }

  /** A link (of the container namespace `netnsId`, if known) was moved into the group. */
  add(netnsId?: string): void {
    this.#pending++;
    if (netnsId) this.#netns.set(netnsId, (this.#netns.get(netnsId) ?? 0) + 1);
    if (this.#pending >= this.#batch) {
      void this.flush().catch((e: Error) => this.#warn(`reaping links of group ${this.group} failed: ${e.message}`));
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush().catch((e: Error) => this.#warn(`reaping links of group ${this.group} failed: ${e.message}`));
      }, this.#delayMs);
      this.#timer.unref();
    }
  }

  /**
   * Deletes every link of the group now, in one RTM_DELLINK, after any deletion already
   * under way; resolves with the number of this process's links it covered once the
   * kernel has acknowledged (the links are gone).
   */
  flush(): Promise<number> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const covered = this.#pending;
    const netns = [...this.#netns];
    this.#pending = 0;
    this.#netns.clear();
    const run = this.#running.then(async () => {
      try {
        await this.host.links.delete({ group: this.group });
      } catch (e) {
        // An empty group is not an error worth reporting.
        if ((e as NetlinkError).code !== 'ENODEV') {
          this.#pending += covered;
          for (const [id, n] of netns) this.#netns.set(id, (this.#netns.get(id) ?? 0) + n);
          throw e;
        }
      }
      return covered;
    });
    this.#running = run.catch(() => 0);
    return run;
  }
}
