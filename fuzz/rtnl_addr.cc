// rtnl::decode_addr over every message of a receive buffer (RTM_NEWADDR).
#include "fuzz/fuzz.h"
#include "rtnl/addr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  np::fuzz::each_message(data, size, [](const nlmsghdr* h) { (void)np::rtnl::decode_addr(h); });
  return 0;
}
