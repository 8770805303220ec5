// OverlayNetwork.update() adding and removing one remote endpoint, 300 times, on one host
// with N local containers and R remote endpoints (no etcd, no other host): the
// programming path alone. For an A/B, point it at another checkout's built tree:
//   node scripts/in-netns.mjs node bench/overlay-update.mjs [ROOT [N [R]]]
// ROOT (default this repository) must hold dist/ and its addon (build/Release); N 1000,
// R 2000. Prints the medians and 90th percentiles in microseconds.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('run inside the sandbox: node scripts/in-netns.mjs node bench/overlay-update.mjs');
  process.exit(1);
}
const require = createRequire(import.meta.url);
const ROOT = process.argv[2] ?? path.dirname(path.dirname(new URL(import.meta.url).pathname));
const { Netns, Networks } = require(path.join(ROOT, 'dist/index.js'));
const N = Number(process.argv[3] ?? 1000);
const R = Number(process.argv[4] ?? 2000);
const K = 300;
const pid = process.pid;
const host = await Netns.create(`uh${pid}`);
await host.links.add({ kind: 'veth', name: 'ul0', up: true, peer: { name: 'ul1', up: true } });
await host.addresses.add('ul0', '192.168.93.1/24');
const dir = mkdtempSync(path.join(tmpdir(), 'np-ab-'));
const ctl = await Networks.open({ stateDir: dir, host });
const net = await ctl.create({ driver: 'overlay', name: 'ov', vni: 77, subnet: '10.200.0.0/16', local: '192.168.93.1', device: 'ul0', ipRange: '10.200.0.0/22' });
for (let i = 0; i < N; i++) { const ep = await net.attach({ create: `uc${i}x${pid}` }); ep.netns.close(); }
const eps = [];
for (let i = 0; i < R; i++) eps.push({ ip: `10.200.${16 + (i >> 8)}.${i & 255}`, mac: `02:42:0a:c8:${(16 + (i >> 8)).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, vtep: `192.168.93.${2 + (i % 2)}` });
await net.update({ addPeers: ['192.168.93.2', '192.168.93.3'], addEndpoints: eps });
const add = [], del = [];
for (let k = 0; k < K; k++) {
  const ip = `10.200.100.${10 + (k % 200)}`;
  const mac = `02:00:0a:c8:64:${(10 + (k % 200)).toString(16).padStart(2, '0')}`;
  let t = performance.now();
  await net.update({ addEndpoints: [{ ip, mac, vtep: '192.168.93.9' }] });
  add.push((performance.now() - t) * 1000);
  t = performance.now();
  await net.update({ removeEndpoints: [ip] });
  del.push((performance.now() - t) * 1000);
}
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return Math.round(s[Math.floor(p * (s.length - 1))]); };
console.log(`${path.basename(ROOT)} N=${N} R=${R}: add p50 ${q(add, 0.5)} p90 ${q(add, 0.9)} µs; remove p50 ${q(del, 0.5)} p90 ${q(del, 0.9)} µs (${K} each)`);
await ctl.close();
rmSync(dir, { recursive: true, force: true });
