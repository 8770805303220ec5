#include "netlink/parser.h"

#include <arpa/inet.h>

#include "netlink/builder.h"

namespace np::nl {

namespace {

size_t fixed_len(Kind k) {
  switch (k) {
    case Kind::U8: return 1;
    case Kind::U16: return 2;
    case Kind::U32: return 4;
    case Kind::U64: return 8;
    default: return 0;
  }
}

std::string attr_name(const Policy* policy, uint16_t max, uint16_t type, const char* what) {
  if (type <= max && policy[type].name) return policy[type].name;
  return std::string(what) + "[" + std::to_string(type) + "]";
}

}  // namespace

void Attrs::parse(const uint8_t* data, size_t len, const Policy* policy, uint16_t max, const char* what) {
  tb_.assign(static_cast<size_t>(max) + 1, nullptr);
  unknown_.clear();
  const uint8_t* p = data;
  const uint8_t* end = data + len;
  while (end - p >= static_cast<ptrdiff_t>(NLA_HDRLEN)) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > end - p) {
      throw ParseError(std::string(what) + ": attribute " +
                       attr_name(policy, max, a.nla_type & NLA_TYPE_MASK, what) + " has bad length " +
                       std::to_string(a.nla_len));
    }
    uint16_t type = a.nla_type & NLA_TYPE_MASK;
    const auto* attr = reinterpret_cast<const nlattr*>(p);
    Kind kind = type <= max ? policy[type].kind : Kind::None;
    if (kind == Kind::None) {
      unknown_.push_back({type, p + NLA_HDRLEN, static_cast<uint16_t>(a.nla_len - NLA_HDRLEN)});
    } else {
      size_t plen = a.nla_len - NLA_HDRLEN;
      size_t want = fixed_len(kind);
      bool ok = true;
      if (want) ok = plen >= want;  // longer is tolerated, as the kernel's own parsers do
      else if (kind == Kind::Flag) ok = true;
      else if (kind == Kind::Binary) ok = plen >= policy[type].min_len;
      if (!ok) {
        throw ParseError(std::string(what) + ": attribute " + attr_name(policy, max, type, what) +
                         " is " + std::to_string(plen) + " bytes, expected at least " +
                         std::to_string(want ? want : policy[type].min_len));
      }
      tb_[type] = attr;
    }
    // The last attribute's padding may be missing: never step past the end.
    p += std::min<size_t>(align4(a.nla_len), static_cast<size_t>(end - p));
  }
}

uint16_t Attrs::be16(uint16_t t) const { return ntohs(load<uint16_t>(t)); }
uint32_t Attrs::be32(uint16_t t) const { return ntohl(load<uint32_t>(t)); }

std::string Attrs::str(uint16_t t) const {
  auto* a = get(t);
  const char* s = reinterpret_cast<const char*>(payload(a));
  size_t n = payload_len(a);
  return std::string(s, strnlen(s, n));
}

const nlmsghdr* MessageIterator::next() {
  if (end_ - p_ < static_cast<ptrdiff_t>(sizeof(nlmsghdr))) return nullptr;
  const auto* h = reinterpret_cast<const nlmsghdr*>(p_);
  if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > static_cast<size_t>(end_ - p_)) {
    throw ParseError("netlink message with bad length " + std::to_string(h->nlmsg_len));
  }
  p_ += std::min<size_t>(align4(h->nlmsg_len), end_ - p_);
  return h;
}

const uint8_t* family_header(const nlmsghdr* h, size_t header_len, const char* what) {
  if (h->nlmsg_len < NLMSG_HDRLEN + header_len) {
    throw ParseError(std::string(what) + " message too short for its header (" +
                     std::to_string(h->nlmsg_len) + " bytes)");
  }
  return reinterpret_cast<const uint8_t*>(h) + NLMSG_HDRLEN;
}

}  // namespace np::nl
