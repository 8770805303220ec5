// netplumbd: the library in one long-running process per host, serving HTTP/JSON on a
// unix socket (docs/daemon.md). node:http over the socket: HTTP gives any language a
// client (curl --unix-socket, Go's net/http, Python's http.client) and the routes below
// are few enough not to need a framework.
//
//   request ─> route ─> body (capped, JSON) ─> schema (Ajv) ─> controller ─> JSON reply
//
// A request that fails a check before the controller changes nothing: 400 for a body
// that is not JSON or breaks its schema, 413 for one over the cap, 404/405 for a route
// or method that does not exist. The controller's own refusals map to 4xx as well
// (TypeError/RangeError 400, ENOENT 404, EEXIST/EBUSY 409) and everything else is a 500
// with the message; every reply is logged as one JSON line on stderr.
import { chmodSync, chownSync, existsSync, mkdirSync, unlinkSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Netns } from '../netns';
import { NetnsPool } from '../pool';
import { Networks, type NetworksOptions } from '../network/networks';
import { Resolver } from '../network/dns/resolver';
import { LoopbackProxy } from '../network/proxy';
import type { AttachOptions, NetworkOptions } from '../network/types';
import { runCni, type CniBackend } from '../cni/plugin';
import { describe, schemas, validators, type SchemaName } from './schemas';
import { KernelWatch, type WatchOptions } from './watch';

/** Options of Daemon.start. */
export interface DaemonOptions {
  /** The state directory it owns (Networks.open's stateDir). */
  stateDir: string;
  /** The unix socket to listen on (its directory is made, mode 0755, when missing). */
  socket: string;
  /** The socket's mode (default 0o660: its owner and group may connect; docs/daemon.md). */
  socketMode?: number;
  /** The socket's group (a name or a gid): its members may use the API. Default the daemon's own group. */
  socketGroup?: string | number;
  /** Owner tag (Networks.open's owner). */
  owner?: string;
  /** Where named namespaces live (a request's `netns` without a slash is a name there). */
  netnsDir?: string;
  /** Run the DNS resolver on the networks' gateways (default true). */
  dns?: boolean | { upstreams?: string[]; port?: number };
  /**
   * Serve the ports published at [::1] in userland (LoopbackProxy: the kernel cannot NAT
   * them), following the state (default true).
   */
  proxy?: boolean;
  /** Keep this many namespaces ready for attaches with `create` (default 0: none). */
  pool?: number;
  /** Largest request body accepted (default 1 MiB); larger gets 413. */
  maxBodyBytes?: number;
  /** The kernel watch (default on), or false. */
  watch?: WatchOptions | false;
  /** Where log records go (default: one JSON line each on stderr). */
  log?: (record: LogRecord) => void;
  /** Passed to Networks.open. */
  networks?: Omit<NetworksOptions, 'stateDir' | 'owner' | 'netnsDir'>;
}

/** One structured log line. */
export interface LogRecord {
  time: string;
  level: 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

/** An API error: HTTP status and message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Reply = { status?: number; body?: unknown; raw?: { text: string; headers: Record<string, string> }; log?: Record<string, unknown> };
type Handler = (req: Req) => Promise<Reply>;
interface Route { method: string; re: RegExp; schema?: SchemaName; handler: Handler }
interface Req { params: string[]; body: unknown; query: URLSearchParams; accept: string }

const VERSION = (() => {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/** The daemon: a controller, its API server, its resolver, pool and kernel watch. */
export class Daemon {
  readonly networks: Networks;
  readonly socket: string;
  readonly #opts: DaemonOptions;
  readonly #server: http.Server;
  readonly #routes: Route[];
  readonly #log: (level: LogRecord['level'], msg: string, fields?: Record<string, unknown>) => void;
  #resolver: Resolver | undefined;
  #proxy: LoopbackProxy | undefined;
  #pool: NetnsPool | undefined;
  #watch: KernelWatch | undefined;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #started = Date.now();
  #stopping: Promise<void> | undefined;
  readonly #cni: CniBackend;

  private constructor(opts: DaemonOptions, networks: Networks) {
    this.#opts = opts;
    this.networks = networks;
    this.socket = path.resolve(opts.socket);
    const sink = opts.log ?? ((r: LogRecord) => process.stderr.write(`${JSON.stringify(r)}\n`));
    this.#log = (level, msg, fields = {}) => sink({ time: new Date().toISOString(), level, msg, ...fields });
    this.#routes = this.#table();
    this.#server = http.createServer({ keepAliveTimeout: 5000, requestTimeout: 60_000, headersTimeout: 10_000 }, (req, res) => this.#serve(req, res));
    const stateDir = path.resolve(opts.stateDir);
    this.#cni = {
      dns: this.#resolver !== undefined,
      acquire: async (dir) => {
        if (dir !== undefined && path.resolve(dir) !== stateDir) {
          throw new Error(`the config's stateDir ${dir} is not the daemon's (${stateDir})`);
        }
        return { networks: this.networks, release: async () => undefined };
      },
    };
  }

  /**
   * Opens the controller (its start-up reconcile makes the state consistent whatever a
   * crash left), starts the resolver, the pool and the kernel watch, then listens. Fails
   * when another daemon answers on the socket; a stale socket file is replaced.
   */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const socket = path.resolve(opts.socket);
    if (existsSync(socket)) {
      if (await answers(socket)) throw new Error(`another daemon is listening on ${socket}`);
      unlinkSync(socket);
    }
    const networks = await Networks.open({
      ...opts.networks,
      stateDir: opts.stateDir,
      ...(opts.owner !== undefined && { owner: opts.owner }),
      ...(opts.netnsDir !== undefined && { netnsDir: opts.netnsDir }),
    });
    const d = new Daemon(opts, networks);
    try {
      await d.#start();
    } catch (e) {
      await d.stop().catch(() => undefined);
      throw e;
    }
    return d;
  }

  async #start(): Promise<void> {
    const o = this.#opts;
    const warn = (m: string): void => this.#log('warn', m);
    if (o.dns !== false) {
      const dopts = typeof o.dns === 'object' ? o.dns : {};
      this.#resolver = await Resolver.open({ networks: this.networks, warn, ...dopts });
      this.#cni.dns = true;
    }
    if (o.proxy !== false) this.#proxy = await LoopbackProxy.open({ networks: this.networks, warn });
    if (o.pool !== undefined && o.pool > 0) {
      this.#pool = await NetnsPool.create({ size: o.pool, ...(o.netnsDir !== undefined && { netnsDir: o.netnsDir }) });
    }
    if (o.watch !== false) {
      this.#watch = new KernelWatch(this.networks, this.#log, o.watch || {});
      await this.#watch.start();
    }
    mkdirSync(path.dirname(this.socket), { recursive: true, mode: 0o755 });
    // The socket is made with the umask's mode and then narrowed: made under a umask that
    // grants nothing to others, so there is no moment when anyone else may connect.
    const old = process.umask(0o117);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.socket, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
    chmodSync(this.socket, o.socketMode ?? 0o660);
    if (o.socketGroup !== undefined) chownSync(this.socket, -1, groupId(o.socketGroup));
    const st = statSync(this.socket);
    this.#log('info', 'listening', {
      socket: this.socket, mode: `0${(st.mode & 0o777).toString(8)}`, uid: st.uid, gid: st.gid,
      stateDir: path.resolve(o.stateDir), pid: process.pid, version: VERSION,
      dns: this.#resolver?.listeners.map((l) => `${l.address}:${l.port}`) ?? false, proxy: this.#proxy !== undefined, pool: o.pool ?? 0,
    });
  }

  /** The kernel watch's repair count (tests). */
  get repairs(): number {
    return this.#watch?.repairs ?? 0;
  }

  /**
   * Stops: no new connections, requests in flight finished, then the watch, the pool,
   * the resolver and the controller closed (close() deletes what waits in the reap
   * group), the socket removed. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#log('info', 'stopping', { inflight: this.#inflight.size });
      // No new connections; idle kept-alive ones closed now, busy ones once their request
      // is answered (a request arriving on one meanwhile gets a 503).
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      this.#server.closeAllConnections();
      await closed;
      await this.#watch?.close();
      await this.#pool?.close();
      await this.#proxy?.close();
      await this.#resolver?.close();
      await this.networks.close();
      try {
        unlinkSync(this.socket);
      } catch {
        // gone already
      }
      this.#log('info', 'stopped');
    })();
    return this.#stopping;
  }

  // --- serving ---------------------------------------------------------------------

  #serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#stopping) {
      req.resume();
      const payload = JSON.stringify({ error: 'the daemon is shutting down' });
      res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'close' });
      res.end(payload);
      return;
    }
    const t0 = performance.now();
    const work = this.#handle(req).then(
      (r): Reply => r,
      (e: unknown): Reply => ({ status: statusOf(e), body: { error: (e as Error).message ?? String(e) } }),
    ).then((r) => {
      const status = r.status ?? 200;
      if (r.raw) {
        res.writeHead(status, { ...r.raw.headers, 'content-length': Buffer.byteLength(r.raw.text) });
        res.end(r.raw.text);
      } else {
        const payload = r.body === undefined ? '' : JSON.stringify(r.body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      }
      const fields: Record<string, unknown> = { method: req.method, path: req.url, status, ms: +(performance.now() - t0).toFixed(2), ...r.log };
      if (status >= 400) fields.error = (r.body as { error?: string } | undefined)?.error;
      this.#log(status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info', 'request', fields);
    });
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  async #handle(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://netplumb');
    let pathMatch = false;
    for (const r of this.#routes) {
      const m = r.re.exec(url.pathname);
      if (!m) continue;
      pathMatch = true;
      if (r.method !== req.method) continue;
      const params = m.slice(1).map((s) => decodeURIComponent(s));
      let body: unknown;
      if (r.schema) {
        body = await this.#body(req);
        const v = validators()[r.schema];
        if (!v(body)) throw new ApiError(400, describe(v));
      } else {
        // A route without a body still reads (and caps) what came, so the connection can be reused.
        await this.#body(req, true);
      }
      return r.handler({ params, body, query: url.searchParams, accept: String(req.headers.accept ?? '') });
    }
    // Drain what came so the reply is read.
    req.resume();
    if (pathMatch) throw new ApiError(405, `method ${req.method} not allowed on ${url.pathname}`);
    throw new ApiError(404, `no route ${req.method} ${url.pathname}`);
  }

  #body(req: http.IncomingMessage, empty = false): Promise<unknown> {
    const max = this.#opts.maxBodyBytes ?? 1 << 20;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      return Promise.reject(new ApiError(413, `request body of ${declared} bytes is over the limit of ${max}`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) over = true;
        else if (!over) chunks.push(c);
      });
      req.on('error', reject);
      req.on('end', () => {
        if (over) return reject(new ApiError(413, `request body is over the limit of ${max} bytes`));
        const text = Buffer.concat(chunks).toString('utf8');
        if (empty) return resolve(undefined);
        if (text.trim() === '') return reject(new ApiError(400, 'request body must be JSON; it is empty'));
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new ApiError(400, `request body is not JSON: ${(e as Error).message}`));
        }
      });
    });
  }

  // --- routes ------------------------------------------------------------------------

  #table(): Route[] {
    const n = this.networks;
    const NAME = '([^/]+)';
    const route = (method: string, p: string, handler: Handler, schema?: SchemaName): Route => ({ method, re: new RegExp(`^${p}$`), handler, ...(schema && { schema }) });
    return [
      route('GET', '/v1/health', async () => ({ body: this.#health() })),
      route('GET', '/v1/schemas', async () => ({ body: schemas })),
      route('GET', '/v1/networks', async () => ({ body: n.list() })),
      route('POST', '/v1/networks', async ({ body }) => ({ status: 201, body: (await n.create(body as NetworkOptions)).info }), 'createNetwork'),
      route('POST', '/v1/networks/prune', async () => ({ body: { removed: await n.prune() } })),
      route('GET', `/v1/networks/${NAME}`, async ({ params }) => ({ body: n.inspect(params[0]!) })),
      route('DELETE', `/v1/networks/${NAME}`, async ({ params }) => {
        await n.remove(params[0]!);
        return { status: 204 };
      }),
      route('GET', `/v1/networks/${NAME}/endpoints`, async ({ params }) => ({ body: n.get(params[0]!).endpoints() })),
      route('POST', `/v1/networks/${NAME}/endpoints`, async ({ params, body }) => ({ status: 201, body: await this.#attach(params[0]!, body as AttachBody) }), 'attach'),
      route('POST', `/v1/networks/${NAME}/detach`, async ({ params, body }) => ({ body: await this.#detach(params[0]!, body as DetachBody) }), 'detach'),
      route('DELETE', `/v1/networks/${NAME}/endpoints/([0-9a-f]{64})`, async ({ params }) => ({ body: await this.#detach(params[0]!, { endpoint: params[1]! }) })),
      route('GET', '/v1/ports', async () => ({ body: this.#ports() })),
      route('POST', '/v1/gc', async () => ({ body: await n.gc() })),
      route('POST', '/v1/cni', async ({ body, accept }) => {
        const call = body as Parameters<typeof runCni>[0];
        const out = await runCni(call, this.#cni);
        // What a runtime asked, in the request's log line (CNI_NETNS empty or not: containerd's DEL).
        const log = {
          cni: call.env.CNI_COMMAND, container: call.env.CNI_CONTAINERID, ifname: call.env.CNI_IFNAME, netns: call.env.CNI_NETNS ?? '',
          exit: out.exitCode, ...(out.exitCode !== 0 && { error: out.stdout.slice(0, 500) }),
        };
        // The plugin executable asks for the plugin's stdout as it is, its exit status in
        // a header: nothing to parse in C. Other clients get JSON.
        if (accept === 'application/x-cni-stdout') {
          return { raw: { text: out.stdout, headers: { 'content-type': 'application/json', 'x-cni-exit': String(out.exitCode) } }, log };
        }
        return { body: out, log };
      }, 'cni'),
    ];
  }

  #health(): Record<string, unknown> {
    const nets = this.networks.list();
    return {
      ok: true,
      version: VERSION,
      pid: process.pid,
      uptimeMs: Date.now() - this.#started,
      networks: nets.length,
      endpoints: nets.reduce((k, net) => k + this.networks.endpointsOf(net.id).length, 0),
      dns: this.#resolver?.listeners.map((l) => ({ network: l.network, address: l.address, port: l.port })) ?? false,
      proxy: this.#proxy?.ports.map((p) => ({ protocol: p.protocol, port: p.port, target: `[${p.target.address}]:${p.target.port}` })) ?? false,
      pool: this.#pool ? { size: this.#opts.pool } : false,
      repairs: this.repairs,
    };
  }

  #ports(): { network: string; endpoint: string; ip: string; ip6?: string; publish: unknown[] }[] {
    const out = [];
    for (const net of this.networks.list()) {
      for (const ep of this.networks.endpointsOf(net.id)) {
        if (ep.publish.length === 0) continue;
        out.push({ network: net.name, endpoint: ep.id, ip: ep.ip, ...(ep.ip6 !== undefined && { ip6: ep.ip6 }), publish: ep.publish });
      }
    }
    return out;
  }

  // A namespace named in a request: an absolute path as it is (the daemon must see it: the
  // same mount namespace as the caller), a name (no slash) under the netns directory;
  // a relative path is refused rather than resolved against the daemon's directory.
  #netnsPath(s: string): string {
    if (s.includes('/') && !path.isAbsolute(s)) throw new ApiError(400, `body.netns must be an absolute path or a name, got ${JSON.stringify(s)}`);
    return s;
  }

  async #attach(network: string, body: AttachBody): Promise<unknown> {
    const { netns, create, ...opts } = body;
    const handle = this.networks.get(network);
    if (create !== undefined && this.#pool) {
      // A warm namespace from the pool, named as asked; removed again if the attach fails.
      const ns = await this.#pool.take(create);
      try {
        const ep = await handle.attach(ns, opts);
        return { ...ep, netns: ns.path };
      } catch (e) {
        await Netns.delete(create, this.#opts.netnsDir === undefined ? {} : { netnsDir: this.#opts.netnsDir }).catch(() => undefined);
        throw e;
      } finally {
        ns.close();
      }
    }
    if (create !== undefined) {
      const ep = await handle.attach({ create, ...(this.#opts.netnsDir !== undefined && { netnsDir: this.#opts.netnsDir }) }, opts);
      const p = ep.netns?.path;
      ep.netns?.close();
      const { netns: _n, ...rest } = ep;
      return { ...rest, ...(p !== undefined && { netns: p }) };
    }
    const ns = await openNetns(this.#netnsPath(netns!), this.#opts.netnsDir);
    try {
      return await handle.attach(ns, opts);
    } finally {
      ns.close();
    }
  }

  async #detach(network: string, body: DetachBody): Promise<unknown> {
    const handle = this.networks.get(network);
    let ep;
    if (body.endpoint !== undefined) ep = await handle.detach(body.endpoint);
    else if (body.key !== undefined) ep = await handle.detach({ key: body.key });
    else {
      const ns = await openNetns(this.#netnsPath(body.netns!), this.#opts.netnsDir);
      try {
        ep = await handle.detach(ns);
      } finally {
        ns.close();
      }
    }
    return { detached: ep ?? null };
  }
}

type AttachBody = AttachOptions & { netns?: string; create?: string };
type DetachBody = { endpoint?: string; key?: string; netns?: string };

async function openNetns(p: string, netnsDir: string | undefined): Promise<Netns> {
  try {
    return await Netns.open(p, netnsDir === undefined ? {} : { netnsDir });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new ApiError(404, `no network namespace ${p}`);
    throw new ApiError(400, `cannot open network namespace ${p}: ${(e as Error).message}`);
  }
}

function statusOf(e: unknown): number {
  if (e instanceof ApiError) return e.status;
  if (e instanceof TypeError || e instanceof RangeError) return 400;
  switch ((e as { code?: string }).code) {
    case 'ENOENT':
    case 'ENODEV':
      return 404;
    case 'EEXIST':
    case 'EBUSY':
    case 'EADDRINUSE':
      return 409;
    case 'EINVAL':
    case 'ERANGE':
    case 'EADDRNOTAVAIL': // a static address outside the network's subnet or range
      return 400;
    case 'ENOSPC':
      // The network's address pool is exhausted, or the state's disk is full
      // (StateFullError): nothing was made.
      return 507;
    default:
      return 500;
  }
}

function groupId(g: string | number): number {
  if (typeof g === 'number') return g;
  if (/^\d+$/.test(g)) return Number(g);
  // getent reads /etc/group and NSS alike.
  const line = execFileSync('getent', ['group', g], { encoding: 'utf8' }).trim();
  const gid = Number(line.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`no group ${g}`);
  return gid;
}

// Whether something accepts connections on the socket (another daemon), within 1 s.
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(socket);
    const done = (v: boolean): void => {
      c.destroy();
      resolve(v);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(1000, () => done(false));
  });
}
