// Reads a state directory's database directly with SQLite (node:sqlite, read-only),
// not through the library: what is really committed.
import * as path from 'node:path';

interface Row { [k: string]: unknown }

/** The committed rows of a state directory. */
export interface StateRows {
  networks: { id: string; name: string; doc: Record<string, unknown> }[];
  endpoints: { id: string; network: string; netns: string; phase: string; holder: string | null; doc: Record<string, unknown> & { ip: string; hostIfname: string } }[];
  leases: { pool: string; address: string; owner: string }[];
  ports: { key: string; endpoint: string }[];
  records: { network: string; kind: string; key: string; doc: unknown }[];
}

export function readState(dir: string): StateRows {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
  const db = new DatabaseSync(path.join(dir, 'netplumb.db'), { readOnly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all() as Row[];
    return {
      networks: all('SELECT id, name, doc FROM networks').map((r) => ({ id: r.id as string, name: r.name as string, doc: JSON.parse(r.doc as string) })),
      endpoints: all('SELECT id, network, netns, phase, holder, doc FROM endpoints').map((r) => ({
        id: r.id as string, network: r.network as string, netns: r.netns as string, phase: r.phase as string,
        holder: (r.holder as string | null) ?? null, doc: JSON.parse(r.doc as string),
      })),
      leases: all('SELECT pool, address, owner FROM leases') as StateRows['leases'],
      ports: all('SELECT key, endpoint FROM ports') as StateRows['ports'],
      records: all('SELECT network, kind, key, doc FROM records').map((r) => ({ network: r.network as string, kind: r.kind as string, key: r.key as string, doc: JSON.parse(r.doc as string) })),
    };
  } finally {
    db.close();
  }
}
