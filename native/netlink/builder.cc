#include "netlink/builder.h"

#include <arpa/inet.h>
#include <endian.h>

namespace np::nl {

Builder::Builder(size_t capacity) : capacity_(capacity) { buf_.reserve(capacity < 4096 ? capacity : 4096); }

uint8_t* Builder::reserve(size_t n) {
  if (msgs_.empty()) throw BuildError("netlink builder: attribute before message header");
  if (n > capacity_ - buf_.size()) {
    throw BuildError("netlink message too large: " + std::to_string(buf_.size() + n) +
                     " bytes exceeds the " + std::to_string(capacity_) + "-byte buffer");
  }
  size_t old = buf_.size();
  buf_.resize(old + n, 0);
  return buf_.data() + old;
}

void Builder::finish_message_len() {
  header_at(msgs_.back())->nlmsg_len = static_cast<uint32_t>(buf_.size() - msgs_.back());
}

size_t Builder::put_header(uint16_t type, uint16_t flags, uint32_t seq) {
  if (sizeof(nlmsghdr) > capacity_ - buf_.size()) {
    throw BuildError("netlink batch too large: no room for another message header");
  }
  size_t off = buf_.size();
  buf_.resize(off + sizeof(nlmsghdr), 0);
  msgs_.push_back(off);
  auto* h = header_at(off);
  h->nlmsg_len = sizeof(nlmsghdr);
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST);
  h->nlmsg_seq = seq;
  h->nlmsg_pid = 0;
  return off;
}

size_t Builder::put_message(const nlmsghdr& h, const uint8_t* bytes) {
  if (h.nlmsg_len < sizeof(nlmsghdr)) throw BuildError("netlink message shorter than its header");
  size_t room = align4(h.nlmsg_len);
  if (room > capacity_ - buf_.size()) {
    throw BuildError("netlink batch too large: " + std::to_string(buf_.size() + room) + " bytes exceeds the " +
                     std::to_string(capacity_) + "-byte buffer");
  }
  size_t off = buf_.size();
  buf_.resize(off + room, 0);
  std::memcpy(buf_.data() + off, bytes, h.nlmsg_len);
  msgs_.push_back(off);
  return off;
}

void Builder::put(uint16_t type, const void* data, size_t len) {
  if (len > 0xffff - NLA_HDRLEN) throw BuildError("netlink attribute payload too large");
  auto* p = reserve(align4(NLA_HDRLEN + len));
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
  std::memcpy(p, &a, sizeof a);
  if (len) std::memcpy(p + NLA_HDRLEN, data, len);
  finish_message_len();
}

void Builder::put_raw(const void* data, size_t len) {
  auto* p = reserve(align4(len));
  if (len) std::memcpy(p, data, len);
  finish_message_len();
}

void Builder::put_be16(uint16_t type, uint16_t v) {
  uint16_t be = htons(v);
  put(type, &be, 2);
}
void Builder::put_be32(uint16_t type, uint32_t v) {
  uint32_t be = htonl(v);
  put(type, &be, 4);
}
void Builder::put_be64(uint16_t type, uint64_t v) {
  uint64_t be = htobe64(v);
  put(type, &be, 8);
}

void Builder::put_strz(uint16_t type, std::string_view s) {
  if (s.size() >= 0xffff - NLA_HDRLEN) throw BuildError("netlink string attribute too long");
  auto* p = reserve(align4(NLA_HDRLEN + s.size() + 1));
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + s.size() + 1), type};
  std::memcpy(p, &a, sizeof a);
  std::memcpy(p + NLA_HDRLEN, s.data(), s.size());
  finish_message_len();
}

size_t Builder::nest_start(uint16_t type) {
  size_t off = buf_.size();
  auto* p = reserve(NLA_HDRLEN);
  nlattr a{NLA_HDRLEN, type};
  std::memcpy(p, &a, sizeof a);
  finish_message_len();
  return off;
}

void Builder::nest_end(size_t start) {
  size_t len = buf_.size() - start;
  if (len > 0xffff) throw BuildError("netlink nested attribute larger than 64 KiB");
  reinterpret_cast<nlattr*>(buf_.data() + start)->nla_len = static_cast<uint16_t>(len);
}

void Builder::nest_cancel(size_t start) {
  buf_.resize(start);
  finish_message_len();
}

void Builder::set_seq(size_t msg_offset, uint32_t seq) { header_at(msg_offset)->nlmsg_seq = seq; }
void Builder::set_flags(size_t msg_offset, uint16_t flags) { header_at(msg_offset)->nlmsg_flags = flags; }

}  // namespace np::nl
