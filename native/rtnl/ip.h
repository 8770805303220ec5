// Addresses as they travel in netlink attributes, and their text forms: IPv4/IPv6 (4 or
// 16 bytes, network byte order) and hardware (MAC) addresses. The one parser and the one
// formatter of each for all of native/.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace np::rtnl {

struct IpAddr {
  uint8_t family = 0;  // AF_INET or AF_INET6; 0 = unset
  uint8_t bytes[16] = {};
  size_t size() const { return family == AF_INET6 ? 16 : 4; }
  bool set() const { return family != 0; }
};

// Parses "10.0.0.1" or "fd00::1" (inet_pton's forms: no prefix, no zone); an unset
// IpAddr if it is neither.
IpAddr parse_ip(std::string_view s);
// Parses 4 or 16 raw bytes (an attribute's payload); unset if it is another size.
IpAddr ip_from_bytes(const void* p, size_t n);
inline IpAddr ip_from_bytes(std::string_view raw) { return ip_from_bytes(raw.data(), raw.size()); }
std::string format_ip(const IpAddr& a);
std::string format_ip(uint8_t family, const void* p);
// Appends the text form and returns its length (IPv4 by hand: neighbour tables are
// mostly ARP and format thousands at a time).
size_t append_ip(std::string& out, const IpAddr& a);

// Parses "aa:bb:cc:dd:ee:ff" (1 to 32 bytes, hex digits in pairs) into raw bytes; empty
// if it is not one.
std::string parse_hwaddr(std::string_view s);
// aa:bb:cc:dd:ee:ff, lower case.
std::string format_hwaddr(const void* p, size_t n);
size_t append_hwaddr(std::string& out, const void* p, size_t n);

}  // namespace np::rtnl
