import { native } from './binding';
import { handleOf } from './handle';
import { call } from './errors';
import { checkObject } from './validate';
import type { Netns } from './netns';

/** A value to write: a string as is, an integer, or integers (written tab-separated, as ip_local_port_range wants). */
export type SysctlValue = string | number | readonly number[];

const MAX_KEY = 4096;
const MAX_VALUE = 4096;

/**
 * The path below /proc/sys/net for a `net.*` key. Keys come in sysctl(8)'s dotted form
 * ('net.ipv4.conf.eth0/100.rp_filter', where '/' stands for a '.' inside a name) or as
 * a path ('net/ipv4/conf/eth0.100/rp_filter'). Anything that could leave
 * /proc/sys/net ('..', '.', empty parts, absolute paths, NUL, whitespace) is a TypeError.
 */
export function sysctlPath(key: unknown): string {
  if (typeof key !== 'string') throw new TypeError(`sysctl key must be a string, got ${typeof key}`);
  if (key.length === 0 || Buffer.byteLength(key) > MAX_KEY) throw new TypeError('sysctl key must be 1-4096 bytes');
  if (/[\s\0-\x1f\x7f]/.test(key)) throw new TypeError(`sysctl key ${JSON.stringify(key)} contains whitespace or control characters`);
  let parts: string[];
  if (key.startsWith('net/')) parts = key.split('/');
  else if (key.startsWith('net.')) parts = key.split('.').map((p) => p.replace(/\//g, '.'));
  else throw new TypeError(`sysctl key ${JSON.stringify(key)} is not a net.* key (only /proc/sys/net is per namespace)`);
  const rest = parts.slice(1);
  if (rest.length === 0 || rest.some((p) => p === '' || p === '.' || p === '..')) {
    throw new TypeError(`sysctl key ${JSON.stringify(key)} has an empty, '.' or '..' component`);
  }
  return rest.join('/');
}

function valueText(v: unknown): string {
  const int = (n: unknown): string => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TypeError(`sysctl value must be an integer, got ${String(n)}`);
    return String(n);
  };
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number') s = int(v);
  else if (Array.isArray(v) && v.length > 0) s = v.map(int).join('\t');
  else throw new TypeError('sysctl value must be a string, an integer or a non-empty array of integers');
  if (s.includes('\0')) throw new TypeError('sysctl value must not contain NUL');
  if (Buffer.byteLength(s) > MAX_VALUE) throw new RangeError(`sysctl value longer than ${MAX_VALUE} bytes`);
  return s;
}

/**
 * The namespace's own sysctls (/proc/sys/net/...). The file is opened inside the
 * namespace by the namespace thread and read or written from the libuv pool; errors
 * are NetlinkErrors with op 'sysctl' (ENOENT for an unknown key, EACCES/EPERM where
 * the namespace's owner may not write, EINVAL for a value the kernel refuses).
 */
export class Sysctl {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** The value as the kernel prints it, without the trailing newline ('1', '32768\t60999'). */
  async get(key: string): Promise<string> {
    return call(native.sysctlGet(handleOf(this.#ns), sysctlPath(key)));
  }

  /**
   * Writes each setting, in order, each value in one write(2) as sysctl -w does:
   * `set({ 'net.ipv4.ip_forward': 1 })`. Every key and value is checked before the
   * first is written; a failure leaves the ones before it written.
   */
  async set(settings: Readonly<Record<string, SysctlValue>>): Promise<void>;
  /** @deprecated Give one object: `set({ [key]: value })`. The positional form goes in netplumb 0.3. */
  async set(key: string, value: SysctlValue): Promise<void>;
  async set(a: string | Readonly<Record<string, SysctlValue>>, value?: SysctlValue): Promise<void> {
    let writes: [string, string][];
    if (typeof a === 'string' || value !== undefined) {
      writes = [[sysctlPath(a), valueText(value)]];
    } else {
      const o = checkObject(a, 'sysctl settings');
      writes = Object.keys(o).map((k) => [sysctlPath(k), valueText(o[k])]);
    }
    for (const [rel, text] of writes) await call(native.sysctlSet(handleOf(this.#ns), rel, text));
  }
}
