// Set elements as values: encoded from what JavaScript gives (plain values, checked
// against the set's declared types) and decoded back for listings, with nft's interval
// encoding (a range is its first key, and the key after its last flagged
// NFT_SET_ELEM_INTERVAL_END) both ways.
//
// The types come from the set: from the set's own creation in the same batch, or from
// the kernel (NFT_MSG_GETSET), remembered per socket until a commit fails (the set may
// have been made again, with other types).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "netlink/socket.h"
#include "nft/datatypes.h"
#include "nft/objects.h"

namespace np::nft {

// How a set's elements are encoded.
struct SetShape {
  Layout key;
  std::optional<Layout> data;  // a map to data
  bool verdict = false;        // a verdict map
  bool interval = false;
  // nullopt when a type is one netplumb does not know.
  static std::optional<SetShape> of(const Set& s);
};

// An element as given: values still to encode.
struct ElemInput {
  Datum key;
  std::optional<Datum> value;   // data of a map
  std::optional<Data> verdict;  // data of a verdict map
  std::optional<uint64_t> timeout;
  std::optional<std::string> comment;
};

// A value that does not fit: which element and which part of it.
struct ElemError : ValueError {
  size_t index;
  const char* field;  // "key" or "value"
  ElemError(const ValueError& e, size_t index_, const char* field_) : ValueError(e.what(), e.range), index(index_), field(field_) {}
};

// Encodes the inputs for a set of this shape (`remove`: keys only, as deletions take).
std::vector<Elem> encode_values(const SetShape& shape, const std::string& set, const std::vector<ElemInput>& in, bool remove);

// An element as a listing shows it: interval sets' start/end pairs merged back into
// prefixes and ranges.
struct ElemOutput {
  Datum key;
  std::optional<Datum> value;
  std::optional<Data> verdict;
  std::optional<uint64_t> timeout, expires;
  std::optional<std::string> comment;
};
std::vector<ElemOutput> decode_values(const SetShape& shape, std::vector<Elem> elems);

// The shapes of sets a socket has encoded elements for.
class SetShapes {
 public:
  // The shape of an existing set: remembered, else asked of the kernel (NFT_MSG_GETSET).
  const SetShape& get(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& set);
  void clear() { shapes_.clear(); }

 private:
  std::map<std::string, SetShape> shapes_;
};
// The socket's SetShapes (the caller holds the socket's mutex).
SetShapes& set_shapes(nl::Socket& sock);

}  // namespace np::nft
