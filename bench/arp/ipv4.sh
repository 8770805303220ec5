#!/bin/sh
# The measurement that chose how the overlay answers ARP (docs/overlay.md), with iproute2
# only: two hosts' overlay halves (bridge br0 + VXLAN vx0, proxy on, learning off) joined
# by a veth; on h1, containers c1 (asks), c3 (a local target), c4 (a bystander) and N
# filler ports (veth ends in one namespace, cs); on h2, c2 (a remote target). Run in the
# sandbox:  node scripts/in-netns.mjs sh bench/arp/ipv4.sh MODE   (N=1000 by default)
#
#   base  as before: remote addresses in vx0's neighbour table (its proxy answers), the
#         bridge floods every ARP
#   wifi  proxy_arp_wifi on every port; the bridge's neighbour table holds the endpoints,
#         its FDB their MACs (static: local on their veth, remote on vx0)   <- chosen
#   supp  as wifi, but neigh_suppress instead of proxy_arp_wifi on vx0
#   parp  proxy_arp on the container ports (the asking side), proxy_arp_wifi on vx0
#
# Each line: pings answered (the neighbour cache flushed before each), vx0's rx_dropped,
# what a bystander container and a filler port received, the machine's backlog drops;
# then raw ARP requests from c3 (gratuitous, probe, for unknown and known addresses) and
# what c4 received of them.
set -e
N=${N:-1000}
MODE=${1:-base}
T=$(mktemp -d)
HERE=$(cd "$(dirname "$0")" && pwd)
ip netns add h1; ip netns add h2; ip netns add cs; ip netns add c1; ip netns add c2; ip netns add c3; ip netns add c4
for n in h1 h2 cs c1 c2 c3 c4; do ip -n $n link set lo up; ip netns exec $n sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
ip -n h1 link add ul0 type veth peer name ul0 netns h2
ip -n h1 addr add 192.168.90.1/24 dev ul0; ip -n h2 addr add 192.168.90.2/24 dev ul0
ip -n h1 link set ul0 up; ip -n h2 link set ul0 up
for h in 1 2; do
  o=$((3-h))
  ip -n h$h link add br0 type bridge stp_state 0 mcast_snooping 0
  ip -n h$h link set br0 addrgenmode none
  ip -n h$h link add vx0 type vxlan id 42 local 192.168.90.$h dev ul0 dstport 4789 nolearning proxy
  ip -n h$h link set vx0 master br0 up
  ip -n h$h link set br0 up
  bridge -n h$h fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.90.$o self permanent
done
mkc() { # ns host ip mac
  ip -n $2 link add v$1 type veth peer name eth0 netns $1
  ip -n $1 link set eth0 address $4
  ip -n $1 addr add $3/24 dev eth0
  ip -n $1 link set eth0 up
  ip -n $2 link set v$1 master br0 up
}
mkc c1 h1 10.99.0.2 02:00:00:00:00:02
mkc c3 h1 10.99.0.3 02:00:00:00:00:03
mkc c4 h1 10.99.0.4 02:00:00:00:00:04
mkc c2 h2 10.99.0.100 02:00:00:00:00:64
: > $T/b1; : > $T/b2
i=0; while [ $i -lt $N ]; do
  echo "link add f$i type veth peer name g$i netns cs" >> $T/b1
  echo "link set f$i master br0 up" >> $T/b1
  echo "link set g$i up" >> $T/b2
  i=$((i+1)); done
ip -n h1 -batch $T/b1; ip -n cs -batch $T/b2
# remote endpoints, as today
ip -n h1 neigh add 10.99.0.100 lladdr 02:00:00:00:00:64 dev vx0 nud permanent
bridge -n h1 fdb add 02:00:00:00:00:64 dev vx0 dst 192.168.90.2 self permanent
for x in 2 3 4; do
  ip -n h2 neigh add 10.99.0.$x lladdr 02:00:00:00:00:0$x dev vx0 nud permanent
  bridge -n h2 fdb add 02:00:00:00:00:0$x dev vx0 dst 192.168.90.1 self permanent
done
ports_h1="vc1 vc3 vc4 $(i=0; while [ $i -lt $N ]; do printf 'f%d ' $i; i=$((i+1)); done)"
bridged() { # host: the entries the bridge needs, and flags
  h=$1; shift
  if [ $h = h1 ]; then
    ip -n h1 neigh add 10.99.0.100 lladdr 02:00:00:00:00:64 dev br0 nud permanent
    bridge -n h1 fdb add 02:00:00:00:00:64 dev vx0 master static
    ip -n h1 neigh add 10.99.0.3 lladdr 02:00:00:00:00:03 dev br0 nud permanent
    bridge -n h1 fdb add 02:00:00:00:00:03 dev vc3 master static
    ip -n h1 neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev br0 nud permanent
    bridge -n h1 fdb add 02:00:00:00:00:02 dev vc1 master static
  else
    for x in 2 3 4; do
      ip -n h2 neigh add 10.99.0.$x lladdr 02:00:00:00:00:0$x dev br0 nud permanent
      bridge -n h2 fdb add 02:00:00:00:00:0$x dev vx0 master static
    done
    ip -n h2 neigh add 10.99.0.100 lladdr 02:00:00:00:00:64 dev br0 nud permanent
    bridge -n h2 fdb add 02:00:00:00:00:64 dev vc2 master static
  fi
}
setflags() { # host cports-flag vx-flag
  h=$1; cf=$2; vf=$3
  if [ $h = h1 ]; then ports=$ports_h1; else ports=vc2; fi
  : > $T/b3
  for p in $ports; do echo "link set $p type bridge_slave $cf on" >> $T/b3; done
  echo "link set vx0 type bridge_slave $vf on" >> $T/b3
  ip -n $h -batch $T/b3
}
case $MODE in
  base) ;;
  wifi) bridged h1; bridged h2; setflags h1 proxy_arp_wifi proxy_arp_wifi; setflags h2 proxy_arp_wifi proxy_arp_wifi ;;
  supp) bridged h1; bridged h2; setflags h1 proxy_arp_wifi neigh_suppress; setflags h2 proxy_arp_wifi neigh_suppress ;;
  parp) bridged h1; bridged h2; setflags h1 proxy_arp proxy_arp_wifi; setflags h2 proxy_arp proxy_arp_wifi ;;
esac
sleep 1
stat() { # label
  ip netns exec $1 cat /sys/class/net/$2/statistics/$3
}
softdrop() { s=0; while read a b rest; do s=$((s + 0x$b)); done < /proc/net/softnet_stat; echo $s; }
try() { # label src dst count
  ok=0; k=0
  d0=$(stat h1 vx0 rx_dropped); b0=$(stat c4 eth0 rx_packets); g0=$(stat cs g7 rx_packets); s0=$(softdrop)
  while [ $k -lt $4 ]; do
    ip -n $2 neigh flush all
    if ip netns exec $2 ping -c1 -W2 -q $3 >/dev/null 2>&1; then ok=$((ok+1)); fi
    k=$((k+1))
  done
  d1=$(stat h1 vx0 rx_dropped); b1=$(stat c4 eth0 rx_packets); g1=$(stat cs g7 rx_packets); s1=$(softdrop)
  echo "$MODE N=$N $1: answered $ok/$4; h1 vx0 rx_dropped +$((d1-d0)); bystander c4 rx +$((b1-b0)); filler g7 rx +$((g1-g0)); softnet dropped +$((s1-s0))"
}
try "c1 -> remote c2" c1 10.99.0.100 10
try "c1 -> local c3 " c1 10.99.0.3 10
try "c1 -> unknown 10.99.0.77" c1 10.99.0.77 2
try "c2 -> c1 (remote side)" c2 10.99.0.2 10
# a broadcast from c2 (remote): does c1 get it? (ping -b to subnet broadcast)
b0=$(stat c1 eth0 rx_packets); g0=$(stat cs g7 rx_packets); s0=$(softdrop)
ip netns exec c2 ping -b -c2 -W1 -q 10.99.0.255 >/dev/null 2>&1 || true
b1=$(stat c1 eth0 rx_packets); g1=$(stat cs g7 rx_packets); s1=$(softdrop)
echo "$MODE N=$N 2 broadcasts from remote c2: c1 rx +$((b1-b0)), filler g7 rx +$((g1-g0)); softnet dropped +$((s1-s0))"
# ARP requests sent raw from c3: gratuitous for its known address, gratuitous for an
# unknown one, a probe (sip 0) for an unknown one, a request for the unknown one
for t in "10.99.0.3 10.99.0.3 gratuitous-known" "10.99.0.50 10.99.0.50 gratuitous-unknown" "0.0.0.0 10.99.0.51 probe-unknown" "10.99.0.3 10.99.0.52 request-unknown" "10.99.0.3 10.99.0.4 request-known-c4"; do
  set -- $t
  b0=$(stat c4 eth0 rx_packets)
  ip netns exec c3 python3 $HERE/arpsend.py eth0 02:00:00:00:00:03 $1 $2 3
  sleep 0.3
  b1=$(stat c4 eth0 rx_packets)
  echo "$MODE N=$N $3 from c3 (x3): bystander/target c4 rx +$((b1-b0))"
done
