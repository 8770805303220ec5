#!/bin/bash
# iproute2 as shell scripts use it: one `ip` process per step.
#   iproute2.sh attach PLAN BRIDGE GATEWAY | teardown PLAN | bulk PLAN
# PLAN: "NS VETH CIDR" a line. Prints {"times":[ms,...]} on stdout, or for bulk
# {"startedAt":epoch_ms,"ms":total}.
set -euo pipefail
mode=$1 plan=$2
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }

case $mode in
attach)
  bridge=$3 gw=$4
  printf '{"times":['
  while read -r ns veth cidr; do
    t0=${EPOCHREALTIME/./}
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$bridge" up
    ip -n "$ns" addr add "$cidr" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$gw"
    emit $((${EPOCHREALTIME/./} - t0))
  done <"$plan"
  printf ']}\n'
  ;;
teardown)
  printf '{"times":['
  while read -r ns veth cidr; do
    t0=${EPOCHREALTIME/./}
    ip link del "$veth"
    ip netns del "$ns"
    emit $((${EPOCHREALTIME/./} - t0))
  done <"$plan"
  printf ']}\n'
  ;;
bulk)
  # The one bulk command iproute2 has: every namespace goes, their veths with them
  # (in the background: the harness waits for the links to disappear).
  t0=${EPOCHREALTIME/./}
  ip -all netns delete >/dev/null
  printf '{"startedAt":'; emit "$t0"; printf ',"ms":'; sep=; emit $((${EPOCHREALTIME/./} - t0)); printf '}\n'
  ;;
*)
  echo "usage: $0 attach PLAN BRIDGE GATEWAY | teardown PLAN | bulk PLAN" >&2
  exit 2
  ;;
esac
