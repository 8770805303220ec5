// IPv4/IPv6 addresses as they travel in rtnetlink attributes (network byte order,
// 4 or 16 bytes), parsed from and formatted to their text forms.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace np::rtnl {

struct IpAddr {
  uint8_t family = 0;  // AF_INET or AF_INET6; 0 = unset
  uint8_t bytes[16] = {};
  size_t size() const { return family == AF_INET6 ? 16 : 4; }
  bool set() const { return family != 0; }
};

// Parses "10.0.0.1" or "fd00::1"; throws NlError(EINVAL) on anything else.
IpAddr parse_ip(const std::string& s);
// Parses 4 or 16 raw bytes.
IpAddr ip_from_bytes(const void* p, size_t n);
std::string format_ip(const IpAddr& a);
std::string format_ip(uint8_t family, const void* p);

}  // namespace np::rtnl
