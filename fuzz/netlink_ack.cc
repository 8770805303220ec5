// nl::MessageIterator and nl::parse_ack: NLMSG_ERROR (with or without NLM_F_CAPPED and
// extended-ack TLVs) and NLMSG_DONE as the socket reads them, plus the family-header
// length check every decoder starts with.
#include <linux/rtnetlink.h>

#include "fuzz/fuzz.h"
#include "netlink/socket.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  np::fuzz::each_message(data, size, [](const nlmsghdr* h) {
    if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
      np::nl::StepResult r;
      np::nl::parse_ack(h, r);
    } else {
      (void)np::nl::family_header(h, sizeof(rtmsg), "fuzz");
    }
  });
  return 0;
}
