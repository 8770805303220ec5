// A client of netplumbd: the controller's operations over the daemon's unix socket, with
// the controller's own types. Over the wire a container namespace is a path (or a name
// under the daemon's netns directory), never a handle: a Netns given here is sent as its
// `path`, so it must have one (named namespaces, /proc/PID/ns/net); the daemon opens it
// itself. Keep-alive connections (node:http's Agent) spare a connect per request.
// node:http is loaded on the first client made: the controller's module imports this one,
// and a one-shot process that never connects (the CNI plugin) should not pay for it.
import type * as http from 'node:http';
import { Netns } from '../netns';
import { NetlinkError } from '../errors';
import type { GcResult } from '../network/networks';
import type { AttachOptions, EndpointInfo, NetworkInfo, NetworkOptions, PortMapping } from '../network/types';

/** Options of Networks.connect. */
export interface ConnectOptions {
  /** The daemon's socket (default /run/netplumb/netplumb.sock). */
  socket?: string;
  /** A request that has no answer after this long fails (default 60 s). */
  timeoutMs?: number;
}

/** The default socket path of `netplumb daemon`. */
export const DEFAULT_SOCKET = '/run/netplumb/netplumb.sock';

/** A failed request: the daemon's HTTP status and message; `code` as the controller's errors have it. */
export class DaemonError extends Error {
  readonly status: number;
  /** ENOENT for 404, EEXIST for 409, EINVAL for other 4xx, EIO for 5xx. */
  readonly code: string;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'DaemonError';
    this.status = status;
    this.code = status === 404 ? 'ENOENT' : status === 409 ? 'EEXIST' : status < 500 ? 'EINVAL' : 'EIO';
  }
}

/** Where a container is: its namespace (a path, a name under the daemon's netns directory, or a Netns with a path), or `{ create: name }`. */
export type RemoteTarget = string | Netns | { create: string };

/** What the daemon's health route says. */
export interface DaemonHealth {
  ok: boolean;
  version: string;
  pid: number;
  uptimeMs: number;
  networks: number;
  endpoints: number;
  dns: { network: string; address: string; port: number }[] | false;
  /** The ports the [::1] proxy relays (LoopbackProxy), or false when it is off. */
  proxy: { protocol: 'tcp' | 'udp'; port: number; target: string }[] | false;
  pool: { size: number } | false;
  repairs: number;
}

/** The endpoint an attach made; `netns` is the path of a namespace the daemon made (`create`). */
export type DaemonEndpoint = EndpointInfo & { netns?: string };

/**
 * The controller's operations, served by a daemon: networks (list, inspect, create,
 * remove, prune), endpoints (attach, detach, list), published ports, gc, health. Made by
 * Networks.connect; close() closes its connections.
 */
export class NetworksClient {
  readonly socket: string;
  readonly #agent: http.Agent;
  readonly #timeout: number;

  /** @internal use Networks.connect */
  constructor(opts: ConnectOptions = {}) {
    this.socket = opts.socket ?? DEFAULT_SOCKET;
    this.#timeout = opts.timeoutMs ?? 60_000;
    this.#agent = new (httpModule().Agent)({ keepAlive: true, maxSockets: 16 });
  }

  /** One request: JSON in, JSON out; a 4xx or 5xx is thrown as a DaemonError. */
  request<T>(method: string, p: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = httpModule().request(
        {
          socketPath: this.socket, path: p, method, agent: this.#agent, timeout: this.#timeout,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let data: unknown;
            try {
              data = text === '' ? undefined : JSON.parse(text);
            } catch {
              return reject(new DaemonError(res.statusCode ?? 500, `the daemon answered something that is not JSON: ${text.slice(0, 200)}`));
            }
            const status = res.statusCode ?? 500;
            if (status >= 400) return reject(new DaemonError(status, (data as { error?: string } | undefined)?.error ?? `HTTP ${status}`));
            resolve(data as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.socket} within ${this.#timeout} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          reject(new NetlinkError({ errno: e.code === 'ENOENT' ? 2 : 111, op: 'connect', detail: `no daemon listening on ${this.socket}` }));
        } else reject(e);
      });
      req.end(payload);
    });
  }

  /** GET /v1/health. */
  health(): Promise<DaemonHealth> {
    return this.request('GET', '/v1/health');
  }

  /** Every network. */
  list(): Promise<NetworkInfo[]> {
    return this.request('GET', '/v1/networks');
  }

  /** A network's details and its endpoints. */
  inspect(name: string): Promise<NetworkInfo & { endpoints: EndpointInfo[] }> {
    return this.request('GET', `/v1/networks/${encodeURIComponent(name)}`);
  }

  /** Creates a network (Networks.create's options); resolves with its info. */
  create(opts: NetworkOptions): Promise<NetworkInfo> {
    return this.request('POST', '/v1/networks', opts);
  }

  /** Removes a network (EBUSY, as a 409, while it has endpoints). */
  async remove(name: string): Promise<void> {
    await this.request('DELETE', `/v1/networks/${encodeURIComponent(name)}`);
  }

  /** Removes every network without endpoints (not the default); the names removed. */
  async prune(): Promise<string[]> {
    return (await this.request<{ removed: string[] }>('POST', '/v1/networks/prune')).removed;
  }

  /** A network's endpoints. */
  endpoints(network: string): Promise<EndpointInfo[]> {
    return this.request('GET', `/v1/networks/${encodeURIComponent(network)}/endpoints`);
  }

  /** Attaches a container to a network (Network.attach's options). */
  attach(network: string, target: RemoteTarget, opts: AttachOptions = {}): Promise<DaemonEndpoint> {
    return this.request('POST', `/v1/networks/${encodeURIComponent(network)}/endpoints`, { ...opts, ...targetBody(target) });
  }

  /** Detaches an endpoint: by namespace (path, name or Netns), endpoint, endpoint id or `{ key }`. Resolves with it, or undefined when there was none. */
  async detach(network: string, target: string | Netns | EndpointInfo | { key: string } | { netns: string }): Promise<EndpointInfo | undefined> {
    let body: Record<string, string>;
    if (target instanceof Netns) body = { netns: pathOf(target) };
    else if (typeof target === 'string') body = /^[0-9a-f]{64}$/.test(target) ? { endpoint: target } : { netns: target };
    else if ('id' in target) body = { endpoint: target.id };
    else if ('key' in target) body = { key: target.key };
    else body = { netns: target.netns };
    const r = await this.request<{ detached: EndpointInfo | null }>('POST', `/v1/networks/${encodeURIComponent(network)}/detach`, body);
    return r.detached ?? undefined;
  }

  /** Every published port, by endpoint. */
  ports(): Promise<{ network: string; endpoint: string; ip: string; ip6?: string; publish: PortMapping[] }[]> {
    return this.request('GET', '/v1/ports');
  }

  /** Networks.gc on the daemon. */
  gc(): Promise<GcResult> {
    return this.request('POST', '/v1/gc');
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

let httpMod: typeof http | undefined;
function httpModule(): typeof http {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  httpMod ??= require('node:http') as typeof http;
  return httpMod;
}

function pathOf(ns: Netns): string {
  if (ns.path === undefined) throw new TypeError('a namespace sent to the daemon needs a path (a named namespace, or Netns.open(\'/proc/PID/ns/net\'))');
  return ns.path;
}

function targetBody(t: RemoteTarget): { netns: string } | { create: string } {
  if (t instanceof Netns) return { netns: pathOf(t) };
  if (typeof t === 'string') return { netns: t };
  if (typeof t === 'object' && t !== null && typeof t.create === 'string') return { create: t.create };
  throw new TypeError('attach needs a namespace path or name, a Netns with a path, or { create: name }');
}
