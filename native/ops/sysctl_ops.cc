// Per-namespace sysctls: files under /proc/sys/net.
//
// Which namespace a /proc/sys/net file belongs to is decided when it is looked up
// (the sysctl tables are chosen by the opening task's namespace) and the open file
// keeps that table, so the namespace thread only opens the file, inside the
// namespace, and the read or write happens afterwards on the libuv pool thread. The
// path is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) below a
// /proc/sys/net directory fd, so no key can reach a file outside it even if the
// TypeScript checks were bypassed.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ops/async.h"
#include "ops/entry.h"
#include "ops/reader.h"

namespace np::ops {

namespace {

// Values are at most a page in the kernel's handlers; allow a little slack.
constexpr size_t kMaxValue = 8192;

[[noreturn]] void fail(int err, const std::string& what) {
  throw nl::NlError(err, "sysctl", what + ": " + std::strerror(err));
}

// rel: "ipv4/ip_forward", relative to /proc/sys/net, already normalised by TypeScript.
void check_rel(const js::Args& args, size_t i, const std::string& rel) {
  bool ok = !rel.empty() && rel.front() != '/' && rel.back() != '/' && rel.find('\0') == std::string::npos &&
            rel.size() < 4096;
  size_t start = 0;
  while (ok && start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string_view part(rel.data() + start, end - start);
    ok = !part.empty() && part != "." && part != "..";
    start = end + 1;
  }
  if (!ok) args.at(i).fail("must name a file below /proc/sys/net");
}

int open_beneath(int dir, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how));
  // Kernels before 5.6: the checked relative path and O_NOFOLLOW must do.
  if (fd < 0 && errno == ENOSYS) fd = openat(dir, rel.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  return fd;
}

// Opens net/<rel> as the namespace of h sees it; the returned fd may be used anywhere.
int open_in(ns::NsHandle& h, const std::string& rel, int flags) {
  int r = h.run_inside([&] {
    int dir = open("/proc/sys/net", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -errno;
    int fd = open_beneath(dir, rel, flags);
    int e = errno;
    ::close(dir);
    return fd < 0 ? -e : fd;
  });
  if (r < 0) fail(-r, "open /proc/sys/net/" + rel);
  return r;
}

struct Fd {
  int fd;
  ~Fd() { ::close(fd); }
};

std::string read_value(ns::NsHandle& h, const std::string& rel) {
  Fd f{open_in(h, rel, O_RDONLY)};
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, "read /proc/sys/net/" + rel);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxValue) fail(EFBIG, "read /proc/sys/net/" + rel);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void write_value(ns::NsHandle& h, const std::string& rel, const std::string& value) {
  Fd f{open_in(h, rel, O_WRONLY)};
  // Sysctl handlers parse one write at offset 0: the value goes out in one call.
  ssize_t n;
  do {
    n = write(f.fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail(errno, "write /proc/sys/net/" + rel);
  if (static_cast<size_t>(n) != value.size()) fail(EIO, "short write to /proc/sys/net/" + rel);
}

// sysctlGet(handle, rel): Promise<string> (trailing newline removed)
Napi::Value SysctlGet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "key"});
  auto h = args.handle(0);
  auto rel = args.str(1);
  check_rel(args, 1, rel);
  return js::run_async<std::string>(
      info.Env(), [h, rel] { return read_value(*h, rel); },
      [](Napi::Env env, std::string& v) -> Napi::Value { return Napi::String::New(env, v); });
}

// sysctlSet(handle, rel, value): Promise<void>
Napi::Value SysctlSet(const Napi::CallbackInfo& info) {
  js::Args args(info, {"handle", "key", "value"});
  auto h = args.handle(0);
  auto rel = args.str(1);
  auto value = args.str(2);
  check_rel(args, 1, rel);
  if (value.size() > kMaxValue || value.find('\0') != std::string::npos) {
    args.at(2).range_error("is longer than " + std::to_string(kMaxValue) + " bytes or contains NUL");
  }
  return js::run_async<bool>(
      info.Env(), [h, rel, value] { write_value(*h, rel, value); return true; },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

constexpr Entry kEntries[] = {
    {"sysctlGet", SysctlGet},
    {"sysctlSet", SysctlSet},
};

}  // namespace

std::span<const Entry> sysctl_entries() { return kEntries; }

}  // namespace np::ops
