#!/bin/bash
# The netplumb CNI plugin run as a runtime runs it, timed from the process's start to its
# exit (bench/cni.mjs): bash builtins between the processes, as bench/model/cni.sh does
# for the reference chain, so what is timed is the plugin itself.
#   cni-netplumb.sh attach|teardown PLAN PLUGIN NETNSDIR CONF PORTS
#     attach: ip netns add (untimed); ADD with runtimeConfig.portMappings (timed)
#     teardown: DEL (timed); ip netns del (untimed)
#   cni-netplumb.sh start N CMD...   CMD run N times (its start-up cost), CNI_COMMAND=VERSION
# PLAN has "NS IP HOSTPORT" lines. CONF is the plugin's config (one line of JSON). Prints
# {"times":[ms,...]} on stdout.
set -euo pipefail
mode=$1
sep=
emit() { printf '%s%d.%03d' "$sep" $(($1 / 1000)) $(($1 % 1000)); sep=,; }

if [ "$mode" = start ]; then
  n=$2
  shift 2
  export CNI_COMMAND=VERSION
  printf '{"times":['
  for ((i = 0; i < n; i++)); do
    t0=${EPOCHREALTIME/./}
    "$@" </dev/null >/dev/null
    emit $((${EPOCHREALTIME/./} - t0))
  done
  printf ']}\n'
  exit 0
fi

plan=$2 plugin=$3 dir=$4 conffile=$5 ports=$6
IFS= read -r -d '' conf <"$conffile" || true
conf=${conf%$'\n'}
export CNI_PATH=/opt/cni/bin CNI_IFNAME=eth0
# The plugin's answer goes to a file (no subshell on the timed path), shown when it fails.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "netplumb plugin $CNI_COMMAND $CNI_CONTAINERID failed:" >&2; cat "$out" >&2; exit 1; }
printf '{"times":['
while read -r ns _ port; do
  export CNI_CONTAINERID=$ns CNI_NETNS=$dir/$ns
  c=$conf
  [ "$ports" = 1 ] && printf -v c '%s,"runtimeConfig":{"portMappings":[{"hostPort":%d,"containerPort":80,"protocol":"tcp"}]}}' "${conf%\}}" "$port"
  if [ "$mode" = attach ]; then
    ip netns add "$ns"
    export CNI_COMMAND=ADD
    t0=${EPOCHREALTIME/./}
    "$plugin" <<<"$c" >"$out" || fail
    emit $((${EPOCHREALTIME/./} - t0))
  else
    export CNI_COMMAND=DEL
    t0=${EPOCHREALTIME/./}
    "$plugin" <<<"$c" >"$out" || fail
    emit $((${EPOCHREALTIME/./} - t0))
    ip netns del "$ns"
  fi
done <"$plan"
printf ']}\n'
