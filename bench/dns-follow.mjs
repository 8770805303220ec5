#!/usr/bin/env node
// How fast a follower (the resolver's way) sees another process's commit: a writer child
// commits a change every 50 ms stamped with its wall time; this process follows with a
// read-only store, by polling sync() every 25 ms alone, then with an fs.watch on the WAL
// journal as well (the resolver's choice). Also what a poll costs when nothing changed.
//
//   node bench/dns-follow.mjs [--n 100]
import { fork } from 'node:child_process';
import { watch, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { NetworkStore } = createRequire(import.meta.url)(path.join(root, 'dist', 'network', 'store.js'));
const wall = () => performance.timeOrigin + performance.now();
const n = Number(process.argv.includes('--n') ? process.argv[process.argv.indexOf('--n') + 1] : 100);
const net = (t) => ({
  id: 'f'.repeat(64), name: 'follow', driver: 'bridge', bridge: 'brf', subnet: '10.79.0.0/24', gateway: '10.79.0.1', mtu: 1500,
  masquerade: true, icc: true, internal: false, isDefault: false, labels: { t: String(t) }, created: '',
});

if (process.argv[2] === 'writer') {
  const st = NetworkStore.open(process.argv[3]);
  let i = 0;
  const tick = setInterval(() => {
    st.write((tx) => tx.putNetwork(net(wall())));
    if (++i >= n) {
      clearInterval(tick);
      st.close();
      process.exit(0);
    }
  }, 50);
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'np-follow-'));
  NetworkStore.open(dir).close();
  const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) * p)].toFixed(2);
  for (const mode of ['poll 25 ms', 'poll 25 ms + fs.watch on the WAL']) {
    const st = NetworkStore.open(dir, { readOnly: true, check: false });
    const lat = [];
    st.onChange((c) => {
      if (c.kind === 'network') lat.push(wall() - Number(st.networks.get(c.id).labels.t));
    });
    const poll = setInterval(() => st.sync(), 25);
    const w = mode.includes('watch') ? watch(path.join(dir, 'netplumb.db-wal'), () => st.sync()) : undefined;
    await new Promise((r) => fork(fileURLToPath(import.meta.url), ['writer', dir, '--n', String(n)]).on('exit', r));
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(poll);
    w?.close();
    console.log(`${mode.padEnd(34)} commit seen after (ms): p50 ${pct(lat, 0.5)}, p90 ${pct(lat, 0.9)}, max ${pct(lat, 1)} (${lat.length} changes)`);
    st.close();
  }
  const st = NetworkStore.open(dir, { readOnly: true, check: false });
  const t = performance.now();
  for (let i = 0; i < 100_000; i++) st.sync();
  const us = ((performance.now() - t) * 1000) / 100_000;
  console.log(`one sync() with nothing changed: ${us.toFixed(2)} µs (polled every 25 ms: ${((us * 40) / 1e4).toFixed(4)}% of one CPU)`);
  st.close();
  rmSync(dir, { recursive: true, force: true });
}
