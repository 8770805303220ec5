// nftables objects as `nft list ruleset` receives them: tables, chains, rules (with
// their expressions), sets (with libnftnl userdata) and element lists, dispatched on
// the message type as the listing code does. Each decoded object must also re-encode
// to a fixed point (decode . encode . decode . encode gives the same bytes twice).
#include "fuzz/fuzz.h"
#include "nft/objects.h"

namespace {

using namespace np;

// Encodes obj as message `msg`, decodes that message back and encodes the result.
template <typename T, typename Dec, typename Enc>
void round_trip(uint16_t msg, const T& obj, Dec decode, Enc encode) {
  fuzz::expect_fixed_point([&](std::vector<uint8_t>& first, std::vector<uint8_t>& second) {
    nl::Builder b1;
    nft::put_header(b1, msg, obj.family, 0);
    encode(b1, obj);
    first = fuzz::bytes_of(b1);
    T again = decode(reinterpret_cast<const nlmsghdr*>(b1.data()));
    nl::Builder b2;
    nft::put_header(b2, msg, again.family, 0);
    encode(b2, again);
    second = fuzz::bytes_of(b2);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::each_message(data, size, [](const nlmsghdr* h) {
    // The subsystem byte is not checked: every message is decoded as its low byte says.
    switch (h->nlmsg_type & 0xff) {
      case NFT_MSG_NEWTABLE:
      case NFT_MSG_DELTABLE:
        round_trip(NFT_MSG_NEWTABLE, nft::decode_table(h), nft::decode_table, nft::encode_table);
        break;
      case NFT_MSG_NEWCHAIN:
      case NFT_MSG_DELCHAIN:
        round_trip(NFT_MSG_NEWCHAIN, nft::decode_chain(h), nft::decode_chain, nft::encode_chain);
        break;
      case NFT_MSG_NEWRULE:
      case NFT_MSG_DELRULE:
        round_trip(NFT_MSG_NEWRULE, nft::decode_rule(h), nft::decode_rule, nft::encode_rule);
        break;
      case NFT_MSG_NEWSET:
      case NFT_MSG_DELSET:
        round_trip(NFT_MSG_NEWSET, nft::decode_set(h), nft::decode_set, nft::encode_set);
        break;
      case NFT_MSG_NEWSETELEM:
      case NFT_MSG_DELSETELEM:
        // (encode_elems's element range defaults to all: a lambda, since a function pointer
        // does not carry default arguments.)
        round_trip(NFT_MSG_NEWSETELEM, nft::decode_elems(h), nft::decode_elems,
                   [](nl::Builder& b, const nft::ElemList& l) { nft::encode_elems(b, l); });
        break;
      default:
        // Anything else is still walked as some object, so no input is wasted.
        (void)nft::decode_table(h);
        break;
    }
  });
  return 0;
}
