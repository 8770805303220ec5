// The CNI plugin's work (spec 1.1: ADD, DEL, CHECK, GC, STATUS, VERSION), shared by the
// two ways a call arrives: forwarded by the plugin executable to the daemon (POST
// /v1/cni, run on the daemon's controller) and run in the plugin's own process when no
// daemon answers (src/cni/main.ts opens the same state directory). A call is the
// runtime's environment and stdin in, an exit status and stdout out, as
// containernetworking/cni's pkg/skel dispatches it: the same checks in the same order,
// so a runtime sees the same errors from either path.
//
// An attachment is an endpoint of the conflist's network whose key is
// `cni/<CNI_CONTAINERID>/<CNI_IFNAME>` (AttachOptions.key): DEL and GC find it without
// the namespace, which a runtime may no longer have (containerd passes an empty
// CNI_NETNS to DEL), and endpoints made through the API (no such key) are never touched
// by GC.
import { Netns } from '../netns';
import { parseCidr, parseIp } from '../network/ipam';
import type { Networks } from '../network/networks';
import { servesDns } from '../network/dns/resolvconf';
import type { BridgeNetworkOptions, EndpointInfo, NetworkInfo, PortMapping, PortProtocol } from '../network/types';
import type { NetlinkError } from '../errors';

/** The CNI versions this plugin speaks, oldest first (0.4.0 is the first with CHECK and prevResult on DEL). */
export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
const LATEST = '1.1.0';

/** The CNI spec's error codes (SPEC.md "Error", pkg/types), and netplumb's own from 100. */
export const CNI_ERR = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decoding: 6,
  invalidConfig: 7,
  invalidNetns: 8,
  tryAgainLater: 11,
  notAvailable: 50,
  limitedConnectivity: 51,
  /** Plugin-specific (100+): CHECK found the kernel differing from the attachment. */
  checkFailed: 100,
  internal: 999,
} as const;

/** A call: the CNI_* environment and the config on stdin. */
export interface CniCall {
  env: Partial<Record<'CNI_COMMAND' | 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_ARGS' | 'CNI_PATH', string>>;
  stdin: string;
}

/** What the plugin process prints and exits with. */
export interface CniOutcome {
  exitCode: number;
  stdout: string;
}

/** Where the work is done: a controller for the config's state directory. */
export interface CniBackend {
  /** The controller for this state directory (the config's `stateDir`, absent: the backend's own). */
  acquire(stateDir: string | undefined, owner: string | undefined): Promise<{ networks: Networks; release(): Promise<void> }>;
  /** Whether a DNS resolver answers on the networks' gateways (the daemon's). */
  dns: boolean;
}

/** A CNI error: printed as the spec's error JSON. */
export class CniError extends Error {
  constructor(readonly code: number, msg: string, readonly details?: string) {
    super(msg);
  }
}

interface NetConf {
  cniVersion: string;
  name: string;
  type?: string;
  bridge?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  ipv6Subnet?: string;
  ipv6Gateway?: string;
  ipMasq?: boolean;
  icc?: boolean;
  mtu?: number;
  stateDir?: string;
  owner?: string;
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  runtimeConfig?: { portMappings?: unknown; ips?: unknown; mac?: unknown };
  prevResult?: Record<string, unknown>;
  'cni.dev/valid-attachments'?: unknown;
  'cni.dev/attachments'?: unknown;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAME_BAD = /[/:\s]/;

function versionNum(v: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function atLeast(v: string, min: string): boolean {
  const a = versionNum(v)!;
  const b = versionNum(min)!;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

function errorJson(version: string, e: CniError): string {
  return JSON.stringify({ cniVersion: version, code: e.code, msg: e.message, ...(e.details !== undefined && e.details !== '' && { details: e.details }) });
}

/** Runs one CNI call. Never throws: failures are CNI error JSON with exit status 1. */
export async function runCni(call: CniCall, backend: CniBackend): Promise<CniOutcome> {
  let version = LATEST;
  try {
    const out = await dispatch(call, backend, (v) => (version = v));
    return { exitCode: 0, stdout: out };
  } catch (e) {
    // Errors of the controller keep their errno name in details (EEXIST: an address or a
    // port taken; EBUSY) so that a runtime's log says more than the message.
    const err = e instanceof CniError ? e : new CniError(CNI_ERR.internal, (e as Error).message, (e as NetlinkError).code);
    return { exitCode: 1, stdout: errorJson(version, err) };
  }
}

async function dispatch(call: CniCall, backend: CniBackend, setVersion: (v: string) => void): Promise<string> {
  const env = call.env;
  const cmd = env.CNI_COMMAND ?? '';
  // The variables each command needs, as pkg/skel requires them.
  const need: Record<string, string[]> = {
    ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
    CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
    DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  };
  const missing = [...(cmd === '' ? ['CNI_COMMAND'] : []), ...(need[cmd] ?? []).filter((k) => !env[k as keyof CniCall['env']])];
  if (missing.length > 0) throw new CniError(CNI_ERR.invalidEnv, `required env variables [${missing.join(',')}] missing`);
  if (cmd === 'VERSION') return JSON.stringify({ cniVersion: LATEST, supportedVersions: SUPPORTED_VERSIONS });
  if (!['ADD', 'DEL', 'CHECK', 'GC', 'STATUS'].includes(cmd)) throw new CniError(CNI_ERR.invalidEnv, `unknown CNI_COMMAND: ${cmd}`);

  const conf = decode(call.stdin);
  if (typeof conf.cniVersion === 'string' && versionNum(conf.cniVersion)) setVersion(conf.cniVersion);
  if (cmd === 'ADD' || cmd === 'DEL' || cmd === 'CHECK') {
    const id = env.CNI_CONTAINERID!;
    if (!NAME_RE.test(id)) throw new CniError(CNI_ERR.invalidEnv, 'invalid characters in containerID', id);
    const ifname = env.CNI_IFNAME!;
    if (ifname.length > 15 || IFNAME_BAD.test(ifname) || ifname === '.' || ifname === '..') throw new CniError(CNI_ERR.invalidEnv, `interface name ${JSON.stringify(ifname)} is invalid`);
  }
  checkVersion(conf.cniVersion, cmd);
  if (conf.type !== undefined && typeof conf.type !== 'string') throw new CniError(CNI_ERR.invalidConfig, 'type must be a string');

  const { networks, release } = await backend.acquire(conf.stateDir, conf.owner).catch((e: Error) => {
    throw new CniError(cmd === 'STATUS' ? CNI_ERR.notAvailable : CNI_ERR.tryAgainLater, `netplumb state cannot be opened: ${e.message}`);
  });
  try {
    switch (cmd) {
      case 'ADD':
        return JSON.stringify(await add(networks, conf, env, backend.dns));
      case 'DEL':
        await del(networks, conf, env);
        return '';
      case 'CHECK':
        await check(networks, conf, env);
        return '';
      case 'GC':
        await gc(networks, conf);
        return '';
      default:
        status(networks, conf);
        return '';
    }
  } finally {
    await release();
  }
}

function decode(stdin: string): NetConf {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CNI_ERR.decoding, `error unmarshall network config: ${(e as Error).message}`);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new CniError(CNI_ERR.decoding, 'error unmarshall network config: not a JSON object');
  const c = conf as NetConf;
  if (typeof c.name !== 'string' || c.name === '') throw new CniError(CNI_ERR.invalidConfig, 'missing network name');
  if (!NAME_RE.test(c.name) || c.name.length > 64) throw new CniError(CNI_ERR.invalidConfig, `invalid characters found in network name ${JSON.stringify(c.name)}`);
  return c;
}

function checkVersion(v: unknown, cmd: string): void {
  // A config without cniVersion is 0.1.0 to libcni's decoder.
  const ver = typeof v === 'string' ? v : '0.1.0';
  if (!versionNum(ver)) throw new CniError(CNI_ERR.decoding, `could not parse cniVersion ${JSON.stringify(ver)}`);
  if ((cmd === 'GC' || cmd === 'STATUS') && !atLeast(ver, '1.1.0')) throw new CniError(CNI_ERR.incompatibleVersion, `config version does not allow ${cmd}`);
  if (cmd === 'CHECK' && !atLeast(ver, '0.4.0')) throw new CniError(CNI_ERR.incompatibleVersion, 'config version does not allow CHECK');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(ver)) {
    throw new CniError(CNI_ERR.incompatibleVersion, 'incompatible CNI versions', `config is ${JSON.stringify(ver)}, plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`);
  }
}

/** The key of an attachment (AttachOptions.key). */
export function attachmentKey(containerId: string, ifname: string): string {
  return `cni/${containerId}/${ifname}`;
}

// CNI_ARGS: "K=V;K2=V2" (IgnoreUnknown=1 and the keys we do not use are ignored).
function cniArgs(s: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (s ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i), part.slice(i + 1));
  }
  return out;
}

function configError(msg: string): CniError {
  return new CniError(CNI_ERR.invalidConfig, msg);
}

// The conflist's network: made on first ADD from the config's options, then checked
// against them (a conflist changed under live containers is refused, not half-applied).
async function network(networks: Networks, conf: NetConf): Promise<NetworkInfo> {
  const found = networks.list().find((n) => n.name === conf.name);
  const want = networkOptions(conf);
  if (found) return compatible(found, conf);
  try {
    // The first ADD of a network: the full reconcile first (the table and its base may
    // not exist yet after a light open), then the network.
    await networks.reconcile();
    return (await networks.create(want)).info;
  } catch (e) {
    if ((e as NetlinkError).code !== 'EEXIST') throw configError(`network ${conf.name} cannot be made: ${(e as Error).message}`);
    // Made by a concurrent ADD meanwhile.
    const again = networks.list().find((n) => n.name === conf.name);
    if (!again) throw configError(`network ${conf.name} cannot be made: ${(e as Error).message}`);
    return compatible(again, conf);
  }
}

function networkOptions(conf: NetConf): BridgeNetworkOptions {
  const o: BridgeNetworkOptions = { name: conf.name, labels: { 'netplumb.cni': 'true' } };
  const str = (k: 'bridge' | 'subnet' | 'gateway' | 'ipRange' | 'ipv6Subnet' | 'ipv6Gateway'): void => {
    const v = conf[k];
    if (v === undefined) return;
    if (typeof v !== 'string') throw configError(`${k} must be a string`);
    o[k] = v;
  };
  for (const k of ['bridge', 'subnet', 'gateway', 'ipRange', 'ipv6Subnet', 'ipv6Gateway'] as const) str(k);
  if (conf.ipMasq !== undefined) {
    if (typeof conf.ipMasq !== 'boolean') throw configError('ipMasq must be a boolean');
    o.masquerade = conf.ipMasq;
  }
  if (conf.icc !== undefined) {
    if (typeof conf.icc !== 'boolean') throw configError('icc must be a boolean');
    o.icc = conf.icc;
  }
  if (conf.mtu !== undefined) {
    if (!Number.isInteger(conf.mtu)) throw configError('mtu must be an integer');
    o.mtu = conf.mtu;
  }
  return o;
}

function compatible(net: NetworkInfo, conf: NetConf): NetworkInfo {
  if (net.driver !== 'bridge') throw configError(`network ${net.name} exists and is a ${net.driver} network`);
  const differ = (k: string, have: unknown, want: unknown): void => {
    if (want !== undefined && have !== want) throw configError(`network ${net.name} exists with ${k} ${String(have)}, the config says ${String(want)}`);
  };
  differ('bridge', net.bridge, conf.bridge);
  let subnet: string | undefined;
  try {
    subnet = conf.subnet === undefined ? undefined : parseCidr(conf.subnet).cidr;
  } catch (e) {
    throw configError(`subnet: ${(e as Error).message}`);
  }
  differ('subnet', net.subnet, subnet);
  differ('ipv6Subnet', net.ipv6Subnet, conf.ipv6Subnet);
  return net;
}

interface Requested {
  ip?: string;
  ip6?: string;
  mac?: string;
  publish: PortMapping[];
}

// runtimeConfig (the ips, mac and portMappings capabilities) and the legacy CNI_ARGS IP/MAC.
function requested(conf: NetConf, args: Map<string, string>): Requested {
  const rc = conf.runtimeConfig ?? {};
  if (typeof rc !== 'object' || rc === null) throw configError('runtimeConfig must be an object');
  const out: Requested = { publish: [] };
  const ips: unknown[] = [];
  if (rc.ips !== undefined) {
    if (!Array.isArray(rc.ips)) throw configError('runtimeConfig.ips must be an array');
    ips.push(...rc.ips);
  }
  if (args.has('IP')) ips.push(...args.get('IP')!.split(','));
  for (const raw of ips) {
    if (typeof raw !== 'string') throw configError('runtimeConfig.ips: each must be an address');
    const addr = raw.split('/')[0]!;
    let fam: 4 | 6;
    try {
      fam = parseIp(addr, 'ips').family;
    } catch (e) {
      throw configError(`runtimeConfig.ips: ${(e as Error).message}`);
    }
    if (fam === 4) {
      if (out.ip !== undefined) throw new CniError(CNI_ERR.unsupportedField, 'runtimeConfig.ips: one IPv4 address per attachment');
      out.ip = addr;
    } else {
      if (out.ip6 !== undefined) throw new CniError(CNI_ERR.unsupportedField, 'runtimeConfig.ips: one IPv6 address per attachment');
      out.ip6 = addr;
    }
  }
  const mac = rc.mac ?? args.get('MAC');
  if (mac !== undefined) {
    if (typeof mac !== 'string') throw configError('runtimeConfig.mac must be a string');
    out.mac = mac;
  }
  if (rc.portMappings !== undefined) {
    if (!Array.isArray(rc.portMappings)) throw configError('runtimeConfig.portMappings must be an array');
    for (const p of rc.portMappings as Record<string, unknown>[]) {
      if (typeof p !== 'object' || p === null) throw configError('runtimeConfig.portMappings: each must be an object');
      const proto = (typeof p.protocol === 'string' ? p.protocol.toLowerCase() : 'tcp') as PortProtocol;
      const m: PortMapping = { hostPort: p.hostPort as number, containerPort: p.containerPort as number, protocol: proto };
      if (typeof p.hostIP === 'string' && p.hostIP !== '') m.hostIp = p.hostIP;
      out.publish.push(m);
    }
  }
  return out;
}

async function openNetns(p: string): Promise<Netns> {
  try {
    return await Netns.open(p);
  } catch (e) {
    throw new CniError(CNI_ERR.invalidNetns, `failed to open netns ${JSON.stringify(p)}: ${(e as Error).message}`);
  }
}

async function add(networks: Networks, conf: NetConf, env: CniCall['env'], dns: boolean): Promise<Record<string, unknown>> {
  const args = cniArgs(env.CNI_ARGS);
  const req = requested(conf, args);
  const net = await network(networks, conf);
  const key = attachmentKey(env.CNI_CONTAINERID!, env.CNI_IFNAME!);
  const handle = networks.get(net.id);
  const ns = await openNetns(env.CNI_NETNS!);
  let ep: EndpointInfo;
  try {
    const have = handle.endpointByKey(key);
    if (have) {
      // A repeated ADD of the same attachment (a runtime retrying) gets the same answer.
      if (have.netnsId !== ns.id) throw new CniError(CNI_ERR.invalidConfig, `container ${env.CNI_CONTAINERID} has ${env.CNI_IFNAME} on ${net.name} in another namespace already`);
      ep = have;
    } else {
      const podName = args.get('K8S_POD_NAME');
      const opts = {
        key,
        ifname: env.CNI_IFNAME!,
        ...(req.ip !== undefined && { ip: req.ip }),
        ...(req.ip6 !== undefined && { ip6: req.ip6 }),
        ...(req.mac !== undefined && { mac: req.mac }),
        ...(podName !== undefined && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(podName) && { name: podName }),
        publish: req.publish,
      };
      try {
        try {
          ep = await handle.attach(ns, opts);
        } catch (e) {
          // The bridge, the table or a map missing (a reboot, a flush, and a light open
          // that did not look): the full reconcile re-makes them, then once more.
          const code = (e as NetlinkError).code;
          if (code !== 'ENODEV' && code !== 'ENOENT') throw e;
          await networks.reconcile();
          ep = await handle.attach(ns, opts);
        }
      } catch (e) {
        if (e instanceof CniError) throw e;
        if (e instanceof TypeError || e instanceof RangeError) throw configError((e as Error).message);
        throw e;
      }
    }
  } finally {
    ns.close();
  }
  return result(conf, net, ep, env.CNI_NETNS!, dns);
}

// The result in the config's version (types/040 has `version` on each IP; 1.0.0 and
// 1.1.0 do not), after prevResult's interfaces, addresses, routes and DNS (chaining).
function result(conf: NetConf, net: NetworkInfo, ep: EndpointInfo, sandbox: string, dns: boolean): Record<string, unknown> {
  const v040 = conf.cniVersion === '0.4.0';
  const prev = (conf.prevResult ?? {}) as { interfaces?: unknown[]; ips?: Record<string, unknown>[]; routes?: unknown[]; dns?: Record<string, unknown> };
  const interfaces: Record<string, unknown>[] = [...((prev.interfaces ?? []) as Record<string, unknown>[])];
  const base = interfaces.length;
  interfaces.push({ name: net.bridge }, { name: ep.hostIfname }, { name: ep.ifname, mac: ep.mac, sandbox });
  const me = base + 2;
  const fixIp = (ip: Record<string, unknown>): Record<string, unknown> => {
    const { version: _v, ...rest } = ip;
    if (!v040) return rest;
    return { version: String(ip.address).includes(':') ? '6' : '4', ...rest };
  };
  const ips = (prev.ips ?? []).map(fixIp);
  const routes = [...((prev.routes ?? []) as unknown[])];
  if (ep.ip !== '') {
    ips.push(fixIp({ address: `${ep.ip}/${parseCidr(net.subnet).prefixlen}`, gateway: net.gateway, interface: me }));
    if (ep.defaultRoute) routes.push({ dst: '0.0.0.0/0', gw: net.gateway });
  }
  if (ep.ip6 !== undefined && net.ipv6Subnet !== undefined) {
    ips.push(fixIp({ address: `${ep.ip6}/${parseCidr(net.ipv6Subnet).prefixlen}`, ...(net.ipv6Gateway !== undefined && { gateway: net.ipv6Gateway }), interface: me }));
    if (ep.defaultRoute && net.ipv6Gateway !== undefined) routes.push({ dst: '::/0', gw: net.ipv6Gateway });
  }
  const d: Record<string, unknown> = { ...(prev.dns ?? {}) };
  const ns = new Set<string>(Array.isArray(d.nameservers) ? (d.nameservers as string[]) : []);
  // The daemon's resolver answers on the gateway of a user-defined bridge network.
  if (dns && servesDns(net)) ns.add(net.gateway);
  for (const s of conf.dns?.nameservers ?? []) ns.add(s);
  if (ns.size > 0) d.nameservers = [...ns];
  if (conf.dns?.domain !== undefined) d.domain = conf.dns.domain;
  if (conf.dns?.search !== undefined) d.search = conf.dns.search;
  if (conf.dns?.options !== undefined) d.options = conf.dns.options;
  return { cniVersion: conf.cniVersion, interfaces, ips, ...(routes.length > 0 && { routes }), ...(Object.keys(d).length > 0 && { dns: d }) };
}

async function del(networks: Networks, conf: NetConf, env: CniCall['env']): Promise<void> {
  // Idempotent: no network or no attachment is success, and the namespace is never
  // needed (it may be empty or gone): the endpoint is found by its key.
  if (!networks.list().some((n) => n.name === conf.name)) return;
  await networks.get(conf.name).detach({ key: attachmentKey(env.CNI_CONTAINERID!, env.CNI_IFNAME!) });
}

async function check(networks: Networks, conf: NetConf, env: CniCall['env']): Promise<void> {
  const net = networks.list().find((n) => n.name === conf.name);
  if (!net) throw new CniError(CNI_ERR.unknownContainer, `network ${conf.name} does not exist`);
  compatible(net, conf);
  const ep = networks.get(net.id).endpointByKey(attachmentKey(env.CNI_CONTAINERID!, env.CNI_IFNAME!));
  if (!ep) throw new CniError(CNI_ERR.unknownContainer, `container ${env.CNI_CONTAINERID} has no attachment ${env.CNI_IFNAME} on network ${conf.name}`);
  const fail = (what: string): never => {
    throw new CniError(CNI_ERR.checkFailed, `attachment ${env.CNI_IFNAME} of container ${env.CNI_CONTAINERID}: ${what}`);
  };
  const ns = await openNetns(env.CNI_NETNS!);
  try {
    if (ns.id !== ep.netnsId) fail(`CNI_NETNS is not the namespace it was attached in`);
    const link = await ns.links.get(ep.ifname).catch(() => undefined);
    if (!link) fail(`${ep.ifname} is gone from the container`);
    if (link!.mac?.toLowerCase() !== ep.mac.toLowerCase()) fail(`${ep.ifname} has MAC ${link!.mac}, not ${ep.mac}`);
    if (!link!.up) fail(`${ep.ifname} is down`);
    const addrs = new Set((await ns.addresses.list({ dev: link!.index })).map((a) => a.cidr));
    if (ep.ip !== '') {
      const want = `${ep.ip}/${parseCidr(net.subnet).prefixlen}`;
      if (!addrs.has(want)) fail(`${ep.ifname} lacks ${want}`);
    }
    if (ep.ip6 !== undefined && net.ipv6Subnet !== undefined) {
      const want = `${ep.ip6}/${parseCidr(net.ipv6Subnet).prefixlen}`;
      if (!addrs.has(want)) fail(`${ep.ifname} lacks ${want}`);
    }
    if (ep.defaultRoute && ep.ip !== '') {
      const def = (await ns.routes.list({ family: 4 })).find((r) => r.dst === 'default');
      if (def?.gateway !== net.gateway) fail(`the default route is not via ${net.gateway}`);
    }
  } finally {
    ns.close();
  }
  const host = await networks.host.links.get(ep.hostIfname).catch(() => undefined);
  if (!host) fail(`host end ${ep.hostIfname} is gone`);
  const br = await networks.host.links.get(net.bridge).catch(() => undefined);
  if (!br) fail(`bridge ${net.bridge} is gone`);
  if (host!.master !== br!.index) fail(`host end ${ep.hostIfname} is not a port of ${net.bridge}`);
  if (ep.publish.length > 0) {
    const published = (await networks.firewall.publishedByAddress()).get(ep.ip) ?? [];
    for (const p of ep.publish) {
      const first = Array.isArray(p.hostPort) ? p.hostPort[0] : p.hostPort;
      if (!published.some((q) => q.hostPort === first && q.containerPort === p.containerPort && q.protocol === (p.protocol ?? 'tcp'))) {
        fail(`published port ${first}/${p.protocol ?? 'tcp'} is gone`);
      }
    }
  }
}

async function gc(networks: Networks, conf: NetConf): Promise<void> {
  const valid = conf['cni.dev/valid-attachments'];
  if (!Array.isArray(valid)) throw configError('GC needs cni.dev/valid-attachments (an array, empty when nothing is valid)');
  const keep = new Set<string>();
  for (const a of valid as Record<string, unknown>[]) {
    if (typeof a !== 'object' || a === null || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') {
      throw configError('cni.dev/valid-attachments: each entry needs containerID and ifname');
    }
    keep.add(attachmentKey(a.containerID, a.ifname));
  }
  const net = networks.list().find((n) => n.name === conf.name);
  if (net) {
    const handle = networks.get(net.id);
    for (const ep of handle.endpoints()) {
      if (ep.key?.startsWith('cni/') && !keep.has(ep.key)) await handle.detach(ep.id);
    }
  }
  // And what nothing claims at all: dead processes' half-done records, tagged links.
  await networks.gc();
}

function status(networks: Networks, conf: NetConf): void {
  const net = networks.list().find((n) => n.name === conf.name);
  if (!net) return; // made on the first ADD
  // Whether an ADD could get an address: the pool's size against what is held.
  const eps = networks.get(net.id).endpoints().length;
  const { prefixlen } = parseCidr(net.subnet || '0.0.0.0/0');
  if (net.subnet !== '' && prefixlen >= 2 && eps >= 2 ** (32 - prefixlen) - 3) {
    throw new CniError(CNI_ERR.notAvailable, `network ${net.name} has no free address`);
  }
}
