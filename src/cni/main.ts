#!/usr/bin/env node
// The CNI plugin's Node entry (docs/cni.md): what the native executable execs when no
// daemon answers. It turns on V8's compile cache, then loads the plugin: from
// run.bundle.js, the plugin and the library in one file (made by scripts/bundle-cni.mjs
// at build time: a process this short spends its start resolving and reading some 70
// modules otherwise), or from run.js where there is no bundle.
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import * as path from 'node:path';

(globalThis as { netplumbCniStart?: number }).netplumbCniStart = performance.now();
// V8's compiled code cached on disk (Node 22.1+; in the OS's temp directory): compiling
// the library is most of loading it.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const bundle = path.join(__dirname, 'run.bundle.js');
require(existsSync(bundle) ? bundle : './run');
