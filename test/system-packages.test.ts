// The one list of system packages (scripts/debian-packages.txt) covers every external
// command the tests, the demo, the scripts, CI and the benchmark run, and the check that
// `npm test` makes before vitest starts stops at once, in one line, when one is missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPackages, TEST_SECTIONS } from '../scripts/system-packages.mjs';
import { shellCommands, shellFunctions, tsCommands } from './command-scan';

const root = path.join(__dirname, '..');
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** Files under `dir` (relative to the repository) whose names match. */
function files(dir: string, match: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (match.test(e.name)) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** The functions of the scripts a shell script sources (`. "$HERE/lib.sh"`, `source lib.sh`), by file name beside it. */
function sourcedFunctions(f: string, text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^\s*(?:\.|source)\s+"?(?:\$\w+\/|\$\{\w+\}\/)?([\w./-]+\.sh)"?/gm)) {
    const lib = path.join(root, path.dirname(f), path.basename(m[1]!));
    try {
      for (const fn of shellFunctions(readFileSync(lib, 'utf8'))) out.add(fn);
    } catch {
      // not beside it: its commands count as commands
    }
  }
  return out;
}

/** Command -> the files that run it. */
function commandsOf(paths: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const f of paths) {
    const text = readFileSync(path.join(root, f), 'utf8');
    const cmds = /\.(ts|mjs|js)$/.test(f) ? tsCommands(text, f) : shellCommands(text, sourcedFunctions(f, text));
    for (const c of cmds) found.set(c, [...new Set([...(found.get(c) ?? []), f])]);
  }
  return found;
}

const packages = readPackages();
/** probe -> its package and section. */
const byProbe = new Map(packages.flatMap((p) => p.probes.map((probe) => [probe, p] as const)));

describe('the command scanner', () => {
  it('finds literal commands in spawning calls, through ip netns exec, timeout and sh -c', () => {
    const src = `
      spawn('tcpdump', ['-i', 'eth0']);
      run('ip', ['netns', 'exec', ns.name!, 'socat', '-V']);
      exec(ns, ['timeout', '5', 'ncat', '-l']);
      spawnSync('sh', ['-c', 'echo x | timeout 2 mtr -n && arping -c1 x']);
      execFileP('ip', ['netns', 'exec', name, 'ping', '-c1', addr]);
      spawnSync(process.execPath, ['x.js']);
      spawn(cmd, ['-x']);
      execSync('ethtool -k eth0 | grep tso');
      const notRun = ['lo', 'eth0'];
      for (const c of [['iptables-nft', '-N', 'X'], ['nft', '-f', '-']]) inHost(c);
      ['ip6tables-nft-save', 'ebtables'].map((c) => inHost([c]));`;
    expect(new Set(tsCommands(src))).toEqual(new Set(['tcpdump', 'ip', 'socat', 'timeout', 'ncat', 'sh', 'mtr', 'arping', 'ping', 'ethtool', 'grep', 'iptables-nft', 'nft', 'ip6tables-nft-save', 'ebtables']));
  });

  it('finds the first word of each simple command in shell, not data, patterns or builtins', () => {
    const src = [
      'set -euo pipefail',
      'x="$(id -u)" y=$(( 1 + 2 ))',
      'if [ -d "$x" ] && ! grep -q a b; then tcpdump -i x | sort >/dev/null 2>&1; fi',
      'helper() { iperf3 -s; }',
      'case "$n" in cc | gcc*) continue ;; ethtool) helper ;; esac',
      "awk '",
      '  /x/ { notacommand }',
      "' file",
      'cat <<EOF',
      'heredoc body words',
      'EOF',
      'printf "%s\\n" "${arr[@]}" | xargs -P 2 -I{} sh -c "tshark {}"',
      'for f in a b; do "$f" --x; done',
      'command -v nope >/dev/null || exit 1',
      'FOO=1 BAR=2 strace -f true',
      'diff <(echo a) <(lsof -n)',
      'tool="$(node -p 1)"; echo "`uname -r`"',
    ].join('\n');
    expect(new Set(shellCommands(src))).toEqual(new Set([
      'id', 'grep', 'tcpdump', 'sort', 'iperf3', 'awk', 'cat', 'xargs', 'sh', 'strace', 'diff', 'lsof', 'node', 'uname',
    ]));
  });
});

describe('scripts/debian-packages.txt', () => {
  it('parses: known sections, each package once, the tools npm test needs under the checked sections', () => {
    const sections = new Set(packages.map((p) => p.section));
    expect([...sections].sort()).toEqual(['base', 'bootstrap', 'build', 'ci', 'test']);
    const names = packages.map((p) => p.name);
    expect(names.length).toBe(new Set(names).size);
    for (const t of ['ip', 'nft', 'ping', 'socat', 'strace', 'conntrack', 'nc', 'unshare', 'nsenter', 'g++', 'make', 'python3']) {
      expect(TEST_SECTIONS, t).toContain(byProbe.get(t)?.section);
    }
    // The packages of the DNS, overlay, podman and CNI work are there.
    for (const p of ['dnsutils', 'aardvark-dns', 'netavark', 'etcd-server', 'etcd-client', 'podman', 'containerd', 'busybox-static', 'g++-aarch64-linux-gnu']) {
      expect(names).toContain(p);
    }
  });

  it('covers every external command run by the tests, the demo, the scripts, CI and the benchmark', () => {
    const everywhere = commandsOf([
      ...files('test', /\.ts$/), ...files('src', /\.ts$/), ...files('scripts', /\.(mjs|sh)$/),
      ...files('bench', /\.(mjs|sh)$/), '.ci/run',
    ]);
    // Sanity: the scan sees what we know is there (so an empty scan cannot pass).
    for (const c of ['ip', 'nft', 'socat', 'strace', 'conntrack', 'nsenter', 'unshare', 'ping', 'iptables-nft', 'ss', 'sysctl', 'useradd', 'git', 'nm']) {
      expect(everywhere.has(c), `the scan no longer finds ${c}`).toBe(true);
    }
    const uncovered = [...everywhere].filter(([c]) => !byProbe.has(c)).map(([c, fs]) => `${c} (${fs.join(', ')})`);
    expect(uncovered, 'commands with no package in scripts/debian-packages.txt').toEqual([]);

    // What the suite and the demo run must be in the sections checked before vitest starts.
    const checked = new Set([...TEST_SECTIONS, 'bootstrap']);
    const suite = commandsOf([...files('test', /\.ts$/), ...files('src', /\.ts$/), 'scripts/test.mjs', 'scripts/in-netns.mjs']);
    const unchecked = [...suite].filter(([c]) => !checked.has(byProbe.get(c)?.section ?? '')).map(([c, fs]) => `${c} (${fs.join(', ')})`);
    expect(unchecked, 'commands the tests run whose package npm test does not check').toEqual([]);
  });
});

describe('the missing-tool check', () => {
  it('npm test stops before vitest with one line naming the package and the set-up command', () => {
    // A PATH with every command of the usual directories but socat.
    const bin = mkdtempSync(path.join(tmpdir(), 'np-nosocat-'));
    temps.push(bin);
    for (const d of (process.env.PATH ?? '').split(':')) {
      let entries: string[] = [];
      try {
        if (!statSync(d).isDirectory()) continue;
        entries = readdirSync(d);
      } catch {
        continue;
      }
      for (const n of entries) {
        if (n === 'socat') continue;
        try {
          symlinkSync(path.join(d, n), path.join(bin, n));
        } catch {
          // the first directory on PATH wins, as for spawn
        }
      }
    }
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'test.mjs'), 'test/pool.test.ts'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, PATH: bin },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(''); // vitest never started
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('netplumb: missing system packages: socat (socat); install them with scripts/setup.sh (see README.md)');
  });
});
