#!/bin/bash
# The reference CNI plugins run as a runtime runs one conflist per container
# (bench/networks.mjs, peer cni). Every plugin is its own process, started as a runtime
# starts it: its config on stdin, CNI_* in the environment.
#   ADD: ip netns add; bridge (host-local IPAM, isDefaultGateway, ipMasq, hairpinMode);
#        with PORTS=1, portmap chained after it (runtimeConfig.portMappings, the
#        bridge's result as prevResult); loopback (lo up). The result is cached per
#        container, as libcni caches it, for DEL.
#   DEL: the chain in reverse order (portmap, bridge), each with the cached result as
#        prevResult (CNI >= 0.4); loopback; ip netns del. The cached result files are
#        left for the harness to remove (bash cannot unlink without a process).
# Bash builtins only between the processes (no subshell per step), so what is timed is
# the plugins and `ip` themselves.
#   cni.sh attach|teardown PLAN CNI_BIN NETNSDIR CONFDIR CACHEDIR PORTS
# plugins-attach and plugins-teardown (bench/cni.mjs) do the same but time the chain's
# plugin processes alone, bridge (+ host-local) and portmap, from the first one's start
# to the last one's exit: the namespace is made before and deleted after the clock, and
# loopback is left out (a runtime runs it whatever the network plugin).
# PLAN has "NS IP HOSTPORT" lines (IP unused: host-local chooses). Prints
# {"times":[ms,...]} on stdout.
set -euo pipefail
mode=$1 plan=$2 bin=$3 dir=$4 confdir=$5 cache=$6 ports=$7
export CNI_PATH=$bin
IFS= read -r -d '' bridge <"$confdir/bridge.json" || true
IFS= read -r -d '' loconf <"$confdir/loopback.json" || true
bridge=${bridge%$'\n'}
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }

# portmap's config for host port $1, with prevResult $2.
portmap_conf() {
  printf -v pm '{"cniVersion":"1.0.0","name":"bench","type":"portmap","capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[{"hostPort":%d,"containerPort":80,"protocol":"tcp"}]},"prevResult":%s}' "$1" "$2"
}

add() { # NS HOSTPORT
  ip netns add "$1"
  export CNI_CONTAINERID=$1 CNI_NETNS=$dir/$1 CNI_IFNAME=eth0 CNI_COMMAND=ADD
  local res
  res=$("$bin/bridge" <<<"$bridge")
  if [ "$ports" = 1 ]; then
    portmap_conf "$2" "$res"
    res=$("$bin/portmap" <<<"$pm")
  fi
  printf '%s' "$res" >"$cache/$1"
  CNI_IFNAME=lo "$bin/loopback" <<<"$loconf" >/dev/null
}

del() { # NS HOSTPORT
  export CNI_CONTAINERID=$1 CNI_NETNS=$dir/$1 CNI_IFNAME=eth0 CNI_COMMAND=DEL
  local res=
  IFS= read -r -d '' res <"$cache/$1" || true
  if [ "$ports" = 1 ]; then
    portmap_conf "$2" "$res"
    "$bin/portmap" <<<"$pm" >/dev/null
  fi
  "$bin/bridge" <<<"${bridge%\}},\"prevResult\":$res}" >/dev/null
  CNI_IFNAME=lo "$bin/loopback" <<<"$loconf" >/dev/null
  ip netns del "$1"
}

# The chain alone for one container, timed: $1 add|del, $2 NS, $3 HOSTPORT. Sets $took (us).
chain() {
  export CNI_CONTAINERID=$2 CNI_NETNS=$dir/$2 CNI_IFNAME=eth0
  local res= t0
  if [ "$1" = add ]; then
    export CNI_COMMAND=ADD
    t0=${EPOCHREALTIME/./}
    res=$("$bin/bridge" <<<"$bridge")
    if [ "$ports" = 1 ]; then
      portmap_conf "$3" "$res"
      res=$("$bin/portmap" <<<"$pm")
    fi
    took=$((${EPOCHREALTIME/./} - t0))
    printf '%s' "$res" >"$cache/$2"
  else
    export CNI_COMMAND=DEL
    IFS= read -r -d '' res <"$cache/$2" || true
    [ "$ports" = 1 ] && portmap_conf "$3" "$res"
    local bconf="${bridge%\}},\"prevResult\":$res}"
    t0=${EPOCHREALTIME/./}
    if [ "$ports" = 1 ]; then "$bin/portmap" <<<"$pm" >/dev/null; fi
    "$bin/bridge" <<<"$bconf" >/dev/null
    took=$((${EPOCHREALTIME/./} - t0))
  fi
}

case $mode in
plugins-attach | plugins-teardown)
  printf '{"times":['
  while read -r ns _ port; do
    if [ "$mode" = plugins-attach ]; then
      ip netns add "$ns"
      chain add "$ns" "$port"
    else
      chain del "$ns" "$port"
      ip netns del "$ns"
    fi
    emit "$took"
  done <"$plan"
  printf ']}\n'
  ;;
attach | teardown)
  op=add
  [ "$mode" = teardown ] && op=del
  printf '{"times":['
  while read -r ns _ port; do
    t0=${EPOCHREALTIME/./}
    $op "$ns" "$port"
    emit $((${EPOCHREALTIME/./} - t0))
  done <"$plan"
  printf ']}\n'
  ;;
*)
  echo "usage: $0 attach|teardown|plugins-attach|plugins-teardown PLAN CNI_BIN NETNSDIR CONFDIR CACHEDIR PORTS" >&2
  exit 2
  ;;
esac
