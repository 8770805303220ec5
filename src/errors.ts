import * as os from 'node:os';

// Linux errnos Node's table does not name, which the kernel may still answer a netlink
// request with (EXFULL: a bridge that has all the ports it can take). Numbers of
// asm-generic/errno.h (x86-64 and arm64).
const LINUX_ONLY: Record<string, number> = {
  ENOTBLK: 15, ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48, EUNATCH: 49,
  ENOCSI: 50, EL2HLT: 51, EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56,
  EBADSLT: 57, EBFONT: 59, ENONET: 64, ENOPKG: 65, EREMOTE: 66, EADV: 68, ESRMNT: 69,
  ECOMM: 70, EDOTDOT: 73, ENOTUNIQ: 76, EBADFD: 77, EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80,
  ELIBSCN: 81, ELIBMAX: 82, ELIBEXEC: 83, ERESTART: 85, ESTRPIPE: 86, EUSERS: 87,
  ESOCKTNOSUPPORT: 94, EPFNOSUPPORT: 96, ESHUTDOWN: 108, ETOOMANYREFS: 109, EHOSTDOWN: 112,
  EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119, EISNAM: 120, EREMOTEIO: 121, ENOMEDIUM: 123,
  EMEDIUMTYPE: 124, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129,
  EOWNERDEAD: 130, ENOTRECOVERABLE: 131, ERFKILL: 132, EHWPOISON: 133,
};

const errnoNames = new Map<number, string>([
  ...Object.entries(LINUX_ONLY).map(([name, num]): [number, string] => [num, name]),
  ...Object.entries(os.constants.errno).map(([name, num]): [number, string] => [num, name]),
]);

/** The name of a positive errno value ('EEXIST' for 17). */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/**
 * A request the kernel (or a system call on the way to it) refused.
 *
 * Shaped like Node's system errors: `code` ('EEXIST'), `errno` (17), `op` (the netlink
 * message or system call, 'RTM_NEWLINK'), the kernel's extended-ack text in `extack`
 * and in the message when it gave one, and `step` for a failed step of a batch.
 */
export class NetlinkError extends Error {
  /** errno name, as in Node's system errors: 'EEXIST'. */
  readonly code: string;
  /** Positive errno value. */
  readonly errno: number;
  /** The request that failed: a netlink message type ('RTM_NEWLINK') or a system call. */
  readonly op: string;
  /** The kernel's extended-ack message (NLMSGERR_ATTR_MSG), when it sent one. */
  readonly extack?: string;
  /** Index of the failed step in a batch. */
  readonly step?: number;
  /** Type of a required attribute the kernel said was missing (NLMSGERR_ATTR_MISS_TYPE). */
  readonly missingAttribute?: number;

  constructor(init: {
    errno: number;
    op: string;
    extack?: string;
    detail?: string;
    step?: number;
    missingAttribute?: number;
    strerror?: string;
  }) {
    const code = errnoName(init.errno);
    const what = init.extack || init.detail || init.strerror || code;
    const step = init.step !== undefined ? ` [step ${init.step}]` : '';
    super(`${init.op}${step}: ${what} (${code})`);
    this.name = 'NetlinkError';
    this.code = code;
    this.errno = init.errno;
    this.op = init.op;
    if (init.extack) this.extack = init.extack;
    if (init.step !== undefined) this.step = init.step;
    if (init.missingAttribute !== undefined) this.missingAttribute = init.missingAttribute;
  }
}

interface NativeErrorShape {
  native: true;
  errno: number;
  op: string;
  extack?: string;
  detail?: string;
  strerror?: string;
  step?: number;
  missingAttribute?: number;
}

function isNativeError(e: unknown): e is Error & NativeErrorShape {
  return e instanceof Error && (e as Partial<NativeErrorShape>).native === true;
}

/** Turns an error thrown by the addon into a NetlinkError; passes others through. */
export function fromNative(e: unknown): unknown {
  if (!isNativeError(e)) return e;
  const err = new NetlinkError(e);
  return err;
}

/** Awaits a native promise, converting its rejection into a NetlinkError. */
export async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw fromNative(e);
  }
}

/** Runs a synchronous native call, converting its exception into a NetlinkError. */
export function callSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}
