// The DNS resolver of netplumb's networks, in the manner of aardvark-dns: one UDP socket
// and one TCP listener on each user-defined network's gateway address (IPv4, and IPv6
// when the network has it), in this process's network namespace (the host namespace of
// the networks). It answers A, AAAA and PTR for the names and aliases of the containers
// of the asker's networks, TTL 0, from the state store as it changes, and forwards the
// rest upstream. Only members ask: a query whose source address is not a ready endpoint
// of the network it arrived on gets no answer at all (another network routed through
// the host, the outside). Why this shape, and the numbers: docs/dns.md.
//
// Wire format: dns-packet (decode and encode); this file never builds DNS bytes by hand.
import * as dgram from 'node:dgram';
import { statSync } from 'node:fs';
import * as net from 'node:net';
import * as packet from 'dns-packet';
import { normalizeIp } from '../ipam';
import type { Networks } from '../networks';
import { followedStore } from '../follower';
import type { NetworkStore } from '../store';
import type { NetworkInfo } from '../types';
import { HOST_RESOLV_CONF, readHostResolvConf } from './resolvconf';
import { Forwarder, parseUpstream, type ForwarderStats, type Upstream } from './upstream';
import { DnsZone, type ZoneEndpoint } from './zone';

/** Options of Resolver.open. */
export interface ResolverOptions {
  /**
   * Follow this controller's state (in process: its changes are seen as they are made,
   * other processes' within pollMs). Its host namespace must be this process's own: the
   * resolver's sockets are opened here.
   */
  networks?: Networks;
  /** Or open this state directory read-only and follow it (what `netplumb dns --state-dir` does). */
  stateDir?: string;
  /** Upstream resolvers: 'address', 'address:port', '[ipv6]:port'. Default: the nameservers of resolvConf, reread when it changes. */
  upstreams?: string[];
  /** Where the default upstreams come from (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Port to listen on at each gateway (default 53). */
  port?: number;
  /** How long one upstream has to answer (default 2000 ms); then the next, then SERVFAIL. */
  timeoutMs?: number;
  /** How often to look for other processes' changes (default 25 ms: one PRAGMA; see docs/dns.md). */
  pollMs?: number;
  /** Forwarded queries in flight at once (default 1024); more get SERVFAIL at once. */
  maxInflight?: number;
  /** Forwarded queries in flight from one client (default 64); more are dropped. */
  maxPerClient?: number;
  /** TCP connections at once per listener (default 256) and from one client (default 16). */
  maxTcpConnections?: number;
  maxTcpPerClient?: number;
  /** A TCP connection idle this long is closed (default 10 s, RFC 7766's advice). */
  tcpIdleMs?: number;
  /** Where problems that do not stop the resolver go (default process.emitWarning). */
  warn?: (message: string) => void;
}

/** Where the resolver listens. */
export interface ResolverListener {
  network: string;
  networkId: string;
  address: string;
  port: number;
}

/** Counters of a resolver (tests, the fuzzer, the benchmark). */
export interface ResolverStats {
  /** Datagrams and TCP messages received. */
  received: number;
  /** Answered here (names, PTR, NODATA, NXDOMAIN of our zones). */
  local: number;
  /** Not from a member of the network: no answer. */
  notMember: number;
  /** Too short, a response, or not decodable without a header: dropped. */
  dropped: number;
  formerr: number;
  refused: number;
  notimp: number;
  forwarder: ForwarderStats;
  /** Changes of the store applied. */
  changes: number;
  /** Endpoints indexed. */
  endpoints: number;
}

// RCODEs (RFC 1035, 4.1.1).
const NOERROR = 0;
const FORMERR = 1;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const NOTIMP = 4;
const REFUSED = 5;

const AA = packet.AUTHORITATIVE_ANSWER;
const TC = packet.TRUNCATED_RESPONSE;
const RD = packet.RECURSION_DESIRED;
const RA = packet.RECURSION_AVAILABLE;
// What a response copies from the query's flags: opcode and RD (and CD, RFC 4035).
const ECHO = 0x7800 | RD | packet.CHECKING_DISABLED;
// The EDNS payload size we offer (the DNS flag day's 1232) and the most we honour.
const EDNS_SIZE = 1232;
const UDP_MAX = 4096;

interface Listener extends ResolverListener {
  udp: dgram.Socket;
  tcp: net.Server;
  tcpPerClient: Map<string, number>;
  sockets: Set<net.Socket>;
}

const defaultWarn = (message: string): void => {
  process.emitWarning(`netplumb dns: ${message}`, 'NetplumbWarning');
};

/**
 * A DNS server for the containers of netplumb's networks. Open with Resolver.open; close()
 * (or `await using`) closes its sockets. It keeps no state of its own: what it answers is
 * the state store's, followed as it changes, so a restart loses nothing.
 */
export class Resolver {
  readonly #store: NetworkStore;
  readonly #ownStore: boolean;
  readonly #zone: DnsZone;
  readonly #fwd: Forwarder;
  readonly #o: Required<Omit<ResolverOptions, 'networks' | 'stateDir' | 'upstreams' | 'resolvConf'>>;
  readonly #listeners = new Map<string, Listener>();
  // key -> reason: gateways that could not be bound (retried on each reconcile).
  readonly #failed = new Map<string, string>();
  readonly #fixedUpstreams: Upstream[] | undefined;
  readonly #resolvConf: string;
  #upstreams: Upstream[] = [];
  #resolvStamp = '';
  #resolvCheckedAt = 0;
  #unfollow: (() => void) | undefined;
  #retry: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> = Promise.resolve();
  #reconcileAgain = false;
  #closed = false;
  readonly #counts = { received: 0, local: 0, notMember: 0, dropped: 0, formerr: 0, refused: 0, notimp: 0 };

  private constructor(store: NetworkStore, ownStore: boolean, opts: ResolverOptions) {
    this.#store = store;
    this.#ownStore = ownStore;
    const num = (v: number | undefined, d: number, name: string, min: number): number => {
      const x = v ?? d;
      if (!Number.isInteger(x) || x < min) throw new RangeError(`${name} must be an integer >= ${min}`);
      return x;
    };
    this.#o = {
      port: num(opts.port, 53, 'port', 1),
      timeoutMs: num(opts.timeoutMs, 2000, 'timeoutMs', 1),
      pollMs: num(opts.pollMs, 25, 'pollMs', 1),
      maxInflight: num(opts.maxInflight, 1024, 'maxInflight', 1),
      maxPerClient: num(opts.maxPerClient, 64, 'maxPerClient', 1),
      maxTcpConnections: num(opts.maxTcpConnections, 256, 'maxTcpConnections', 1),
      maxTcpPerClient: num(opts.maxTcpPerClient, 16, 'maxTcpPerClient', 1),
      tcpIdleMs: num(opts.tcpIdleMs, 10_000, 'tcpIdleMs', 1),
      warn: opts.warn ?? defaultWarn,
    };
    if (this.#o.port > 65535) throw new RangeError('port must be 1-65535');
    if (opts.upstreams !== undefined) {
      if (!Array.isArray(opts.upstreams)) throw new TypeError('upstreams must be an array of addresses');
      this.#fixedUpstreams = opts.upstreams.map(parseUpstream);
    }
    this.#resolvConf = opts.resolvConf ?? HOST_RESOLV_CONF;
    this.#fwd = new Forwarder(() => this.#currentUpstreams(), {
      timeoutMs: this.#o.timeoutMs, maxInflight: this.#o.maxInflight, maxPerClient: this.#o.maxPerClient,
    });
    this.#zone = new DnsZone(store, () => this.#reconcile());
  }

  /**
   * Starts a resolver: follows the state (of `networks`, or of `stateDir` opened
   * read-only) and listens on the gateway of every network it serves, now and as networks
   * come and go. Fails when `networks` lives in another network namespace than this
   * process (the sockets would be opened in the wrong one).
   */
  static async open(opts: ResolverOptions): Promise<Resolver> {
    const { store, own } = await followedStore(
      opts,
      'Resolver',
      'the resolver listens in its own. Run the resolver in that namespace (e.g. `ip netns exec <host-netns> netplumb dns --state-dir DIR`).',
    );
    let r: Resolver | undefined;
    try {
      r = new Resolver(store, own, opts);
      await r.#start();
      return r;
    } catch (e) {
      await r?.close();
      if (own) store.close();
      throw e;
    }
  }

  async #start(): Promise<void> {
    this.#store.sync();
    this.#reconcile();
    await this.#reconciling;
    // Other processes' commits (docs/dns.md has the measurement behind polling besides
    // watching the journal).
    this.#unfollow = this.#store.follow(this.#o.pollMs, this.#o.warn);
  }

  /** Where it listens now. */
  get listeners(): ResolverListener[] {
    return [...this.#listeners.values()].map(({ network, networkId, address, port }) => ({ network, networkId, address, port }));
  }

  /** Gateways it could not listen on, with the reason (retried every second). */
  get failed(): { address: string; reason: string }[] {
    return [...this.#failed].map(([k, reason]) => ({ address: k.split(' ')[1]!, reason }));
  }

  get stats(): ResolverStats {
    return { ...this.#counts, forwarder: { ...this.#fwd.stats }, changes: this.#zone.changes, endpoints: this.#zone.size };
  }

  /** Closes every socket and stops following the state; queries in flight get no answer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unfollow?.();
    clearTimeout(this.#retry);
    this.#zone.close();
    this.#fwd.close();
    await this.#reconciling.catch(() => undefined);
    await Promise.all([...this.#listeners.values()].map((l) => this.#closeListener(l)));
    this.#listeners.clear();
    if (this.#ownStore) this.#store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- listeners ----------------------------------------------------------------------

  // Listeners follow the served networks: opened for new ones, closed for removed ones.
  // One pass at a time; a change during a pass asks for another.
  #reconcile(): void {
    if (this.#closed) return;
    this.#reconcileAgain = true;
    this.#reconciling = this.#reconciling.then(async () => {
      while (this.#reconcileAgain && !this.#closed) {
        this.#reconcileAgain = false;
        await this.#reconcileOnce();
      }
    });
  }

  async #reconcileOnce(): Promise<void> {
    const want = new Map<string, { net: NetworkInfo; address: string }>();
    for (const n of this.#zone.served()) {
      for (const a of [n.gateway, n.ipv6Gateway]) if (a !== undefined) want.set(`${n.id} ${a}`, { net: n, address: a });
    }
    for (const [k, l] of this.#listeners) {
      if (!want.has(k)) {
        this.#listeners.delete(k);
        await this.#closeListener(l);
      }
    }
    for (const k of this.#failed.keys()) if (!want.has(k)) this.#failed.delete(k);
    for (const [k, { net: n, address }] of want) {
      if (this.#listeners.has(k) || this.#closed) continue;
      try {
        this.#listeners.set(k, await this.#listen(n, address));
        this.#failed.delete(k);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const reason = err.code === 'EADDRNOTAVAIL'
          ? `${address} is not an address of this network namespace: run the resolver in the namespace that holds the networks' bridges (e.g. ip netns exec <host-netns> netplumb dns --state-dir DIR)`
          : err.message;
        if (this.#failed.get(k) !== reason) this.#o.warn(`cannot listen on ${address} port ${this.#o.port} for network ${n.name}: ${reason}`);
        this.#failed.set(k, reason);
      }
    }
    if (this.#failed.size > 0 && !this.#retry && !this.#closed) {
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#reconcile();
      }, 1000);
      this.#retry.unref();
    }
  }

  async #listen(n: NetworkInfo, address: string): Promise<Listener> {
    const port = this.#o.port;
    const udp = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address, port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const tcp = net.createServer({ pauseOnConnect: false });
    tcp.maxConnections = this.#o.maxTcpConnections;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port, exclusive: true, backlog: 128 }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    const l: Listener = { network: n.name, networkId: n.id, address, port, udp, tcp, tcpPerClient: new Map(), sockets: new Set() };
    udp.on('message', (msg, rinfo) => this.#onUdp(l, msg, rinfo));
    udp.on('error', (e) => this.#o.warn(`udp ${address}: ${e.message}`));
    tcp.on('connection', (s) => this.#onTcp(l, s));
    tcp.on('error', (e) => this.#o.warn(`tcp ${address}: ${e.message}`));
    return l;
  }

  async #closeListener(l: Listener): Promise<void> {
    await Promise.all([
      new Promise<void>((r) => l.udp.close(() => r())),
      new Promise<void>((r) => {
        l.tcp.close(() => r());
        // Open connections would keep close() waiting for their idle timeout.
        for (const s of l.sockets) s.destroy();
      }),
    ]);
  }

  // --- queries ------------------------------------------------------------------------

  #onUdp(l: Listener, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#counts.received++;
    // Members only: a source that is not a ready endpoint of this network gets silence,
    // before a byte of the packet is looked at.
    const asker = this.#zone.member(l.networkId, rinfo.address);
    if (!asker) {
      this.#counts.notMember++;
      return;
    }
    this.#handle(l, asker, msg, false, (reply) => l.udp.send(reply, rinfo.port, rinfo.address));
  }

  #onTcp(l: Listener, s: net.Socket): void {
    const peer = s.remoteAddress ?? '';
    const asker = this.#zone.member(l.networkId, peer);
    if (!asker) {
      this.#counts.notMember++;
      s.destroy();
      return;
    }
    const n = (l.tcpPerClient.get(peer) ?? 0) + 1;
    if (n > this.#o.maxTcpPerClient) {
      s.destroy();
      return;
    }
    l.tcpPerClient.set(peer, n);
    l.sockets.add(s);
    s.setTimeout(this.#o.tcpIdleMs, () => s.destroy());
    s.on('error', () => s.destroy());
    s.on('close', () => {
      l.sockets.delete(s);
      const m = (l.tcpPerClient.get(peer) ?? 1) - 1;
      if (m <= 0) l.tcpPerClient.delete(peer);
      else l.tcpPerClient.set(peer, m);
    });
    // RFC 1035 4.2.2: each message is prefixed by its length (16 bits), so one is at most
    // 65,537 bytes here; several may be in flight on one connection (RFC 7766).
    let buf: Buffer = Buffer.alloc(0);
    let pending = 0;
    s.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.#counts.received++;
        if (++pending > 32) {
          // A client that pipelines more than this without reading is not a stub resolver.
          s.destroy();
          return;
        }
        // The member may have left since the connection opened.
        const who = this.#zone.member(l.networkId, peer);
        if (!who) {
          this.#counts.notMember++;
          s.destroy();
          return;
        }
        this.#handle(l, who, Buffer.from(msg), true, (reply) => {
          pending--;
          if (s.destroyed) return;
          const len2 = Buffer.alloc(2);
          len2.writeUInt16BE(reply.length);
          s.write(Buffer.concat([len2, reply]));
        }, () => pending--);
      }
    });
  }

  // One query: answered here, forwarded, refused, or dropped (`drop` then, if given).
  #handle(l: Listener, asker: ZoneEndpoint, msg: Buffer, tcp: boolean, send: (reply: Buffer) => void, drop?: () => void): void {
    // A header is 12 bytes; anything shorter, or a response (QR set: answering it could
    // loop two servers), gets nothing.
    if (msg.length < 12 || (msg[2]! & 0x80) !== 0) {
      this.#counts.dropped++;
      drop?.();
      return;
    }
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    // Counts the packet cannot hold (a question is at least 5 bytes, a record 11) are
    // refused before decoding: dns-packet allocates an array of each count first, and a
    // flood of 12-byte packets claiming 65,535 records each costs megabytes apiece.
    const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
    if (msg.readUInt16BE(4) * 5 + records * 11 > msg.length - 12) {
      this.#counts.formerr++;
      send(this.#error(id, flags, FORMERR));
      return;
    }
    let q: packet.DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      // Malformed past the header (a bad name, a compression pointer that does not point
      // back, counts beyond the end): FORMERR with the header only.
      this.#counts.formerr++;
      send(this.#error(id, flags, FORMERR));
      return;
    }
    const opcode = (flags >> 11) & 0xf;
    if (opcode !== 0) {
      this.#counts.notimp++;
      send(this.#error(id, flags, NOTIMP));
      return;
    }
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1) {
      this.#counts.formerr++;
      send(this.#error(id, flags, FORMERR));
      return;
    }
    const opt = q.additionals?.find((a) => a.type === 'OPT') as packet.OptAnswer | undefined;
    const limit = tcp ? 65535 : opt ? Math.min(Math.max(opt.udpPayloadSize ?? 512, 512), UDP_MAX) : 512;
    const type = question.type;
    // ANY answers as much as an attacker can make us send; a zone transfer hands out
    // every name. Neither is for containers.
    const t = type as string;
    if (t === 'ANY' || t === 'AXFR' || t === 'IXFR' || (question.class !== undefined && question.class !== 'IN')) {
      this.#counts.refused++;
      send(this.#reply(id, flags, REFUSED, question, [], opt !== undefined, limit));
      return;
    }
    const name = question.name.toLowerCase();
    if (type === 'PTR') {
      const addr = reverseAddress(name);
      const hit = addr === undefined ? undefined : this.#zone.reverse(asker, addr);
      if (hit) {
        this.#counts.local++;
        if ('name' in hit) {
          send(this.#reply(id, flags, NOERROR, question, [{ type: 'PTR', name: question.name, ttl: 0, data: hit.name }], opt !== undefined, limit));
        } else {
          send(this.#reply(id, flags, NXDOMAIN, question, [], opt !== undefined, limit));
        }
        return;
      }
    } else {
      const family = type === 'AAAA' ? 6 : 4;
      const hit = this.#zone.lookup(asker, name, family);
      if (hit) {
        this.#counts.local++;
        // A name we hold answers here whatever the type: its addresses for A and AAAA, no
        // data (NOERROR, empty) for the rest, rather than an upstream's opinion.
        const answers: packet.Answer[] = type === 'A' || type === 'AAAA'
          ? hit.addresses.map((data) => ({ type, name: question.name, ttl: 0, data }) as packet.Answer)
          : [];
        send(this.#reply(id, flags, NOERROR, question, answers, opt !== undefined, limit));
        return;
      }
      if (this.#zone.inZone(asker, name)) {
        // `<anything>.<network>`: our zone, and there is no such container.
        this.#counts.local++;
        send(this.#reply(id, flags, NXDOMAIN, question, [], opt !== undefined, limit));
        return;
      }
    }
    const netInfo = this.#store.networks.get(l.networkId);
    if (netInfo?.internal) {
      // An internal network has no way out; its resolver does not provide one either.
      this.#counts.refused++;
      send(this.#reply(id, flags, REFUSED, question, [], opt !== undefined, limit));
      return;
    }
    this.#fwd.forward(msg, question, `${l.networkId} ${asker.ip}`, tcp, (r) => {
      if (r.kind === 'dropped') {
        drop?.();
        return;
      }
      if (r.kind === 'servfail') {
        send(this.#reply(id, flags, SERVFAIL, question, [], opt !== undefined, limit));
        return;
      }
      if (r.reply.length <= limit) {
        send(r.reply);
        return;
      }
      // Larger than the client takes over UDP (the upstream's TCP answer): the header and
      // question with TC set, so that the client asks again over TCP.
      let up: packet.DecodedPacket | undefined;
      try {
        up = packet.decode(r.reply);
      } catch {
        up = undefined;
      }
      send(this.#reply(id, flags, (up?.flags ?? 0) & 0xf, question, [], opt !== undefined, limit, TC));
    });
  }

  #error(id: number, flags: number, rcode: number): Buffer {
    return packet.encode({ id, type: 'response', flags: (flags & ECHO) | RA | rcode, questions: [] });
  }

  // A response of ours: AA for what we answer with data or NXDOMAIN about our names.
  // Answers that do not fit the client's limit are cut, with TC set (RFC 2181 9).
  #reply(
    id: number, flags: number, rcode: number, question: packet.Question, answers: packet.Answer[], edns: boolean, limit: number, extra = 0,
  ): Buffer {
    const f = (flags & ECHO) | RA | rcode | extra | (rcode === NOERROR || rcode === NXDOMAIN ? AA : 0);
    const additionals: packet.Answer[] = edns ? [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_SIZE } as packet.Answer] : [];
    let out = packet.encode({ id, type: 'response', flags: f, questions: [question], answers, additionals });
    let n = answers.length;
    while (out.length > limit && n > 0) {
      n = Math.min(n - 1, Math.floor((n * limit) / out.length));
      out = packet.encode({ id, type: 'response', flags: f | TC, questions: [question], answers: answers.slice(0, n), additionals });
    }
    return out;
  }

  // --- upstreams ----------------------------------------------------------------------

  // The configured upstreams, or resolv.conf's nameservers (reread when the file changes,
  // looked at once a second at most), less our own listening addresses: a resolver that
  // forwards to itself loops.
  #currentUpstreams(): Upstream[] {
    if (this.#fixedUpstreams) return this.#fixedUpstreams;
    const now = Date.now();
    if (now - this.#resolvCheckedAt >= 1000) {
      this.#resolvCheckedAt = now;
      let stamp = '';
      try {
        const st = statSync(this.#resolvConf);
        stamp = `${st.ino} ${st.mtimeMs} ${st.size}`;
      } catch {
        stamp = 'none';
      }
      if (stamp !== this.#resolvStamp) {
        this.#resolvStamp = stamp;
        const mine = new Set([...this.#listeners.values()].map((l) => l.address));
        const ups: Upstream[] = [];
        for (const s of readHostResolvConf(this.#resolvConf).nameservers) {
          try {
            const u = parseUpstream(s.includes(':') ? `[${s}]` : s);
            if (!mine.has(u.address)) ups.push(u);
          } catch {
            // a nameserver line we cannot use
          }
        }
        this.#upstreams = ups;
      }
    }
    return this.#upstreams;
  }
}

/** The address a PTR name asks about (x.x.x.x.in-addr.arpa, 32 nibbles.ip6.arpa), canonical; undefined if it is not one. */
export function reverseAddress(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) return undefined;
    return parts.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    // RFC 5952 text, as node:dgram reports sources and the zone keeps addresses.
    return normalizeIp(groups.join(':'));
  }
  return undefined;
}
