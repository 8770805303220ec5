#include "rtnl/ip.h"

#include <arpa/inet.h>

#include <cerrno>

#include "netlink/socket.h"

namespace np::rtnl {

IpAddr parse_ip(const std::string& s) {
  IpAddr a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes) == 1) {
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, s.c_str(), a.bytes) == 1) {
    a.family = AF_INET6;
  } else {
    throw nl::NlError(EINVAL, "parse", "not an IP address: " + s);
  }
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

std::string format_ip(uint8_t family, const void* p) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, p, buf, sizeof buf)) return {};
  return buf;
}

std::string format_ip(const IpAddr& a) { return a.set() ? format_ip(a.family, a.bytes) : std::string(); }

}  // namespace np::rtnl
