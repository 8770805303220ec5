// Forwarding what the resolver does not answer itself to the upstream resolvers: the
// client's query as it came (its id, flags, EDNS), over UDP from a socket of its own (a
// fresh source port per query, as a stub resolver does: nothing to guess but the id and
// the port), then over TCP when the UDP answer is truncated; the next upstream when one
// times out or refuses; SERVFAIL when none answers. Answers go back as the upstream
// sent them (NXDOMAIN included), after checking that they answer this query.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as packet from 'dns-packet';
import { ipFamily } from '../../ip';

/** An upstream resolver. */
export interface Upstream {
  address: string;
  port: number;
  family: 4 | 6;
}

/** Parses 'addr', 'addr:port', '[v6]:port' or a bare IPv6 address; TypeError otherwise. */
export function parseUpstream(spec: string): Upstream {
  if (typeof spec !== 'string') throw new TypeError('an upstream must be a string: address, address:port or [ipv6]:port');
  let address = spec;
  let port = 53;
  const m6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  const m4 = /^([^:]+):(\d+)$/.exec(spec);
  if (m6) {
    address = m6[1]!;
    if (m6[2] !== undefined) port = Number(m6[2]);
  } else if (m4) {
    address = m4[1]!;
    port = Number(m4[2]);
  }
  const family = ipFamily(address.replace(/%.*$/, ''));
  if (family === 0) throw new TypeError(`upstream ${JSON.stringify(spec)} is not an address (address, address:port or [ipv6]:port)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`upstream ${JSON.stringify(spec)}: port must be 1-65535`);
  return { address, port, family: family as 4 | 6 };
}

/** Limits of the forwarder. */
export interface ForwarderOptions {
  /** How long one upstream has to answer one attempt (default 2000 ms). */
  timeoutMs: number;
  /** Forwarded queries in flight at once; more get SERVFAIL at once (default 1024). */
  maxInflight: number;
  /** Forwarded queries in flight from one client address; more are dropped (default 64). */
  maxPerClient: number;
}

/** How a forwarded query ended. */
export type ForwardResult =
  | { kind: 'answer'; reply: Buffer; via: 'udp' | 'tcp' }
  | { kind: 'servfail'; reason: string }
  | { kind: 'dropped' };

const TC = packet.TRUNCATED_RESPONSE;

/** Counters of the forwarder. */
export interface ForwarderStats {
  forwarded: number;
  answered: number;
  tcpRetries: number;
  timeouts: number;
  servfail: number;
  overloaded: number;
  droppedPerClient: number;
  badReplies: number;
  inflight: number;
}

/**
 * Forwards queries to a list of upstreams (read on each query: the list may change).
 * Memory is bounded: at most maxInflight queries (each a socket and a timer) at once,
 * at most maxPerClient of them for one client address.
 */
export class Forwarder {
  readonly #upstreams: () => Upstream[];
  readonly #o: ForwarderOptions;
  readonly #perClient = new Map<string, number>();
  readonly #live = new Set<{ cancel(): void }>();
  readonly stats: ForwarderStats = {
    forwarded: 0, answered: 0, tcpRetries: 0, timeouts: 0, servfail: 0, overloaded: 0, droppedPerClient: 0, badReplies: 0, inflight: 0,
  };

  constructor(upstreams: () => Upstream[], o: ForwarderOptions) {
    this.#upstreams = upstreams;
    this.#o = o;
  }

  /**
   * Forwards `query` (already decoded as `q`: one question) for `client`. `tcp` says the
   * client asked over TCP (then only TCP is used upstream). `done` is called exactly once.
   */
  forward(query: Buffer, q: packet.Question, client: string, tcp: boolean, done: (r: ForwardResult) => void): void {
    if (this.stats.inflight >= this.#o.maxInflight) {
      this.stats.overloaded++;
      done({ kind: 'servfail', reason: 'too many queries in flight' });
      return;
    }
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.#o.maxPerClient) {
      this.stats.droppedPerClient++;
      done({ kind: 'dropped' });
      return;
    }
    this.#perClient.set(client, mine + 1);
    this.stats.inflight++;
    this.stats.forwarded++;
    const ups = this.#upstreams();
    let i = 0;
    let current: { cancel(): void } | undefined;
    const finish = (r: ForwardResult): void => {
      if (current) this.#live.delete(current);
      current = undefined;
      this.stats.inflight--;
      const n = (this.#perClient.get(client) ?? 1) - 1;
      if (n <= 0) this.#perClient.delete(client);
      else this.#perClient.set(client, n);
      if (r.kind === 'answer') this.stats.answered++;
      else if (r.kind === 'servfail') this.stats.servfail++;
      done(r);
    };
    const next = (why: string): void => {
      if (current) this.#live.delete(current);
      const up = ups[i++];
      if (!up) {
        finish({ kind: 'servfail', reason: ups.length === 0 ? 'no upstream resolver configured' : `no upstream answered (${why})` });
        return;
      }
      const onReply = (reply: Buffer | undefined, why2: string, via: 'udp' | 'tcp'): void => {
        if (!reply) {
          next(why2);
          return;
        }
        if (via === 'udp' && (reply.readUInt16BE(2) & TC) !== 0) {
          // Truncated: the same upstream over TCP has the whole answer.
          this.stats.tcpRetries++;
          current = this.#tcp(up, query, q, (r2, w2) => (r2 ? finish({ kind: 'answer', reply: r2, via: 'tcp' }) : next(w2)));
          this.#live.add(current);
          return;
        }
        finish({ kind: 'answer', reply, via });
      };
      current = tcp ? this.#tcp(up, query, q, (r, w) => onReply(r, w, 'tcp')) : this.#udp(up, query, q, (r, w) => onReply(r, w, 'udp'));
      this.#live.add(current);
    };
    next('');
  }

  /** Abandons every query in flight (their clients get nothing). */
  close(): void {
    for (const c of this.#live) c.cancel();
    this.#live.clear();
  }

  // Whether `reply` answers `query`: a response, the same id, the same question.
  #matches(reply: Buffer, query: Buffer, q: packet.Question): boolean {
    if (reply.length < 12 || (reply[2]! & 0x80) === 0 || reply.readUInt16BE(0) !== query.readUInt16BE(0)) return false;
    try {
      const d = packet.decode(reply);
      const rq = d.questions?.[0];
      // A reply may omit the question (some servers do for errors); if it has one, it must be ours.
      if (!rq) return d.questions?.length === 0;
      return rq.name.toLowerCase() === q.name.toLowerCase() && rq.type === q.type && (rq.class ?? 'IN') === (q.class ?? 'IN');
    } catch {
      return false;
    }
  }

  #udp(up: Upstream, query: Buffer, q: packet.Question, cb: (reply: Buffer | undefined, why: string) => void): { cancel(): void } {
    const sock = dgram.createSocket(up.family === 6 ? 'udp6' : 'udp4');
    let over = false;
    const end = (reply: Buffer | undefined, why: string): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      sock.close();
      cb(reply, why);
    };
    const timer = setTimeout(() => {
      this.stats.timeouts++;
      end(undefined, `${up.address}: timed out`);
    }, this.#o.timeoutMs);
    sock.on('error', (e) => end(undefined, `${up.address}: ${e.message}`));
    sock.on('message', (msg) => {
      // Not an answer to this query (a stray or forged datagram): keep waiting.
      if (this.#matches(msg, query, q)) end(msg, '');
      else this.stats.badReplies++;
    });
    // Connected: the kernel delivers only datagrams from the upstream's address and
    // port, and an ICMP port unreachable ends the attempt at once (ECONNREFUSED).
    sock.connect(up.port, up.address, () => sock.send(query));
    return { cancel: () => end(undefined, 'cancelled') };
  }

  #tcp(up: Upstream, query: Buffer, q: packet.Question, cb: (reply: Buffer | undefined, why: string) => void): { cancel(): void } {
    let over = false;
    let buf: Buffer = Buffer.alloc(0);
    const end = (reply: Buffer | undefined, why: string): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      sock.destroy();
      cb(reply, why);
    };
    const timer = setTimeout(() => {
      this.stats.timeouts++;
      end(undefined, `${up.address} (tcp): timed out`);
    }, this.#o.timeoutMs);
    const sock = net.connect({ host: up.address, port: up.port, family: up.family });
    sock.on('error', (e) => end(undefined, `${up.address} (tcp): ${e.message}`));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (buf.length < 2) return;
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) return;
      const reply = buf.subarray(2, 2 + n);
      if (this.#matches(reply, query, q)) end(Buffer.from(reply), '');
      else {
        this.stats.badReplies++;
        end(undefined, `${up.address} (tcp): an answer to another query`);
      }
    });
    sock.on('end', () => end(undefined, `${up.address} (tcp): closed without an answer`));
    return { cancel: () => end(undefined, 'cancelled') };
  }
}
