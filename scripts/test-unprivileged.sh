#!/usr/bin/env bash
# Proves the README's set-up on a fresh copy as an unprivileged user: copies this
# repository's sources (what git tracks or would track, so no node_modules, build/,
# dist/ or prebuilds/) into a temp dir owned by a throwaway system user, and runs
# `npm ci && npm test` as that user with a temp HOME (npm's cache lives there too).
#
# Run as root: creates the user NETPLUMB_TEST_USER (default netplumb-ci) if it does not
# exist, and removes it and the temp dir afterwards. Run as anyone else, it does the
# same as yourself in a temp dir.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
user="${NETPLUMB_TEST_USER:-netplumb-ci}"
work="$(mktemp -d "${TMPDIR:-/tmp}/netplumb-unpriv.XXXXXX")"
created_user=0
cleanup() {
  rm -rf "$work"
  if [ "$created_user" = 1 ]; then userdel "$user" 2>/dev/null || true; fi
}
trap cleanup EXIT

src="$work/netplumb"
home="$work/home"
mkdir -p "$src" "$home"

# The sources as a fresh clone has them (plus uncommitted edits, for local runs).
if (cd "$repo" && git ls-files -z --cached --others --exclude-standard) >"$work/files" 2>/dev/null && [ -s "$work/files" ]; then
  (cd "$repo" && tar --null --no-recursion --ignore-failed-read -T "$work/files" -cf -) | tar -C "$src" -xf -
else
  tar -C "$repo" --exclude=./.git --exclude=./node_modules --exclude=./build --exclude=./dist \
    --exclude=./prebuilds -cf - . | tar -C "$src" -xf -
fi
rm -f "$work/files"
# A prebuild made by the run before this one (CI's `npm run prebuilds`) is reused by the
# prebuild test when it is current, instead of compiling the addon a third time.
if [ -d "$repo/prebuilds" ]; then cp -r "$repo/prebuilds" "$src/"; fi

# Settings the user's npm and node-gyp need from this environment, if set.
nodedir="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
case "$nodedir" in undefined | null) nodedir="" ;; esac
env_vars=(HOME="$home" PATH="$PATH" LANG=C.UTF-8 CI="${CI:-true}" npm_config_cache="$home/.npm"
  npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false)
[ -n "$nodedir" ] && env_vars+=(npm_config_nodedir="$nodedir")
for v in JOBS NODE_EXTRA_CA_CERTS npm_config_registry npm_config_cafile \
  http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!v:-}" ]; then env_vars+=("$v=${!v}"); fi
done

cmd='cd "$1" && echo "as $(id -un) (uid $(id -u)) in $1" && npm ci --no-audit --no-fund && npm test'
if [ "$(id -u)" -eq 0 ]; then
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir "$home" --shell /usr/sbin/nologin "$user"
    created_user=1
  fi
  chown -R "$user:" "$work"
  runuser -u "$user" -- env -i "${env_vars[@]}" bash -c "$cmd" bash "$src"
else
  env -i "${env_vars[@]}" bash -c "$cmd" bash "$src"
fi
