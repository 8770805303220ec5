// The sending side of scripts/fuzz-dns.mjs, run inside a container namespace (a member
// of the network, so that its packets get past the member check): random and mutated
// DNS packets to the resolver, over UDP (most) and TCP, until it is stopped.
//   node fuzz-dns-client.mjs GATEWAY PORT SEED
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const packet = require('dns-packet');
const [gw, portArg, seedArg] = process.argv.slice(2);
const port = Number(portArg);

// xorshift32: reproducible from the seed.
let s = Number(seedArg) >>> 0 || 1;
const rnd = () => {
  s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
  return s;
};
const pick = (a) => a[rnd() % a.length];
const bytes = (n) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff;
  return b;
};

const TYPES = ['A', 'AAAA', 'PTR', 'ANY', 'AXFR', 'IXFR', 'MX', 'TXT', 'SRV', 'CNAME', 'NS', 'SOA', 'OPT', 'CAA'];
const NAMES = ['web', 'WEB.fuzz', 'db', 'nosuch', 'x.fuzz', '2.0.83.10.in-addr.arpa', '1.0.0.127.in-addr.arpa',
  'example.test', 'a'.repeat(63) + '.' + 'b'.repeat(63), '0.8.8.8.in-addr.arpa', 'fuzz'];
const seeds = [];
for (let i = 0; i < 64; i++) {
  const q = {
    id: rnd() & 0xffff, type: 'query', flags: pick([0, packet.RECURSION_DESIRED, 0x7800, 0x2800, 0x8000 | 256]),
    questions: [{ type: pick(TYPES), name: pick(NAMES), class: pick(['IN', 'IN', 'IN', 'CH', 'ANY']) }],
  };
  if (rnd() % 2) q.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: pick([0, 512, 1232, 4096, 65535]) }];
  try {
    seeds.push(packet.encode(q));
  } catch {
    // an unencodable combination: skip
  }
}

// One packet: random bytes, or a seed query mutated by one of the ways a decoder breaks.
function make() {
  const k = rnd() % 12;
  if (k === 0) return bytes(rnd() % 40);
  if (k === 1) return bytes(rnd() % 1500);
  const b = Buffer.from(pick(seeds));
  switch (k) {
    case 2: { // bit flips
      for (let i = 0, n = 1 + (rnd() % 8); i < n; i++) b[rnd() % b.length] ^= 1 << (rnd() % 8);
      return b;
    }
    case 3: return b.subarray(0, rnd() % b.length); // truncated
    case 4: { // counts made huge
      b.writeUInt16BE(rnd() & 0xffff, 4 + 2 * (rnd() % 4));
      return b;
    }
    case 5: { // a compression pointer to itself, forward, or out of bounds
      const at = 12 + (rnd() % Math.max(1, b.length - 13));
      const to = pick([at, at + 2, 0x3fff, 12, rnd() & 0x3fff]);
      b[at] = 0xc0 | ((to >> 8) & 0x3f);
      if (at + 1 < b.length) b[at + 1] = to & 0xff;
      return b;
    }
    case 6: { // a pointer loop: two pointers pointing at each other
      const h = Buffer.from(b.subarray(0, 12));
      h.writeUInt16BE(1, 4);
      return Buffer.concat([h, Buffer.from([0xc0, 14, 0xc0, 12, 0, 1, 0, 1])]);
    }
    case 7: { // a huge name: many labels, past 255 bytes
      const labels = [];
      for (let i = 0, n = 5 + (rnd() % 200); i < n; i++) labels.push('x'.repeat(1 + (rnd() % 63)));
      const h = Buffer.from(b.subarray(0, 12));
      h.writeUInt16BE(1, 4);
      const parts = labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
      return Buffer.concat([h, ...parts, Buffer.from([0, 0, 1, 0, 1])]);
    }
    case 8: return Buffer.concat([b, bytes(rnd() % 3000)]); // trailing garbage, oversized
    case 9: { // inserted or deleted bytes
      const at = rnd() % b.length;
      return rnd() % 2 ? Buffer.concat([b.subarray(0, at), bytes(1 + (rnd() % 8)), b.subarray(at)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + (rnd() % 4))]);
    }
    case 10: { // a label length byte set to 64..255 (reserved label types)
      b[12 + (rnd() % Math.max(1, b.length - 12))] = 0x40 + (rnd() % 0xc0);
      return b;
    }
    default: return b; // the valid seed itself
  }
}

const udp = dgram.createSocket(gw.includes(':') ? 'udp6' : 'udp4');
udp.on('message', () => undefined);
udp.on('error', () => undefined);
udp.connect(port, gw);
await new Promise((r) => udp.once('connect', r));

let sent = 0;
let stopped = false;
process.on('SIGTERM', () => {
  stopped = true;
});

// TCP: a connection every so often with framed mutated messages, partial frames and
// length prefixes that promise more than ever comes.
async function tcpRound() {
  await new Promise((resolve) => {
    const c = net.connect({ host: gw, port }, () => {
      const out = [];
      for (let i = 0, n = 1 + (rnd() % 40); i < n; i++) {
        const m = make().subarray(0, 65535);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(rnd() % 16 === 0 ? rnd() & 0xffff : m.length);
        out.push(len, m);
      }
      c.end(Buffer.concat(out));
      sent += out.length / 2;
    });
    c.on('data', () => undefined);
    c.on('error', resolve);
    c.on('close', resolve);
    c.setTimeout(500, () => c.destroy());
  });
}

while (!stopped) {
  for (let i = 0; i < 200; i++) {
    const p = make();
    if (p.length > 0 && p.length <= 65507) {
      udp.send(p);
      sent++;
    }
  }
  if (rnd() % 50 === 0) await tcpRound();
  // Let the socket drain: the server should see most of what is sent.
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(`sent ${sent}\n`);
udp.close();
