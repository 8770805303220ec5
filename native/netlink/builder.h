// Bounds-checked netlink message builder.
//
// One Builder holds one or more netlink messages back to back, as they go out in a
// single sendmsg(2):
//
//   +----------+---------------+------+------+-----+----------+-----
//   | nlmsghdr | family header | attr | attr | ... | nlmsghdr | ...
//   +----------+---------------+------+------+-----+----------+-----
//   <------------- nlmsg_len (aligned to 4) ------>
//
//   attr: +---------+---------+----------------+---------+
//         | nla_len | nla_type| payload        | padding |
//         +---------+---------+----------------+---------+
//
// Every put checks the remaining room against a fixed capacity; running out throws
// BuildError (never writes past the end). Nests are opened with nest_start, closed
// with nest_end (which writes the nest's length) or dropped with nest_cancel.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace np::nl {

class BuildError : public std::length_error {
 public:
  using std::length_error::length_error;
};

inline constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

class Builder {
 public:
  // capacity bounds the whole buffer (all messages); the default fits any single
  // rtnetlink request and large nftables transactions.
  explicit Builder(size_t capacity = 1 << 20);

  // Starts a message; returns its offset. Flags get NLM_F_REQUEST added.
  size_t put_header(uint16_t type, uint16_t flags, uint32_t seq = 0);
  // Appends one complete, already encoded message (its nlmsg_len bytes), padded to 4
  // bytes; returns its offset. The caller has checked that h spans nlmsg_len bytes.
  size_t put_message(const nlmsghdr& h, const uint8_t* bytes);
  // Appends the family header (ifinfomsg, rtmsg, nfgenmsg...) to the open message.
  template <typename T>
  T* put_extra_header(const T& value) {
    auto* p = reserve(align4(sizeof(T)));
    std::memcpy(p, &value, sizeof(T));
    finish_message_len();
    return reinterpret_cast<T*>(p);
  }

  void put(uint16_t type, const void* data, size_t len);
  void put_flag(uint16_t type) { put(type, nullptr, 0); }
  void put_u8(uint16_t type, uint8_t v) { put(type, &v, 1); }
  void put_u16(uint16_t type, uint16_t v) { put(type, &v, 2); }
  void put_u32(uint16_t type, uint32_t v) { put(type, &v, 4); }
  void put_u64(uint16_t type, uint64_t v) { put(type, &v, 8); }
  void put_s32(uint16_t type, int32_t v) { put(type, &v, 4); }
  // Network byte order, as nftables data and a few rtnetlink attributes want it.
  void put_be16(uint16_t type, uint16_t v);
  void put_be32(uint16_t type, uint32_t v);
  void put_be64(uint16_t type, uint64_t v);
  // NUL-terminated string (IFLA_IFNAME and friends).
  void put_strz(uint16_t type, std::string_view s);
  // Bytes appended as they are (pre-encoded attributes), padded to 4.
  void put_raw(const void* data, size_t len);
  // String without terminator.
  void put_str(uint16_t type, std::string_view s) { put(type, s.data(), s.size()); }

  size_t nest_start(uint16_t type);  // NLA_F_NESTED is the caller's choice
  void nest_end(size_t start);
  void nest_cancel(size_t start);

  // Sets the sequence number of the message at offset.
  void set_seq(size_t msg_offset, uint32_t seq);
  void set_flags(size_t msg_offset, uint16_t flags);

  const uint8_t* data() const { return buf_.data(); }
  size_t size() const { return buf_.size(); }
  size_t capacity() const { return capacity_; }
  // Offsets of each message started with put_header, in order.
  const std::vector<size_t>& messages() const { return msgs_; }
  nlmsghdr* header_at(size_t msg_offset) {
    return reinterpret_cast<nlmsghdr*>(buf_.data() + msg_offset);
  }
  void clear() {
    buf_.clear();
    msgs_.clear();
  }

 private:
  uint8_t* reserve(size_t n);
  void finish_message_len();

  std::vector<uint8_t> buf_;
  std::vector<size_t> msgs_;
  size_t capacity_;
};

}  // namespace np::nl
