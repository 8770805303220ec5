// rtnl::decode_link over every message of a receive buffer (RTM_NEWLINK as `ip -d link
// show` gets it: nested IFLA_LINKINFO with per-kind data, bridge port data, IFLA_AF_SPEC).
#include "fuzz/fuzz.h"
#include "rtnl/link.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  np::fuzz::each_message(data, size, [](const nlmsghdr* h) { (void)np::rtnl::decode_link(h, true); });
  return 0;
}
