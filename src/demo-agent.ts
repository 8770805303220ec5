// A tiny traffic agent the demo runs inside container namespaces (nsenter --net):
//   serve PORT            TCP server answering each connection with the address it saw
//   connect HOST PORT MS  connects, prints what the server said, or "timeout"/"refused"
//   resolve NAME          prints the address NAME resolves to (getaddrinfo, /etc/hosts)
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';

async function main(argv: string[]): Promise<void> {
  const [mode, a, b, c] = argv;
  if (mode === 'serve') {
    const server = net.createServer((s) => {
      s.end(`${(s.remoteAddress ?? '').replace(/^::ffff:/, '')}\n`);
    });
    server.listen(Number(a), () => process.stdout.write('ready\n'));
    // Bounded: the demo kills it, and it never outlives a minute on its own.
    setTimeout(() => process.exit(0), 60_000).unref();
    return;
  }
  if (mode === 'connect') {
    const s = net.connect({ host: a!, port: Number(b) });
    let got = '';
    const timer = setTimeout(() => {
      process.stdout.write('timeout\n');
      process.exit(0);
    }, Number(c ?? 1000));
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      process.stdout.write(`${got.trim()}\n`);
      process.exit(0);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      process.stdout.write(`${e.code === 'ECONNREFUSED' ? 'refused' : e.code ?? 'error'}\n`);
      process.exit(0);
    });
    return;
  }
  if (mode === 'resolve') {
    // /etc/hosts answers at once; a name it lacks would go on to DNS, which has no
    // server in a sandbox: give up after a second.
    const r = await Promise.race([
      lookup(a!, { family: 4 }).catch(() => undefined),
      new Promise<undefined>((res) => setTimeout(() => res(undefined), 1000).unref()),
    ]);
    process.stdout.write(`${r?.address ?? 'unresolved'}\n`);
    process.exit(0);
  }
  process.stderr.write('usage: demo-agent serve PORT | connect HOST PORT MS | resolve NAME\n');
  process.exit(2);
}

void main(process.argv.slice(2));
