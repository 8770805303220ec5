#!/usr/bin/env node
// Prints the directory holding the running Node's own C headers (include/node), for
// npm_config_nodedir, or nothing when none matches this exact version. node-gyp and
// prebuildify otherwise download the headers from nodejs.org, which a machine without
// that access (CI, a locked-down build host) cannot reach.
//
// Where they are: a distribution or tarball install has them beside bin/ (<prefix>/include);
// Node from the npm registry's `node` package keeps them in its platform package
// (<prefix>/lib/node_modules/node/node_modules/node-linux-<arch>/include).
import { readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';

export function nodeHeadersDir() {
  const up2 = path.dirname(path.dirname(realpathSync(process.execPath)));
  const candidates = [
    up2,
    path.join(up2, 'node_modules', `node-${process.platform}-${process.arch}`),
    process.config.variables.node_prefix,
    '/usr',
    '/usr/local',
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      const h = readFileSync(path.join(dir, 'include', 'node', 'node_version.h'), 'utf8');
      const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`define NODE_${k}_VERSION (\\d+)`).exec(h)?.[1]).join('.');
      if (v === process.versions.node) return dir;
    } catch {
      // not there: try the next place
    }
  }
  return undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = nodeHeadersDir();
  if (dir) console.log(dir);
}
