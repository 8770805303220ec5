// A state directory written by netplumb 0.1.0 (test/fixtures/state-0.1.0/networks.json,
// made by make.js.txt beside it) opens with this version and is converted once: every
// network with its definition, the overlay's peers and remote endpoints as records,
// the endpoints whose kernel side still exists kept with their addresses held and their
// ports published again, the old file set aside as networks.json.0.1.0. Checked against
// the database (readState), the kernel (ip -j, bridge -j, nft -j) and the files, not
// only through the library's answers.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AddressInUseError, Netns, Networks, StateCorruptError, type EndpointInfo, type NetworkInfo } from '../src';
import { ip, ipj, run, Scope, uniq } from './helpers';
import { nftJson } from './nft-helpers';
import { readState } from './state-helpers';

const scope = new Scope();
const dirs: string[] = [];
afterAll(async () => {
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FIXTURE = path.join(__dirname, 'fixtures', 'state-0.1.0', 'networks.json');
const T = 'netplumb';

interface Legacy {
  data: {
    networks: (NetworkInfo & { overlay?: Record<string, unknown> })[];
    endpoints: EndpointInfo[];
    pools: Record<string, { allocations: [string, string][] }>;
  };
}
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Legacy;
const byName = (name: string) => fixture.data.networks.find((n) => n.name === name)!;
const NET = {
  bridge: byName('bridge'), app: byName('app'), iso: byName('iso'), ov: byName('ov'), mv: byName('mv'),
};
const byIp = (ip: string) => fixture.data.endpoints.find((e) => e.ip === ip)!;
// The endpoints with a host veth (bridge and overlay networks), and the macvlan one,
// whose child lived in a namespace (/run/netns/c1 of the machine that made the fixture)
// that does not exist here.
const VETH_EPS = fixture.data.endpoints.filter((e) => e.hostIfname !== '');
const MV_EP = fixture.data.endpoints.find((e) => e.network === NET.mv.id)!;

function stateDir(): string {
  const d = mkdtempSync('/run/np-legacy-');
  dirs.push(d);
  copyFileSync(FIXTURE, path.join(d, 'networks.json'));
  return d;
}

/**
 * A host namespace holding what the fixture's endpoints need to be found alive: each
 * host veth under its recorded name (its peer in a scratch namespace), the overlay's
 * underlay under0 with 192.0.2.10/24, the macvlan parent mvparent.
 */
async function host(): Promise<{ H: Netns; S: Netns }> {
  const H = await scope.ns('lgh');
  const S = await scope.ns('lgs');
  VETH_EPS.forEach((e, i) => {
    ip(H.name!, 'link', 'add', e.hostIfname, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', S.name!);
    ip(H.name!, 'link', 'set', e.hostIfname, 'up');
  });
  ip(H.name!, 'link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1', 'netns', S.name!);
  ip(H.name!, 'addr', 'add', '192.0.2.10/24', 'dev', 'under0');
  ip(H.name!, 'link', 'set', 'under0', 'up');
  // A veth, as make.js.txt used (this kernel has no dummy driver).
  ip(H.name!, 'link', 'add', 'mvparent', 'type', 'veth', 'peer', 'name', 'mvpeer', 'netns', S.name!);
  ip(H.name!, 'link', 'set', 'mvparent', 'up');
  return { H, S };
}

/** A network as this version stores it: 0.1.0's document, the overlay's peers and remote endpoints moved to records. */
function converted(n: Legacy['data']['networks'][number]): NetworkInfo {
  if (!n.overlay) return n;
  const { peers: _p, remoteEndpoints: _r, ...overlay } = n.overlay;
  return { ...n, overlay } as NetworkInfo;
}

/** Elements of a set or map of the owner's table, as nft -j lists them. */
function elems(ns: Netns, kind: 'map' | 'set', name: string): unknown[] {
  const obj = nftJson(ns.name!, kind, 'inet', T, name)[0] as Record<string, { elem?: unknown[] }> | undefined;
  return obj?.[kind]?.elem ?? [];
}

/** nft's concatenations ({ concat: [...] }) and map elements ([key, value]) as plain strings: 'tcp . 8080 => 172.17.0.2 . 80'. */
function flat(v: unknown): string {
  if (Array.isArray(v)) return v.map(flat).join(' => ');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('concat' in o) return (o.concat as unknown[]).map(flat).join(' . ');
    if ('elem' in o) return flat((o.elem as { val: unknown }).val);
    if ('val' in o) return flat(o.val);
  }
  return String(v);
}

const sortById = <T extends { id: string }>(xs: T[]): T[] => [...xs].sort((a, b) => a.id.localeCompare(b.id));

describe('a 0.1.0 state directory', () => {
  it('opens and converts: networks, overlay records, live endpoints, held addresses, published ports, the old file set aside', async () => {
    const { H } = await host();
    const dir = stateDir();
    const nets = await Networks.open({ stateDir: dir, host: H });
    try {
      // Every network, as 0.1.0 had it: id, name, driver, subnet, options, labels.
      const want = sortById(fixture.data.networks.map(converted));
      expect(sortById(nets.list())).toEqual(want);
      // The same in the database, and in each network's durable file.
      const rows = readState(dir);
      expect(sortById(rows.networks.map((r) => ({ ...r.doc, id: r.id })) as unknown as NetworkInfo[])).toEqual(want);
      expect(readdirSync(path.join(dir, 'networks')).sort()).toEqual(want.map((n) => `${n.id}.json`).sort());
      for (const n of want) expect(JSON.parse(readFileSync(path.join(dir, 'networks', `${n.id}.json`), 'utf8'))).toEqual(n);
      // The old file set aside, byte for byte; nothing of it left under its old name.
      expect(existsSync(path.join(dir, 'networks.json'))).toBe(false);
      expect(readFileSync(path.join(dir, 'networks.json.0.1.0'))).toEqual(readFileSync(FIXTURE));

      // The overlay's peers and remote endpoints: records, and the kernel's tables on the VXLAN device.
      const ov = nets.overlay('ov');
      expect(ov.peers()).toEqual(['192.0.2.11']);
      expect(ov.remoteEndpoints()).toEqual([{ ip: '10.30.0.100', mac: '02:42:0a:1e:00:64', vtep: '192.0.2.11' }]);
      expect(rows.records.filter((r) => r.network === NET.ov.id).map((r) => `${r.kind}:${r.key}`).sort()).toEqual(['peer:192.0.2.11', 'remote:10.30.0.100']);
      const vx = (NET.ov.overlay as { vxlan: string }).vxlan;
      const fdb = JSON.parse(run('ip', ['netns', 'exec', H.name!, 'bridge', '-j', 'fdb', 'show', 'dev', vx])) as { mac: string; dst?: string }[];
      expect(fdb.filter((f) => f.dst).map((f) => `${f.mac} ${f.dst}`).sort()).toEqual(['00:00:00:00:00:00 192.0.2.11', '02:42:0a:1e:00:64 192.0.2.11']);
      // The bridge answers the containers' ARP: the remote address and the local endpoints
      // in its neighbour table; the VXLAN device's own table (0.1.0 kept them there) empty.
      const neigh = ipj<{ dst: string; lladdr: string; state: string[] }[]>(H.name!, 'neigh', 'show', 'dev', (NET.ov as { bridge: string }).bridge);
      const locals = VETH_EPS.filter((e) => e.network === NET.ov.id).map((e) => `${e.ip} ${e.mac} PERMANENT`);
      expect(neigh.map((n) => `${n.dst} ${n.lladdr} ${n.state.join(',')}`).sort()).toEqual(['10.30.0.100 02:42:0a:1e:00:64 PERMANENT', ...locals].sort());
      expect(ipj(H.name!, 'neigh', 'show', 'dev', vx)).toEqual([]);

      // Endpoints whose veth exists are kept, ready, exactly as 0.1.0 recorded them; the
      // macvlan one, whose namespace is gone, is dropped with its address.
      expect(sortById(rows.endpoints.map((r) => r.doc as unknown as EndpointInfo))).toEqual(sortById(VETH_EPS));
      expect(rows.endpoints.every((r) => r.phase === 'ready')).toBe(true);
      for (const n of ['bridge', 'app', 'iso', 'ov'] as const) {
        expect(sortById(nets.get(n).endpoints())).toEqual(sortById(VETH_EPS.filter((e) => e.network === NET[n].id)));
      }
      expect(nets.get('mv').endpoints()).toEqual([]);
      expect(nets.inspect('app').endpoints.map((e) => e.name).sort()).toEqual(['db', 'web']);
      // Leases: each kept endpoint's addresses (IPv4, and IPv6 on 'app'), the overlay's
      // remote endpoint; not the dropped macvlan endpoint's.
      const leases = rows.leases.map((l) => `${l.pool} ${l.address} ${l.owner}`).sort();
      const wantLeases = [
        ...VETH_EPS.map((e) => `${e.network} ${e.ip} ${e.id}`),
        ...VETH_EPS.filter((e) => e.ip6).map((e) => `${e.network}/6 ${e.ip6} ${e.id}`),
        `${NET.ov.id} 10.30.0.100 remote`,
      ].sort();
      expect(leases).toEqual(wantLeases);
      expect(rows.leases.some((l) => l.address === MV_EP.ip)).toBe(false);
      // Ports: the rows, and the kernel's elements pointing at 172.17.0.2 and 172.20.0.2.
      const c1 = byIp('172.17.0.2');
      const web = byIp('172.20.0.2');
      expect(rows.ports.map((p) => `${p.key} ${p.endpoint}`).sort()).toEqual(
        [`tcp/*/8080 ${c1.id}`, `udp/*/9000 ${c1.id}`, `udp/*/9001 ${c1.id}`, `tcp/127.0.0.1/8443 ${web.id}`].sort(),
      );
      expect(elems(H, 'map', 'dnat4_any').map(flat).sort()).toEqual(
        ['tcp . 8080 => 172.17.0.2 . 80', 'udp . 9000 => 172.17.0.2 . 9000', 'udp . 9001 => 172.17.0.2 . 9001'].sort(),
      );
      expect(elems(H, 'map', 'dnat4_ip').map(flat)).toEqual(['127.0.0.1 . tcp . 8443 => 172.20.0.2 . 443']);
      expect(elems(H, 'set', 'pub4').map(flat).sort()).toEqual(
        ['172.17.0.2 . tcp . 80', '172.17.0.2 . udp . 9000', '172.17.0.2 . udp . 9001', '172.20.0.2 . tcp . 443'].sort(),
      );
      // The kernel objects of the networks were made: bridges with their gateways, the overlay's devices.
      for (const n of [NET.bridge, NET.app, NET.iso]) {
        const [br] = ipj<{ addr_info: { family: string; local: string }[]; linkinfo: { info_kind: string } }[]>(H.name!, 'addr', 'show', 'dev', n.bridge);
        expect(br!.linkinfo.info_kind).toBe('bridge');
        expect(br!.addr_info.filter((a) => a.family === 'inet').map((a) => a.local)).toEqual([n.gateway]);
      }
      expect(ipj<{ linkinfo: { info_kind: string; info_data: { id: number } } }[]>(H.name!, 'link', 'show', 'dev', vx)[0]!.linkinfo).toMatchObject({
        info_kind: 'vxlan', info_data: { id: 4242 },
      });

      // The addresses are held: the next container on 'bridge' is not given 172.17.0.2;
      // 172.20.0.50 on 'app' is taken; a published port is taken.
      const a = uniq('lga');
      const next = await nets.get('bridge').attach({ create: a });
      scope.handles.push(next.netns!);
      scope.names.push(a);
      expect(next.ip).toBe('172.17.0.3');
      const b = await scope.ns('lgb');
      await expect(nets.get('app').attach(b, { ip: '172.20.0.50' })).rejects.toBeInstanceOf(AddressInUseError);
      const onApp = await nets.get('app').attach(b);
      expect(onApp.ip).toBe('172.20.0.3');
      expect(onApp.ip6).toBe('fd00:20::4');
      const c = await scope.ns('lgc');
      await expect(nets.get('bridge').attach(c, { publish: [{ hostPort: 8080, containerPort: 80 }] })).rejects.toMatchObject({ code: 'EEXIST' });
      // The overlay's remote endpoint's address is never handed out either.
      expect(readState(dir).leases.filter((l) => l.address === '10.30.0.100').map((l) => l.owner)).toEqual(['remote']);

      // Detaching a converted endpoint works as for any other: its row, lease, ports, element go.
      const removed = await nets.get('bridge').detach(c1.id);
      expect(removed?.id).toBe(c1.id);
      await nets.reap();
      expect(ipj(H.name!, 'link', 'show').some((l) => l.ifname === c1.hostIfname)).toBe(false);
      expect(elems(H, 'map', 'dnat4_any')).toEqual([]);
      const after = readState(dir);
      expect(after.endpoints.some((e) => e.id === c1.id)).toBe(false);
      expect(after.leases.some((l) => l.owner === c1.id)).toBe(false);
      expect(after.ports.some((p) => p.endpoint === c1.id)).toBe(false);
    } finally {
      await nets.close();
    }

    // A second open does not import again: the detached endpoint stays gone, nothing
    // is duplicated, the set-aside file is untouched and no networks.json comes back.
    const before = readState(dir);
    const again = await Networks.open({ stateDir: dir, host: H });
    try {
      expect(sortById(again.list())).toEqual(sortById(fixture.data.networks.map(converted)));
      const rows = readState(dir);
      expect(sortById(rows.endpoints.map((e) => e.doc as unknown as EndpointInfo))).toEqual(sortById(before.endpoints.map((e) => e.doc as unknown as EndpointInfo)));
      expect(rows.endpoints.some((e) => e.id === byIp('172.17.0.2').id)).toBe(false);
      expect(rows.leases.map((l) => `${l.pool} ${l.address} ${l.owner}`).sort()).toEqual(before.leases.map((l) => `${l.pool} ${l.address} ${l.owner}`).sort());
      expect(again.overlay('ov').peers()).toEqual(['192.0.2.11']);
      expect(existsSync(path.join(dir, 'networks.json'))).toBe(false);
      expect(readFileSync(path.join(dir, 'networks.json.0.1.0'))).toEqual(readFileSync(FIXTURE));
    } finally {
      await again.close();
    }
  });

  it('a damaged 0.1.0 file (data edited, checksum no longer matching) is a StateCorruptError naming it; nothing is imported or made', async () => {
    const H = await scope.ns('lgd');
    const dir = stateDir();
    const file = path.join(dir, 'networks.json');
    // One address edited in place: still valid JSON, same envelope, wrong checksum.
    const text = readFileSync(FIXTURE, 'utf8');
    expect(text).toContain('"ip":"172.17.0.2"');
    const damaged = text.replace('"ip":"172.17.0.2"', '"ip":"172.17.0.9"');
    writeFileSync(file, damaged);
    const err = await Networks.open({ stateDir: dir, host: H }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as StateCorruptError).path).toBe(file);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/checksum/);
    // The file stays as it was, under its name, for a person to look at; nothing was imported.
    expect(readFileSync(file, 'utf8')).toBe(damaged);
    expect(existsSync(path.join(dir, 'networks.json.0.1.0'))).toBe(false);
    expect(existsSync(path.join(dir, 'networks'))).toBe(false);
    if (existsSync(path.join(dir, 'netplumb.db'))) {
      const rows = readState(dir);
      expect([rows.networks, rows.endpoints, rows.leases, rows.ports, rows.records]).toEqual([[], [], [], [], []]);
    }
    // Nothing made in the kernel: no bridge, no table.
    expect(ipj(H.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(run('ip', ['netns', 'exec', H.name!, 'nft', 'list', 'tables']).trim()).toBe('');

    // Truncated (no longer JSON): the same, saying so.
    writeFileSync(file, text.slice(0, 700));
    const err2 = await Networks.open({ stateDir: dir, host: H }).then(() => undefined, (e: unknown) => e);
    expect(err2).toBeInstanceOf(StateCorruptError);
    expect((err2 as Error).message).toContain(file);
    expect((err2 as Error).message).toMatch(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe(text.slice(0, 700));
    expect(existsSync(path.join(dir, 'networks.json.0.1.0'))).toBe(false);
  });
});
