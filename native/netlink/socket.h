// A netlink socket that sends numbered requests and collects every answer.
//
// transact() sends all messages of a Builder in one sendmsg(2), numbering them
// seq, seq+1, ... and reads until each has completed:
//   - a dump (NLM_F_DUMP) completes on NLMSG_DONE or NLMSG_ERROR;
//   - a request with NLM_F_ACK completes on its NLMSG_ERROR (error 0 is the ack);
//   - a plain get completes on its first reply or on NLMSG_ERROR.
// Every reply message goes to the caller's callback with its step index; errors are
// returned per step, with the kernel's extended-ack text (NETLINK_EXT_ACK). Messages
// whose sequence number belongs to no step (left over from an earlier, interrupted
// exchange) are skipped.
//
// Some protocols take messages that expect no reply at all: nfnetlink's batch
// delimiters (NFNL_MSG_BATCH_BEGIN/END) are never acked. transact() takes those steps
// as complete from the start; if the kernel does answer one with an error (a refused
// batch header, a generation mismatch), nothing after it will be answered either, so
// that error ends the whole exchange.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "netlink/builder.h"

namespace np::nl {

// A failed netlink request: errno plus what the kernel said.
// What a failed netlink request (or a system call on its behalf) tells the caller; kept
// apart from NlError so that ops/errors.h can carry it across threads as plain data.
struct ErrorInfo {
  int err = 0;       // positive errno
  std::string op;    // "RTM_NEWLINK"
  std::string ext;   // what went wrong: the kernel's extended ack or our own detail
  int step = -1;     // index in a batch, -1 for a single request
  int64_t missing_attr = -1;  // NLMSGERR_ATTR_MISS_TYPE
  bool from_kernel = false;   // ext is the kernel's extended-ack text, not ours
};

struct NlError : std::runtime_error, ErrorInfo {
  NlError(int e, std::string op_, std::string ext_, int step_ = -1)
      : std::runtime_error(ext_.empty() ? op_ : op_ + ": " + ext_), ErrorInfo{e, std::move(op_), std::move(ext_), step_} {}
};

struct StepResult {
  int err = 0;  // positive errno, 0 on success
  std::string ext;
  int64_t missing_attr = -1;
  bool dump_interrupted = false;
  bool answered = false;  // a reply or ack arrived for this step
};

class Socket {
 public:
  // Opens a socket of `protocol` in the calling thread's current network namespace.
  explicit Socket(int protocol);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  using OnMessage = std::function<void(size_t step, const nlmsghdr*)>;

  // Sends every message of b in one sendmsg and waits for all of them. Returns one
  // result per message; throws NlError only for socket-level failures (ENOBUFS on a
  // reply, a failed send), with step -1.
  // silent[i] marks step i as one that expects no reply (nullptr: none does).
  std::vector<StepResult> transact(Builder& b, const OnMessage& on_msg, const char* op,
                                   const std::vector<bool>* silent = nullptr);

  // One request; throws NlError (step -1) if it failed. Dumps are retried up to
  // kDumpRetries times when the kernel flags them inconsistent (NLM_F_DUMP_INTR),
  // calling on_reset before each retry so the caller drops what it collected.
  void request(Builder& b, const OnMessage& on_msg, const char* op,
               const std::function<void()>& on_reset = {});

  static constexpr int kDumpRetries = 10;

  // How many requests that each expect an ack fit in one sendmsg: every ack is an skb of
  // its own, and acks the receive buffer cannot hold are dropped by the kernel (ENOBUFS).
  // An ack skb costs well under 1 KiB of receive buffer; this budgets 2 KiB.
  size_t acks_per_send() const;

  int fd() const { return fd_; }
  uint32_t port_id() const { return port_id_; }
  std::mutex& mutex() { return mu_; }
  uint64_t sends() const { return sends_; }
  uint64_t receives() const { return receives_; }

  // What a protocol's layer remembers per socket, guarded by mutex() like the socket
  // (nftables: the types of the sets whose elements it has encoded).
  std::shared_ptr<void> layer_state;

 private:
  int fd_ = -1;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
  uint64_t sends_ = 0;
  uint64_t receives_ = 0;
  std::mutex mu_;
};

// One datagram read from a netlink socket into buf (recvmsg, EINTR retried).
struct Datagram {
  size_t len = 0;
  int err = 0;              // errno of a failed read (EAGAIN with MSG_DONTWAIT: none waiting)
  bool truncated = false;   // larger than buf: the rest is lost
  bool from_kernel = true;  // sender port 0; anything else is another process, ignored
};
Datagram recv_datagram(int fd, std::vector<uint8_t>& buf, int flags);

// Parses the extended ack TLVs of an NLMSG_ERROR or NLMSG_DONE message.
void parse_ack(const nlmsghdr* h, StepResult& out);

}  // namespace np::nl
