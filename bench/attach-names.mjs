#!/usr/bin/env node
// Attach cost against the number of members when containers have names and files:
// Networks.attach with { name, hostsFile, resolvConf } on one network, timed per attach,
// for the default hosts file (own names: a change rewrites that container's files only)
// and for the opt-in all-members file (every change rewrites each member's file). The
// writes are off the attach's path in both: flushHosts() after each attach shows what the
// background pays.
//
//   node scripts/in-netns.mjs node bench/attach-names.mjs [--n 500]
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Networks } = createRequire(import.meta.url)(path.join(root, 'dist'));
const n = Number(process.argv.includes('--n') ? process.argv[process.argv.indexOf('--n') + 1] : 500);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

for (const scope of ['own', 'members']) {
  const dir = mkdtempSync('/run/np-bench-names-');
  const nets = await Networks.open({ stateDir: path.join(dir, 'state') });
  const net = await nets.create({ name: `names-${scope}`, subnet: scope === 'own' ? '10.80.0.0/16' : '10.81.0.0/16' });
  const attach = [];
  const flush = [];
  const eps = [];
  for (let i = 0; i < n; i++) {
    const f = path.join(dir, `c${i}`);
    let t = performance.now();
    eps.push(await net.attach({ create: `an${scope[0]}${i}` }, { name: `c${i}`, hostsFile: `${f}/hosts`, resolvConf: `${f}/resolv.conf`, hostsFileScope: scope }));
    attach.push(performance.now() - t);
    t = performance.now();
    await nets.flushHosts();
    flush.push(performance.now() - t);
  }
  const k = Math.min(100, Math.floor(n / 5));
  console.log(`${scope.padEnd(8)} attach median ms: first ${k} ${median(attach.slice(0, k)).toFixed(3)}, last ${k} ${median(attach.slice(-k)).toFixed(3)};` +
    ` file writes after each attach (median ms): first ${k} ${median(flush.slice(0, k)).toFixed(3)}, last ${k} ${median(flush.slice(-k)).toFixed(3)}`);
  for (const e of eps) await net.detach(e.id);
  await nets.remove(net.info.name);
  await nets.close();
}
