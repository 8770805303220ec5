// The CNI plugin called as a runtime calls it: the executable (dist/cni/netplumb) with
// CNI_* in its environment and the config on stdin, once through a running daemon and
// once with none (it then runs the plugin in-process on the same state directory). The
// spec's cases (SPEC.md 1.1): every command, every accepted version and its result
// format, CHECK after an out-of-band change, GC with and without valid attachments, DEL
// twice, DEL with an empty CNI_NETNS and after the namespace is gone, prevResult
// chaining, the ips / mac / portMappings capabilities, and the errors (malformed JSON,
// unknown versions, missing variables) with the spec's codes and messages. Witnesses:
// ip -j inside the container and on the host, nft -j, the state database, real TCP.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns } from '../src';
import { ipj, Scope } from './helpers';
import { readState } from './state-helpers';
import { connect, HOST_IP, joinOutside, listening } from './traffic';
import { cni, startDaemon, type RunningDaemon } from './daemon-helpers';

const scope = new Scope();
const dirs: string[] = [];
let daemon: RunningDaemon | undefined;

afterAll(async () => {
  await daemon?.stop('SIGKILL');
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;

// The two ways a call is served. Each gets its own host namespace, state and network.
describe.each([
  { mode: 'through the daemon', daemon: true, subnet: '10.101.0.0/24', gw: '10.101.0.1' },
  { mode: 'in-process (no daemon)', daemon: false, subnet: '10.102.0.0/24', gw: '10.102.0.1' },
])('CNI plugin $mode', ({ daemon: useDaemon, subnet, gw }) => {
  let host: Netns;
  let outside: Netns;
  let dir: string;
  let socket: string;
  let d: RunningDaemon | undefined;
  const name = useDaemon ? 'cnid' : 'cnip';
  const base = (v: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    cniVersion: v, name, type: 'netplumb', subnet, stateDir: path.join(dir, 'state'), ...extra,
  });
  const call = (cmd: string, ns: Netns | string | null, id: string, conf: unknown, env: Record<string, string> = {}) => cni(host.name!, {
    CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_IFNAME: 'eth0',
    CNI_NETNS: ns === null ? '' : typeof ns === 'string' ? ns : `/run/netns/${ns.name!}`, ...env,
  }, conf, socket);

  beforeAll(async () => {
    host = await scope.ns(useDaemon ? 'cd' : 'cp');
    outside = await scope.ns(useDaemon ? 'cdo' : 'cpo');
    joinOutside(host, outside);
    dir = mkdtempSync('/tmp/np-cni-');
    dirs.push(dir);
    socket = path.join(dir, 'netplumb.sock');
    if (useDaemon) {
      d = await startDaemon(host.name!, path.join(dir, 'state'), socket, ['--no-watch']);
      daemon = d;
    }
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('VERSION lists 0.4.0 through 1.1.0', async () => {
    const r = await call('VERSION', null, '', '{"cniVersion":"1.0.0"}');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  });

  it.each(VERSIONS)('ADD, CHECK, DEL, DEL again at cniVersion %s, with the result in that version\'s format', async (v) => {
    const ctr = await scope.ns('cv');
    const id = `ver${v.replace(/\./g, '')}${useDaemon ? 'd' : 'p'}`;
    const add = await call('ADD', ctr, id, base(v));
    expect(add.code, add.stdout).toBe(0);
    const res = add.json as { cniVersion: string; interfaces: { name: string; mac?: string; sandbox?: string }[]; ips: Record<string, unknown>[]; routes: unknown[] };
    expect(res.cniVersion).toBe(v);
    expect(res.interfaces[2]).toMatchObject({ name: 'eth0', sandbox: `/run/netns/${ctr.name!}` });
    const ipEntry = res.ips[0]!;
    expect(ipEntry).toMatchObject({ gateway: gw, interface: 2 });
    // types/040 has "version" on each address; 1.0.0 and later dropped it.
    if (v === '0.4.0') expect(ipEntry.version).toBe('4');
    else expect(ipEntry).not.toHaveProperty('version');
    expect(res.routes).toEqual([{ dst: '0.0.0.0/0', gw }]);
    // The container holds what the result says (ip -j, not the library).
    const inCtr = ipj<{ address: string; addr_info: { local: string; prefixlen: number }[] }[]>(ctr.name!, 'addr', 'show', 'dev', 'eth0');
    expect(`${inCtr[0]!.addr_info[0]!.local}/${inCtr[0]!.addr_info[0]!.prefixlen}`).toBe(ipEntry.address);
    expect(inCtr[0]!.address).toBe(res.interfaces[2]!.mac);
    const check = await call('CHECK', ctr, id, { ...base(v), prevResult: res });
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toBe('');
    const del = await call('DEL', ctr, id, { ...base(v), prevResult: res });
    expect(del.code, del.stdout).toBe(0);
    // DEL returns with the endpoint unreachable and its address free; its link is deleted
    // with the reap batch (at once in-process, where close() reaps; within 200 ms in the daemon).
    const links = (): string[] => ipj<{ ifname: string }[]>(ctr.name!, 'link', 'show').map((l) => l.ifname);
    for (let i = 0; i < 50 && links().length > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(links()).toEqual(['lo']);
    expect((await call('DEL', ctr, id, base(v))).code).toBe(0);
  });

  it('answers a repeated ADD of the same attachment with the same result; refuses it from another namespace', async () => {
    const a = await scope.ns('ca');
    const b = await scope.ns('ca');
    const id = `again${useDaemon ? 'd' : 'p'}`;
    const first = await call('ADD', a, id, base('1.0.0'));
    const second = await call('ADD', a, id, base('1.0.0'));
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(second.json).toEqual(first.json);
    const other = await call('ADD', b, id, base('1.0.0'));
    expect(other.json).toMatchObject({ code: 7, msg: expect.stringMatching(/in another namespace already/) });
    expect(ipj<{ ifname: string }[]>(b.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect((await call('DEL', a, id, base('1.0.0'))).code).toBe(0);
  });

  it('CHECK fails properly after out-of-band changes: the address removed, the interface gone', async () => {
    const ctr = await scope.ns('cc');
    const id = `chk${useDaemon ? 'd' : 'p'}`;
    const add = await call('ADD', ctr, id, base('1.0.0'));
    expect(add.code).toBe(0);
    execFileSync('ip', ['-n', ctr.name!, 'addr', 'flush', 'dev', 'eth0']);
    const r1 = await call('CHECK', ctr, id, { ...base('1.0.0'), prevResult: add.json });
    expect(r1.code).toBe(1);
    expect(r1.json).toMatchObject({ cniVersion: '1.0.0', code: 100 });
    expect(String(r1.json!.msg)).toMatch(/eth0 lacks 10\.10[12]\.0\.\d+\/24/);
    execFileSync('ip', ['-n', ctr.name!, 'link', 'del', 'eth0']);
    const r2 = await call('CHECK', ctr, id, base('1.0.0'));
    expect(r2.json).toMatchObject({ code: 100, msg: expect.stringMatching(/eth0 is gone from the container/) });
    // An attachment never made: the spec's "unknown container".
    const r3 = await call('CHECK', ctr, 'never-added', base('1.0.0'));
    expect(r3.json).toMatchObject({ code: 3 });
    expect((await call('DEL', ctr, id, base('1.0.0'))).code).toBe(0);
  });

  it('DEL works with an empty CNI_NETNS (containerd) and after the namespace is gone; nothing is left', async () => {
    const a = await scope.ns('ce');
    const b = await Netns.create(`cg${useDaemon ? 'd' : 'p'}${process.pid}`);
    const bPath = `/run/netns/${b.name!}`;
    const ra = await call('ADD', a, `empty${useDaemon ? 'd' : 'p'}`, base('1.0.0'));
    const rb = await call('ADD', b, `gone${useDaemon ? 'd' : 'p'}`, base('1.0.0'));
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const hostLinks = (): string[] => ipj<{ ifname: string }[]>(host.name!, 'link', 'show').map((l) => l.ifname);
    const hostEnds = [(ra.json!.interfaces as { name: string }[])[1]!.name, (rb.json!.interfaces as { name: string }[])[1]!.name];
    expect(hostLinks()).toEqual(expect.arrayContaining(hostEnds));
    expect((await call('DEL', null, `empty${useDaemon ? 'd' : 'p'}`, base('1.0.0'))).code).toBe(0);
    b.close();
    await Netns.delete(b.name!);
    expect((await call('DEL', bPath, `gone${useDaemon ? 'd' : 'p'}`, base('1.0.0'))).code).toBe(0);
    expect((await call('DEL', bPath, `gone${useDaemon ? 'd' : 'p'}`, base('1.0.0'))).code).toBe(0);
    // Rows, leases gone; the host ends gone once reaped (at once in-process: close() reaps).
    const st = readState(path.join(dir, 'state'));
    expect(st.endpoints.filter((e) => (e.doc as { key?: string }).key?.includes('empty') || (e.doc as { key?: string }).key?.includes('gone'))).toEqual([]);
    for (let i = 0; i < 50 && hostEnds.some((h) => hostLinks().includes(h)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(hostLinks().filter((l) => hostEnds.includes(l))).toEqual([]);
  });

  it('GC removes every attachment not in cni.dev/valid-attachments; an empty list removes all; GC needs 1.1.0', async () => {
    const ids = ['gca', 'gcb', 'gcc'].map((x) => `${x}${useDaemon ? 'd' : 'p'}`);
    const nss = [await scope.ns('cx'), await scope.ns('cx'), await scope.ns('cx')];
    for (let i = 0; i < 3; i++) expect((await call('ADD', nss[i]!, ids[i]!, base('1.1.0'))).code).toBe(0);
    const keys = (): string[] => readState(path.join(dir, 'state')).endpoints.map((e) => (e.doc as { key?: string }).key ?? '').filter((k) => k.startsWith('cni/gc')).sort();
    expect(keys()).toEqual(ids.map((i) => `cni/${i}/eth0`));
    const valid = [{ containerID: ids[0], ifname: 'eth0' }, { containerID: ids[2], ifname: 'eth0' }];
    const gc = await call('GC', null, '', base('1.1.0', { 'cni.dev/valid-attachments': valid }), { CNI_CONTAINERID: '', CNI_IFNAME: '' });
    expect(gc.code, gc.stdout).toBe(0);
    expect(keys()).toEqual([`cni/${ids[0]}/eth0`, `cni/${ids[2]}/eth0`]);
    expect(ipj<{ ifname: string }[]>(nss[1]!.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(ipj<{ ifname: string }[]>(nss[0]!.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo', 'eth0']);
    const old = await call('GC', null, '', base('1.0.0', { 'cni.dev/valid-attachments': [] }));
    expect(old.json).toMatchObject({ code: 1, msg: 'config version does not allow GC' });
    const none = await call('GC', null, '', base('1.1.0', { 'cni.dev/valid-attachments': [] }));
    expect(none.code).toBe(0);
    expect(keys()).toEqual([]);
    for (const ns of nss) expect(ipj<{ ifname: string }[]>(ns.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  });

  it('STATUS answers at 1.1.0 and is refused below it', async () => {
    expect((await call('STATUS', null, '', base('1.1.0'))).code).toBe(0);
    const old = await call('STATUS', null, '', base('1.0.0'));
    expect(old.json).toMatchObject({ code: 1, msg: 'config version does not allow STATUS' });
  });

  it('takes ips, mac and portMappings from runtimeConfig; the published port answers from outside', async () => {
    const ctr = await scope.ns('cr');
    const id = `rc${useDaemon ? 'd' : 'p'}`;
    const ip = subnet.replace('0/24', '77');
    const conf = base('1.0.0', {
      capabilities: { ips: true, mac: true, portMappings: true },
      runtimeConfig: { ips: [`${ip}/24`], mac: '0a:58:00:00:00:77', portMappings: [{ hostPort: useDaemon ? 9101 : 9102, containerPort: 80, protocol: 'tcp' }] },
    });
    const add = await call('ADD', ctr, id, conf);
    expect(add.code, add.stdout).toBe(0);
    const link = ipj<{ address: string; addr_info: { local: string }[] }[]>(ctr.name!, 'addr', 'show', 'dev', 'eth0')[0]!;
    expect(link.address).toBe('0a:58:00:00:00:77');
    expect(link.addr_info.map((a) => a.local)).toEqual([ip]);
    const server = spawn('ip', ['netns', 'exec', ctr.name!, 'socat', 'TCP-LISTEN:80,fork,reuseaddr', 'SYSTEM:echo cni'], { stdio: 'ignore' });
    try {
      await listening(ctr, 80);
      expect(await connect(outside, HOST_IP, useDaemon ? 9101 : 9102)).toBe('cni');
    } finally {
      server.kill();
    }
    expect((await call('CHECK', ctr, id, { ...conf, prevResult: add.json })).code).toBe(0);
    expect((await call('DEL', ctr, id, conf)).code).toBe(0);
    expect(await connect(outside, HOST_IP, useDaemon ? 9101 : 9102)).toBeNull();
  });

  it('chains after a previous plugin: its interfaces, addresses and DNS kept, ours appended', async () => {
    const ctr = await scope.ns('ch');
    const id = `chain${useDaemon ? 'd' : 'p'}`;
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'other0', mac: '02:00:00:00:00:01', sandbox: `/run/netns/${ctr.name!}` }],
      ips: [{ address: '192.168.250.2/24', interface: 0 }],
      dns: { nameservers: ['192.168.250.1'] },
    };
    const add = await call('ADD', ctr, id, base('1.0.0', { prevResult, dns: { search: ['example.test'] } }));
    expect(add.code, add.stdout).toBe(0);
    const r = add.json as typeof prevResult & { ips: { address: string; interface: number }[]; dns: Record<string, unknown> };
    expect(r.interfaces.map((i) => i.name).slice(0, 1)).toEqual(['other0']);
    expect(r.interfaces[3]).toMatchObject({ name: 'eth0' });
    expect(r.ips[0]).toEqual({ address: '192.168.250.2/24', interface: 0 });
    expect(r.ips[1]!.interface).toBe(3);
    expect(r.dns.nameservers).toContain('192.168.250.1');
    expect(r.dns.search).toEqual(['example.test']);
    // The daemon hosts the DNS resolver (on by default), which answers on the gateway: the
    // result names it. The in-process plugin has no resolver to name.
    if (useDaemon) expect(r.dns.nameservers).toEqual(['192.168.250.1', gw]);
    else expect(r.dns.nameservers).toEqual(['192.168.250.1']);
    expect((await call('DEL', ctr, id, base('1.0.0'))).code).toBe(0);
  });

  it('refuses with the spec\'s codes: malformed JSON, no name, unknown versions, missing or unknown variables', async () => {
    const ctr = await scope.ns('cz');
    const cases: [string, unknown, Record<string, string>, number, RegExp][] = [
      ['ADD', '{"cniVersion": "1.0.0", "name": ', {}, 6, /^error unmarshall network config: /],
      ['ADD', '[1]', {}, 6, /not a JSON object/],
      ['ADD', { cniVersion: '1.0.0', type: 'netplumb' }, {}, 7, /^missing network name$/],
      ['ADD', { cniVersion: '0.3.1', name, type: 'netplumb' }, {}, 1, /^incompatible CNI versions$/],
      ['ADD', { cniVersion: '2.0.0', name, type: 'netplumb' }, {}, 1, /^incompatible CNI versions$/],
      ['ADD', { name, type: 'netplumb' }, {}, 1, /^incompatible CNI versions$/],
      ['CHECK', { cniVersion: '0.3.1', name, type: 'netplumb' }, {}, 1, /^config version does not allow CHECK$/],
      ['ADD', { cniVersion: 'one', name, type: 'netplumb' }, {}, 6, /could not parse cniVersion/],
      ['ADD', base('1.0.0'), { CNI_NETNS: '' }, 4, /^required env variables \[CNI_NETNS\] missing$/],
      ['FROB', base('1.0.0'), {}, 4, /^unknown CNI_COMMAND: FROB$/],
      ['ADD', base('1.0.0'), { CNI_CONTAINERID: 'bad id!' }, 4, /invalid characters in containerID/],
      ['ADD', base('1.0.0'), { CNI_NETNS: '/run/netns/none-such' }, 8, /failed to open netns/],
      ['ADD', base('1.0.0', { runtimeConfig: { ips: ['nonsense'] } }), {}, 7, /runtimeConfig\.ips/],
    ];
    for (const [cmd, conf, env, code, msg] of cases) {
      const r = await call(cmd, ctr, 'errs', conf, env);
      expect({ cmd, conf, code: r.code }).toEqual({ cmd, conf, code: 1 });
      expect({ conf, code: r.json?.code }).toEqual({ conf, code });
      expect(String(r.json?.msg)).toMatch(msg);
    }
    const v = await call('ADD', ctr, 'errs', { cniVersion: '0.3.1', name, type: 'netplumb' });
    expect(v.json?.details).toBe('config is "0.3.1", plugin supports ["0.4.0","1.0.0","1.1.0"]');
    // None of them attached anything.
    expect(ipj<{ ifname: string }[]>(ctr.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  });
});
