// Shared pieces of the libFuzzer harnesses (fuzz/*.cc).
//
// Every decoder takes bytes a kernel (or a hostile process with CAP_NET_ADMIN in a
// namespace we share) put in a netlink datagram. A malformed input must end in
// nl::ParseError, never in a crash, an out-of-bounds read, undefined behaviour or
// another exception type: anything but ParseError escapes and libFuzzer reports it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "netlink/builder.h"
#include "netlink/parser.h"

namespace np::fuzz {

// Walks a receive buffer exactly as the socket code does (nl::MessageIterator) and
// hands every message to f; ParseError from the walk or from f ends that message.
template <typename F>
void each_message(const uint8_t* data, size_t size, F&& f) {
  try {
    nl::MessageIterator it(data, size);
    while (const nlmsghdr* h = it.next()) {
      try {
        f(h);
      } catch (const nl::ParseError&) {
      }
    }
  } catch (const nl::ParseError&) {
  }
}

// Decode, encode, decode, encode: the two encodings must be the same bytes (the
// decoder and the encoder agree on every value the decoder can produce). An input the
// encoder refuses (BuildError: a value too long for its field) is skipped.
template <typename Encode>
void expect_fixed_point(Encode&& encode_decoded_twice) {
  std::vector<uint8_t> first, second;
  try {
    encode_decoded_twice(first, second);
  } catch (const nl::BuildError&) {
    return;
  }
  if (first != second) {
    std::fprintf(stderr, "re-encoding is not stable: %zu bytes, then %zu bytes\n", first.size(), second.size());
    std::abort();
  }
}

inline std::vector<uint8_t> bytes_of(const nl::Builder& b) { return {b.data(), b.data() + b.size()}; }

}  // namespace np::fuzz
