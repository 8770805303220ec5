#!/usr/bin/env node
// The import graph of src/: acyclic and layered. Each module belongs to a layer (LAYERS,
// lowest first); a module imports at run time only from its own layer or a lower one,
// and the run-time imports form no cycle. Type-only imports (`import type`, `export
// type`, an import whose every name is `type`) are erased by the compiler: they cannot
// change what loads in what order, and a class's methods naming the handle type they
// are given (links.ts naming Netns) is what the types are for. They are left out.
//
//   node scripts/check-imports.mjs         prints the problems, exits 1 if any
//
// npm test runs it first (scripts/test.mjs), and test/imports.test.ts too.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ts = createRequire(import.meta.url)('typescript');

/** Layers, lowest first: a path (relative to src/, without .ts) or a directory ending in '/'. */
export const LAYERS = [
  ['base', ['constants', 'errors', 'types', 'ip', 'files', 'validate', 'crypto']],
  ['binding', ['binding', 'handle']],
  ['primitives', ['spec', 'ifindex', 'links', 'addresses', 'routes', 'batch', 'neighbours', 'fdb', 'neigh-table', 'sysctl', 'monitor', 'conntrack']],
  ['nft', ['nft/']],
  ['namespaces', ['netns', 'attach', 'pool', 'codec']],
  // The daemon's client is what Networks.connect returns: a peer of the network layer.
  ['networks', ['network/', 'daemon/client']],
  ['services', ['daemon/', 'cni/']],
  ['entry points', ['index', 'etcd', 'cli', 'show', 'demo', 'demo-agent']],
];

function layerOf(mod) {
  for (let i = 0; i < LAYERS.length; i++) {
    for (const p of LAYERS[i][1]) if (p.endsWith('/') ? mod.startsWith(p) : mod === p) return i;
  }
  return -1;
}

function sources(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// The run-time imports of one file: relative specifiers resolved to module names.
function runtimeImports(file, src, modules, withTypes = false) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out = [];
  const add = (spec) => {
    if (!spec.startsWith('.')) return;
    let mod = path.relative(src, path.resolve(path.dirname(file), spec)).replace(/\\/g, '/');
    if (!modules.has(mod)) mod = `${mod}/index`;
    out.push(mod);
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const typeOnly = c && (c.isTypeOnly || (!c.name && c.namedBindings && ts.isNamedImports(c.namedBindings) &&
        c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly || withTypes) add(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const typeOnly = node.isTypeOnly || (node.exportClause && ts.isNamedExports(node.exportClause) &&
        node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly || withTypes) add(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      // import('./x'): loaded later, but still a run-time edge.
      add(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The problems: modules in no layer, imports that go up a layer, cycles. */
export function check(src = path.join(root, 'src'), withTypes = false) {
  const graph = new Map();
  const files = sources(src);
  const name = (f) => path.relative(src, f).replace(/\.ts$/, '').replace(/\\/g, '/');
  const modules = new Set(files.map(name));
  for (const f of files) graph.set(name(f), runtimeImports(f, src, modules, withTypes));
  const problems = [];
  for (const [mod, deps] of graph) {
    const l = layerOf(mod);
    if (l < 0) {
      problems.push(`${mod}: in no layer (scripts/check-imports.mjs LAYERS)`);
      continue;
    }
    for (const d of deps) {
      const ld = layerOf(d);
      if (ld > l) problems.push(`${mod} (${LAYERS[l][0]}) imports ${d} (${LAYERS[ld][0]}), a higher layer`);
    }
  }
  // Cycles: Tarjan's strongly connected components of the run-time graph.
  let index = 0;
  const idx = new Map(), low = new Map(), stack = [], on = new Set();
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) problems.push(`import cycle: ${comp.reverse().join(' -> ')}`);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return { modules: graph.size, edges: [...graph.values()].reduce((n, d) => n + d.length, 0), problems };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // --types: type-only imports too (for a look at the whole graph; not a rule).
  const r = check(undefined, process.argv.includes('--types'));
  for (const p of r.problems) console.error(p);
  if (r.problems.length) process.exit(1);
  console.error(`imports: ${r.modules} modules, ${r.edges} run-time imports, layered, no cycle`);
}
