// Who holds a record: a token naming this process, enough to tell later, without asking
// it, whether the process that wrote it is still alive. A token is
// '<pidns>-<pid>-<starttime>-<nonce>': a recycled pid has another start time, and a token
// from another pid namespace is taken to be alive (its pids mean nothing here).
import { randomBytes, randomFill } from '../crypto';
import { readFileSync, readlinkSync } from 'node:fs';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if there is no such process. */
function startTime(pid: number | 'self'): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); a zombie has exited and holds nothing.
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

const SELF_PIDNS = pidNamespace();
const SELF_START = startTime('self') ?? '0';

// Random bytes for ids, drawn from the kernel 4 KiB at a time: one read per 128 ids
// instead of one each (an attach makes one; measured ~10 µs a call on the attach path).
const ID_POOL = Buffer.allocUnsafe(4096);
let idOffset = ID_POOL.length;

/** A new random id: 64 hex digits (32 random bytes), as endpoint and network ids are. */
export function randomId(): string {
  if (idOffset + 32 > ID_POOL.length) {
    randomFill(ID_POOL);
    idOffset = 0;
  }
  const id = ID_POOL.toString('hex', idOffset, idOffset + 32);
  idOffset += 32;
  return id;
}

/** A new token for this process (a fresh nonce each call). */
export function newToken(): string {
  return `${SELF_PIDNS}-${process.pid}-${SELF_START}-${randomBytes(6).toString('hex')}`;
}

/** Whether the process that made `token` may still be running (true when it cannot be told). */
export function tokenAlive(token: string): boolean {
  const [ns, pidText, start] = token.split('-');
  if (ns !== SELF_PIDNS) return true;
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return start === SELF_START;
  const now = startTime(pid);
  if (now === undefined) {
    // No /proc entry: dead, unless /proc is not mounted at all.
    if (SELF_START !== '0') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return start === '0' || now === start;
}

/** The pid a token names. */
export function tokenPid(token: string): number {
  return Number(token.split('-')[1]);
}
