// rtnl::decode_route over every message of a receive buffer (RTM_NEWROUTE, RTA_METRICS).
#include "fuzz/fuzz.h"
#include "rtnl/route.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  np::fuzz::each_message(data, size, [](const nlmsghdr* h) { (void)np::rtnl::decode_route(h); });
  return 0;
}
