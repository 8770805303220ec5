// nft's data types: the ids sets are declared with (NFTA_SET_KEY_TYPE), their sizes and
// byte order, and how a value (an address, a port, a protocol or interface name)
// becomes the bytes nftables compares, and back. The one owner of these encodings:
// TypeScript passes plain values ('10.0.0.2', 8080, ['10.0.0.2', 'tcp', 80]) and gets
// plain values back.
//
// A concatenation packs its parts' type ids 6 bits each, ((a << 6) | b) << 6 | c, and
// lays each part out in whole 4-byte registers, zero padded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace np::nft {

// A value as JavaScript gives it: a string or a number.
struct Scalar {
  bool is_string = false;
  std::string str;
  double num = 0;
  static Scalar of(std::string s) { return {true, std::move(s), 0}; }
  static Scalar of(double n) { return {false, {}, n}; }
};
// A value of a data type: one scalar per part of a concatenation (one for a single
// type; a flag type such as ct state takes several flags).
using Datum = std::vector<Scalar>;

// A value that does not fit its type: the message says what is wrong; `range` for a
// number out of range (a RangeError in JS), else the wrong kind of value (TypeError).
struct ValueError : std::runtime_error {
  bool range;
  ValueError(const std::string& what, bool range_ = false) : std::runtime_error(what), range(range_) {}
};

struct Datatype {
  const char* name;
  uint32_t id;
  uint32_t len;        // bytes in a register
  uint32_t byteorder;  // as nft records it in set userdata: 1 host, 2 big endian, 0 none
};

std::span<const Datatype> datatypes();
const Datatype* datatype_named(std::string_view name);

// One type, or a concatenation of them.
class Layout {
 public:
  // From type names; throws ValueError for an unknown one.
  static Layout of(const std::vector<std::string>& names);
  // From a set's key or data type id; nullopt if a part is not a type netplumb knows.
  static std::optional<Layout> from_id(uint32_t id);

  bool concat() const { return parts_.size() > 1; }
  uint32_t id() const;
  // NFTA_SET_KEY_LEN: a concatenation's parts take whole 4-byte registers.
  uint32_t len() const;
  // What nft records as the byte order: that of the type, none for a concatenation.
  uint32_t byteorder() const { return concat() ? 0 : parts_[0]->byteorder; }
  // "ipv4_addr . inet_proto . inet_service"
  std::string name() const;
  const std::vector<const Datatype*>& parts() const { return parts_; }

  // The bytes of a value; throws ValueError naming the part at fault.
  std::string encode(const Datum& v) const;
  Datum decode(std::string_view bytes) const;
  // [first, last] of a prefix ("10.0.0.0/8", host bits clear), a range ("1000-2000",
  // "10.0.0.1-10.0.0.9") or one value, for interval sets (single types only).
  std::pair<std::string, std::string> interval(const Datum& v) const;
  // The text a listing shows for [first, last]: a value, a prefix or a range.
  Scalar interval_text(const std::string& first, const std::string& last) const;

 private:
  explicit Layout(std::vector<const Datatype*> parts) : parts_(std::move(parts)) {}
  std::vector<const Datatype*> parts_;
};

}  // namespace np::nft
