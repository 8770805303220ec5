// The daemon's watch on what other parties do to its kernel objects: `nft flush
// ruleset`, a deleted table or chain, a deleted bridge. Two event sources and a backstop:
//
//   links    an rtnetlink Monitor (RTNLGRP_LINK): a bridge of ours deleted is seen at once
//   nftables the ruleset generation (NFT_MSG_GETGEN, one small request) every intervalMs:
//            every commit by anyone bumps it, and a bump is followed by one listing of
//            our table (Networks.damage). Polling the generation rather than joining
//            NFNLGRP_NFTABLES keeps the addon as it is; at the default 100 ms the cost is
//            ~10 requests a second, and a flush is found well within the one second the
//            daemon promises
//   backstop a full check every fullCheckMs whatever the events said (a missed event, an
//            element deleted without a generation we noticed)
//
// When something is missing, Networks.repair() puts it back with the reconcile of a
// start-up (idempotent), in the controller's admin queue so that a network being made or
// removed is not taken for damage, and the repair is logged with what was missing.
import type { Monitor } from '../monitor';
import type { Networks } from '../network/networks';

/** Options of the kernel watch. */
export interface WatchOptions {
  /** How often to read the ruleset generation (default 100 ms). */
  intervalMs?: number;
  /** How often to check everything regardless (default 5000 ms). */
  fullCheckMs?: number;
}

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export class KernelWatch {
  readonly #networks: Networks;
  readonly #log: Log;
  readonly #interval: number;
  readonly #full: number;
  #monitor: Monitor | undefined;
  #genTimer: NodeJS.Timeout | undefined;
  #fullTimer: NodeJS.Timeout | undefined;
  #generation = -1;
  #checking: Promise<void> | undefined;
  #again = false;
  #closed = false;
  /** Repairs made (tests, health). */
  repairs = 0;

  constructor(networks: Networks, log: Log, opts: WatchOptions = {}) {
    this.#networks = networks;
    this.#log = log;
    this.#interval = opts.intervalMs ?? 100;
    this.#full = opts.fullCheckMs ?? 5000;
  }

  async start(): Promise<void> {
    this.#generation = await this.#networks.host.nft.generation();
    this.#monitor = this.#networks.host.monitor({ links: true, ref: false });
    this.#monitor.on('event', (e) => {
      if (e.type === 'resync') this.check('link events were lost');
      else if (e.type === 'delete' && e.kind === 'link' && e.value.kind === 'bridge') this.check(`link ${e.value.name} deleted`);
    });
    this.#monitor.on('error', (err) => this.#log('warn', 'link monitor failed; the periodic check goes on', { error: err.message }));
    this.#genTimer = setInterval(() => void this.#pollGeneration(), this.#interval);
    this.#genTimer.unref();
    this.#fullTimer = setInterval(() => this.check('periodic check'), this.#full);
    this.#fullTimer.unref();
  }

  #polling = false;

  async #pollGeneration(): Promise<void> {
    // One request at a time: a slow answer (the kernel's RTNL lock held by a burst of
    // attaches) must not pile up requests behind it.
    if (this.#closed || this.#polling) return;
    this.#polling = true;
    try {
      const g = await this.#networks.host.nft.generation();
      if (g === this.#generation) return;
      this.#generation = g;
      this.check('ruleset generation changed');
    } catch (e) {
      this.#log('warn', 'could not read the ruleset generation', { error: (e as Error).message });
    } finally {
      this.#polling = false;
    }
  }

  /** Checks (and repairs) now; checks asked for while one runs coalesce into one more. */
  check(why: string): void {
    if (this.#closed) return;
    if (this.#checking) {
      this.#again = true;
      return;
    }
    this.#checking = this.#run(why).finally(() => {
      this.#checking = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        this.check('changes during the last check');
      }
    });
  }

  async #run(why: string): Promise<void> {
    try {
      const t0 = performance.now();
      const damage = await this.#networks.repair();
      if (damage === undefined) return;
      this.repairs++;
      // Our own repair bumped the generation: do not take it for someone else's change.
      this.#generation = await this.#networks.host.nft.generation();
      this.#log('warn', 'restored kernel state another party removed', { found: damage, trigger: why, ms: +(performance.now() - t0).toFixed(1) });
    } catch (e) {
      if (this.#closed) return;
      this.#log('error', 'kernel check or repair failed; retried at the next check', { error: (e as Error).message, trigger: why });
    }
  }

  /** Stops watching; waits for a check in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#genTimer);
    clearInterval(this.#fullTimer);
    this.#monitor?.close();
    await this.#checking;
  }
}
