// rtnl::decode_neigh over every message of a receive buffer (RTM_NEWNEIGH: ARP/NDP
// entries and AF_BRIDGE FDB entries).
#include "fuzz/fuzz.h"
#include "rtnl/neigh.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  np::fuzz::each_message(data, size, [](const nlmsghdr* h) { (void)np::rtnl::decode_neigh(h); });
  return 0;
}
