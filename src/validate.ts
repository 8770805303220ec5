// Input checks shared by every API: bad input throws before anything reaches the
// kernel (TypeError for the wrong kind of value, RangeError for one out of range).
import { ipFamily } from './ip';

const IFNAMSIZ = 16;
const NAME_MAX = 255;

/** An interface name as the kernel accepts it (dev_valid_name): 1-15 bytes, no '/', ':' or whitespace, not '.' or '..'. */
export function checkIfname(name: unknown, what = 'interface name'): string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string, got ${typeof name}`);
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes >= IFNAMSIZ) {
    throw new RangeError(`${what} ${JSON.stringify(name)} must be 1-${IFNAMSIZ - 1} bytes, got ${bytes}`);
  }
  if (name === '.' || name === '..' || /[\s/:\0]/.test(name)) {
    throw new TypeError(`${what} ${JSON.stringify(name)} may not be '.' or '..' or contain '/', ':', NUL or whitespace`);
  }
  return name;
}

/** A link reference: an interface name or a positive ifindex. */
export function checkLinkRef(ref: unknown, what = 'link'): string | number {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fffffff) {
      throw new RangeError(`${what} index must be a positive 32-bit integer, got ${ref}`);
    }
    return ref;
  }
  if (typeof ref === 'string') return checkIfname(ref, `${what} name`);
  throw new TypeError(`${what} must be an interface name or index, got ${typeof ref}`);
}

/** A namespace name that stays inside the netns directory: no '/', not '.' or '..', no NUL, at most 255 bytes. */
export function checkNetnsName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`namespace name must be a string, got ${typeof name}`);
  if (name.length === 0) throw new TypeError('namespace name must not be empty');
  if (Buffer.byteLength(name) > NAME_MAX) throw new TypeError(`namespace name longer than ${NAME_MAX} bytes`);
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new TypeError(`namespace name ${JSON.stringify(name)} could escape the netns directory ('/', '.', '..' and NUL are not allowed)`);
  }
  return name;
}

/** An absolute or relative filesystem path with no NUL. */
export function checkPath(p: unknown, what = 'path'): string {
  if (typeof p !== 'string' || p.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  if (p.includes('\0')) throw new TypeError(`${what} must not contain NUL`);
  return p;
}

/** A process id. */
export function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid)) throw new TypeError(`pid must be an integer, got ${String(pid)}`);
  if (pid <= 0 || pid > 0x3fffffff) throw new RangeError(`pid out of range: ${pid}`);
  return pid;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** 'aa:bb:cc:dd:ee:ff' lower-cased; TypeError otherwise. */
export function checkMac(v: unknown, what = 'mac'): string {
  if (typeof v !== 'string' || !MAC_RE.test(v)) throw new TypeError(`${what} must look like aa:bb:cc:dd:ee:ff, got ${String(v)}`);
  return v.toLowerCase();
}

/** An IPv4 or IPv6 address (no prefix, no zone). */
export function checkIp(v: unknown, what = 'address'): string {
  if (typeof v !== 'string' || ipFamily(v) === 0) throw new TypeError(`${what} must be an IPv4 or IPv6 address, got ${String(v)}`);
  return v;
}

/** An integer in min..max: TypeError if not an integer, RangeError if outside. */
export function checkInt(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer, got ${String(v)}`);
  if (v < min || v > max) throw new RangeError(`${what} must be in ${min}..${max}, got ${v}`);
  return v;
}

/** A boolean or undefined. */
export function checkOptBool(v: unknown, what: string): boolean | undefined {
  if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${what} must be a boolean`);
  return v;
}

/** One of the allowed strings, or undefined. */
export function checkOneOf<T extends string>(v: unknown, what: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new TypeError(`${what} must be one of ${allowed.join(', ')}, got ${String(v)}`);
  }
  return v as T;
}

/**
 * The caller's options object as a null-prototype copy of its own enumerable
 * properties, each read exactly once. Keys planted on Object.prototype (prototype
 * pollution) are not options, and a getter cannot answer validation one way and
 * encoding another. Values are not copied: nested option objects go through own() in
 * their own validators.
 */
export function own<T extends object>(v: T, what: string): T {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what} must be an object`);
  const out = new OwnCopy() as Record<string, unknown>;
  for (const k of Object.keys(v)) out[k] = (v as Record<string, unknown>)[k];
  return out as T;
}

// The copies' class. Its prototype is an empty object with no prototype of its own, so
// nothing inherited shows through (as with Object.create(null)); but V8 keeps instances
// as fast objects with shapes, where Object.create(null) makes a hash table each time,
// which hot paths (publishing a port validates several option objects) pay for.
class OwnCopy {}
Object.setPrototypeOf(OwnCopy.prototype, null);
delete (OwnCopy.prototype as { constructor?: unknown }).constructor;

/** A plain options object (or undefined, taken as {}), as own() copies it. */
export function checkObject<T extends object>(v: T | undefined, what: string): T {
  if (v === undefined) return Object.create(null) as T;
  return own(v, what);
}
