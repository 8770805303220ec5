#!/usr/bin/env node
// Builds the prebuilds the package ships (npm run prebuilds; `npm pack` runs it as
// prepack): prebuilds/linux-x64/ with the host's compiler and prebuilds/linux-arm64/ with
// Debian's aarch64-linux-gnu cross compiler, both N-API (one binary for every Node
// version), stripped. Then checks each file is an ELF shared object for its machine
// (readelf), so a cross build that silently produced a host binary cannot ship.
//
//   node scripts/prebuild.mjs [--arch x64,arm64]
//
// Each arch is built by prebuildify in a scratch copy of the sources: prebuildify runs
// `node-gyp rebuild` in its working directory, and an arm64 build/Release in the
// repository would be what node-gyp-build loads next.
//
// musl (Alpine) is not built: Debian has a musl C toolchain (musl-tools) but no C++
// standard library for musl, and the addon is C++20. On musl the package compiles the
// addon at install time instead (binding.gyp and native/ ship too).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nodeHeadersDir } from './node-headers.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({ options: { arch: { type: 'string', default: 'x64,arm64' } } });
const arches = values.arch.split(',').filter(Boolean);

/** How to build each arch on an x86-64 Debian host, and what readelf must then say. */
const TARGETS = {
  x64: { env: {}, machine: 'Advanced Micro Devices X86-64' },
  arm64: {
    env: {
      CC: 'aarch64-linux-gnu-gcc',
      CXX: 'aarch64-linux-gnu-g++',
      LINK: 'aarch64-linux-gnu-g++',
      AR: 'aarch64-linux-gnu-ar',
      PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip',
    },
    machine: 'AArch64',
  },
};

function fail(msg) {
  console.error(`prebuild: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

const nodedir = process.env.npm_config_nodedir || nodeHeadersDir();
if (!nodedir) fail(`no headers for node ${process.version} found; set npm_config_nodedir (see scripts/node-headers.mjs)`);

for (const arch of arches) {
  const target = TARGETS[arch];
  if (!target) fail(`unknown arch ${arch} (known: ${Object.keys(TARGETS).join(', ')})`);
  if (process.arch !== 'x64' && arch !== process.arch) fail(`cross builds are set up for an x64 host, this is ${process.arch}`);
  if (arch !== process.arch && spawnSync(target.env.CXX, ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail(`${target.env.CXX} not found: install g++-aarch64-linux-gnu (scripts/setup.sh does)`);
  }
  const scratch = mkdtempSync(path.join(tmpdir(), `netplumb-prebuild-${arch}-`));
  try {
    for (const f of ['native', 'binding.gyp', 'package.json']) cpSync(path.join(root, f), path.join(scratch, f), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
    console.log(`==> prebuildify --napi --strip --arch ${arch}`);
    run(process.execPath, [path.join(root, 'node_modules', 'prebuildify', 'bin.js'), '--napi', '--strip', '--arch', arch], {
      cwd: scratch,
      env: { ...process.env, ...target.env, npm_config_nodedir: nodedir, JOBS: process.env.JOBS ?? '2' },
    });
    const built = path.join(scratch, 'prebuilds', `linux-${arch}`);
    const out = path.join(root, 'prebuilds', `linux-${arch}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    cpSync(built, out, { recursive: true });
    // The CNI plugin executable, binding.gyp's second target, from the same node-gyp run
    // (docs/cni.md): shipped beside the addon, stripped like it.
    const exe = path.join(scratch, 'build', 'Release', 'netplumb-cni');
    if (!existsSync(exe)) fail(`${exe} was not built (binding.gyp's netplumb-cni target)`);
    cpSync(exe, path.join(out, 'netplumb-cni'));
    run(target.env.PREBUILD_STRIP_BIN ?? 'strip', [path.join(out, 'netplumb-cni')]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// What each prebuild is, by its ELF header (independent of how it was built).
for (const arch of arches) {
  const dir = path.join(root, 'prebuilds', `linux-${arch}`);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
  if (files.length !== 1) fail(`${dir}: expected one .node file, found ${files.length}`);
  const file = path.join(dir, files[0]);
  const r = spawnSync('readelf', ['-h', file], { encoding: 'utf8' });
  if (r.status !== 0) fail(`readelf -h ${file}: ${r.stderr.trim()}`);
  const machine = /Machine:\s+(.*)/.exec(r.stdout)?.[1]?.trim();
  const type = /Type:\s+(\S+)/.exec(r.stdout)?.[1];
  if (machine !== TARGETS[arch].machine || type !== 'DYN') {
    fail(`${file} is ${type} for ${machine}, expected a shared object (DYN) for ${TARGETS[arch].machine}`);
  }
  console.log(`${path.relative(root, file)}: ELF shared object, ${machine}`);
  const exe = path.join(dir, 'netplumb-cni');
  const e = spawnSync('readelf', ['-h', exe], { encoding: 'utf8' });
  if (e.status !== 0) fail(`readelf -h ${exe}: ${e.stderr.trim()}`);
  const exeMachine = /Machine:\s+(.*)/.exec(e.stdout)?.[1]?.trim();
  const exeType = /Type:\s+(\S+)/.exec(e.stdout)?.[1];
  // A position-independent executable is DYN too; EXEC when linked without -pie.
  if (exeMachine !== TARGETS[arch].machine || (exeType !== 'DYN' && exeType !== 'EXEC')) {
    fail(`${exe} is ${exeType} for ${exeMachine}, expected an executable for ${TARGETS[arch].machine}`);
  }
  console.log(`${path.relative(root, exe)}: ELF executable, ${exeMachine}`);
}
