// The daemon's request bodies, one JSON Schema per route. JSON Schema rather than
// checks in code: the same documents are served at GET /v1/schemas, so a client in any
// language can validate (or generate types) from what the daemon itself enforces. Ajv
// compiles each schema once into a function (validation costs microseconds per request)
// and its error objects say which field broke which rule; it is the most used JSON
// Schema validator for Node and maintained. The checks here are the shape (types,
// ranges, lengths, no unknown fields); what needs the state or the kernel (a subnet that
// overlaps another, an address outside the subnet) is the controller's, and comes back
// as a 4xx too (docs/daemon.md).
import Ajv, { type ValidateFunction } from 'ajv';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' } as const;
const IFNAME = { type: 'string', minLength: 1, maxLength: 15, pattern: '^[^/\\s:]+$' } as const;
const CIDR = { type: 'string', minLength: 3, maxLength: 64 } as const;
const ADDR = { type: 'string', minLength: 2, maxLength: 64 } as const;
const PORT = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const LABELS = { type: 'object', maxProperties: 256, additionalProperties: { type: 'string', maxLength: 4096 }, propertyNames: { maxLength: 256 } } as const;
const PATH = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const KEY = { type: 'string', minLength: 1, maxLength: 512 } as const;

const PORT_MAPPING = {
  type: 'object',
  additionalProperties: false,
  required: ['hostPort', 'containerPort'],
  properties: {
    hostIp: ADDR,
    hostPort: { oneOf: [PORT, { type: 'array', items: PORT, minItems: 2, maxItems: 2 }] },
    containerPort: PORT,
    protocol: { enum: ['tcp', 'udp', 'sctp'] },
  },
} as const;

/** POST /v1/networks: NetworkOptions of any driver (the driver checks its own fields' meaning). */
export const createNetwork = {
  $id: 'createNetwork',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: NAME,
    driver: { enum: ['bridge', 'overlay', 'macvlan'] },
    bridge: IFNAME,
    subnet: CIDR,
    gateway: ADDR,
    ipRange: CIDR,
    ipv4: { type: 'boolean' },
    ipv6: { type: 'boolean' },
    ipv6Subnet: CIDR,
    ipv6Gateway: ADDR,
    ipv6Range: CIDR,
    ipv6Masquerade: { type: 'boolean' },
    mtu: { type: 'integer', minimum: 68, maximum: 65535 },
    masquerade: { type: 'boolean' },
    icc: { type: 'boolean' },
    internal: { type: 'boolean' },
    labels: LABELS,
    // overlay
    vni: { type: 'integer', minimum: 1, maximum: 16777215 },
    local: ADDR,
    device: IFNAME,
    dstport: PORT,
    vxlan: IFNAME,
    // macvlan
    parent: IFNAME,
    mode: { enum: ['bridge', 'private', 'vepa', 'passthru'] },
  },
} as const;

/**
 * POST /v1/networks/{name}/endpoints: AttachOptions, and the container: `netns` (a path,
 * or a name under the daemon's netns directory) or `create` (a name: the daemon makes
 * the namespace, from its warm pool when it keeps one).
 */
export const attach = {
  $id: 'attach',
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['netns'] }, { required: ['create'] }],
  properties: {
    netns: PATH,
    create: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^/]+$' },
    key: KEY,
    ifname: IFNAME,
    name: { type: 'string', minLength: 1, maxLength: 253 },
    aliases: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 253 } },
    ip: ADDR,
    ip6: ADDR,
    mac: { type: 'string', pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$' },
    publish: { type: 'array', maxItems: 1024, items: PORT_MAPPING },
    defaultRoute: { type: 'boolean' },
    hostsFile: PATH,
    hostsFileScope: { enum: ['own', 'members'] },
    resolvConf: PATH,
    gatewayNetwork: NAME,
    gatewayIfname: IFNAME,
  },
} as const;

/** POST /v1/networks/{name}/detach: which endpoint, by exactly one of id, key or namespace. */
export const detach = {
  $id: 'detach',
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['endpoint'] }, { required: ['key'] }, { required: ['netns'] }],
  properties: {
    endpoint: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    key: KEY,
    netns: PATH,
  },
} as const;

/** POST /v1/cni: one CNI call forwarded by the plugin (its environment and its stdin). */
export const cni = {
  $id: 'cni',
  type: 'object',
  additionalProperties: false,
  required: ['env', 'stdin'],
  properties: {
    env: {
      type: 'object',
      additionalProperties: false,
      properties: {
        CNI_COMMAND: { type: 'string', maxLength: 32 },
        CNI_CONTAINERID: { type: 'string', maxLength: 1024 },
        CNI_NETNS: { type: 'string', maxLength: 4096 },
        CNI_IFNAME: { type: 'string', maxLength: 64 },
        CNI_ARGS: { type: 'string', maxLength: 65536 },
        CNI_PATH: { type: 'string', maxLength: 65536 },
      },
    },
    // The config as the runtime wrote it: parsed (and judged) by the plugin's code, so
    // that a malformed config gets the spec's decoding error, not an HTTP one.
    stdin: { type: 'string', maxLength: 1 << 20 },
  },
} as const;

/** The request schemas' names. */
export type SchemaName = 'createNetwork' | 'attach' | 'detach' | 'cni';

/** Every request schema (JSON Schema, draft-07), by name, as GET /v1/schemas serves them. */
export const schemas: Readonly<Record<SchemaName, object>> = { createNetwork, attach, detach, cni };

let compiled: Record<SchemaName, ValidateFunction> | undefined;

/** The compiled validators (compiled once, on first use). */
export function validators(): Record<SchemaName, ValidateFunction> {
  if (compiled) return compiled;
  // Strict (unknown keywords and formats are errors in the schemas themselves), except
  // for `required` inside oneOf, which names properties declared beside it.
  const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
  const out = {} as Record<SchemaName, ValidateFunction>;
  for (const [name, schema] of Object.entries(schemas) as [SchemaName, object][]) out[name] = ajv.compile(schema);
  compiled = out;
  return out;
}

/** The first problem Ajv found, as one sentence naming the field ("body.publish/0/hostPort must be <= 65535"). */
export function describe(v: ValidateFunction): string {
  // A root oneOf (which of netns/create, of endpoint/key/netns) says more than the
  // failure inside its first branch, which Ajv lists first.
  const e = v.errors?.find((x) => x.keyword === 'oneOf' && x.instancePath === '') ?? v.errors?.[0];
  if (!e) return 'invalid request body';
  const where = `body${e.instancePath.replace(/\//g, '.').replace(/\.(\d+)/g, '[$1]')}`;
  if (e.keyword === 'additionalProperties') return `${where} has an unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'oneOf' && e.instancePath === '') return `${where} must have exactly one of ${JSON.stringify(oneOfFields(v.schema as { oneOf?: { required: string[] }[] }))}`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

function oneOfFields(schema: { oneOf?: { required: string[] }[] }): string[] {
  return (schema.oneOf ?? []).flatMap((o) => o.required);
}
