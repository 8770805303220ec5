#include "netlink/socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "netlink/parser.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace np::nl {

namespace {

// Dump replies are at most 32 KiB per datagram (the kernel caps its dump skbs); single
// replies can be larger. A per-thread buffer keeps sockets cheap: a process may hold
// thousands of namespace handles, but only a few threads read at once.
constexpr size_t kRecvBuffer = 256 * 1024;
// Asked for, for tables with tens of thousands of entries; the kernel caps it at
// rmem_max unless SO_RCVBUFFORCE is allowed.
constexpr int kSocketBuffer = 8 * 1024 * 1024;

std::vector<uint8_t>& recv_buffer() {
  thread_local std::vector<uint8_t> buf(kRecvBuffer);
  return buf;
}

// A msghdr for one buffer sent to, or received from, the netlink address `peer`.
msghdr one_buffer(sockaddr_nl& peer, iovec& iov) {
  msghdr mh{};
  mh.msg_name = &peer;
  mh.msg_namelen = sizeof peer;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  return mh;
}

}  // namespace

Datagram recv_datagram(int fd, std::vector<uint8_t>& buf, int flags) {
  sockaddr_nl from{};
  iovec iov{buf.data(), buf.size()};
  msghdr mh = one_buffer(from, iov);
  ssize_t got;
  do {
    got = recvmsg(fd, &mh, flags);
  } while (got < 0 && errno == EINTR);
  Datagram d;
  if (got < 0) {
    d.err = errno;
    return d;
  }
  d.len = static_cast<size_t>(got);
  d.truncated = (mh.msg_flags & MSG_TRUNC) != 0;
  d.from_kernel = from.nl_pid == 0;
  return d;
}

namespace {

void set_opt(int fd, int level, int name, int value) {
  setsockopt(fd, level, name, &value, sizeof value);
}

[[noreturn]] void sys_fail(const char* what, int err) { throw NlError(err, what, std::strerror(err)); }

}  // namespace

Socket::Socket(int protocol) {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd_ < 0) sys_fail("socket(AF_NETLINK)", errno);
  // Bigger buffers for large dumps; FORCE needs CAP_NET_ADMIN in the initial user
  // namespace, so fall back to the capped variant silently.
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) < 0)
    set_opt(fd_, SOL_SOCKET, SO_RCVBUF, kSocketBuffer);
  if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) < 0)
    set_opt(fd_, SOL_SOCKET, SO_SNDBUF, kSocketBuffer);
  set_opt(fd_, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  set_opt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  if (protocol == NETLINK_ROUTE) set_opt(fd_, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);

  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    int e = errno;
    ::close(fd_);
    sys_fail("bind(AF_NETLINK)", e);
  }
  socklen_t len = sizeof sa;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) < 0) {
    int e = errno;
    ::close(fd_);
    sys_fail("getsockname(AF_NETLINK)", e);
  }
  port_id_ = sa.nl_pid;
  seq_ = static_cast<uint32_t>(time(nullptr));
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

size_t Socket::acks_per_send() const {
  int rcvbuf = 0;
  socklen_t len = sizeof rcvbuf;
  if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) != 0 || rcvbuf <= 0) return 64;
  return std::clamp<size_t>(static_cast<size_t>(rcvbuf) / 2048, 16, 4096);
}

void parse_ack(const nlmsghdr* h, StepResult& out) {
  const uint8_t* payload = reinterpret_cast<const uint8_t*>(h) + NLMSG_HDRLEN;
  size_t plen = h->nlmsg_len - NLMSG_HDRLEN;
  if (plen < sizeof(int)) {
    out.err = EBADMSG;
    out.ext = "truncated netlink ack";
    return;
  }
  int error;
  std::memcpy(&error, payload, sizeof error);
  // The kernel sends 0 or a negated errno (1..4095); anything else is a malformed ack,
  // and negating INT_MIN would be undefined.
  if (error > 0 || error < -4095) {
    out.err = EBADMSG;
    out.ext = "netlink ack with invalid error code " + std::to_string(error);
    return;
  }
  out.err = -error;
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;

  size_t off;
  if (h->nlmsg_type == NLMSG_DONE) {
    off = sizeof(int);
  } else {
    if (plen < sizeof(nlmsgerr)) return;
    nlmsghdr orig;
    std::memcpy(&orig, payload + sizeof(int), sizeof orig);
    off = sizeof(int) + ((h->nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsghdr) : orig.nlmsg_len);
  }
  off = align4(off);
  if (off >= plen) return;
  static const Policy policy[NLMSGERR_ATTR_MAX + 1] = {
      {},
      {Kind::String, "NLMSGERR_ATTR_MSG"},
      {Kind::U32, "NLMSGERR_ATTR_OFFS"},
      {},
      {},
      {Kind::U32, "NLMSGERR_ATTR_MISS_TYPE"},
      {Kind::U32, "NLMSGERR_ATTR_MISS_NEST"},
  };
  Attrs tb;
  try {
    tb.parse(payload + off, plen - off, policy, NLMSGERR_ATTR_MAX, "NLMSGERR");
  } catch (const ParseError&) {
    return;  // a malformed ack TLV must not hide the errno itself
  }
  if (tb.has(NLMSGERR_ATTR_MSG)) out.ext = tb.str(NLMSGERR_ATTR_MSG);
  if (tb.has(NLMSGERR_ATTR_MISS_TYPE)) out.missing_attr = tb.u32(NLMSGERR_ATTR_MISS_TYPE);
}

std::vector<StepResult> Socket::transact(Builder& b, const OnMessage& on_msg, const char* op,
                                         const std::vector<bool>* silent) {
  const auto& msgs = b.messages();
  const size_t n = msgs.size();
  std::vector<StepResult> results(n);
  if (n == 0) return results;

  // Completion rule per step, from its flags.
  enum Until : uint8_t { kDone, kAck, kFirst };
  std::vector<Until> until(n);
  std::vector<bool> complete(n, false);
  const uint32_t first = seq_ + 1;
  for (size_t i = 0; i < n; i++) {
    auto* h = b.header_at(msgs[i]);
    h->nlmsg_seq = first + static_cast<uint32_t>(i);
    h->nlmsg_pid = 0;
    uint16_t f = h->nlmsg_flags;
    until[i] = (f & NLM_F_DUMP) == NLM_F_DUMP && h->nlmsg_type != NLMSG_ERROR ? kDone
               : (f & NLM_F_ACK) ? kAck
                                 : kFirst;
  }
  seq_ += static_cast<uint32_t>(n);
  size_t remaining = n;
  if (silent) {
    for (size_t i = 0; i < n && i < silent->size(); i++) {
      if ((*silent)[i]) {
        complete[i] = true;
        remaining--;
      }
    }
  }

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  iovec iov{const_cast<uint8_t*>(b.data()), b.size()};
  msghdr mh = one_buffer(kernel, iov);
  ssize_t sent;
  do {
    sent = sendmsg(fd_, &mh, 0);
  } while (sent < 0 && errno == EINTR);
  sends_++;
  if (sent < 0) {
    int e = errno;
    throw NlError(e, op, std::string("sendmsg: ") + std::strerror(e));
  }

  auto& buf = recv_buffer();
  while (remaining > 0) {
    Datagram got = recv_datagram(fd_, buf, 0);
    if (got.err) {
      int e = got.err;
      // ENOBUFS: the kernel dropped replies because the receive buffer overflowed.
      // Say so rather than return a partial answer.
      throw NlError(e, op,
                    e == ENOBUFS ? "netlink receive buffer overflowed; replies were lost"
                                 : std::string("recvmsg: ") + std::strerror(e));
    }
    receives_++;
    if (got.truncated) throw NlError(EMSGSIZE, op, "netlink reply larger than the receive buffer");
    if (!got.from_kernel) continue;
    MessageIterator it(buf.data(), got.len);
    while (const nlmsghdr* h = it.next()) {
      uint32_t idx = h->nlmsg_seq - first;
      if (h->nlmsg_seq < first || idx >= n) continue;  // stale
      if (complete[idx]) {
        if (silent && idx < silent->size() && (*silent)[idx] && h->nlmsg_type == NLMSG_ERROR) {
          // An error for a step that expects no reply: the kernel refused the
          // exchange there and will answer nothing after it.
          StepResult r;
          parse_ack(h, r);
          if (r.err == 0) continue;
          r.answered = true;
          results[idx] = r;
          remaining = 0;
          break;
        }
        continue;
      }
      results[idx].answered = true;
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) results[idx].dump_interrupted = true;
      bool done = false;
      if (h->nlmsg_type == NLMSG_ERROR) {
        parse_ack(h, results[idx]);
        done = true;
      } else if (h->nlmsg_type == NLMSG_DONE) {
        if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) parse_ack(h, results[idx]);
        done = true;
      } else if (h->nlmsg_type == NLMSG_NOOP || h->nlmsg_type == NLMSG_OVERRUN) {
        continue;
      } else {
        if (on_msg) on_msg(idx, h);
        done = until[idx] == kFirst;
      }
      if (done) {
        complete[idx] = true;
        remaining--;
      }
    }
  }
  return results;
}

void Socket::request(Builder& b, const OnMessage& on_msg, const char* op,
                     const std::function<void()>& on_reset) {
  for (int attempt = 0;; attempt++) {
    auto r = transact(b, on_msg, op);
    auto& s = r.at(0);
    if (s.err) {
      NlError e(s.err, op, s.ext);
      e.missing_attr = s.missing_attr;
      e.from_kernel = true;
      throw e;
    }
    if (!s.dump_interrupted) return;
    if (attempt + 1 >= kDumpRetries) {
      throw NlError(EINTR, op, "dump kept changing under us (NLM_F_DUMP_INTR) after " +
                                   std::to_string(kDumpRetries) + " attempts");
    }
    if (on_reset) on_reset();
  }
}

}  // namespace np::nl
