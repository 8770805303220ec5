// The container network modes that are not networks: host (the container uses the
// host's namespace), none (a namespace with only lo) and container (join another
// container's namespace). Each gives the namespace a container runs in; none of them
// records anything.
import { NetlinkError } from '../errors';
import { Netns, type NetnsOptions } from '../netns';
import type { EndpointInfo, PortMapping } from './types';

/** What a mode may ask of the controller. */
export interface ModeContext {
  readonly host: Netns;
  readonly netnsOptions: NetnsOptions;
  endpoint(id: string): EndpointInfo | undefined;
  warn(message: string): void;
}

/** A network mode: the namespace a container gets. */
export interface NetworkMode<A> {
  readonly name: 'host' | 'none' | 'container';
  join(ctx: ModeContext, arg: A): Promise<Netns>;
}

/** Host mode: the container uses the host's namespace; publishing does not apply. */
export const hostMode: NetworkMode<{ publish?: PortMapping[] }> = {
  name: 'host',
  async join(ctx, opts) {
    if (opts.publish && opts.publish.length > 0) {
      ctx.warn('published ports are ignored in host network mode (the container uses the host ports directly)');
    }
    return ctx.host.duplicate();
  },
};

/** None mode: a new namespace with only lo, up. Named when a name is given. */
export const noneMode: NetworkMode<string | undefined> = {
  name: 'none',
  async join(ctx, name) {
    const ns = await Netns.create(name, ctx.netnsOptions);
    try {
      await ns.links.set('lo', { up: true });
    } catch (e) {
      ns.close();
      if (name) await Netns.delete(name, ctx.netnsOptions).catch(() => undefined);
      throw e;
    }
    return ns;
  },
};

/** Container mode: join the namespace of an existing endpoint (ENOENT if it is gone). */
export const containerMode: NetworkMode<EndpointInfo | string> = {
  name: 'container',
  async join(ctx, endpoint) {
    const id = typeof endpoint === 'string' ? endpoint : endpoint.id;
    const ep = ctx.endpoint(id);
    if (!ep) throw new NetlinkError({ errno: 2, op: 'container mode', detail: `no endpoint ${id}` });
    if (!ep.netnsPath) throw new NetlinkError({ errno: 2, op: 'container mode', detail: 'that endpoint has no namespace path (an anonymous namespace); keep its handle instead' });
    const ns = await Netns.open(ep.netnsPath);
    if (ns.id !== ep.netnsId) {
      ns.close();
      throw new NetlinkError({ errno: 2, op: 'container mode', detail: `the namespace of endpoint ${id} is gone (${ep.netnsPath} is another namespace now)` });
    }
    return ns;
  },
};
