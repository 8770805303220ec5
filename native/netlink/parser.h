// Table-driven netlink attribute parsing.
//
// A family module describes its attributes once, as a policy table indexed by type:
// the expected payload kind and a name. Attrs fills tb[type] for every attribute the
// table knows, checks each payload length against the kind, names the attribute in
// every error, and keeps attributes the table does not know (a newer kernel's) as raw
// (type, bytes) pairs rather than dropping or rejecting them.
#pragma once

#include <linux/netlink.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace np::nl {

class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Kind : uint8_t {
  None = 0,    // not in the table: kept raw
  Flag,        // no payload
  U8,
  U16,
  U32,
  U64,
  String,      // optional NUL; decoded up to the first NUL
  Binary,      // any length >= min_len
  Nested,
};

struct Policy {
  Kind kind = Kind::None;
  const char* name = nullptr;
  uint16_t min_len = 0;  // for Binary
};

// One attribute of a policy table. NL_ATTR(IFLA_MTU, U32) names it after its constant,
// so a table cannot misname an attribute; a Binary attribute may give a minimum length.
struct AttrSpec {
  uint16_t type;
  Kind kind;
  const char* name;
  uint16_t min_len = 0;
};
#define NL_ATTR(type, kind, ...) \
  ::np::nl::AttrSpec { type, ::np::nl::Kind::kind, #type __VA_OPT__(, ) __VA_ARGS__ }

// A policy table indexed by attribute type (0..Max), from its attributes.
template <size_t Max, size_t N>
constexpr std::array<Policy, Max + 1> policy(const AttrSpec (&attrs)[N]) {
  std::array<Policy, Max + 1> p{};
  for (const AttrSpec& a : attrs) p[a.type] = {a.kind, a.name, a.min_len};
  return p;
}

// An attribute the policy table does not know, as a view into the message.
struct RawAttr {
  uint16_t type;
  const uint8_t* data;
  uint16_t len;
};

class Attrs {
 public:
  Attrs() = default;
  // policy has max+1 entries; what names the attribute space in errors ("IFLA").
  void parse(const uint8_t* data, size_t len, const Policy* policy, uint16_t max, const char* what);

  const nlattr* get(uint16_t type) const { return type < tb_.size() ? tb_[type] : nullptr; }
  bool has(uint16_t type) const { return get(type) != nullptr; }

  static const uint8_t* payload(const nlattr* a) { return reinterpret_cast<const uint8_t*>(a) + NLA_HDRLEN; }
  static size_t payload_len(const nlattr* a) { return a->nla_len - NLA_HDRLEN; }

  uint8_t u8(uint16_t t) const { return *payload(get(t)); }
  uint16_t u16(uint16_t t) const { return load<uint16_t>(t); }
  uint32_t u32(uint16_t t) const { return load<uint32_t>(t); }
  uint64_t u64(uint16_t t) const { return load<uint64_t>(t); }
  uint16_t be16(uint16_t t) const;
  uint32_t be32(uint16_t t) const;
  std::string str(uint16_t t) const;
  std::string_view bytes(uint16_t t) const {
    auto* a = get(t);
    return {reinterpret_cast<const char*>(payload(a)), payload_len(a)};
  }

  const std::vector<RawAttr>& unknown() const { return unknown_; }

 private:
  template <typename T>
  T load(uint16_t t) const {
    T v;
    std::memcpy(&v, payload(get(t)), sizeof v);
    return v;
  }

  std::vector<const nlattr*> tb_;
  std::vector<RawAttr> unknown_;
};

// Walks the netlink messages in a receive buffer, checking every length.
class MessageIterator {
 public:
  MessageIterator(const uint8_t* data, size_t len) : p_(data), end_(data + len) {}
  explicit MessageIterator(std::string_view data)
      : MessageIterator(reinterpret_cast<const uint8_t*>(data.data()), data.size()) {}
  // Returns the next message or nullptr at the end; throws ParseError on a truncated one.
  const nlmsghdr* next();

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Payload of a message after its family header; throws if the message is too short.
const uint8_t* family_header(const nlmsghdr* h, size_t header_len, const char* what);

// A message's family header (ifinfomsg, rtmsg...), with its attributes parsed into tb by
// the policy; `what` names the message in errors, `prefix` its attributes ("IFLA").
template <typename Header, size_t N>
const Header& parse_message(const nlmsghdr* h, Attrs& tb, const std::array<Policy, N>& policy, const char* what,
                            const char* prefix) {
  const auto* hdr = reinterpret_cast<const Header*>(family_header(h, sizeof(Header), what));
  const size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(Header));
  tb.parse(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - std::min<size_t>(off, h->nlmsg_len), policy.data(),
           static_cast<uint16_t>(N - 1), prefix);
  return *hdr;
}

}  // namespace np::nl
