// The rtnetlink step model: the link, address, route and neighbour requests a batch is made of,
// read strictly from the step objects TypeScript builds (src/spec.ts; each op's keys are
// the NativeStep union in src/binding.ts) and encoded into messages.
#pragma once

#include <memory>
#include <variant>
#include <vector>

#include "netlink/builder.h"
#include "netns/netns.h"
#include "ops/reader.h"
#include "rtnl/addr.h"
#include "rtnl/link_spec.h"
#include "rtnl/neigh.h"
#include "rtnl/route.h"

namespace np::ops {

using Handle = std::shared_ptr<ns::NsHandle>;

struct LinkStep {
  enum Op { Create, Change, Delete } op;
  rtnl::LinkSpec spec;
  bool echo = false;
  std::optional<uint32_t> group;  // delete by group
  std::vector<Handle> holds;      // namespaces whose fds the messages carry
};

struct AddrStep {
  uint16_t type, flags;
  rtnl::AddressSpec spec;
};

struct RouteStep {
  uint16_t type, flags;
  rtnl::RouteSpec spec;
};

// A neighbour or FDB entry, in the same sendmsg as the link steps before it (an entry
// on a link this batch creates names it by its requested ifindex).
struct NeighStep {
  rtnl::NeighRequest req;
  bool missing_ok = false;  // a delete that finds nothing (ENOENT) is a success
};

using Step = std::variant<LinkStep, AddrStep, RouteStep, NeighStep>;

// A neighbour or FDB request read from neighApply's request object (neigh_ops.cc);
// shared with the batch's neigh step.
rtnl::NeighRequest neigh_request_from(js::Obj& o);

// Reads an array of steps (the argument `steps` of an rtnl entry point).
std::vector<Step> read_steps(js::Arr& steps);
// Appends a step's messages; returns how many.
size_t encode_step(nl::Builder& b, const Step& s);
// The message a step's failure is reported as ("RTM_NEWLINK").
const char* step_op_name(const Step& s);

// IFLA_NET_NS_FD of a namespace that does not exist yet (a pending handle); replaced by
// set_pending_netns before anything is encoded.
constexpr int kPendingNetns = -2;
// Whether any step still refers to a pending namespace.
bool has_pending_netns(const std::vector<Step>& steps);
// Puts the fd of a namespace just made where the steps refer to it while pending.
void set_pending_netns(std::vector<Step>& steps, int fd);

}  // namespace np::ops
