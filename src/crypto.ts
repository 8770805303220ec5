// What netplumb takes from node:crypto, with the module loaded only when a hash is asked
// for: loading it costs a short-lived process (the CNI plugin without a daemon) ~5 ms,
// Node compiling its cipher and stream modules, and an attach needs only random bytes.
// Those come from the kernel (getrandom behind /dev/urandom), as node:crypto's do.
import { closeSync, openSync, readSync } from 'node:fs';

type NodeCrypto = typeof import('node:crypto');
let nodeCrypto: NodeCrypto | undefined;

function load(): NodeCrypto {
  return (nodeCrypto ??= require('node:crypto') as NodeCrypto);
}

/** SHA-256 of a string (UTF-8). */
export function sha256(data: string): Buffer {
  return load().createHash('sha256').update(data).digest();
}

/** Fills `buf` with random bytes from the kernel; returns it. */
export function randomFill(buf: Buffer): Buffer {
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    // No /dev here (a bare chroot): node:crypto asks getrandom itself.
    return load().randomFillSync(buf);
  }
  try {
    for (let off = 0; off < buf.length; ) off += readSync(fd, buf, off, buf.length - off, null);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** `n` random bytes. */
export function randomBytes(n: number): Buffer {
  return randomFill(Buffer.allocUnsafe(n));
}
