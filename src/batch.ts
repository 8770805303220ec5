import { native, type NativeHandle, type NativeLinkStep, type NativeStep, type NativeVxlanOptions } from './binding';
import { call, fromNative, NetlinkError } from './errors';
import { fdbRequest, type FdbKey, type FdbSpec } from './fdb';
import { handleOf } from './handle';
import { IfindexResolver } from './ifindex';
import { neighbourRequest, type NeighbourKey, type NeighbourSpec, type PendingNeighRequest } from './neighbours';
import type { BegunNetns, Netns } from './netns';
import {
  addressSpecOf, addressStep, linkAddStep, linkDeleteStep, linkSetStep, portDisabled, Ref, routeStep,
  type AddressKey, type AddressOptions, type AddressSpec, type LinkChanges, type LinkRef, type LinkSpec, type RouteSpec, type Step, type StepRef,
} from './spec';
import type { Link } from './types';

/** The outcome of one step of a committed batch. */
export interface StepResult {
  /** The created link, when the kernel echoed it (links.add outside batches). */
  link?: Link;
}

/** A failed batch: the NetlinkError of the first failed step, plus what happened to the rest. */
export interface BatchFailure {
  /** Per-step errors (undefined where the step succeeded). */
  errors: (NetlinkError | undefined)[];
  /** Whether the successful creating steps were undone. */
  rolledBack: boolean;
  /** Steps that succeeded and could not be undone (changes, deletes, replaces). */
  notRolledBack: number[];
}

// Requested ifindexes for links that later steps of the same batch refer to: taken
// from a high range the kernel's own allocator (which counts up from 1 per namespace)
// does not reach in practice, so the whole batch can go out in one sendmsg.
// Each process starts at a random point of that range, so that processes making links in
// one namespace at once (several controllers, CNI calls) do not ask for the same numbers.
let nextIndex = 0x10000000 + Math.floor(Math.random() * 0x60000000);
/** An ifindex to request for a link made now and referred to by number right after (see Batch). */
export function reserveIfindex(): number {
  nextIndex += 1;
  if (nextIndex > 0x7ffffff0) nextIndex = 0x10000000;
  return nextIndex;
}

/** A change to a link created in another namespace, applied through that namespace. */
interface RemoteFollowUp {
  ns: Netns;
  name: string;
  changes: LinkChanges;
}

// What the kernel takes only on an existing link (the alias, which it ignores at
// creation; addrGenMode and ipv4Conf, IFLA_AF_SPEC; bridge-port options; a veth peer's
// IFF_UP, refused before the pair is joined) cannot be sent from this namespace's
// socket to a link created in another one: it goes there after commit, "up" last (see
// encode_link_create).
function followUpsElsewhere(spec: LinkSpec): RemoteFollowUp[] {
  const out: RemoteFollowUp[] = [];
  if (spec.netns && (spec.alias !== undefined || spec.addrGenMode !== undefined || spec.ipv4Conf !== undefined || spec.bridgePort !== undefined)) {
    const changes: LinkChanges = {};
    if (spec.alias !== undefined) changes.alias = spec.alias;
    if (spec.addrGenMode !== undefined) changes.addrGenMode = spec.addrGenMode;
    if (spec.ipv4Conf !== undefined) changes.ipv4Conf = spec.ipv4Conf;
    if (spec.bridgePort !== undefined) changes.bridgePort = spec.bridgePort;
    if (spec.up !== undefined) changes.up = spec.up;
    out.push({ ns: spec.netns, name: spec.name, changes });
  }
  if (spec.kind === 'veth' && spec.peer.netns && (spec.peer.up !== undefined || spec.peer.alias !== undefined)) {
    const changes: LinkChanges = {};
    if (spec.peer.alias !== undefined) changes.alias = spec.peer.alias;
    if (spec.peer.up !== undefined) changes.up = spec.peer.up;
    out.push({ ns: spec.peer.netns, name: spec.peer.name, changes });
  }
  return out;
}

/** An address verb: one spec object, or (deprecated) the link, the CIDR and options. */
export interface AddressVerb<R> {
  (spec: AddressSpec): R;
  /** @deprecated Give one object: `({ dev, address, ...options })`. The positional form goes in netplumb 0.3. */
  (dev: LinkRef, cidr: string, opts?: AddressOptions): R;
}

/** addresses.delete: one key object, or (deprecated) the link and the CIDR. */
export interface AddressDeleteVerb<R> {
  (key: AddressKey): R;
  /** @deprecated Give one object: `({ dev, address })`. The positional form goes in netplumb 0.3. */
  (dev: LinkRef, cidr: string): R;
}

const ROLLBACK_IGNORED = new Set(['ENODEV', 'EADDRNOTAVAIL', 'ESRCH', 'ENOENT']);

/** Options of a delete step for a neighbour or FDB entry. */
export interface NeighDeleteOptions {
  /** A delete that finds no entry (ENOENT) counts as done. */
  missingOk?: boolean;
}

// A neighbour or FDB request as a batch step: its device (and VXLAN `via`) may name a
// link an earlier step of the batch creates.
function neighStep(p: PendingNeighRequest, opts?: NeighDeleteOptions): Step {
  const step: Step = { op: 'neigh', index: typeof p.dev === 'number' ? p.dev : new Ref(p.dev), req: p.req };
  if (p.via !== undefined) step.via = typeof p.via === 'number' ? p.via : new Ref(p.via);
  if (opts !== undefined) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('delete options must be an object');
    if (opts.missingOk !== undefined && typeof opts.missingOk !== 'boolean') throw new TypeError('missingOk must be a boolean');
    if (opts.missingOk) step.missingOk = true;
  }
  return step;
}

/** A named namespace one native call makes before the batches that use it (see Netns's pending handles). */
export interface PendingNetns {
  /** Its handle: usable in batches at once, in requests once the namespace is made. */
  netns: Netns;
  /** The netns directory it is made in. */
  dir: string;
  /** Its name there. */
  name: string;
}

/** Whether a namespace target is a begun one (BegunNetns: not a Netns, whose `open` is static, nor `{ create }`). */
export function isBegun(c: object): c is BegunNetns {
  return 'open' in c;
}

/**
 * Commits batches in order in one native call (Batch.commitAll), optionally making the
 * named namespace `creating.netns` first, in the same call (or, begun already, giving
 * them to the operation that is making it: BegunNetns): the batches may use it as
 * their namespace and as a link's netns. If it cannot be made, nothing is sent; if a
 * step fails after it was made, the error's `batch` is set as for commitAll, and the
 * namespace is left for the caller to remove. Internal: attachVeth's path.
 */
// Set in Batch's static block: it reads the batches' private state.
export let commitBatches: (batches: Batch[], opts: { rollback?: boolean }, creating?: PendingNetns) => Promise<StepResult[][]>;

/** Asks the kernel to echo the links a batch creates (NLM_F_ECHO): links.add's path. Set in Batch's static block. */
export let echoCreatedLinks: (batch: Batch) => Batch;

/**
 * A batch of rtnetlink requests (links, addresses, routes, neighbours, FDB entries) for one namespace, sent in
 * one sendmsg when committed. Each queued request is one step; the kernel answers
 * every step, and a failure names its step. With `rollback` (the default) the steps
 * that created something are undone when any step fails.
 */
export class Batch {
  readonly #ns: Netns;
  readonly #steps: Step[] = [];
  // Changes for links a step creates in another namespace, sent there after commit.
  readonly #elsewhere = new Map<Step, RemoteFollowUp[]>();
  #committed = false;

  /** Queue link requests: add (RTM_NEWLINK + NLM_F_CREATE|NLM_F_EXCL), set, delete. */
  readonly links = {
    add: (spec: LinkSpec): Batch => {
      const step = linkAddStep(spec);
      // A port set disabled at creation is set so by index (see portDisabled).
      if (portDisabled(step) && step.index === undefined && step.netns === undefined) step.index = reserveIfindex();
      return this.#push(step, followUpsElsewhere(spec));
    },
    set: (ref: LinkRef, changes: LinkChanges): Batch => this.#push(linkSetStep(ref, changes)),
    delete: (ref: LinkRef | { group: number }): Batch => this.#push(linkDeleteStep(ref)),
  };

  /** Queue address requests (RTM_NEWADDR / RTM_DELADDR). */
  readonly addresses: {
    /** RTM_NEWADDR, NLM_F_CREATE|NLM_F_EXCL. */
    add: AddressVerb<Batch>;
    /** RTM_NEWADDR, NLM_F_CREATE|NLM_F_REPLACE. */
    replace: AddressVerb<Batch>;
    /** RTM_DELADDR. */
    delete: AddressDeleteVerb<Batch>;
  } = {
    add: (a: AddressSpec | LinkRef, cidr?: string, opts?: AddressOptions): Batch => this.#push(addressStep('addrAdd', addressSpecOf(a, cidr, opts))),
    replace: (a: AddressSpec | LinkRef, cidr?: string, opts?: AddressOptions): Batch => this.#push(addressStep('addrReplace', addressSpecOf(a, cidr, opts))),
    delete: (a: AddressKey | LinkRef, cidr?: string): Batch => this.#push(addressStep('addrDel', addressSpecOf(a, cidr))),
  };

  /** Queue route requests (RTM_NEWROUTE / RTM_DELROUTE). */
  readonly routes = {
    add: (r: RouteSpec): Batch => this.#push(routeStep('routeAdd', r)),
    replace: (r: RouteSpec): Batch => this.#push(routeStep('routeReplace', r)),
    append: (r: RouteSpec): Batch => this.#push(routeStep('routeAppend', r)),
    delete: (r: RouteSpec): Batch => this.#push(routeStep('routeDel', r)),
  };

  /** Queue ARP/NDP entry requests (RTM_NEWNEIGH / RTM_DELNEIGH, AF_INET or AF_INET6), as Netns.neighbours makes them. */
  readonly neighbours = {
    add: (spec: NeighbourSpec): Batch => this.#push(neighStep(neighbourRequest('add', spec))),
    replace: (spec: NeighbourSpec): Batch => this.#push(neighStep(neighbourRequest('replace', spec))),
    delete: (key: NeighbourKey, opts?: NeighDeleteOptions): Batch => this.#push(neighStep(neighbourRequest('delete', key), opts)),
  };

  /** Queue bridge FDB entry requests (RTM_NEWNEIGH / RTM_DELNEIGH, AF_BRIDGE), as Netns.fdb makes them. */
  readonly fdb = {
    add: (spec: FdbSpec): Batch => this.#push(neighStep(fdbRequest('add', spec))),
    replace: (spec: FdbSpec): Batch => this.#push(neighStep(fdbRequest('replace', spec))),
    append: (spec: FdbSpec & { dst: string }): Batch => this.#push(neighStep(fdbRequest('append', spec))),
    delete: (key: FdbKey, opts?: NeighDeleteOptions): Batch => this.#push(neighStep(fdbRequest('delete', key), opts)),
  };

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** Number of queued steps. */
  get size(): number {
    return this.#steps.length;
  }

  #push(step: Step, elsewhere: RemoteFollowUp[] = []): this {
    if (this.#committed) throw new Error('batch already committed');
    if (elsewhere.length > 0) this.#elsewhere.set(step, elsewhere);
    if (this.#steps.length >= 10000) throw new RangeError('a batch holds at most 10000 steps');
    this.#steps.push(step);
    return this;
  }


  /**
   * Sends every step in one sendmsg and waits for all answers. Resolves with one
   * result per step; rejects with the first failed step's NetlinkError (its `step`
   * set, and `batch` describing the rest) after undoing creating steps if `rollback`.
   */
  async commit(opts: { rollback?: boolean } = {}): Promise<StepResult[]> {
    const [r] = await commitBatches([this], opts);
    return r!;
  }

  /**
   * Commits several batches (usually on different namespaces) in order, in one native
   * call: each batch is one sendmsg on its namespace's socket, and the next goes out
   * as soon as the previous one is acknowledged, without a return to JS in between.
   * A failed step stops the sequence; with `rollback` (the default) the creating steps
   * of every batch sent so far are undone, the later batches' first.
   */
  static async commitAll(batches: Batch[], opts: { rollback?: boolean } = {}): Promise<StepResult[][]> {
    return commitBatches(batches, opts);
  }

  static {
    echoCreatedLinks = (b) => {
      for (const s of b.#steps) if (s.op === 'linkAdd') s.echo = true;
      return b;
    };
    commitBatches = async (batches, opts, creating) => {
      for (const b of batches) {
        if (b.#committed) throw new Error('batch already committed');
        b.#committed = true;
      }
      const resolved = await Promise.all(batches.map((b) => b.#resolve()));
      const seq = batches.map((b, i): [NativeHandle, NativeStep[]] => [handleOf(b.#ns), resolved[i]!]);
      const raw = creating && isBegun(creating)
        ? await creating.open(seq)
        : await call(creating ? native.rtnlCreateSequence(creating.dir, creating.name, handleOf(creating.netns), seq) : native.rtnlSequence(seq));
      const errors = raw.map((steps) => steps.map((r) => (r.error ? (fromNative(r.error) as NetlinkError) : undefined)));
      const failedBatch = errors.findIndex((e) => e.some((x) => x !== undefined));
      if (failedBatch < 0) {
        for (const b of batches) await b.#followUpsElsewhere();
        return raw.map((steps) => steps.map((r) => (r.link ? { link: r.link } : {})));
      }
      const batchErrors = errors[failedBatch]!;
      const failure: BatchFailure = { errors: batchErrors, rolledBack: false, notRolledBack: [] };
      if (opts.rollback ?? true) {
        let clean = true;
        for (let bi = failedBatch; bi >= 0; bi--) {
          const undo: NativeStep[] = [];
          resolved[bi]!.forEach((s, i) => {
            if (errors[bi]![i]) return;
            const inv = inverse(s);
            if (inv) undo.unshift(inv);
            else if (bi === failedBatch) failure.notRolledBack.push(i);
          });
          if (undo.length === 0) continue;
          const res = await call(native.rtnlBatch(handleOf(batches[bi]!.#ns), undo));
          if (res.some((r) => r.error && !ROLLBACK_IGNORED.has((fromNative(r.error) as NetlinkError).code))) clean = false;
        }
        failure.rolledBack = clean;
      }
      const err = batchErrors.find((e) => e !== undefined)!;
      Object.defineProperty(err, 'batch', { value: failure, enumerable: false });
      throw err;
    };
  }

  // Links created inside another namespace get their follow-up changes through that
  // namespace's socket: one batch per namespace.
  async #followUpsElsewhere(): Promise<void> {
    const byNs = new Map<Netns, Batch>();
    for (const s of this.#steps) {
      for (const f of this.#elsewhere.get(s) ?? []) {
        let b = byNs.get(f.ns);
        if (!b) byNs.set(f.ns, (b = f.ns.batch()));
        b.links.set(f.name, f.changes);
      }
    }
    await Promise.all([...byNs.values()].map((b) => b.commit()));
  }

  // The steps with every link reference an ifindex: links created earlier in this batch
  // get a requested index; others are looked up (one RTM_GETLINK per distinct name).
  async #resolve(): Promise<NativeStep[]> {
    const created = new Map<string, number>();
    const names = new IfindexResolver(this.#ns.links);
    const out: NativeStep[] = [];
    const pending: Promise<void>[] = [];
    const fix = (v: StepRef | undefined, at: number, set: (n: number) => void): void => {
      if (!(v instanceof Ref)) {
        if (v !== undefined) set(v);
        return;
      }
      const creator = created.get(v.name);
      if (creator !== undefined && creator < at) {
        const c = out[creator] as NativeLinkStep;
        c.index ??= reserveIfindex();
        set(c.index);
        return;
      }
      pending.push(names.index(v.name).then(set));
    };
    this.#steps.forEach((s, i) => {
      switch (s.op) {
        case 'linkAdd':
        case 'linkSet': {
          const o: NativeLinkStep = { ...s, index: undefined, master: undefined, link: undefined, vxlan: undefined };
          fix(s.index, i, (n) => (o.index = n));
          fix(s.master, i, (n) => (o.master = n));
          fix(s.link, i, (n) => (o.link = n));
          if (s.vxlan) {
            const v: NativeVxlanOptions = { ...s.vxlan, device: undefined };
            fix(s.vxlan.device, i, (n) => (v.device = n));
            o.vxlan = v;
          }
          if (s.op === 'linkAdd' && s.netns === undefined) created.set(s.name as string, i);
          out.push(o);
          break;
        }
        case 'addrAdd':
        case 'addrReplace':
        case 'addrDel': {
          const o = { ...s, index: 0 };
          fix(s.index, i, (n) => (o.index = n));
          out.push(o);
          break;
        }
        case 'routeAdd':
        case 'routeReplace':
        case 'routeAppend':
        case 'routeDel': {
          const o = { ...s, oif: undefined as number | undefined };
          fix(s.oif, i, (n) => (o.oif = n));
          out.push(o);
          break;
        }
        case 'neigh': {
          const o = { ...s, index: 0, via: undefined as number | undefined };
          fix(s.index, i, (n) => (o.index = n));
          fix(s.via, i, (n) => (o.via = n));
          out.push(o);
          break;
        }
        default:
          out.push(s);
      }
    });
    await Promise.all(pending);
    return out;
  }
}

// The step that undoes a successful creating step; undefined if it cannot be undone.
function inverse(s: NativeStep): NativeStep | undefined {
  switch (s.op) {
    case 'linkAdd':
      // A link made inside another namespace is found there by its peer or not at all;
      // only links that stayed here can be deleted from here.
      if (s.netns !== undefined) return undefined;
      return s.index !== undefined ? { op: 'linkDel', index: s.index } : { op: 'linkDel', name: s.name };
    case 'addrAdd':
      return { ...s, op: 'addrDel' };
    case 'routeAdd':
    case 'routeAppend':
      return { ...s, op: 'routeDel', protocol: 0 };
    case 'neigh': {
      // An entry the step created (add), or the one remote a VXLAN append added (its dst
      // and friends select it); a replace may have overwritten something: not undone.
      const { req } = s;
      if (req.op !== 'add' && req.op !== 'append') return undefined;
      return { ...s, req: { ...req, op: 'delete', state: undefined, sticky: undefined, externLearned: undefined, router: undefined } };
    }
    default:
      return undefined;
  }
}
