// A handle on one network: attach and detach containers. The controller (Networks) does
// the work; drivers with operations of their own (the overlay's peers) extend this class.
import type { Netns } from '../netns';
import type { DriverContext } from './driver';
import type { AttachOptions, AttachedEndpoint, EndpointInfo, NetworkInfo, NewContainer } from './types';

/** What a network handle asks of its controller. */
export interface NetworkController {
  /** @internal */
  info(id: string): NetworkInfo;
  /** @internal */
  attach(id: string, target: Netns | NewContainer, opts: AttachOptions): Promise<AttachedEndpoint>;
  /** @internal */
  detach(id: string, target: Netns | EndpointInfo | string | { key: string }): Promise<EndpointInfo | undefined>;
  /** @internal */
  endpointsOf(id: string): EndpointInfo[];
  /** @internal */
  endpointByKey(id: string, key: string): EndpointInfo | undefined;
  /** @internal Runs a driver's own operation on a network, one at a time per network. */
  driverOp<T>(id: string, op: (ctx: DriverContext, net: NetworkInfo) => Promise<T>): Promise<T>;
  /** @internal A driver's records on a network (current as of now). */
  records<T>(id: string, kind: string): T[];
}

/** A handle on one network; attach and detach containers. */
export class Network {
  readonly #ctl: NetworkController;
  readonly id: string;

  /** @internal */
  constructor(ctl: NetworkController, id: string) {
    this.#ctl = ctl;
    this.id = id;
  }

  /** The network's persisted description. */
  get info(): NetworkInfo {
    return structuredClone(this.#ctl.info(this.id));
  }

  /** The network's name. */
  get name(): string {
    return this.info.name;
  }

  /**
   * Attaches a container namespace, or makes a named one in the same native call
   * (`{ create: name }`: as `ip netns add`, returned as `netns` in the result). On a
   * bridge network: a veth with its peer made inside the namespace (MAC from the IP as
   * Docker does), address, lo up, default route, hairpin on the bridge port, published
   * ports. The endpoint is recorded before anything is made, and a failure undoes
   * everything this attach made (a namespace it made included).
   */
  attach(netns: Netns | NewContainer, opts: AttachOptions = {}): Promise<AttachedEndpoint> {
    return this.#ctl.attach(this.id, netns, opts);
  }

  /**
   * Detaches an endpoint (by namespace handle, endpoint or endpoint id) and returns it, or
   * undefined when there was none (idempotent). When it resolves the endpoint is
   * unreachable and its address and ports are free: its ports unpublished, the conntrack
   * entries DNATed to its UDP/SCTP ports flushed, its host-side link down and waiting to
   * be deleted with others in one request (Networks.gc, close). `{ key }` finds the
   * endpoint by the key its attach was given (AttachOptions.key).
   */
  detach(target: Netns | EndpointInfo | string | { key: string }): Promise<EndpointInfo | undefined> {
    return this.#ctl.detach(this.id, target);
  }

  /** The network's endpoints. */
  endpoints(): EndpointInfo[] {
    return this.#ctl.endpointsOf(this.id);
  }

  /** The endpoint attached with this key (AttachOptions.key), if any. */
  endpointByKey(key: string): EndpointInfo | undefined {
    return this.#ctl.endpointByKey(this.id, key);
  }

  /** @internal For drivers' handles: the controller. */
  protected get controller(): NetworkController {
    return this.#ctl;
  }
}
