#!/usr/bin/env node
// The `netplumb` command.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const USAGE = `usage: netplumb <command>

commands:
  demo [--json]   build Docker's network model (default and user-defined bridge networks,
                  published ports, name resolution, isolation) in a throwaway sandbox,
                  check it with real traffic, print what each check saw, clean up
  version         print the version
`;

function sandboxed(args: string[]): number {
  // Re-run this command inside a user + network + mount namespace with a tmpfs over /run
  // (scripts/in-netns.mjs): nothing can touch the machine's own network.
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'in-netns.mjs'), process.execPath, __filename, ...args], {
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'demo': {
      if (process.env.NETPLUMB_SANDBOX !== '1') return sandboxed(['demo', ...rest]);
      const { runDemo } = await import('./demo');
      return runDemo({ json: rest.includes('--json') });
    }
    case 'version':
    case '--version':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      process.stdout.write(`${(require('../package.json') as { version: string }).version}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      process.stderr.write(`netplumb: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`netplumb: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
