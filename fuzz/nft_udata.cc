// libnftnl userdata TLVs as nft stores them in tables, chains, rules, elements
// (comments) and sets (byte orders, `typeof` expressions, comment): the set decoder
// must re-encode to a fixed point.
#include <string_view>

#include "fuzz/fuzz.h"
#include "nft/objects.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace np;
  std::string_view u(reinterpret_cast<const char*>(data), size);
  (void)nft::parse_udata_comment(u, 0);
  nft::SetUserdata s;
  try {
    s = nft::decode_set_udata(u);
  } catch (const nl::ParseError&) {
    return 0;
  }
  fuzz::expect_fixed_point([&](std::vector<uint8_t>& first, std::vector<uint8_t>& second) {
    std::string a = nft::encode_set_udata(s);
    std::string b = nft::encode_set_udata(nft::decode_set_udata(a));
    first.assign(a.begin(), a.end());
    second.assign(b.begin(), b.end());
  });
  return 0;
}
