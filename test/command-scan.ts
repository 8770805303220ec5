// Static scan for the external commands the project's code runs, so that
// test/system-packages.test.ts can check each one against scripts/debian-packages.txt.
//
// TypeScript/JavaScript: every call to a spawning function (child_process's and the test
// helpers that wrap it) whose command is a literal: `spawn('ip', ...)`, `run('nft', ...)`,
// `exec(ns, ['ss', ...])`, looking through wrappers (`ip netns exec NS CMD`, `timeout N
// CMD`, `nsenter ... CMD`, `sh -c 'CMD ...'`). A command held in a variable is not seen.
// Shell: the first word of every simple command, with quotes, $(...), pipelines, case
// patterns, redirections and here-documents understood well enough for our scripts.
import ts from 'typescript';

/** Functions whose call runs a command (child_process's, and helpers in test/ and bench/). */
const SPAWNERS = new Set([
  'spawn', 'spawnSync', 'execFile', 'execFileSync', 'execFileP', 'exec', 'execSync',
  'run', 'tryRun', 'inHost',
]);

/** Commands that run another command given later among their arguments. */
function unwrap(words: (string | null)[]): (string | null)[][] {
  const [cmd, ...rest] = words;
  if (cmd === null || cmd === undefined) return [];
  const out: (string | null)[][] = [[cmd, ...rest]];
  const inner = (from: number) => out.push(...unwrap(rest.slice(from)));
  const afterOptions = (argOpts: string[] = []) => {
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i];
      if (w === '--') return inner(i + 1);
      if (w === null || w === undefined || !w.startsWith('-')) return inner(i);
      if (argOpts.includes(w)) i++;
    }
  };
  switch (cmd) {
    case 'ip':
      if (rest[0] === 'netns' && rest[1] === 'exec') inner(3);
      break;
    case 'timeout': {
      let i = 0;
      while (rest[i]?.startsWith('-')) i++;
      inner(i + 1);
      break;
    }
    case 'nsenter': case 'unshare': case 'setpriv': case 'runuser': case 'sudo': case 'nice': case 'env':
      afterOptions(['-t', '--target', '-u', '--user', '-g', '--group', '-S', '-G', '--reuid', '--regid', '--propagation']);
      break;
    case 'sh': case 'bash': {
      const c = rest.indexOf('-c');
      const script = c >= 0 ? rest[c + 1] : undefined;
      if (typeof script === 'string') for (const w of shellCommands(script)) out.push([w]);
      break;
    }
  }
  return out;
}

/** The literal text of a string expression, or null. */
function literal(e: ts.Expression | undefined): string | null {
  if (e && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e))) return e.text;
  return null;
}

/** Looks like a command name (not an option, not an address or a path). */
const COMMANDISH = /^[a-z][a-z0-9.+_-]*$/i;

/** Commands run by literal spawning calls in a TypeScript or JavaScript source. */
export function tsCommands(source: string, fileName = 'x.ts'): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];

  // What an identifier iterates over, when it is a loop variable (`for (const c of XS)`,
  // `XS.map((c) => ...)`) over an array literal or a const holding one: the values it
  // takes, each a string or an array of literals.
  const decls: ts.Node[] = [];
  const collect = (n: ts.Node) => {
    decls.push(n);
    ts.forEachChild(n, collect);
  };
  collect(sf);
  const elementsOf = (e: ts.Expression): (string | null)[][] | null => {
    if (ts.isIdentifier(e)) {
      const d = decls.find((n): n is ts.VariableDeclaration => ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === e.text);
      return d?.initializer ? elementsOf(d.initializer) : null;
    }
    if (!ts.isArrayLiteralExpression(e)) return null;
    return e.elements.map((x) => (ts.isArrayLiteralExpression(x) ? x.elements.map((y) => literal(y as ts.Expression)) : [literal(x as ts.Expression)]));
  };
  // The binding of `name` nearest around `from`: a for-of variable or the parameter of a
  // function given to .map/.forEach.
  const valuesOf = (name: string, from: ts.Node): (string | null)[][] | null => {
    for (let n: ts.Node | undefined = from; n; n = n.parent) {
      if (ts.isForOfStatement(n) && ts.isVariableDeclarationList(n.initializer)) {
        const v = n.initializer.declarations[0];
        if (v && ts.isIdentifier(v.name) && v.name.text === name) return elementsOf(n.expression);
      }
      if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && n.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === name)) {
        const call = n.parent;
        if (ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) && ['map', 'forEach'].includes(call.expression.name.text)) {
          return elementsOf(call.expression.expression);
        }
        return null; // a parameter of something else: unknown
      }
    }
    return null;
  };

  const SQL = /^\s*(PRAGMA|CREATE|INSERT|BEGIN|COMMIT|ROLLBACK|SELECT|DELETE|UPDATE|DROP|ALTER|WITH|VACUUM)\b/;
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const callee = ts.isIdentifier(node.expression)
        ? node.expression.text
        : ts.isPropertyAccessExpression(node.expression) ? node.expression.name.text : '';
      if (SPAWNERS.has(callee)) {
        const args = node.arguments;
        const lists: (string | null)[][] = [];
        const first = literal(args[0]);
        const arr = args.find((a): a is ts.ArrayLiteralExpression => ts.isArrayLiteralExpression(a));
        const elems = arr ? arr.elements.map((x) => literal(x as ts.Expression)) : [];
        if (first !== null && callee === 'exec' && SQL.test(first)) {
          // db.exec('PRAGMA ...'): a SQLite statement (node:sqlite), not a shell line.
        } else if (first !== null) {
          // exec('cmd args') and execSync run a shell line; spawn('cmd', [args]) a file.
          if (/\s/.test(first)) for (const w of shellCommands(first)) found.push(w);
          else lists.push([first, ...(arr && args.indexOf(arr) === 1 ? elems : [])]);
        } else if (args[0] && ts.isPropertyAccessExpression(args[0]) && args[0].getText() === 'process.execPath') {
          // node itself
        } else if (args[0] && ts.isIdentifier(args[0]) && valuesOf(args[0].text, node)) {
          lists.push(...valuesOf(args[0].text, node)!); // for (const cmd of CMDS) run(cmd)
        } else if (arr && arr.elements[0] && ts.isIdentifier(arr.elements[0]) && valuesOf(arr.elements[0].text, node)) {
          for (const v of valuesOf(arr.elements[0].text, node)!) lists.push([...v, ...elems.slice(1)]); // XS.map((c) => run([c]))
        } else if (arr && elems[0] && COMMANDISH.test(elems[0])) {
          lists.push(elems); // exec(ns, ['ss', ...])
        }
        for (const words of lists) for (const w of unwrap(words)) if (w[0] && COMMANDISH.test(w[0])) found.push(w[0]);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', '!', '{', '}', 'time', '[[', ']]']);
/** Shell builtins: part of bash and dash themselves, no package to install. */
const BUILTINS = new Set([
  'cd', 'echo', 'printf', 'read', 'set', 'shift', 'exit', 'return', 'local', 'export', 'unset', 'declare',
  'readonly', 'trap', 'wait', 'exec', 'eval', 'source', '.', 'test', '[', 'true', 'false', ':', 'break',
  'continue', 'jobs', 'type', 'umask', 'hash', 'mapfile', 'readarray', 'pushd', 'popd', 'getopts', 'kill',
  'let', 'shopt', 'builtin', 'ulimit', 'pwd',
]);

/** The functions a shell script defines (`name() {`, `function name`). */
export function shellFunctions(src: string): Set<string> {
  const out = new Set<string>();
  for (const m of src.matchAll(/^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{?/gm)) out.add(m[1]!);
  return out;
}

/**
 * The first word of each simple command in a shell script, skipping builtins, keywords,
 * assignments, functions the script (or what it sources) defines and anything not
 * literal ($VAR, paths).
 */
export function shellCommands(src: string, sourced: ReadonlySet<string> = new Set()): string[] {
  const cmds: string[] = [];
  // Functions the script defines, and those of the scripts it sources (`. lib.sh`).
  const defined = new Set<string>(sourced);
  for (const m of src.matchAll(/^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{?/gm)) defined.add(m[1]!);

  let i = 0;
  // Scans until `end` (a closing character for $( or `), collecting commands.
  const scan = (end: string | null): void => {
    let word = '';
    let dynamic = false; // the word holds an expansion
    let started = false; // a word is being built
    let cmdPos = true; // the next word is in command position
    let skipRest = false; // the rest of this simple command holds no command (for, command -v)
    let redirect = false; // the next word is a redirection target
    let wrapper: string | null = null; // xargs/timeout/env/...: the command follows their options
    let wrapperArg = false; // the next word is the value of the wrapper's option
    const caseStack: ('word' | 'pattern' | 'body')[] = [];
    const heredocs: { tag: string; strip: boolean }[] = [];

    const finish = () => {
      if (!started) return;
      const w = word;
      const dyn = dynamic;
      word = '';
      dynamic = false;
      started = false;
      if (redirect) {
        redirect = false;
        return;
      }
      const cs = caseStack[caseStack.length - 1];
      if (cs === 'word') {
        if (w === 'in') caseStack[caseStack.length - 1] = 'pattern';
        return;
      }
      if (cs === 'pattern') {
        if (w === 'esac') caseStack.pop();
        return; // patterns until ')'
      }
      if (!cmdPos || skipRest) return;
      if (wrapper) {
        if (wrapperArg) {
          wrapperArg = false;
          return;
        }
        if (w.startsWith('-')) {
          // xargs -P 2, -I {}, -n 1 ...; timeout -s KILL; sudo -u user
          wrapperArg = /^-[PInLdsaEkuSg]$/.test(w);
          return;
        }
        if (wrapper === 'timeout' && /^\d/.test(w)) return;
        if (wrapper === 'env' && /^[A-Za-z_]\w*=/.test(w)) return;
        wrapper = null;
      }
      if (w === 'esac' && caseStack.length) {
        caseStack.pop();
        return;
      }
      if (/^[A-Za-z_]\w*(\[[^\]]*\])?\+?=/.test(w)) return; // VAR=value before a command
      if (KEYWORDS.has(w)) return; // the next word is still a command
      cmdPos = false;
      if (w === 'case') {
        caseStack.push('word');
        return;
      }
      if (w === 'for' || w === 'select' || w === 'command' || w === 'function') {
        skipRest = true;
        return;
      }
      if (['xargs', 'timeout', 'env', 'nice', 'sudo', 'nohup', 'exec'].includes(w)) {
        wrapper = w;
        cmdPos = true;
        if (w !== 'exec') cmds.push(w);
        return;
      }
      if (dyn || w.includes('/') || w === '' || BUILTINS.has(w) || defined.has(w)) return;
      cmds.push(w);
    };
    const separator = () => {
      finish();
      cmdPos = true;
      skipRest = false;
      wrapper = null;
      wrapperArg = false;
      redirect = false;
    };
    const skipTo = (close: string, open: string) => {
      let depth = 1;
      while (i < src.length && depth > 0) {
        const c = src[i++];
        if (c === '\\') i++;
        else if (c === open) depth++;
        else if (c === close) depth--;
      }
    };
    // $... at src[i] === '$': an expansion; command substitutions are scanned.
    const dollar = () => {
      started = true;
      dynamic = true;
      if (src.startsWith('$((', i)) {
        i += 3;
        skipTo(')', '(');
        i++;
      } else if (src[i + 1] === '(') {
        i += 2;
        scan(')');
      } else if (src[i + 1] === '{') {
        i += 2;
        skipTo('}', '{');
      } else {
        i++;
        while (i < src.length && /[\w@*#?$!-]/.test(src[i]!)) {
          i++;
          if (!/\w/.test(src[i - 1]!)) break;
        }
      }
    };

    while (i < src.length) {
      const c = src[i]!;
      if (end && c === end) {
        i++;
        finish();
        return;
      }
      if (c === '\\') {
        if (src[i + 1] === '\n') i += 2;
        else {
          word += src[i + 1] ?? '';
          started = true;
          i += 2;
        }
        continue;
      }
      if (c === "'") {
        const close = src.indexOf("'", i + 1);
        word += src.slice(i + 1, close < 0 ? src.length : close);
        started = true;
        i = close < 0 ? src.length : close + 1;
        continue;
      }
      if (c === '"') {
        started = true;
        i++;
        while (i < src.length && src[i] !== '"') {
          if (src[i] === '\\') {
            word += src[i + 1] ?? '';
            i += 2;
          } else if (src[i] === '$') dollar();
          else if (src[i] === '`') {
            i++;
            scan('`');
            dynamic = true;
          } else word += src[i++];
        }
        i++;
        continue;
      }
      if (c === '$') {
        dollar();
        continue;
      }
      if (c === '`') {
        i++;
        started = true;
        dynamic = true;
        scan('`');
        continue;
      }
      if (c === '#' && !started) {
        while (i < src.length && src[i] !== '\n') i++;
        continue;
      }
      if (c === '\n') {
        separator();
        i++;
        // Here-documents started on this line: their bodies are data.
        for (const h of heredocs.splice(0)) {
          for (;;) {
            const nl = src.indexOf('\n', i);
            const line = src.slice(i, nl < 0 ? src.length : nl);
            i = nl < 0 ? src.length : nl + 1;
            if ((h.strip ? line.replace(/^\t+/, '') : line) === h.tag || nl < 0) break;
          }
        }
        continue;
      }
      if (c === ' ' || c === '\t') {
        finish();
        i++;
        continue;
      }
      if (c === '<' && src[i + 1] === '<' && src[i + 2] !== '<') {
        finish();
        i += 2;
        const strip = src[i] === '-';
        if (strip) i++;
        const m = /^\s*(['"]?)([\w.-]+)\1/.exec(src.slice(i));
        if (m) {
          heredocs.push({ tag: m[2]!, strip });
          i += m[0].length;
        }
        continue;
      }
      if ((c === '<' || c === '>') && src[i + 1] === '(') {
        // Process substitution.
        finish();
        i += 2;
        scan(')');
        continue;
      }
      if (c === '<' || c === '>') {
        if (/^\d+$/.test(word) && !dynamic) {
          word = '';
          started = false;
        } else finish();
        i++;
        while (src[i] === '>' || src[i] === '&' || src[i] === '|') i++;
        if (/\d|-/.test(src[i] ?? '')) {
          while (/[\d-]/.test(src[i] ?? '')) i++;
        } else redirect = true;
        continue;
      }
      if (c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
        const two = src.slice(i, i + 2);
        const cs = caseStack[caseStack.length - 1];
        if (c === ')' && cs === 'pattern') {
          word = '';
          started = false;
          caseStack[caseStack.length - 1] = 'body';
          i++;
          separator();
          continue;
        }
        if (c === '|' && cs === 'pattern') {
          finish();
          i++;
          continue;
        }
        if (two === ';;' && cs === 'body') {
          caseStack[caseStack.length - 1] = 'pattern';
          finish();
          i += src[i + 2] === '&' ? 3 : 2;
          continue;
        }
        if (c === '(' && src[i + 1] === '(') {
          // (( arithmetic ))
          finish();
          i += 2;
          skipTo(')', '(');
          i++;
          continue;
        }
        if (c === '(' && started) {
          // name() { ...: a function definition; arrays=( ... ): data.
          const isArray = /=$/.test(word);
          finish();
          i++;
          if (isArray) skipTo(')', '(');
          continue;
        }
        separator();
        i += two === '&&' || two === '||' || two === ';;' ? 2 : 1;
        continue;
      }
      word += c;
      started = true;
      i++;
    }
    finish();
  };
  scan(null);
  return cmds;
}
