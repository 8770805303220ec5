#include "nft/datatypes.h"

#include <arpa/inet.h>

#include <cctype>
#include <cmath>
#include <cstring>

#include "rtnl/ip.h"

namespace np::nft {

namespace {

// nft's type ids (src/datatype.h TYPE_*) and what netplumb encodes of them.
enum : uint32_t {
  kVerdict = 1, kNfProto = 2, kIpv4 = 7, kIpv6 = 8, kEther = 9, kEtherType = 10, kInetProto = 12,
  kInetService = 13, kMark = 19, kIfaceIndex = 20, kCtState = 26, kCtStatus = 28, kFibAddrtype = 38, kIfname = 41,
};
constexpr uint32_t kHost = 1, kBig = 2;

constexpr Datatype kTypes[] = {
    {"verdict", kVerdict, 0, 0},           {"nf_proto", kNfProto, 1, kHost},
    {"ipv4_addr", kIpv4, 4, kBig},         {"ipv6_addr", kIpv6, 16, kBig},
    {"ether_addr", kEther, 6, kBig},       {"ether_type", kEtherType, 2, kHost},
    {"inet_proto", kInetProto, 1, kBig},   {"inet_service", kInetService, 2, kBig},
    {"mark", kMark, 4, kHost},             {"iface_index", kIfaceIndex, 4, kHost},
    {"ct_state", kCtState, 4, kHost},      {"ct_status", kCtStatus, 4, kHost},
    {"fib_addrtype", kFibAddrtype, 4, kHost}, {"ifname", kIfname, 16, kHost},
};

struct Named {
  const char* name;
  uint32_t value;
};
constexpr Named kProtos[] = {{"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50},
                             {"ah", 51}, {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136}};
constexpr Named kCtStates[] = {{"invalid", 1}, {"established", 2}, {"related", 4}, {"new", 8}, {"untracked", 64}};
constexpr Named kCtStatusFlags[] = {{"expected", 1}, {"seen-reply", 2}, {"assured", 4}, {"confirmed", 8},
                               {"snat", 16},    {"dnat", 32},      {"dying", 512}};
constexpr Named kFibTypes[] = {{"unspec", 0}, {"unicast", 1}, {"local", 2}, {"broadcast", 3}, {"anycast", 4},
                               {"multicast", 5}, {"blackhole", 6}, {"unreachable", 7}, {"prohibit", 8}};
constexpr Named kNfProtos[] = {{"ipv4", 2}, {"ipv6", 10}};
constexpr Named kEtherTypes[] = {{"ip", 0x0800}, {"ip6", 0x86dd}, {"arp", 0x0806}};

template <size_t N>
std::optional<uint32_t> lookup(const Named (&t)[N], const std::string& s) {
  for (const auto& n : t) {
    if (s == n.name) return n.value;
  }
  return std::nullopt;
}
template <size_t N>
const char* name_of(const Named (&t)[N], uint32_t v) {
  for (const auto& n : t) {
    if (n.value == v) return n.name;
  }
  return nullptr;
}
template <size_t N>
std::string names(const Named (&t)[N]) {
  std::string s;
  for (const auto& n : t) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}

std::string show(const Scalar& s) { return s.is_string ? "'" + s.str + "'" : std::to_string(static_cast<int64_t>(s.num)); }

uint32_t integer(const Scalar& s, const Datatype& t, uint32_t max) {
  if (s.is_string || !std::isfinite(s.num) || std::trunc(s.num) != s.num) {
    throw ValueError(std::string("must be an integer (") + t.name + "), got " + show(s));
  }
  if (s.num < 0 || s.num > max) throw ValueError("out of range 0-" + std::to_string(max) + ": " + show(s), true);
  return static_cast<uint32_t>(s.num);
}

// A name from t, or an integer up to max.
template <size_t N>
uint32_t named_or_integer(const Named (&t)[N], const Scalar& s, const Datatype& type, uint32_t max) {
  if (s.is_string) {
    if (auto v = lookup(t, s.str)) return *v;
    throw ValueError(std::string("unknown ") + type.name + " '" + s.str + "' (one of " + names(t) + ")");
  }
  return integer(s, type, max);
}

void put_be(std::string& out, uint32_t v, size_t len) {
  for (size_t i = 0; i < len; i++) out.push_back(static_cast<char>(v >> (8 * (len - 1 - i))));
}
void put_host32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
uint32_t get_be(std::string_view b, size_t len) {
  uint32_t v = 0;
  for (size_t i = 0; i < len; i++) v = v << 8 | static_cast<uint8_t>(b[i]);
  return v;
}
uint32_t get_host32(std::string_view b) {
  uint32_t v;
  std::memcpy(&v, b.data(), 4);
  return v;
}

// An interface name as the kernel takes one (dev_valid_name): 1-15 bytes, no '/', ':'
// or whitespace, not '.' or '..'.
bool valid_ifname(const std::string& s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (unsigned char c : s) {
    if (c == '/' || c == ':' || c == '\0' || std::isspace(c)) return false;
  }
  return true;
}

// One scalar of one type into out (len bytes).
void encode_one(const Datatype& t, const Scalar& s, std::string& out) {
  switch (t.id) {
    case kNfProto: out.push_back(static_cast<char>(named_or_integer(kNfProtos, s, t, 255))); return;
    case kIpv4:
    case kIpv6: {
      auto a = s.is_string ? rtnl::parse_ip(s.str) : rtnl::IpAddr{};
      if (a.family != (t.id == kIpv4 ? AF_INET : AF_INET6)) {
        throw ValueError(std::string("must be an ") + (t.id == kIpv4 ? "IPv4" : "IPv6") + " address, got " + show(s));
      }
      out.append(reinterpret_cast<const char*>(a.bytes), a.size());
      return;
    }
    case kEther: {
      auto raw = s.is_string ? rtnl::parse_hwaddr(s.str) : std::string();
      if (raw.size() != 6) throw ValueError("must be a MAC address, got " + show(s));
      out += raw;
      return;
    }
    case kEtherType: put_be(out, named_or_integer(kEtherTypes, s, t, 0xffff), 2); return;
    case kInetProto: out.push_back(static_cast<char>(named_or_integer(kProtos, s, t, 255))); return;
    case kInetService: put_be(out, integer(s, t, 65535), 2); return;
    case kMark: put_host32(out, integer(s, t, 0xffffffff)); return;
    case kIfaceIndex: put_host32(out, integer(s, t, 0x7fffffff)); return;
    case kFibAddrtype: put_host32(out, named_or_integer(kFibTypes, s, t, 255)); return;
    case kIfname: {
      if (!s.is_string || !valid_ifname(s.str)) {
        throw ValueError("must be an interface name (1-15 bytes, no '/', ':' or whitespace), got " + show(s));
      }
      std::string name(16, '\0');
      std::memcpy(name.data(), s.str.data(), s.str.size());
      out += name;
      return;
    }
    default: throw ValueError(std::string(t.name) + " values are not encoded as bytes");
  }
}

// Flag types (ct state, ct status): any number of flags, or-ed.
bool is_flags(const Datatype& t) { return t.id == kCtState || t.id == kCtStatus; }

void encode_flags(const Datatype& t, const Datum& v, std::string& out) {
  uint32_t n = 0;
  for (const auto& s : v) {
    n |= t.id == kCtState ? named_or_integer(kCtStates, s, t, 0xffffffff) : named_or_integer(kCtStatusFlags, s, t, 0xffffffff);
  }
  put_host32(out, n);
}

Scalar decode_one(const Datatype& t, std::string_view b) {
  auto num = [](uint32_t n) { return Scalar::of(static_cast<double>(n)); };
  auto name_or = [&](const char* name, uint32_t n) { return name ? Scalar::of(std::string(name)) : num(n); };
  switch (t.id) {
    case kNfProto: return name_or(name_of(kNfProtos, static_cast<uint8_t>(b[0])), static_cast<uint8_t>(b[0]));
    case kIpv4:
    case kIpv6: return Scalar::of(rtnl::format_ip(t.id == kIpv4 ? AF_INET : AF_INET6, b.data()));
    case kEther: return Scalar::of(rtnl::format_hwaddr(b.data(), 6));
    case kEtherType: return name_or(name_of(kEtherTypes, get_be(b, 2)), get_be(b, 2));
    case kInetProto: return name_or(name_of(kProtos, static_cast<uint8_t>(b[0])), static_cast<uint8_t>(b[0]));
    case kInetService: return num(get_be(b, 2));
    case kMark:
    case kIfaceIndex: return num(get_host32(b));
    case kFibAddrtype: return name_or(name_of(kFibTypes, get_host32(b)), get_host32(b));
    case kCtState:
    case kCtStatus: {
      // The flag's name when exactly one is set, else the number.
      uint32_t n = get_host32(b);
      const char* only = nullptr;
      int count = 0;
      auto scan = [&](const auto& table) {
        for (const auto& x : table) {
          if ((n & x.value) == x.value) {
            only = x.name;
            count++;
          }
        }
      };
      if (t.id == kCtState) scan(kCtStates);
      else scan(kCtStatusFlags);
      return count == 1 ? Scalar::of(std::string(only)) : num(n);
    }
    case kIfname: {
      size_t z = b.substr(0, 16).find('\0');
      return Scalar::of(std::string(b.substr(0, z == std::string_view::npos ? 16 : z)));
    }
    default: return Scalar::of(std::string(b.begin(), b.end()));
  }
}

uint32_t pad4(uint32_t n) { return (n + 3) & ~3u; }

// The prefix length whose range [first, last] is, or -1.
int prefix_len(std::string_view first, std::string_view last) {
  const int bits = static_cast<int>(first.size()) * 8;
  auto bit = [](std::string_view b, int i) { return (static_cast<uint8_t>(b[i >> 3]) >> (7 - (i & 7))) & 1; };
  int len = bits;
  while (len > 0 && bit(first, len - 1) == 0 && bit(last, len - 1) == 1) len--;
  for (int i = 0; i < len; i++) {
    if (bit(first, i) != bit(last, i)) return -1;
  }
  for (int i = len; i < bits; i++) {
    if (bit(first, i) != 0 || bit(last, i) != 1) return -1;
  }
  return len;
}

std::string scalar_text(const Scalar& s) { return s.is_string ? s.str : std::to_string(static_cast<int64_t>(s.num)); }

}  // namespace

std::span<const Datatype> datatypes() { return kTypes; }

const Datatype* datatype_named(std::string_view name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

Layout Layout::of(const std::vector<std::string>& names) {
  if (names.empty()) throw ValueError("needs at least one data type");
  std::vector<const Datatype*> parts;
  for (const auto& n : names) {
    const Datatype* t = datatype_named(n);
    if (!t || t->id == kVerdict) {
      std::string all;
      for (const auto& x : kTypes) {
        if (x.id != kVerdict) all += (all.empty() ? "" : ", ") + std::string(x.name);
      }
      throw ValueError("unknown data type '" + n + "' (one of " + all + ")");
    }
    parts.push_back(t);
  }
  return Layout(std::move(parts));
}

std::optional<Layout> Layout::from_id(uint32_t id) {
  std::vector<const Datatype*> parts;
  for (uint32_t n = id; n > 0; n /= 64) {
    const Datatype* t = nullptr;
    for (const auto& x : kTypes) {
      if (x.id == n % 64 && x.id != kVerdict) t = &x;
    }
    if (!t) return std::nullopt;
    parts.insert(parts.begin(), t);
  }
  if (parts.empty()) return std::nullopt;
  return Layout(std::move(parts));
}

uint32_t Layout::id() const {
  uint32_t id = 0;
  for (const auto* t : parts_) id = id * 64 + t->id;
  return id;
}

uint32_t Layout::len() const {
  if (!concat()) return parts_[0]->len;
  uint32_t n = 0;
  for (const auto* t : parts_) n += pad4(t->len);
  return n;
}

std::string Layout::name() const {
  std::string s;
  for (const auto* t : parts_) s += (s.empty() ? "" : " . ") + std::string(t->name);
  return s;
}

std::string Layout::encode(const Datum& v) const {
  std::string out;
  if (!concat()) {
    const Datatype& t = *parts_[0];
    if (is_flags(t)) {
      encode_flags(t, v, out);
      return out;
    }
    if (v.size() != 1) throw ValueError("must be one " + std::string(t.name) + " value, got " + std::to_string(v.size()));
    encode_one(t, v[0], out);
    return out;
  }
  if (v.size() != parts_.size()) {
    throw ValueError("must be an array of " + std::to_string(parts_.size()) + " values (" + name() + ")");
  }
  out.reserve(len());
  for (size_t i = 0; i < parts_.size(); i++) {
    size_t at = out.size();
    try {
      encode_one(*parts_[i], v[i], out);
    } catch (const ValueError& e) {
      throw ValueError("[" + std::to_string(i) + "] " + e.what(), e.range);
    }
    out.resize(at + pad4(parts_[i]->len), '\0');
  }
  return out;
}

Datum Layout::decode(std::string_view bytes) const {
  Datum out;
  size_t off = 0;
  for (const auto* t : parts_) {
    if (off + t->len > bytes.size()) return {Scalar::of(std::string("0x") + std::string(bytes.size() * 2, '?'))};
    out.push_back(decode_one(*t, bytes.substr(off, t->len)));
    off += concat() ? pad4(t->len) : t->len;
  }
  return out;
}

std::pair<std::string, std::string> Layout::interval(const Datum& v) const {
  const Datatype& t = *parts_[0];
  const bool ip = t.id == kIpv4 || t.id == kIpv6;
  if (v.size() == 1 && v[0].is_string) {
    const std::string& s = v[0].str;
    size_t slash = s.find('/');
    if (ip && slash != std::string::npos) {
      std::string addr = encode({Scalar::of(s.substr(0, slash))});
      std::string len = s.substr(slash + 1);
      const size_t max = addr.size() * 8;
      if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos || std::stoul(len) > max) {
        throw ValueError("bad prefix " + s, true);
      }
      const size_t bits = std::stoul(len);
      std::string first = addr, last = addr;
      for (size_t i = bits; i < max; i++) {
        first[i >> 3] = static_cast<char>(first[i >> 3] & ~(0x80 >> (i & 7)));
        last[i >> 3] = static_cast<char>(last[i >> 3] | (0x80 >> (i & 7)));
      }
      if (first != addr) throw ValueError(s + " has host bits set", true);
      return {first, last};
    }
    size_t dash = s.find('-');
    if (t.id != kIfname && dash != std::string::npos && dash > 0 && dash + 1 < s.size() && s.find('-', dash + 1) == std::string::npos) {
      auto part = [&](const std::string& x) {
        if (t.id == kInetService || t.id == kMark) {
          if (x.find_first_not_of("0123456789") != std::string::npos) throw ValueError("bad range " + s);
          return Scalar::of(std::stod(x));
        }
        return Scalar::of(x);
      };
      std::string first = encode({part(s.substr(0, dash))});
      std::string last = encode({part(s.substr(dash + 1))});
      if (first > last) throw ValueError("range " + s + " runs backwards", true);
      return {first, last};
    }
  }
  std::string k = encode(v);
  return {k, k};
}

Scalar Layout::interval_text(const std::string& first, const std::string& last) const {
  const Datatype& t = *parts_[0];
  Scalar a = decode_one(t, first);
  if (first == last) return a;
  int plen = prefix_len(first, last);
  if (plen >= 0 && (t.id == kIpv4 || t.id == kIpv6)) return Scalar::of(a.str + "/" + std::to_string(plen));
  return Scalar::of(scalar_text(a) + "-" + scalar_text(decode_one(t, last)));
}

}  // namespace np::nft
