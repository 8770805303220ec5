// State directories written by netplumb 0.1.0: one JSON file, networks.json, holding
// every network, endpoint and address pool in an envelope with a checksum. The first
// open by this version imports it into the database in one transaction and renames it
// to networks.json.0.1.0 (kept, never read again).
import { sha256 } from '../crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import type { DriverRecord } from './driver';
import { expandPorts, portKey } from './ports';
import { poolIds, StateCorruptError, StateSchemaError, type NetworkStore } from './store';
import type { EndpointInfo, NetworkInfo } from './types';

const FILE = 'networks.json';
const DONE = 'networks.json.0.1.0';

interface LegacyState {
  networks: (NetworkInfo & Record<string, unknown>)[];
  endpoints: EndpointInfo[];
  pools: Record<string, { allocations: [string, string][] }>;
}

/** The 0.1.0 state of a directory, if it has one that was not imported yet. */
export function readLegacy(dir: string): LegacyState | undefined {
  const file = path.join(dir, FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  let env: { format?: unknown; schema?: unknown; key?: unknown; sha256?: unknown; data?: unknown };
  try {
    env = JSON.parse(text) as typeof env;
  } catch (e) {
    throw new StateCorruptError(file, [`not valid JSON (${text.length} bytes${text.endsWith('\n') ? '' : ', no final newline: truncated?'}): ${(e as Error).message}`]);
  }
  if (typeof env !== 'object' || env === null || env.format !== 'netplumb-state' || env.key !== 'networks') {
    throw new StateCorruptError(file, ['not a netplumb 0.1.0 state file']);
  }
  if (env.schema !== 1) throw new StateSchemaError(file, Number(env.schema), 1);
  const sum = sha256(JSON.stringify(env.data)).toString('hex');
  if (sum !== env.sha256) throw new StateCorruptError(file, ['checksum mismatch (edited or damaged)']);
  const data = env.data as Partial<LegacyState> | undefined;
  if (!data || !Array.isArray(data.networks) || !Array.isArray(data.endpoints) || typeof data.pools !== 'object') {
    throw new StateCorruptError(file, ['networks, endpoints or pools missing']);
  }
  return data as LegacyState;
}

/**
 * Imports a 0.1.0 state into a new database, in one durable transaction, and sets the old
 * file aside. Endpoints come in as ready; the reconcile that follows checks them against
 * the kernel like any other.
 */
export function importLegacy(
  store: NetworkStore,
  legacy: LegacyState,
  convert: (doc: NetworkInfo & Record<string, unknown>) => { info: NetworkInfo; records: DriverRecord[] },
): NetworkInfo[] {
  const nets: NetworkInfo[] = [];
  store.write(
    (tx) => {
      for (const doc of legacy.networks) {
        const { info, records } = convert(doc);
        tx.putNetwork(info);
        for (const r of records) tx.putRecord(info.id, r.kind, r.key, r.value);
        nets.push(info);
      }
      for (const [pool, state] of Object.entries(legacy.pools)) {
        if (!store.pools.has(pool)) continue;
        for (const [address, owner] of state.allocations ?? []) tx.claim(pool, address, owner);
      }
      for (const ep of legacy.endpoints) {
        if (!store.networks.has(ep.network)) continue;
        const ids = poolIds(ep.network);
        tx.claim(ids.v4, ep.ip, ep.id);
        if (ep.ip6 !== undefined && store.pools.has(ids.v6)) tx.claim(ids.v6, ep.ip6, ep.id);
        for (const p of expandPorts(ep.publish ?? [])) tx.claimPort(portKey(p), ep.id);
        tx.putEndpoint(ep, 'ready');
      }
    },
    { durable: true },
  );
  renameSync(path.join(store.dir, FILE), path.join(store.dir, DONE));
  return nets;
}
