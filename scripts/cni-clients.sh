#!/bin/bash
# The netplumb CNI plugin under real, unmodified CNI clients: Podman 4.3 with its CNI
# backend and containerd 1.6's `ctr run --cni`, each driving dist/cni/netplumb (symlinked
# into the client's plugin directory) with examples/cni/netplumb.conflist, the plugin
# forwarding to a `netplumb daemon` on the default socket.
#
#   scripts/cni-clients.sh [podman] [containerd]      (both when none is named; as root)
#
# The clients need real root (mounts, cgroups), so this runs as root inside a sandbox of
# its own: `unshare --net --mount --pid --fork` (a private network, mount and pid
# namespace) with tmpfs over everything the clients write (/run, /var/lib/containers,
# /var/lib/containerd, /etc/cni, /var/lib/cni, /opt/cni, /var/tmp). The machine's own
# network is never touched: the sandbox's namespace plays the host, and an "outside"
# namespace joined to it by a veth plays a client on another machine. crun refuses the
# machine's hybrid cgroup layout, so the unified hierarchy is unmounted in the sandbox's
# private mount namespace (the machine keeps it) and Podman runs with --cgroups disabled;
# containerd's runc makes cgroups, under /netplumb-cni-test-PID only, removed at the end.
#
# Checks, each one line (ok / FAIL), then "N passed, M failed":
#   podman:     VERSION asked of the plugin; a conflist whose cniVersion the plugin does
#               not list refused; two containers get addresses of the subnet, ping each
#               other and the gateway, resolve each other by name through the daemon's
#               resolver; a published port (-p, runtimeConfig.portMappings) answers from
#               outside and from the other container; after removal no link, rule, set
#               element, lease or record is left: the ruleset and the host's links are
#               exactly as before the containers
#   containerd: two containers get addresses, ping each other and the gateway; ctr's DEL
#               comes with an empty CNI_NETNS and removes the attachment; nothing is left
#               (the same comparisons)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "${NETPLUMB_CNI_SANDBOX:-}" != 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/cni-clients.sh: run as root (the clients need real root; everything happens in a private sandbox)" >&2
    exit 1
  fi
  [ -x "$ROOT/dist/cni/netplumb" ] || { echo "scripts/cni-clients.sh: $ROOT/dist/cni/netplumb is missing: npm run build" >&2; exit 1; }
  exec env NETPLUMB_CNI_SANDBOX=1 unshare --net --mount --pid --fork --propagation private "$0" "$@"
fi

clients=("$@")
[ ${#clients[@]} -eq 0 ] && clients=(podman containerd)
export PATH="$(dirname "$(command -v node)"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
passed=0
failed=0
check() { # DESCRIPTION COMMAND...
  local what=$1
  shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    printf 'ok    %s\n' "$what"
  else
    failed=$((failed + 1))
    printf 'FAIL  %s\n%s\n' "$what" "$(printf '%s' "$out" | tail -n 15 | sed 's/^/      /')"
  fi
}
# Polls COMMAND for up to 2 s (the daemon reaps links in batches within 200 ms).
eventually() {
  local i
  for i in $(seq 40); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
  "$@"
}

# --- the sandbox -------------------------------------------------------------------------
mount -t proc proc /proc
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
W=/tmp/netplumb-cni-clients
for d in /run /var/lib/containers /var/lib/containerd /etc/cni /var/lib/cni /opt/cni /var/tmp "$W"; do
  mkdir -p "$d"
  mount -t tmpfs -o mode=755 netplumb-cni "$d"
done
export TMPDIR=/var/tmp
mkdir -p /run/netns /etc/cni/net.d /opt/cni/bin "$W/img/bin" "$W/img/www" "$W/img/etc"
ip link set lo up
# The host's uplink to "outside" (another machine) and its default route.
ip netns add outside
ip link add uplink type veth peer name eth0 netns outside
ip addr add 192.0.2.1/24 dev uplink
ip link set uplink up
ip -n outside addr add 192.0.2.2/24 dev eth0
ip -n outside link set eth0 up
ip -n outside link set lo up
ip route add default via 192.0.2.2
HOST_IP=192.0.2.1

# The plugin, linked into the clients' plugin directory as the docs say.
ln -s "$ROOT/dist/cni/netplumb" /opt/cni/bin/netplumb
cp "$ROOT/examples/cni/netplumb.conflist" /etc/cni/net.d/10-netplumb.conflist
NET=$(node -p "JSON.parse(require('fs').readFileSync('$ROOT/examples/cni/netplumb.conflist','utf8')).name")
SUBNET=$(node -p "JSON.parse(require('fs').readFileSync('$ROOT/examples/cni/netplumb.conflist','utf8')).plugins[0].subnet")
GW=${SUBNET%.0/*}.1
PREFIX=${SUBNET%.0/*}.

# A busybox image made offline from Debian's busybox-static.
cp "$(command -v busybox)" "$W/img/bin/busybox"
for a in sh ping nc ip httpd sleep cat echo nslookup printf grep true; do ln -s busybox "$W/img/bin/$a"; done
echo netplumb-ok >"$W/img/www/index.html"

# The daemon on the default socket (/run/netplumb/netplumb.sock: the plugin's default).
node "$ROOT/dist/cli.js" daemon --state-dir /var/lib/netplumb 2>"$W/daemon.log" &
DAEMON=$!
for i in $(seq 100); do [ -S /run/netplumb/netplumb.sock ] && break; sleep 0.05; done

cleanup() {
  kill "$DAEMON" 2>/dev/null
  wait "$DAEMON" 2>/dev/null
  if [ -n "${CONTAINERD:-}" ]; then kill "$CONTAINERD" 2>/dev/null; wait "$CONTAINERD" 2>/dev/null; fi
  # runc's cgroups of the containerd containers: only under our own prefix (below each
  # v1 controller, or at the top of a v2 hierarchy).
  for c in /sys/fs/cgroup/*/"netplumb-cni-test-$$" /sys/fs/cgroup/"netplumb-cni-test-$$"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
  done
}
trap cleanup EXIT

# The kernel and the state, as an independent observer sees them.
ep_links() { ip -j link show | node -e "const l=JSON.parse(require('fs').readFileSync(0,'utf8'));console.log(l.filter(x=>(x.ifalias||'').startsWith('netplumb:ep:')).length)"; }
dnat_elements() { nft -j list map inet netplumb dnat4_any | node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')).nftables;const m=j.find(o=>o.map);console.log((m.map.elem||[]).length)"; }
state_rows() { node -e "
  const { DatabaseSync } = require('node:sqlite');
  const db = new DatabaseSync('/var/lib/netplumb/netplumb.db', { readOnly: true });
  const n = (t) => db.prepare('SELECT count(*) AS n FROM ' + t).get().n;
  console.log([n('endpoints'), n('leases'), n('ports')].join(' '));" 2>/dev/null; }
nothing_left() {
  [ "$(ep_links)" = 0 ] || { echo "endpoint links left: $(ep_links)"; return 1; }
  [ "$(dnat_elements)" = 0 ] || { echo "published-port elements left: $(dnat_elements)"; return 1; }
  [ "$(state_rows)" = "0 0 0" ] || { echo "state rows (endpoints leases ports): $(state_rows)"; return 1; }
  # The record: nothing of the network left in the resolver's source (the endpoints), and
  # the daemon's own view agrees.
  local eps
  eps=$(node "$ROOT/dist/cli.js" network inspect "$NET" --json | node -e "console.log(JSON.parse(require('fs').readFileSync(0,'utf8'))[0].endpoints.length)")
  [ "$eps" = 0 ] || { echo "endpoints in the daemon: $eps"; return 1; }
}
# The ruleset and the host's links as text, handles and counters left out: compared before
# the containers and after their removal, so that no rule, chain, set element or link of
# theirs can stay behind unnoticed.
kernel_snapshot() {
  nft -j list ruleset | node -e "
    const j = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    console.log(JSON.stringify(j, (k, v) => (k === 'handle' || k === 'counter' || k === 'metainfo' ? undefined : v), 1))"
  ip -o link show | awk '{print $2}' | sort
}
same_as_before() { # FILE
  local now
  now=$(kernel_snapshot)
  [ "$now" = "$(cat "$1")" ] || { diff <(cat "$1") <(echo "$now") | head -20; return 1; }
}
in_subnet() { case $1 in "$PREFIX"*) return 0 ;; *) echo "$1 is not in $SUBNET"; return 1 ;; esac; }
logged() { grep -q "$1" "$W/daemon.log" || { echo "not in the daemon's log: $1"; return 1; }; }
http_get() { printf 'GET / HTTP/1.0\r\n\r\n' | "$@" | grep -q netplumb-ok; }

# --- Podman 4.3, CNI backend ---------------------------------------------------------------
run_podman() {
  echo "== podman $(podman --version | awk '{print $3}') (network_backend = \"cni\")"
  cat >"$W/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "crun"
[network]
network_backend = "cni"
cni_plugin_dirs = ["/opt/cni/bin"]
network_config_dir = "/etc/cni/net.d"
EOF
  export CONTAINERS_CONF="$W/containers.conf"
  P=(podman --root /var/lib/containers/storage --runroot /run/containers/storage --storage-driver vfs)
  tar -C "$W/img" -cf "$W/img.tar" .
  check "podman import of a busybox-static image" "${P[@]}" import "$W/img.tar" localhost/netplumb-busybox:1
  check "podman sees the conflist's network" sh -c "$(printf '%q ' "${P[@]}") network ls --format '{{.Name}}' | grep -qx $NET"
  RUN=("${P[@]}" run -d --cgroups disabled --stop-signal KILL --network "$NET")
  # One container run and removed first: the network exists (made by its ADD) and the
  # kernel's state without containers is what to come back to.
  check "a first container runs and is removed (the network made on its ADD)" "${P[@]}" run --rm --cgroups disabled --network "$NET" localhost/netplumb-busybox:1 true
  eventually nothing_left >/dev/null
  kernel_snapshot >"$W/podman-before"
  check "container c1 (httpd, -p 8080:80) starts" "${RUN[@]}" --name c1 -p 8080:80 localhost/netplumb-busybox:1 httpd -f -p 80 -h /www
  check "container c2 starts" "${RUN[@]}" --name c2 localhost/netplumb-busybox:1 sleep 3600
  check "podman asked the plugin VERSION" logged '"cni":"VERSION"'
  IP1=$("${P[@]}" inspect c1 --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}")
  IP2=$("${P[@]}" inspect c2 --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}")
  NS1=$("${P[@]}" inspect c1 --format '{{.NetworkSettings.SandboxKey}}')
  check "c1 has an address of $SUBNET ($IP1)" in_subnet "$IP1"
  check "c2 has an address of $SUBNET ($IP2)" in_subnet "$IP2"
  check "podman's -p 8080:80 reached the plugin (runtimeConfig.portMappings): nft maps tcp . 8080 to $IP1 . 80" sh -c "nft list map inet netplumb dnat4_any | grep -q 'tcp . 8080 : $IP1 . 80'"
  check "c1's namespace holds $IP1 on eth0 (ip, not podman)" sh -c "nsenter --net=$NS1 ip -4 -o addr show dev eth0 | grep -q ' $IP1/'"
  check "c2 pings c1" "${P[@]}" exec c2 ping -c1 -W2 "$IP1"
  check "c1 pings c2" "${P[@]}" exec c1 ping -c1 -W2 "$IP2"
  check "c2 pings the gateway $GW" "${P[@]}" exec c2 ping -c1 -W2 "$GW"
  check "the published port answers from outside ($HOST_IP:8080)" http_get ip netns exec outside socat -T3 - "TCP:$HOST_IP:8080,connect-timeout=2"
  check "the published port answers from c2 ($HOST_IP:8080)" http_get "${P[@]}" exec -i c2 nc -w 3 "$HOST_IP" 8080
  check "c2 resolves c1 through the daemon's resolver on $GW" sh -c "$(printf '%q ' "${P[@]}") exec c2 nslookup c1 $GW | grep -q '$IP1'"
  # A conflist of a version the plugin's VERSION does not list: refused by podman (libcni).
  sed -e 's/"cniVersion": "1.0.0"/"cniVersion": "0.3.1"/' -e "s/\"name\": \"$NET\"/\"name\": \"old\"/" -e 's#10.89.0.0/24#10.89.9.0/24#' \
    "$ROOT/examples/cni/netplumb.conflist" >/etc/cni/net.d/20-old.conflist
  refused_old() {
    local out
    if out=$("${P[@]}" run --cgroups disabled --network old --name c3 localhost/netplumb-busybox:1 true 2>&1); then
      echo "podman ran a container on a 0.3.1 conflist"
      return 1
    fi
    echo "$out"
    echo "$out" | grep -q 'does not support config version' || return 1
    echo "$out" | head -n 3 >"$W/refused.txt"
  }
  check "a conflist at cniVersion 0.3.1 is refused (the plugin's VERSION lists 0.4.0..1.1.0)" refused_old
  [ -s "$W/refused.txt" ] && sed 's/^/      podman: /' "$W/refused.txt"
  "${P[@]}" rm -f c3 >/dev/null 2>&1
  rm -f /etc/cni/net.d/20-old.conflist
  check "podman rm -f c1 c2" "${P[@]}" rm -f -t 0 c1 c2
  check "podman's DEL reached the plugin" logged '"cni":"DEL"'
  check "after removal: no link, rule element, lease, port or record left" eventually nothing_left
  check "after removal: the ruleset and the host's links exactly as before the containers" eventually same_as_before "$W/podman-before"
}

# --- containerd 1.6, ctr run --cni ----------------------------------------------------------
run_containerd() {
  echo "== containerd $(containerd --version | awk '{print $3}') (ctr run --cni)"
  cat >"$W/containerd.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "/run/containerd/containerd.sock"
EOF
  containerd --config "$W/containerd.toml" >"$W/containerd.log" 2>&1 &
  CONTAINERD=$!
  for i in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.05; done
  eventually nothing_left >/dev/null
  kernel_snapshot >"$W/containerd-before"
  mkdir -p "$W/rootfs1" "$W/rootfs2"
  cp -a "$W/img/." "$W/rootfs1/"
  cp -a "$W/img/." "$W/rootfs2/"
  # In the foreground (as a shell job): ctr itself runs the CNI DEL when its task ends.
  CG="/netplumb-cni-test-$$"
  ctr run --rootfs --cni --cgroup "$CG/ct1" "$W/rootfs1" ct1 /bin/httpd -f -p 80 -h /www >"$W/ct1.log" 2>&1 &
  CT1=$!
  ctr run --rootfs --cni --cgroup "$CG/ct2" "$W/rootfs2" ct2 /bin/sleep 3600 >"$W/ct2.log" 2>&1 &
  CT2=$!
  ctr_ip() { ctr task exec --exec-id "ip$RANDOM" "$1" /bin/ip -4 -o addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'; }
  for i in $(seq 100); do [ -n "$(ctr_ip ct1 2>/dev/null)" ] && [ -n "$(ctr_ip ct2 2>/dev/null)" ] && break; sleep 0.1; done
  IP1=$(ctr_ip ct1)
  IP2=$(ctr_ip ct2)
  check "ct1 has an address of $SUBNET (${IP1:-none})" in_subnet "${IP1:-none}"
  check "ct2 has an address of $SUBNET (${IP2:-none})" in_subnet "${IP2:-none}"
  check "ct2 pings ct1" ctr task exec --exec-id p1 ct2 /bin/ping -c1 -W2 "$IP1"
  check "ct1 pings ct2" ctr task exec --exec-id p2 ct1 /bin/ping -c1 -W2 "$IP2"
  check "ct2 pings the gateway $GW" ctr task exec --exec-id p3 ct2 /bin/ping -c1 -W2 "$GW"
  check "ct2 reaches ct1's httpd" http_get ctr task exec --exec-id h1 ct2 /bin/nc -w 3 "$IP1" 80
  ctr task kill -s KILL ct1 >/dev/null
  ctr task kill -s KILL ct2 >/dev/null
  wait "$CT1" "$CT2" 2>/dev/null
  ctr container rm ct1 ct2 >/dev/null 2>&1
  check "ctr's DEL came with an empty CNI_NETNS and succeeded" node -e "
    const l=require('fs').readFileSync('$W/daemon.log','utf8').split('\n').filter(Boolean).map(JSON.parse);
    const del=l.filter(r=>r.cni==='DEL'&&(r.container==='ct1'||r.container==='default-ct1'||String(r.container).endsWith('ct1')));
    if(!del.length||!del.every(r=>r.netns===''&&r.exit===0)) { console.log(JSON.stringify(l.filter(r=>r.cni))); process.exit(1) }"
  check "after removal: no link, rule element, lease, port or record left" eventually nothing_left
  check "after removal: the ruleset and the host's links exactly as before the containers" eventually same_as_before "$W/containerd-before"
}

for c in "${clients[@]}"; do
  case $c in
  podman) run_podman ;;
  containerd) run_containerd ;;
  *) echo "unknown client $c (podman, containerd)" >&2; exit 2 ;;
  esac
done
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
