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
MODE=${1:-base}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"
topology 4
# The bridge's entries (the overlay as it is now): on h1 the remote c2 behind vx0 and the
# local c1 and c3 (c4 stays unknown to the bridge); on h2 the remote c1, c3, c4 and the local c2.
known() { bridged h1 100 vx0; bridged h1 3 vc3; bridged h1 2 vc1; for x in 2 3 4; do bridged h2 $x vx0; done; bridged h2 100 vc2; }
case $MODE in
  base) ;;
  wifi) known; flags h1 proxy_arp_wifi proxy_arp_wifi; flags h2 proxy_arp_wifi proxy_arp_wifi ;;
  supp) known; flags h1 proxy_arp_wifi neigh_suppress; flags h2 proxy_arp_wifi neigh_suppress ;;
  parp) known; flags h1 proxy_arp proxy_arp_wifi; flags h2 proxy_arp proxy_arp_wifi ;;
  *) echo "usage: ipv4.sh base|wifi|supp|parp" >&2; exit 2 ;;
esac
sleep 1
try "c1 -> remote c2" c1 10.99.0.100 10
try "c1 -> local c3" c1 10.99.0.3 10
try "c1 -> unknown 10.99.0.77" c1 10.99.0.77 2
try "c2 -> c1 (from the remote side)" c2 10.99.0.2 10
# Broadcasts from the remote c2: does c1 (the oldest port of h1's bridge) get them?
b0=$(stat c1 eth0 rx_packets); g0=$(stat cs g7 rx_packets); s0=$(softdrop)
ip netns exec c2 ping -b -c2 -W1 -q 10.99.0.255 >/dev/null 2>&1 || true
b1=$(stat c1 eth0 rx_packets); g1=$(stat cs g7 rx_packets); s1=$(softdrop)
echo "ipv4 $MODE N=$N 2 broadcasts from remote c2: c1 rx +$((b1 - b0)), filler g7 rx +$((g1 - g0)); backlog dropped +$((s1 - s0))"
# ARP requests sent raw from c3: gratuitous for its known address, gratuitous for an
# unknown one, a probe (sender 0.0.0.0) for an unknown one, requests for an unknown
# address and for c4 (unknown to the bridge); what c4 receives of them.
for t in "10.99.0.3 10.99.0.3 gratuitous-known" "10.99.0.50 10.99.0.50 gratuitous-unknown" "0.0.0.0 10.99.0.51 probe-unknown" "10.99.0.3 10.99.0.52 request-unknown" "10.99.0.3 10.99.0.4 request-for-c4"; do
  set -- $t
  b0=$(stat c4 eth0 rx_packets)
  ip netns exec c3 python3 "$HERE/arpsend.py" eth0 02:00:00:00:00:03 $1 $2 3
  sleep 0.3
  b1=$(stat c4 eth0 rx_packets)
  echo "ipv4 $MODE N=$N $3 from c3 (x3): c4 rx +$((b1 - b0))"
done
