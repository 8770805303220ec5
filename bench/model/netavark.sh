#!/bin/bash
# netavark run per container as Podman runs it (bench/networks.mjs, peer netavark):
#   setup:    ip netns add NS; netavark --config CONFIG setup /run/netns/NS, the
#             container's network options JSON on stdin (written beforehand, as Podman
#             builds it in memory: the network definition, the static IP Podman's own
#             IPAM chose, the port mappings).
#   teardown: netavark --config CONFIG teardown /run/netns/NS with the same JSON; ip netns del NS.
# Bash builtins only between the processes, so what is timed is netavark and `ip`.
#   netavark.sh attach|teardown PLAN NETAVARK NETNSDIR CONFIG JSONDIR
# PLAN has "NS IP HOSTPORT" lines. Prints {"times":[ms,...]} on stdout.
set -euo pipefail
mode=$1 plan=$2 nv=$3 dir=$4 config=$5 json=$6
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }

add() {
  ip netns add "$1"
  "$nv" --config "$config" setup "$dir/$1" <"$json/$1.json" >/dev/null
}

del() {
  "$nv" --config "$config" teardown "$dir/$1" <"$json/$1.json" >/dev/null
  ip netns del "$1"
}

case $mode in
attach | teardown)
  op=add
  [ "$mode" = teardown ] && op=del
  printf '{"times":['
  while read -r ns _; do
    t0=${EPOCHREALTIME/./}
    $op "$ns"
    emit $((${EPOCHREALTIME/./} - t0))
  done <"$plan"
  printf ']}\n'
  ;;
*)
  echo "usage: $0 attach|teardown PLAN NETAVARK NETNSDIR CONFIG JSONDIR" >&2
  exit 2
  ;;
esac
