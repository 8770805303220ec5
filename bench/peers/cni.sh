#!/bin/bash
# The reference CNI plugins invoked as a runtime does: the namespace first
# (`ip netns add`), then ADD of the bridge network (host-local IPAM) and of loopback,
# each with its config on stdin and CNI_* in the environment; DEL of both, then the
# namespace, for teardown. With PORTBASE (the published-port workload) the portmap
# plugin is chained after bridge, as a runtime runs a conflist: its config carries
# runtimeConfig.portMappings (tcp PORTBASE+i to 80) and the bridge's result as
# prevResult; DEL runs it first.
#   cni.sh attach|teardown|bulk PLAN CNI_BIN NETNSDIR BRIDGE_CONF LOOPBACK_CONF PORTBASE
# Prints {"times":[ms,...]} on stdout, or for bulk {"startedAt":epoch_ms,"ms":total}
# (the plugins' results are discarded).
set -euo pipefail
mode=$1 plan=$2 bin=$3 dir=$4 conf=$5 loconf=$6 ports=${7:-0}
export CNI_PATH=$bin
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }

# portmap's config for container $1's port $2, with prevResult $3 (ADD) or none (DEL).
portmap_conf() {
  printf '{"cniVersion":"1.0.0","name":"bench","type":"portmap","capabilities":{"portMappings":true},'
  printf '"runtimeConfig":{"portMappings":[{"hostPort":%d,"containerPort":80,"protocol":"tcp"}]}' "$2"
  [ -z "${3:-}" ] || printf ',"prevResult":%s' "$3"
  printf '}'
}

add() {
  ip netns add "$1"
  local res
  res=$(CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=eth0 "$bin/bridge" <"$conf")
  if [ "$ports" != 0 ]; then
    portmap_conf "$1" "$2" "$res" | CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=eth0 "$bin/portmap" >/dev/null
  fi
  CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=lo "$bin/loopback" <"$loconf" >/dev/null
}

del() {
  if [ "$ports" != 0 ]; then
    portmap_conf "$1" "$2" | CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=eth0 "$bin/portmap" >/dev/null
  fi
  CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=eth0 "$bin/bridge" <"$conf" >/dev/null
  CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$dir/$1" CNI_IFNAME=lo "$bin/loopback" <"$loconf" >/dev/null
  ip netns del "$1"
}

case $mode in
attach | teardown)
  op=add
  [ "$mode" = teardown ] && op=del
  i=0
  printf '{"times":['
  while read -r ns _; do
    t0=${EPOCHREALTIME/./}
    $op "$ns" $((ports + i))
    emit $((${EPOCHREALTIME/./} - t0))
    i=$((i + 1))
  done <"$plan"
  printf ']}\n'
  ;;
bulk)
  # CNI has no bulk operation: a runtime calls DEL per container.
  i=0
  t0=${EPOCHREALTIME/./}
  while read -r ns _; do
    del "$ns" $((ports + i))
    i=$((i + 1))
  done <"$plan"
  printf '{"startedAt":'; emit "$t0"; printf ',"ms":'; sep=; emit $((${EPOCHREALTIME/./} - t0)); printf '}\n'
  ;;
*)
  echo "usage: $0 attach|teardown|bulk PLAN CNI_BIN NETNSDIR BRIDGE_CONF LOOPBACK_CONF PORTBASE" >&2
  exit 2
  ;;
esac
