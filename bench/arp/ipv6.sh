#!/bin/sh
# IPv6 neighbour solicitations through the topology of ipv4.sh (overlays carry no IPv6
# yet: this is what an IPv6 overlay would need). Run in the sandbox:
#   node scripts/in-netns.mjs sh bench/arp/ipv6.sh MODE
#
#   base       as ipv4.sh's base: solicitations flooded, vx0's proxy answers remote ones
#              from its own nd table
#   supp       neigh_suppress on vx0, proxy_arp_wifi on the containers' ports; an nd entry
#              on the bridge for the remote c2 only: the bridge answers solicitations for
#              it (br_do_suppress_nd replies only for a target behind a neigh_suppress port)
#   supplocal  as supp, plus an nd entry on the bridge for the local c3: its solicitations
#              are taken as answered and flooded to nobody, c3 never answers (0/10)
set -e
N=${N:-1000}; MODE=${1:-base}
T=$(mktemp -d)
for n in h1 h2 cs c1 c2 c3 c4; do ip netns add $n; ip -n $n link set lo up; done
ip netns exec cs sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; for n in h1 h2; do ip netns exec $n sysctl -q -w net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1; done
ip -n h1 link add ul0 type veth peer name ul0 netns h2
ip -n h1 addr add 192.168.90.1/24 dev ul0; ip -n h2 addr add 192.168.90.2/24 dev ul0
ip -n h1 link set ul0 up; ip -n h2 link set ul0 up
for h in 1 2; do
  o=$((3-h))
  ip -n h$h link add br0 type bridge stp_state 0 mcast_snooping 0
  ip -n h$h link add vx0 type vxlan id 42 local 192.168.90.$h dev ul0 dstport 4789 nolearning proxy
  ip -n h$h link set vx0 master br0 up; ip -n h$h link set br0 up
  bridge -n h$h fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.90.$o self permanent
done
mkc() { # ns host v6 mac
  ip -n $2 link add v$1 type veth peer name eth0 netns $1
  ip -n $1 link set eth0 address $4 addrgenmode none
  ip -n $1 addr add $3/64 dev eth0 nodad
  ip -n $1 link set eth0 up
  ip -n $2 link set v$1 master br0 up
}
mkc c1 h1 fd00::2 02:00:00:00:00:02
mkc c3 h1 fd00::3 02:00:00:00:00:03
mkc c4 h1 fd00::4 02:00:00:00:00:04
mkc c2 h2 fd00::64 02:00:00:00:00:64
: > $T/b1; : > $T/b2
i=0; while [ $i -lt $N ]; do
  echo "link add f$i type veth peer name g$i netns cs" >> $T/b1
  echo "link set f$i master br0 up" >> $T/b1
  echo "link set g$i up" >> $T/b2
  i=$((i+1)); done
ip -n h1 -batch $T/b1; ip -n cs -batch $T/b2
ip -n h1 neigh add fd00::64 lladdr 02:00:00:00:00:64 dev vx0 nud permanent
bridge -n h1 fdb add 02:00:00:00:00:64 dev vx0 dst 192.168.90.2 self permanent
for x in 2 3 4; do
  ip -n h2 neigh add fd00::$x lladdr 02:00:00:00:00:0$x dev vx0 nud permanent
  bridge -n h2 fdb add 02:00:00:00:00:0$x dev vx0 dst 192.168.90.1 self permanent
done
if [ $MODE != base ]; then
  : > $T/b3
  for p in vc1 vc3 vc4 $(i=0; while [ $i -lt $N ]; do printf 'f%d ' $i; i=$((i+1)); done); do echo "link set $p type bridge_slave proxy_arp_wifi on" >> $T/b3; done
  echo "link set vx0 type bridge_slave neigh_suppress on" >> $T/b3
  ip -n h1 -batch $T/b3
  ip -n h2 link set vc2 type bridge_slave proxy_arp_wifi on; ip -n h2 link set vx0 type bridge_slave neigh_suppress on
  ip -n h1 neigh add fd00::64 lladdr 02:00:00:00:00:64 dev br0 nud permanent
  bridge -n h1 fdb replace 02:00:00:00:00:64 dev vx0 master static
  for x in 2 3 4; do
    ip -n h2 neigh add fd00::$x lladdr 02:00:00:00:00:0$x dev br0 nud permanent
    bridge -n h2 fdb replace 02:00:00:00:00:0$x dev vx0 master static
  done
  bridge -n h1 fdb replace 02:00:00:00:00:03 dev vc3 master static
  bridge -n h1 fdb replace 02:00:00:00:00:02 dev vc1 master static
  if [ $MODE = supplocal ]; then ip -n h1 neigh add fd00::3 lladdr 02:00:00:00:00:03 dev br0 nud permanent; fi
fi
sleep 1
stat() { ip netns exec $1 cat /sys/class/net/$2/statistics/$3; }
try() {
  ok=0; k=0
  d0=$(stat h1 vx0 rx_dropped); b0=$(stat c4 eth0 rx_packets); g0=$(stat cs g7 rx_packets)
  while [ $k -lt $4 ]; do
    ip -n $2 -6 neigh flush all
    if ip netns exec $2 ping -6 -c1 -W2 -q $3 >/dev/null 2>&1; then ok=$((ok+1)); fi
    k=$((k+1))
  done
  d1=$(stat h1 vx0 rx_dropped); b1=$(stat c4 eth0 rx_packets); g1=$(stat cs g7 rx_packets)
  echo "v6 $MODE N=$N $1: answered $ok/$4; h1 vx0 rx_dropped +$((d1-d0)); bystander c4 rx +$((b1-b0)); filler g7 rx +$((g1-g0))"
}
try "c1 -> remote c2" c1 fd00::64 10
try "c1 -> local c3 " c1 fd00::3 10
try "c1 -> unknown fd00::77" c1 fd00::77 2
