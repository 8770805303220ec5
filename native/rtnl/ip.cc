#include "rtnl/ip.h"

#include <arpa/inet.h>

namespace np::rtnl {

IpAddr parse_ip(std::string_view s) {
  IpAddr a;
  char buf[INET6_ADDRSTRLEN];
  // inet_pton stops at a NUL: "1.2.3.4\0junk" is not an address.
  if (s.size() >= sizeof buf || s.find('\0') != std::string_view::npos) return a;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (inet_pton(AF_INET, buf, a.bytes) == 1) a.family = AF_INET;
  else if (inet_pton(AF_INET6, buf, a.bytes) == 1) a.family = AF_INET6;
  return a;
}

IpAddr ip_from_bytes(const void* p, size_t n) {
  IpAddr a;
  if (n == 4) a.family = AF_INET;
  else if (n == 16) a.family = AF_INET6;
  else return a;
  std::memcpy(a.bytes, p, n);
  return a;
}

size_t append_ip(std::string& out, const IpAddr& a) {
  if (a.family == AF_INET) {
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; i++) {
      unsigned v = a.bytes[i];
      if (i) *p++ = '.';
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
      *p++ = static_cast<char>('0' + v % 10);
    }
    out.append(buf, p);
    return static_cast<size_t>(p - buf);
  }
  // IPv6 by inet_ntop: its zero-run rules (RFC 5952) are not worth repeating.
  char buf[INET6_ADDRSTRLEN];
  if (!a.set() || !inet_ntop(a.family, a.bytes, buf, sizeof buf)) return 0;
  size_t len = std::strlen(buf);
  out.append(buf, len);
  return len;
}

std::string format_ip(uint8_t family, const void* p) {
  IpAddr a = ip_from_bytes(p, family == AF_INET6 ? 16 : 4);
  std::string s;
  append_ip(s, a);
  return s;
}

std::string format_ip(const IpAddr& a) {
  std::string s;
  append_ip(s, a);
  return s;
}

std::string parse_hwaddr(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  size_t i = 0;
  while (i + 1 < s.size() && hex(s[i]) >= 0 && hex(s[i + 1]) >= 0 && out.size() < 32) {
    out.push_back(static_cast<char>(hex(s[i]) * 16 + hex(s[i + 1])));
    i += 2;
    if (i == s.size()) return out;
    if (s[i] != ':') break;
    i++;
  }
  return {};
}

size_t append_hwaddr(std::string& out, const void* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  const auto* b = static_cast<const uint8_t*>(p);
  size_t start = out.size();
  for (size_t i = 0; i < n; i++) {
    if (i) out.push_back(':');
    out.push_back(digits[b[i] >> 4]);
    out.push_back(digits[b[i] & 15]);
  }
  return out.size() - start;
}

std::string format_hwaddr(const void* p, size_t n) {
  std::string s;
  s.reserve(n * 3);
  append_hwaddr(s, p, n);
  return s;
}

}  // namespace np::rtnl
