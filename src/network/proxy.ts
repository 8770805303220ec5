// A userland proxy for what the kernel cannot NAT: published ports reached from the host
// at [::1]. IPv4 publishing on 127.0.0.1 works in the kernel (route_localnet lets a
// DNATed packet from 127.0.0.1 be routed out to the bridge), but IPv6 has no such
// switch: the DNAT of a connection to [::1]:port happens, and its reply, once translated
// back, arrives on the bridge addressed to ::1, which the kernel drops (RFC 4291 2.5.3;
// docs/ipv6.md). Docker serves it with docker-proxy; this is that, for every process's
// containers at once: one listener per published port on [::1], each connection (or UDP
// flow) relayed to the container's address. It follows the state like the DNS resolver
// (a change by any process is served at once) and keeps no state of its own.
//
// Which ports: the IPv6 bindings of every port published on every address (no hostIp or
// '::': [::1] is one of the host's addresses) and every port published on '::1' itself,
// relayed to the container's IPv6 address. SCTP has no userland socket in Node: not
// relayed. Like the resolver, it listens in this process's network namespace.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Networks } from './networks';
import { portBindings } from './ports';
import { followedStore } from './follower';
import type { NetworkStore } from './store';
import type { EndpointInfo } from './types';

/** Options of LoopbackProxy.open: the state to follow (a controller's, or a state directory read-only). */
export interface LoopbackProxyOptions {
  networks?: Networks;
  stateDir?: string;
  /** A UDP flow without traffic for this long is forgotten (default 90 s, as conntrack's UDP stream timeout). */
  udpIdleMs?: number;
  /** At most this many UDP flows at once (default 4096); new flows beyond are dropped. */
  maxUdpFlows?: number;
  /** How often other processes' changes are looked for, besides a watch on the journal (default 50 ms). */
  pollMs?: number;
  warn?: (message: string) => void;
}

/** One relayed port. */
export interface ProxiedPort {
  protocol: 'tcp' | 'udp';
  /** The port on [::1]. */
  port: number;
  /** Where its connections go. */
  target: { address: string; port: number };
  endpoint: string;
}

interface Listener extends ProxiedPort {
  close(): void;
}

const LOOPBACK = '::1';

/** Relays published ports at [::1] to their containers. Close with close() or `await using`. */
export class LoopbackProxy {
  readonly #store: NetworkStore;
  readonly #ownStore: boolean;
  readonly #o: Required<Omit<LoopbackProxyOptions, 'networks' | 'stateDir'>>;
  // port key ('tcp/8080') -> listener
  readonly #listeners = new Map<string, Listener>();
  readonly #failed = new Map<string, string>();
  #off: (() => void) | undefined;
  #unfollow: (() => void) | undefined;
  #pending = false;
  #closed = false;
  #udpFlows = 0;

  private constructor(store: NetworkStore, own: boolean, o: LoopbackProxyOptions) {
    this.#store = store;
    this.#ownStore = own;
    const int = (v: unknown, d: number, what: string): number => {
      if (v === undefined) return d;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer`);
      return v;
    };
    this.#o = {
      udpIdleMs: int(o.udpIdleMs, 90_000, 'udpIdleMs'),
      maxUdpFlows: int(o.maxUdpFlows, 4096, 'maxUdpFlows'),
      pollMs: int(o.pollMs, 50, 'pollMs'),
      warn: o.warn ?? ((m) => process.emitWarning(`netplumb proxy: ${m}`, 'NetplumbWarning')),
    };
  }

  /**
   * Starts relaying: follows the state (of `networks`, or of `stateDir` read-only) and
   * listens on [::1] for each published port it serves, as endpoints come and go. Fails
   * when `networks` lives in another network namespace than this process.
   */
  static async open(opts: LoopbackProxyOptions): Promise<LoopbackProxy> {
    const { store, own } = await followedStore(opts, 'LoopbackProxy', "[::1] is this namespace's. Run it in that namespace.");
    const p = new LoopbackProxy(store, own, opts);
    try {
      await p.#start();
      return p;
    } catch (e) {
      await p.close();
      throw e;
    }
  }

  /** What it relays now. */
  get ports(): ProxiedPort[] {
    return [...this.#listeners.values()].map(({ protocol, port, target, endpoint }) => ({ protocol, port, target: { ...target }, endpoint }));
  }

  /** Ports it could not listen on (taken by another program, say), with the reason; retried on every change. */
  get failed(): { key: string; reason: string }[] {
    return [...this.#failed].map(([key, reason]) => ({ key, reason }));
  }

  async #start(): Promise<void> {
    this.#store.sync();
    this.#off = this.#store.onChange(() => this.#schedule());
    await this.#reconcile();
    this.#unfollow = this.#store.follow(this.#o.pollMs, this.#o.warn);
  }

  // Changes come in bursts (an attach is two transactions): one reconcile per turn.
  #schedule(): void {
    if (this.#pending || this.#closed) return;
    this.#pending = true;
    setImmediate(() => {
      this.#pending = false;
      void this.#reconcile();
    });
  }

  // The ports the state says to relay, against the listeners: new ones opened, gone or
  // changed ones closed. O(published ports), only when something changed.
  async #reconcile(): Promise<void> {
    if (this.#closed) return;
    const want = new Map<string, ProxiedPort>();
    const specificKeys = new Set<string>();
    for (const stored of this.#store.endpoints.values()) {
      if (stored.phase !== 'ready' || stored.info.publish.length === 0) continue;
      for (const { specific, ...p } of relayed(stored.info)) {
        const key = `${p.protocol}/${p.port}`;
        if (specific || !want.has(key) || !specificKeys.has(key)) want.set(key, p);
        if (specific) specificKeys.add(key);
      }
    }
    for (const [key, l] of this.#listeners) {
      const w = want.get(key);
      if (w && w.target.address === l.target.address && w.target.port === l.target.port) continue;
      l.close();
      this.#listeners.delete(key);
    }
    for (const key of this.#failed.keys()) if (!want.has(key)) this.#failed.delete(key);
    for (const [key, p] of want) {
      if (this.#listeners.has(key)) continue;
      try {
        this.#listeners.set(key, p.protocol === 'tcp' ? await this.#tcp(p) : await this.#udp(p));
        this.#failed.delete(key);
      } catch (e) {
        if (!this.#failed.has(key)) this.#o.warn(`cannot listen on [::1]:${p.port}/${p.protocol}: ${(e as Error).message}`);
        this.#failed.set(key, (e as Error).message);
      }
    }
  }

  #tcp(p: ProxiedPort): Promise<Listener> {
    const conns = new Set<Socket>();
    const server: Server = createServer({ allowHalfOpen: true }, (client) => {
      const upstream = connect({ host: p.target.address, port: p.target.port, allowHalfOpen: true });
      conns.add(client);
      conns.add(upstream);
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        conns.delete(client);
        conns.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: p.port, ipv6Only: true }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.#o.warn(`[::1]:${p.port}/tcp: ${e.message}`));
        resolve({
          ...p,
          close: () => {
            server.close();
            for (const c of conns) c.destroy();
          },
        });
      });
    });
  }

  #udp(p: ProxiedPort): Promise<Listener> {
    const family = p.target.address.includes(':') ? 'udp6' : 'udp4';
    // One upstream socket per client address: the container answers it, and the answer
    // goes back to that client from the published port.
    const flows = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();
    const front = createSocket({ type: 'udp6', ipv6Only: true });
    const forget = (key: string): void => {
      const f = flows.get(key);
      if (!f) return;
      clearTimeout(f.timer);
      f.sock.close();
      flows.delete(key);
      this.#udpFlows--;
    };
    front.on('message', (msg: Buffer, from: RemoteInfo) => {
      const key = `${from.address} ${from.port}`;
      let f = flows.get(key);
      if (!f) {
        if (this.#udpFlows >= this.#o.maxUdpFlows) return;
        const sock = createSocket(family);
        sock.on('message', (reply) => {
          front.send(reply, from.port, from.address);
          const g = flows.get(key);
          if (g) g.timer.refresh();
        });
        sock.on('error', () => forget(key));
        f = { sock, timer: setTimeout(() => forget(key), this.#o.udpIdleMs) };
        f.timer.unref();
        flows.set(key, f);
        this.#udpFlows++;
      } else {
        f.timer.refresh();
      }
      f.sock.send(msg, p.target.port, p.target.address);
    });
    return new Promise((resolve, reject) => {
      front.once('error', reject);
      front.bind({ address: LOOPBACK, port: p.port }, () => {
        front.off('error', reject);
        front.on('error', (e) => this.#o.warn(`[::1]:${p.port}/udp: ${e.message}`));
        resolve({
          ...p,
          close: () => {
            for (const k of [...flows.keys()]) forget(k);
            front.close();
          },
        });
      });
    });
  }

  /** Stops listening and following the state; connections in flight are cut. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#off?.();
    this.#unfollow?.();
    for (const l of this.#listeners.values()) l.close();
    this.#listeners.clear();
    if (this.#ownStore) this.#store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The ports of an endpoint relayed at [::1]: its IPv6 bindings on every address (::1 is
 * one of them) and those on ::1 itself, to its IPv6 address. `specific` marks the latter:
 * where both name one port, the specific one wins, as dnat6_ip wins over dnat6_any.
 */
export function relayed(ep: Pick<EndpointInfo, 'id' | 'ip' | 'ip6' | 'publish'>): (ProxiedPort & { specific: boolean })[] {
  if (ep.ip6 === undefined) return [];
  const out: (ProxiedPort & { specific: boolean })[] = [];
  for (const b of portBindings(ep.publish, ep.ip !== '', true)) {
    if (b.family !== 6 || b.protocol === 'sctp' || (b.hostIp !== undefined && b.hostIp !== LOOPBACK)) continue;
    out.push({ protocol: b.protocol, port: b.hostPort, target: { address: ep.ip6, port: b.containerPort }, endpoint: ep.id, specific: b.hostIp === LOOPBACK });
  }
  return out;
}
