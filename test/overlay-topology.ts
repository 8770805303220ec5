// Simulated hosts for overlay tests: an underlay bridge in a namespace of its own
// (192.168.90.254/24) and n host namespaces on it (192.168.90.i+1 on ul0), each with its
// own Networks controller and state directory; and the VXLAN device's tables as
// iproute2 shows them (the independent witness).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type Netns, Networks } from '../src';
import { ipj, run, type Scope } from './helpers';

export interface Host {
  ns: Netns;
  ctl: Networks;
  vtep: string;
  dir: string;
}

/** Builds the underlay and n hosts; state directories go to `dirs`, controllers to `ctls` (the caller cleans up). */
export async function underlay(scope: Scope, n: number, dirs: string[], ctls: Networks[]): Promise<{ under: Netns; hosts: Host[] }> {
  const under = await scope.ns('und');
  await under.links.add({ kind: 'bridge', name: 'ub', up: true, addrGenMode: 'none' });
  await under.addresses.add('ub', '192.168.90.254/24');
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) {
    const ns = await scope.ns('h');
    await ns.links.add({ kind: 'veth', name: 'ul0', up: true, addrGenMode: 'none', peer: { name: `up${i}`, netns: under } });
    await under.links.set(`up${i}`, { master: 'ub', up: true });
    const vtep = `192.168.90.${i + 1}`;
    await ns.addresses.add('ul0', `${vtep}/24`);
    await ns.links.set('lo', { up: true });
    const dir = mkdtempSync(path.join(tmpdir(), 'np-ovl-'));
    dirs.push(dir);
    const ctl = await Networks.open({ stateDir: dir, host: ns });
    ctls.push(ctl);
    hosts.push({ ns, ctl, vtep, dir });
  }
  return { under, hosts };
}

/** The VXLAN device's own FDB entries (not the bridge's), as "mac dst state", sorted. */
export function fdbSelf(ns: Netns, dev: string): string[] {
  const all = JSON.parse(run('ip', ['netns', 'exec', ns.name!, 'bridge', '-j', 'fdb', 'show', 'dev', dev])) as { mac: string; dst?: string; flags: string[]; state: string }[];
  return all.filter((e) => e.flags.includes('self')).map((e) => `${e.mac} ${e.dst} ${e.state}`).sort();
}

/** The VXLAN device's neighbour entries, as "ip mac STATE", sorted. */
export function neighs(ns: Netns, dev: string): string[] {
  return ipj<{ dst: string; lladdr?: string; state: string[] }[]>(ns.name!, 'neigh', 'show', 'dev', dev)
    .map((n) => `${n.dst} ${n.lladdr} ${n.state.join(',')}`)
    .sort();
}

/** The bridge's FDB entries for one of its ports (master, not the port's self entries nor its own address), as "mac state", sorted. */
export function fdbMaster(ns: Netns, port: string): string[] {
  const all = JSON.parse(run('ip', ['netns', 'exec', ns.name!, 'bridge', '-j', 'fdb', 'show', 'dev', port])) as { mac: string; master?: string; flags: string[]; state: string }[];
  // Not the port's own address (a local entry, 'permanent': frames to it end at the bridge).
  return all.filter((e) => e.master !== undefined && !e.flags.includes('self') && e.state !== 'permanent').map((e) => `${e.mac} ${e.state || 'dynamic'}`).sort();
}

/** A bridge port's proxy_arp_wifi flag, as `ip -d link` shows it. */
export function proxyArpWifi(ns: Netns, port: string): boolean | undefined {
  const l = ipj<{ linkinfo?: { info_slave_data?: { proxy_arp_wifi?: boolean } } }[]>(ns.name!, 'link', 'show', port)[0];
  return l?.linkinfo?.info_slave_data?.proxy_arp_wifi;
}
