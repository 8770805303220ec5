import { native, type NativeRouteFilter, type NativeRouteQuery } from './binding';
import { handleOf } from './handle';
import { call, NetlinkError } from './errors';
import type { Netns } from './netns';
import { ROUTE_PROTOCOLS, ROUTE_TABLES, ROUTE_TYPES } from './constants';
import type { LinkRef, RouteSpec } from './spec';
import { checkIp } from './validate';
import type { Route, RouteType } from './types';

/** Filter for routes.list (applied by the kernel with strict checking). */
export interface RouteFilter {
  family?: 4 | 6;
  /** Table id or name; default 'main'. 'all' lists every table. */
  table?: number | 'main' | 'local' | 'default' | 'all';
  protocol?: 'boot' | 'static' | 'kernel' | 'redirect' | 'ra' | 'dhcp' | number;
  type?: RouteType;
  /** Only routes through this device (RTA_OIF). */
  dev?: LinkRef;
}

/** Routes of one namespace: the requests `ip route` makes. */
export class Routes {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** Adds a route (RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL). */
  async add(r: RouteSpec): Promise<void> {
    await this.#ns.batch().routes.add(r).commit();
  }

  /** Adds or replaces a route (RTM_NEWROUTE, NLM_F_CREATE|NLM_F_REPLACE). */
  async replace(r: RouteSpec): Promise<void> {
    await this.#ns.batch().routes.replace(r).commit();
  }

  /** Appends a route (RTM_NEWROUTE, NLM_F_CREATE|NLM_F_APPEND). */
  async append(r: RouteSpec): Promise<void> {
    await this.#ns.batch().routes.append(r).commit();
  }

  /** Deletes a route (RTM_DELROUTE); unset fields match any. */
  async delete(r: RouteSpec): Promise<void> {
    await this.#ns.batch().routes.delete(r).commit();
  }

  /** The route the kernel would use for dst (RTM_GETROUTE, `ip route get`). */
  async get(dst: string, opts: { src?: string; dev?: LinkRef; mark?: number } = {}): Promise<Route> {
    const q: NativeRouteQuery = { dst: checkIp(dst, 'dst') };
    if (opts.src !== undefined) q.src = checkIp(opts.src, 'src');
    if (opts.dev !== undefined) q.oif = await this.#ns.links.index(opts.dev);
    if (opts.mark !== undefined) {
      if (!Number.isInteger(opts.mark) || opts.mark < 0 || opts.mark > 0xffffffff) throw new RangeError('mark must be a u32');
      q.mark = opts.mark;
    }
    return call(native.routeGet(handleOf(this.#ns), q));
  }

  /** Routes of the main table, or as filtered (RTM_GETROUTE dump, filtered in the kernel). */
  async list(filter: RouteFilter = {}): Promise<Route[]> {
    const f: NativeRouteFilter = {};
    if (filter.family !== undefined) {
      if (filter.family !== 4 && filter.family !== 6) throw new TypeError('family must be 4 or 6');
      f.family = filter.family;
    }
    const table = filter.table ?? 'main';
    if (table !== 'all') {
      if (typeof table === 'number') {
        if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) throw new RangeError('table must be a u32 above 0');
        f.table = table;
      } else {
        const t = (ROUTE_TABLES as Record<string, number>)[table];
        if (t === undefined) throw new TypeError(`unknown table ${String(table)}`);
        f.table = t;
      }
    }
    if (filter.protocol !== undefined) {
      const p = typeof filter.protocol === 'number' ? filter.protocol : (ROUTE_PROTOCOLS as Record<string, number>)[filter.protocol];
      if (p === undefined || !Number.isInteger(p) || p < 0 || p > 255) throw new TypeError(`unknown protocol ${String(filter.protocol)}`);
      f.protocol = p;
    }
    if (filter.type !== undefined) {
      const t = (ROUTE_TYPES as Record<string, number>)[filter.type];
      if (t === undefined) throw new TypeError(`unknown route type ${String(filter.type)}`);
      f.type = t;
    }
    if (filter.dev !== undefined) f.oif = await this.#ns.links.index(filter.dev);
    try {
      return await call(native.routeList(handleOf(this.#ns), f));
    } catch (e) {
      // A table that holds no route does not exist yet; the kernel says ENOENT for it.
      if (f.table !== undefined && e instanceof NetlinkError && e.code === 'ENOENT') return [];
      throw e;
    }
  }
}
