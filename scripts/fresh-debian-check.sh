#!/usr/bin/env bash
# The README's two set-up commands on a fresh, minimal Debian 12 root: debootstrap makes
# one (--variant=minbase: no Node, no compiler, no iproute2), a fresh clone of this
# repository goes into it, and inside it, as root, `scripts/setup.sh && npm test` runs.
# Nothing from this machine's own installation is used but the kernel (and the apt
# cache of downloaded .deb files, bind-mounted so a second run downloads little).
#
#   scripts/fresh-debian-check.sh            (as root; FRESH_KEEP=1 keeps the root)
#
# The root is entered with bubblewrap (pivot_root into it, new PID and mount namespaces,
# this machine's network namespace for apt and npm), not chroot: the kernel refuses to
# make a user namespace inside a chroot, and the test sandbox needs one. A policy-rc.d
# in the root keeps the packages' services (containerd, etcd) from starting, as on CI.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/netplumb-fresh.XXXXXX")"
cleanup() { if [ "${FRESH_KEEP:-0}" = 1 ]; then echo "root kept at $work/root"; else rm -rf "$work"; fi; }
trap cleanup EXIT
say() { printf '==> %s (%ss)\n' "$*" "$SECONDS"; }

[ "$(id -u)" -eq 0 ] || { echo "fresh-debian-check.sh: run as root" >&2; exit 1; }
for t in debootstrap bwrap git; do
  command -v "$t" >/dev/null || { echo "fresh-debian-check.sh: $t missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

root="$work/root"
say "debootstrap --variant=minbase bookworm"
debootstrap --variant=minbase --cache-dir=/var/cache/apt/archives bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
  "$mirror" "$mirror" >"$root/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Where this machine reaches the npm registry through a TLS proxy whose CA it trusts by
# NODE_EXTRA_CA_CERTS, the root gets the same trust (a machine on that network would
# have it configured too); nothing else of the host's configuration goes in.
ca_env=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/host-extra-ca.crt"
  ca_env=(--setenv NODE_EXTRA_CA_CERTS /etc/host-extra-ca.crt)
fi
echo "the root has: $(ls "$root/usr/bin" | wc -l) commands in /usr/bin; node: $(ls "$root/usr/bin/node" 2>/dev/null || echo none), g++: $(ls "$root/usr/bin/g++" 2>/dev/null || echo none), ip: $(ls "$root/usr/bin/ip" "$root/sbin/ip" 2>/dev/null || echo none)"

say "a fresh clone of $(git -C "$repo" rev-parse --short HEAD) into the root"
git clone -q "$repo" "$root/root/netplumb"

say "inside the root: scripts/setup.sh && npm test (the README's two commands)"
bwrap --bind "$root" / --dev /dev --proc /proc --bind /sys /sys \
  --bind /var/cache/apt/archives /var/cache/apt/archives \
  --unshare-pid --unshare-uts --unshare-ipc --die-with-parent \
  --clearenv --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --setenv HOME /root --setenv LANG C.UTF-8 --setenv CI "${CI:-true}" --setenv JOBS "${JOBS:-2}" "${ca_env[@]}" \
  --chdir /root/netplumb \
  bash -c 'set -e; scripts/setup.sh; hash -r; npm test' </dev/null
say "a fresh Debian 12 root passed with the README's two commands"
