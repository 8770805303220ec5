// The package as a consumer gets it: package.json, compiled dist/, prebuilds/ and its
// runtime dependencies, and no build/ folder and no install script run. With
// node-gyp-build's PREBUILDS_ONLY=1 it must load from CommonJS and ESM and work.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ipj } from './helpers';

const root = path.join(__dirname, '..');
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const t = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(t);
  return t;
}

/** Runs node; async, so that a slow tsc on a loaded machine does not block the worker. */
async function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    return (await promisify(execFile)(process.execPath, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed (${String(err.code)}):\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** Latest modification time of a file or of any file under a directory. */
function newest(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((e) => newest(path.join(p, e))));
}

/**
 * prebuilds/linux-x64 as `npm run prebuilds` makes it: the repository's own if it is newer
 * than every native source, else prebuildify run in a scratch copy of the sources.
 * Asynchronously: the compile takes minutes on a loaded machine, and a worker blocked
 * that long in spawnSync misses vitest's RPC deadline (60 s) and fails the run.
 */
async function prebuilds(): Promise<string> {
  const own = path.join(root, 'prebuilds', `linux-${process.arch}`);
  const sources = Math.max(newest(path.join(root, 'native')), newest(path.join(root, 'binding.gyp')));
  if (existsSync(own) && readdirSync(own).some((f) => f.endsWith('.node')) && newest(own) > sources) return own;
  const scratch = temp('netplumb-prebuildify-');
  for (const f of ['native', 'binding.gyp', 'package.json']) cpSync(path.join(root, f), path.join(scratch, f), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
  await promisify(execFile)(process.execPath, [path.join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip'], {
    cwd: scratch,
    env: { ...process.env, JOBS: process.env.JOBS ?? '2' },
    maxBuffer: 64 << 20,
  }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`prebuildify failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  });
  return path.join(scratch, 'prebuilds', `linux-${process.arch}`);
}

describe('prebuild', () => {
  it('loads with PREBUILDS_ONLY=1 and no build/ folder, from require and from import', async () => {
    const app = temp('netplumb-consumer-');
    const pkg = path.join(app, 'node_modules', 'netplumb');
    mkdirSync(pkg, { recursive: true });
    cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    await node([path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(pkg, 'dist')], root);
    cpSync(await prebuilds(), path.join(pkg, 'prebuilds', `linux-${process.arch}`), { recursive: true });
    // The package's runtime dependencies, as npm would install them beside it (node-gyp-build,
    // dns-packet, etcd3 with gRPC, ...): every production package of the tree, copied.
    const { stdout: prod } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, maxBuffer: 16 << 20 });
    const modules = path.join(root, 'node_modules');
    for (const dir of prod.split('\n').filter((d) => d.startsWith(modules + path.sep))) {
      cpSync(dir, path.join(app, 'node_modules', path.relative(modules, dir)), { recursive: true });
    }
    expect(existsSync(path.join(pkg, 'build'))).toBe(false);

    // Type declarations ship beside the code.
    for (const f of ['index.d.ts', 'netns.d.ts', 'links.d.ts', 'errors.d.ts', 'codec.d.ts', 'types.d.ts']) {
      expect(existsSync(path.join(pkg, 'dist', f)), f).toBe(true);
    }
    expect(readFileSync(path.join(pkg, 'dist', 'index.d.ts'), 'utf8')).toMatch(/export \{ Netns/);
    expect(readFileSync(path.join(pkg, 'dist', 'netns.d.ts'), 'utf8')).toMatch(/rawRequest\(messages: Buffer\): Promise<RawStep\[\]>/);

    // ...and resolve for a strict TypeScript consumer through the package's exports map.
    writeFileSync(
      path.join(app, 'consumer.mts'),
      `import { Netns, NetlinkError, type Link, type RawStep } from 'netplumb';
      export async function names(): Promise<string[]> {
        await using ns = await Netns.current();
        const links: Link[] = await ns.links.list();
        const steps: RawStep[] = await ns.rawRequest(Buffer.alloc(0)).catch((e: unknown) => (e instanceof NetlinkError ? [] : []));
        return links.map((l) => l.name).concat(steps.map(String));
      }
      `,
    );
    await node(
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--target', 'es2022',
        '--lib', 'es2022,esnext.disposable', '--module', 'nodenext', '--moduleResolution', 'nodenext',
        '--typeRoots', path.join(root, 'node_modules', '@types'), '--types', 'node', 'consumer.mts'],
      app,
    );

    // Which addon file the process mapped: it must come from prebuilds/.
    const report = `
      const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
      const addon = maps.split('\\n').map((l) => l.split(/\\s+/)[5]).find((f) => f && f.endsWith('.node'));`;
    const env = { ...process.env, PREBUILDS_ONLY: '1' };
    const cjs = `
      const { Netns, NetlinkError, codec } = require('netplumb');
      (async () => {
        const ns = await Netns.current();
        const links = await ns.links.list();
        ns.close();
        ${report}
        console.log(JSON.stringify({ links: links.map((l) => [l.name, l.index]), addon,
          error: typeof NetlinkError, codec: codec.encodeLinkDump().length }));
      })();`;
    writeFileSync(
      path.join(app, 'esm.mjs'),
      `import { Netns, NetlinkError, codec } from 'netplumb';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const ns = await Netns.current();
      const links = await ns.links.list();
      ns.close();
      ${report}
      console.log(JSON.stringify({ links: links.map((l) => [l.name, l.index]), addon,
        error: typeof NetlinkError, codec: codec.encodeLinkDump().length }));
      `,
    );
    const lo = ipj<{ ifname: string; ifindex: number }[]>(null, 'link', 'show', 'dev', 'lo')[0]!;
    for (const out of [await node(['-e', cjs], app, env), await node(['esm.mjs'], app, env)]) {
      const r = JSON.parse(out) as { links: [string, number][]; addon: string; error: string; codec: number };
      expect(r.links).toContainEqual(['lo', lo.ifindex]);
      expect(r.addon.startsWith(path.join(pkg, 'prebuilds', `linux-${process.arch}`) + '/')).toBe(true);
      expect(r.error).toBe('function');
      expect(r.codec).toBe(40);
    }
  }, 300_000);
});
