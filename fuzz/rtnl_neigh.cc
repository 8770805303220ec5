// rtnl::decode_neigh over every message of a receive buffer (RTM_NEWNEIGH: ARP/NDP
// entries and AF_BRIDGE FDB entries), each decoded entry laid out as a NeighTable row
// (the formatting dumps use), with one Attrs reused as a dump does.
#include "fuzz/fuzz.h"
#include "rtnl/neigh.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  np::nl::Attrs tb;
  np::rtnl::NeighTable t;
  np::fuzz::each_message(data, size, [&](const nlmsghdr* h) { t.add(np::rtnl::decode_neigh(h, tb)); });
  return 0;
}
