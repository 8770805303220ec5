// The native handle behind each Netns, kept off the public class: a Netns registers
// itself here when made, and the primitives (links, routes, nft, ...) read its handle
// here, so no module needs Netns itself at run time and Netns has no public handle().
import type { NativeHandle } from './binding';

const handles = new WeakMap<object, () => NativeHandle>();

/** Records how to get owner's native handle (the getter throws EBADF once it is closed). */
export function registerHandle(owner: object, get: () => NativeHandle): void {
  handles.set(owner, get);
}

/** The native handle of a Netns; TypeError if `ns` is not one. */
export function handleOf(ns: unknown, what = 'netns'): NativeHandle {
  const get = typeof ns === 'object' && ns !== null ? handles.get(ns) : undefined;
  if (!get) throw new TypeError(`${what} must be a Netns handle`);
  return get();
}
