// Captures the bytes a process hands to (or gets from) the kernel, with strace's
// buffer dumps (-e write=all / -e read=all): the independent view of what goes over a
// netlink socket. A dump line looks like
//    | 00010  11 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................ |
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** One traced system call: its strace line and the bytes strace dumped for it. */
export interface TracedCall {
  name: string;
  line: string;
  data: Buffer;
}

const DUMP = /^ \| ([0-9a-f]{5,8})  /;
const CALL = /^(?:\d+ +)?(?:<\.\.\. )?([a-z_0-9]+)[( ]/;

/** Parses strace output written with -o; calls that dumped no bytes are kept with empty data. */
export function parseStrace(text: string): TracedCall[] {
  const calls: TracedCall[] = [];
  const chunks: Buffer[][] = [];
  for (const line of text.split('\n')) {
    const d = DUMP.exec(line);
    if (d) {
      // 16 bytes as "xx " groups with an extra space after the eighth: 49 columns.
      const hex = line.slice(d[0].length, d[0].length + 49).match(/[0-9a-f]{2}/g) ?? [];
      chunks[chunks.length - 1]?.push(Buffer.from(hex.join(''), 'hex'));
      continue;
    }
    if (/^ \* \d+ bytes in buffer/.test(line)) continue;
    const c = CALL.exec(line);
    if (!c) continue;
    calls.push({ name: c[1]!, line, data: Buffer.alloc(0) });
    chunks.push([]);
  }
  calls.forEach((c, i) => {
    c.data = Buffer.concat(chunks[i]!);
  });
  return calls;
}

/**
 * Runs cmd under strace (following threads), tracing `syscalls` and dumping the
 * buffers they write or read. Throws if the command fails.
 */
export function strace(
  cmd: string[],
  syscalls: string[],
  dump: 'write' | 'read',
  env?: NodeJS.ProcessEnv,
): { calls: TracedCall[]; stdout: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'netplumb-strace-'));
  try {
    const out = path.join(dir, 'trace');
    const r = spawnSync(
      'strace',
      ['-f', '-qq', '-o', out, '-e', `trace=${syscalls.join(',')}`, '-e', `${dump}=all`, '--', ...cmd],
      { encoding: 'utf8', env: env ?? process.env },
    );
    if (r.status !== 0) throw new Error(`strace ${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
    return { calls: parseStrace(readFileSync(out, 'utf8')), stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A copy of a stream of netlink messages with every nlmsg_seq and nlmsg_pid zeroed. */
export function zeroSeqPid(buf: Buffer): Buffer {
  const b = Buffer.from(buf);
  for (let off = 0; off + 16 <= b.length; ) {
    const len = b.readUInt32LE(off);
    b.writeUInt32LE(0, off + 8);
    b.writeUInt32LE(0, off + 12);
    if (len < 16) break;
    off += (len + 3) & ~3;
  }
  return b;
}

/** Offsets and types of the netlink messages in a buffer. */
export function messages(buf: Buffer): { off: number; len: number; type: number; flags: number; seq: number }[] {
  const out = [];
  for (let off = 0; off + 16 <= buf.length; ) {
    const len = buf.readUInt32LE(off);
    if (len < 16) break;
    out.push({ off, len, type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8) });
    off += (len + 3) & ~3;
  }
  return out;
}
