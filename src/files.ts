// Writing files that readers must never see torn: the one place for it. Two ways, for
// two kinds of reader: a durable replacement (a new file renamed over the old one, for
// state), and a rewrite in place (the same inode, for files a container bind-mounts).
import { closeSync, constants as C, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';

type FsPromises = typeof import('node:fs/promises');
let fsp: FsPromises | undefined;

/** node:fs/promises, loaded on first use: ~1 ms of a short-lived process's start (the CNI plugin) otherwise. */
export function fsPromises(): FsPromises {
  return (fsp ??= require('node:fs/promises') as FsPromises);
}

/** Writes a file so that after it returns the new content survives a power loss, and readers never see a partial file. */
export function writeFileDurable(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_TRUNC, 0o600);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  const dfd = openSync(path.dirname(file), C.O_RDONLY | C.O_DIRECTORY);
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/**
 * Rewrites a file in place: the same inode, so that a bind mount of it (a container's
 * /etc/hosts) sees the new content. Returns false when the content was already there.
 *
 * A reader must never see a torn file, yet a rename (atomic, but a new inode) is what a
 * bind mount cannot follow. So the new content goes out in one pwrite() at offset 0,
 * padded with newlines to the old length when it is shorter, and only then is the file
 * truncated to its length: a reader sees the old content, the new one, or the new one
 * followed by blank lines (which resolvers skip), never the old file's tail after the
 * new head. Within that one write, a concurrent read is as atomic as the kernel makes a
 * write() to one page cache page (these files are a few hundred bytes; an all-members
 * file of thousands of names spans pages, and a reader racing the write can see some
 * pages old and some new: that mode is opt-in, and DNS is the way for large networks).
 */
export async function rewriteInPlace(file: string, content: string): Promise<boolean> {
  const buf = Buffer.from(content, 'utf8');
  // O_CREAT without O_TRUNC: an existing file keeps its inode, and its bytes until the write.
  const flags = C.O_RDWR | C.O_CREAT;
  const { mkdir, open } = fsPromises();
  const fh = await open(file, flags, 0o644).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
    await mkdir(path.dirname(file), { recursive: true });
    return open(file, flags, 0o644);
  });
  try {
    const old = (await fh.stat()).size;
    if (old === buf.length) {
      const cur = Buffer.alloc(old);
      const { bytesRead } = await fh.read(cur, 0, old, 0);
      if (bytesRead === old && cur.equals(buf)) return false;
    }
    const out = buf.length >= old ? buf : Buffer.concat([buf, Buffer.alloc(old - buf.length, 0x0a)]);
    let done = 0;
    while (done < out.length) {
      const { bytesWritten } = await fh.write(out, done, out.length - done, done);
      done += bytesWritten;
    }
    if (out.length !== buf.length) await fh.truncate(buf.length);
  } finally {
    await fh.close();
  }
  return true;
}
