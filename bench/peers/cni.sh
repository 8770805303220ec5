#!/bin/bash
# The reference CNI plugins invoked as a runtime does: the namespace first
# (`ip netns add`), then ADD of the bridge network (host-local IPAM) and of loopback,
# each with its config on stdin and CNI_* in the environment; DEL of both, then the
# namespace, for teardown.
#   cni.sh attach|teardown|bulk PLAN CNI_BIN NETNSDIR BRIDGE_CONF LOOPBACK_CONF
# Prints {"times":[ms,...]} on stdout, or for bulk {"startedAt":epoch_ms,"ms":total}
# (the plugins' results are discarded).
set -euo pipefail
mode=$1 plan=$2 bin=$3 dir=$4 conf=$5 loconf=$6
export CNI_PATH=$bin
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }

add() {
  ip netns add "$1"
  CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=eth0 "$bin/bridge" <"$conf" >/dev/null
  CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=lo "$bin/loopback" <"$loconf" >/dev/null
}

del() {
  CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=eth0 "$bin/bridge" <"$conf" >/dev/null
  CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=lo "$bin/loopback" <"$loconf" >/dev/null
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
bulk)
  # CNI has no bulk operation: a runtime calls DEL per container.
  t0=${EPOCHREALTIME/./}
  while read -r ns _; do del "$ns"; done <"$plan"
  printf '{"startedAt":'; emit "$t0"; printf ',"ms":'; sep=; emit $((${EPOCHREALTIME/./} - t0)); printf '}\n'
  ;;
*)
  echo "usage: $0 attach|teardown|bulk PLAN CNI_BIN NETNSDIR BRIDGE_CONF LOOPBACK_CONF" >&2
  exit 2
  ;;
esac
