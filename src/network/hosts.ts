// Name resolution for user-defined networks, as hosts-file content: every container
// resolves the names and aliases of every container it shares such a network with.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** One container's view: its own entries first, then its peers', as /etc/hosts lines. */
export function hostsFileContent(self: { ip: string; names: string[] }[], peers: { ip: string; names: string[] }[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  const seen = new Set<string>();
  for (const e of [...self, ...peers]) {
    const names = e.names.filter((n) => n.length > 0);
    if (names.length === 0) continue;
    const key = `${e.ip} ${names.join(' ')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`${e.ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes a file atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, file);
}

/** A DNS-ish name: letters, digits, '-', '_' and '.', 1-253 chars. */
export function checkHostName(n: unknown, what: string): string {
  if (typeof n !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(n)) {
    throw new TypeError(`${what} must be a host name ([A-Za-z0-9_.-], 1-253 chars), got ${JSON.stringify(n)}`);
  }
  return n;
}
