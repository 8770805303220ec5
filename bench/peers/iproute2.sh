#!/bin/bash
# iproute2 as shell scripts use it: one `ip` process per step (and for the published-port
# workload one `nft` process per publish and per unpublish).
#   iproute2.sh attach PLAN BRIDGE GATEWAY PORTBASE | teardown PLAN PORTBASE | bulk PLAN PORTBASE
# PLAN: "NS VETH CIDR" a line. PORTBASE 0: no ports; else container i publishes tcp
# PORTBASE+i to its port 80 in netplumb's table (the harness made it). Prints
# {"times":[ms,...]} on stdout, or for bulk {"startedAt":epoch_ms,"ms":total}.
set -euo pipefail
mode=$1 plan=$2
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }
# The two elements a published port is (see Firewall.portElements), one nft process.
publish() { nft "$1 element inet netplumb dnat4_any { tcp . $2 ${4:+: $3 . 80} }; $1 element inet netplumb pub4 { $3 . tcp . 80 }"; }

case $mode in
attach)
  bridge=$3 gw=$4 ports=$5 i=0
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
    [ "$ports" = 0 ] || publish add $((ports + i)) "${cidr%/*}" data
    emit $((${EPOCHREALTIME/./} - t0))
    i=$((i + 1))
  done <"$plan"
  printf ']}\n'
  ;;
teardown)
  ports=$3 i=0
  printf '{"times":['
  while read -r ns veth cidr; do
    t0=${EPOCHREALTIME/./}
    [ "$ports" = 0 ] || publish delete $((ports + i)) "${cidr%/*}"
    ip link del "$veth"
    ip netns del "$ns"
    emit $((${EPOCHREALTIME/./} - t0))
    i=$((i + 1))
  done <"$plan"
  printf ']}\n'
  ;;
bulk)
  # The one bulk command iproute2 has: every namespace goes, their veths with them
  # (in the background: the harness waits for the links to disappear); the ports go
  # with one `nft flush` of both sets.
  ports=$3
  t0=${EPOCHREALTIME/./}
  [ "$ports" = 0 ] || nft 'flush map inet netplumb dnat4_any; flush set inet netplumb pub4'
  ip -all netns delete >/dev/null
  printf '{"startedAt":'; emit "$t0"; printf ',"ms":'; sep=; emit $((${EPOCHREALTIME/./} - t0)); printf '}\n'
  ;;
*)
  echo "usage: $0 attach PLAN BRIDGE GATEWAY PORTBASE | teardown PLAN PORTBASE | bulk PLAN PORTBASE" >&2
  exit 2
  ;;
esac
