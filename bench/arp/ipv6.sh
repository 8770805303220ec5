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
# At 1,000 ports a flooded solicitation for the local c3 is lost in the backlog in every
# mode (0/10); at N=100 it is answered (10/10) but with supplocal.
set -e
MODE=${1:-base}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"
topology 6
case $MODE in
  base) ;;
  supp|supplocal)
    flags h1 proxy_arp_wifi neigh_suppress; flags h2 proxy_arp_wifi neigh_suppress
    bridged h1 100 vx0; for x in 2 3 4; do bridged h2 $x vx0; done
    # The local MACs known to the bridge (static on their ports), but no IPv6 entry...
    bridge -n h1 fdb replace "$(mac 2)" dev vc1 master static
    bridge -n h1 fdb replace "$(mac 3)" dev vc3 master static
    # ...except c3's with supplocal.
    if [ $MODE = supplocal ]; then ip -n h1 neigh add "$(addr 3)" lladdr "$(mac 3)" dev br0 nud permanent; fi ;;
  *) echo "usage: ipv6.sh base|supp|supplocal" >&2; exit 2 ;;
esac
sleep 1
try "c1 -> remote c2" c1 fd00::64 10
try "c1 -> local c3" c1 fd00::3 10
try "c1 -> unknown fd00::77" c1 fd00::77 2
