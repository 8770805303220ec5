# Sourced by ipv4.sh and ipv6.sh: the two overlay halves they measure, as the overlay
# driver made them before (the VXLAN device's proxy answering from its own neighbour
# table). `topology 4|6` builds, in the current sandbox:
#   h1, h2   hosts: bridge br0 (STP and multicast snooping off) + vx0 (VNI 42, learning
#            off, proxy on, flooding to the other host), joined by a veth (ul0)
#   c1 c3 c4 containers on h1 (addresses .2 .3 .4, MACs 02:00:00:00:00:02..04), c2 on h2
#            (.100, 02:00:00:00:00:64); IPv4 10.99.0.0/24 or IPv6 fd00::/64
#   cs       the other ends of N filler ports of h1's bridge, up, IPv6 off
# and the remote containers in each vx0's FDB and neighbour table. IPv6 link-local
# addresses are off everywhere (no DAD or MLD noise in the counters).
N=${N:-1000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

addr() { if [ "$FAMILY" = 4 ]; then echo "10.99.0.$1"; else printf 'fd00::%x\n' "$1"; fi; }
mac() { printf '02:00:00:00:00:%02x\n' "$1"; }

topology() {
  FAMILY=$1
  for n in h1 h2 cs c1 c2 c3 c4; do ip netns add $n; ip -n $n link set lo up; done
  ip netns exec cs sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  for n in h1 h2; do ip netns exec $n sysctl -q -w net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1; done
  ip -n h1 link add ul0 type veth peer name ul0 netns h2
  ip -n h1 addr add 192.168.90.1/24 dev ul0; ip -n h2 addr add 192.168.90.2/24 dev ul0
  ip -n h1 link set ul0 up; ip -n h2 link set ul0 up
  for h in 1 2; do
    ip -n h$h link add br0 type bridge stp_state 0 mcast_snooping 0
    ip -n h$h link add vx0 type vxlan id 42 local 192.168.90.$h dev ul0 dstport 4789 nolearning proxy
    ip -n h$h link set vx0 master br0 up; ip -n h$h link set br0 up
    bridge -n h$h fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.90.$((3 - h)) self permanent
  done
  container c1 h1 2; container c3 h1 3; container c4 h1 4; container c2 h2 100
  : > "$T/b1"; : > "$T/b2"
  i=0; while [ $i -lt "$N" ]; do
    echo "link add f$i type veth peer name g$i netns cs" >> "$T/b1"
    echo "link set f$i master br0 up" >> "$T/b1"
    echo "link set g$i up" >> "$T/b2"
    i=$((i + 1)); done
  ip -n h1 -batch "$T/b1"; ip -n cs -batch "$T/b2"
  remote h1 100 2; for x in 2 3 4; do remote h2 $x 1; done
}

# container NS HOST N: a container on HOST's bridge, address N, MAC N.
container() {
  ip -n $2 link add v$1 type veth peer name eth0 netns $1
  if [ "$FAMILY" = 4 ]; then
    ip netns exec $1 sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $1 link set eth0 address "$(mac $3)"
    ip -n $1 addr add "$(addr $3)/24" dev eth0
  else
    ip -n $1 link set eth0 address "$(mac $3)" addrgenmode none
    ip -n $1 addr add "$(addr $3)/64" dev eth0 nodad
  fi
  ip -n $1 link set eth0 up
  ip -n $2 link set v$1 master br0 up
}

# remote HOST N VTEP: container N, behind 192.168.90.VTEP, in HOST's vx0 tables.
remote() {
  ip -n $1 neigh add "$(addr $2)" lladdr "$(mac $2)" dev vx0 nud permanent
  bridge -n $1 fdb add "$(mac $2)" dev vx0 dst 192.168.90.$3 self permanent
}

# bridged HOST N PORT: container N known to HOST's bridge (the overlay as it is now):
# its neighbour entry on br0, its MAC static on PORT.
bridged() {
  ip -n $1 neigh add "$(addr $2)" lladdr "$(mac $2)" dev br0 nud permanent
  bridge -n $1 fdb replace "$(mac $2)" dev $3 master static
}

# flags HOST CONTAINER-PORT-FLAG VX-FLAG: a bridge-port flag on every port of HOST but
# vx0, another on vx0 (one ip -batch).
flags() {
  if [ $1 = h1 ]; then ports="vc1 vc3 vc4 $(i=0; while [ $i -lt "$N" ]; do printf 'f%d ' $i; i=$((i + 1)); done)"; else ports=vc2; fi
  : > "$T/b3"
  for p in $ports; do echo "link set $p type bridge_slave $2 on" >> "$T/b3"; done
  echo "link set vx0 type bridge_slave $3 on" >> "$T/b3"
  ip -n $1 -batch "$T/b3"
}

# stat NS DEV COUNTER; softdrop: the machine's backlog drops (softnet_stat, all CPUs).
stat() { ip netns exec $1 cat /sys/class/net/$2/statistics/$3; }
softdrop() { s=0; while read -r _ b _; do s=$((s + 0x$b)); done < /proc/net/softnet_stat; echo $s; }

# try LABEL FROM TO COUNT: COUNT pings FROM a container TO an address, the container's
# neighbour cache flushed before each; what was answered, vx0's drops on h1, what the
# bystander c4 and a filler port received, the backlog's drops.
try() {
  ok=0; k=0
  d0=$(stat h1 vx0 rx_dropped); b0=$(stat c4 eth0 rx_packets); g0=$(stat cs g7 rx_packets); s0=$(softdrop)
  while [ $k -lt $4 ]; do
    ip -n $2 neigh flush all
    if ip netns exec $2 ping -$FAMILY -c1 -W2 -q $3 >/dev/null 2>&1; then ok=$((ok + 1)); fi
    k=$((k + 1))
  done
  d1=$(stat h1 vx0 rx_dropped); b1=$(stat c4 eth0 rx_packets); g1=$(stat cs g7 rx_packets); s1=$(softdrop)
  echo "ipv$FAMILY $MODE N=$N $1: answered $ok/$4; h1 vx0 rx_dropped +$((d1 - d0)); bystander c4 rx +$((b1 - b0)); filler g7 rx +$((g1 - g0)); backlog dropped +$((s1 - s0))"
}
