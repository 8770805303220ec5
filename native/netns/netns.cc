#include "netns/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <cerrno>
#include <cstring>

#include "netns/thread.h"

namespace np::ns {

namespace {

[[noreturn]] void fail(int err, const std::string& op, const std::string& what) {
  throw nl::NlError(err, op, what + ": " + std::strerror(err));
}

// Closes an fd on scope exit unless released.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

void mkdir_p(const std::string& dir) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) fail(errno, "mkdir", cur);
  }
}

// As iproute2's netns_add: make the netns directory a shared mount point, bind-mounting
// it onto itself if it is not a mount point yet, so that namespaces mounted into it
// propagate to mount namespaces cloned later (ip netns exec, containers).
void make_shared_now(const std::string& dir) {
  bool bound = false;
  while (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || bound) fail(errno, "mount", "make " + dir + " shared");
    if (mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0)
      fail(errno, "mount", "bind " + dir + " onto itself");
    bound = true;
  }
}

// The netns directory made (if missing) and shared, once per directory: changing propagation with MS_REC walks every mount
// under the directory, one per named namespace, so doing it on each create would cost
// O(namespaces). The id of the mount the directory sits on afterwards is remembered; a
// directory unmounted or remounted since sits on another mount and is made shared again
// (one whose propagation someone changed in place is left as they set it).
uint64_t mount_id(const std::string& dir) {
  struct statx sx;
  if (statx(AT_FDCWD, dir.c_str(), 0, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID)) return 0;
  return sx.stx_mnt_id;
}

void make_shared(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, uint64_t> done;  // dir -> mount id once made shared
  std::lock_guard<std::mutex> lk(mu);
  const uint64_t now = mount_id(dir);
  if (auto it = done.find(dir); it != done.end() && now != 0 && it->second == now) return;
  mkdir_p(dir);
  make_shared_now(dir);
  done[dir] = mount_id(dir);
}

int open_current_netns() {
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open", "/proc/thread-self/ns/net");
  return fd;
}

}  // namespace

NsHandle::NsHandle(int fd) : fd_(fd) {
  struct stat st;
  if (fstat(fd, &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

NsHandle::NsHandle(int fd, std::shared_ptr<nl::Socket> route) : NsHandle(fd) { route_ = std::move(route); }

NsHandle::~NsHandle() { close(); }

std::shared_ptr<NsHandle> NsHandle::open_path(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open", path);
  FdGuard g{fd};
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    throw nl::NlError(EINVAL, "open", path + " is not a network namespace");
  }
  return std::make_shared<NsHandle>(g.release());
}

std::shared_ptr<NsHandle> NsHandle::pending() {
  auto h = std::make_shared<NsHandle>(-1);
  h->pending_ = true;
  return h;
}

bool NsHandle::is_pending() const {
  std::lock_guard<std::mutex> lk(mu_);
  return pending_;
}

void NsHandle::adopt(NsHandle& made) {
  std::scoped_lock lk(mu_, made.mu_);
  if (!pending_) throw nl::NlError(EINVAL, "netns", "handle is not waiting for a namespace");
  fd_ = made.fd_;
  dev_ = made.dev_;
  ino_ = made.ino_;
  route_ = std::move(made.route_);
  netfilter_ = std::move(made.netfilter_);
  pending_ = false;
  made.fd_ = -1;
}

void NsHandle::share_sockets(const NsHandle& other) {
  if (&other == this) return;
  std::scoped_lock lk(mu_, other.mu_);
  if (!route_) route_ = other.route_;
  if (!netfilter_) netfilter_ = other.netfilter_;
}

void NsHandle::check_open() const {
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ < 0 && !pending_) throw nl::NlError(EBADF, "netns", "namespace handle is closed");
}

bool NsHandle::closed() const {
  std::lock_guard<std::mutex> lk(mu_);
  return fd_ < 0 && !pending_;
}

std::shared_ptr<nl::Socket> NsHandle::socket(int protocol) {
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ < 0) throw nl::NlError(EBADF, "netns", pending_ ? "the namespace is not created yet" : "namespace handle is closed");
  auto& slot = protocol == NETLINK_ROUTE ? route_ : netfilter_;
  if (!slot) {
    slot = NsThread::instance().run_in(fd_, [protocol] { return std::make_shared<nl::Socket>(protocol); });
  }
  return slot;
}

void NsHandle::close() {
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_ = false;
  route_.reset();
  netfilter_.reset();
}

namespace {

// The mount point for a named namespace: the directory made (shared, as iproute2 makes
// it) and an empty file created exclusively, so a taken name fails before anything else.
std::string make_mount_point(const std::string& dir, const std::string& name, const char* op) {
  make_shared(dir);
  const std::string path = dir + "/" + name;
  int f = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (f < 0) {
    int e = errno;
    if (e == EEXIST) throw nl::NlError(EEXIST, op, "namespace \"" + name + "\" already exists");
    fail(e, op, "create " + path);
  }
  ::close(f);
  return path;
}

// Binds the namespace behind h onto an existing mount point. The handle's fd, seen
// through /proc, is the nsfs file to bind: no setns needed.
void bind_onto(const NsHandle& h, const std::string& path, const char* op) {
  const std::string src = "/proc/self/fd/" + std::to_string(h.fd());
  if (mount(src.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) fail(errno, op, "bind mount onto " + path);
}

}  // namespace

// ip netns add: an anonymous namespace, then bound at dir/name. On any failure the
// file is removed and the namespace, held by nothing, goes away.
std::shared_ptr<NsHandle> create_named(const std::string& dir, const std::string& name) {
  const std::string path = make_mount_point(dir, name, "netns add");
  try {
    auto h = create_anonymous();
    bind_onto(*h, path, "netns add");
    return h;
  } catch (...) {
    unlink(path.c_str());
    throw;
  }
}

void bind_named(const NsHandle& h, const std::string& dir, const std::string& name) {
  h.check_open();
  const std::string path = make_mount_point(dir, name, "netns attach");
  try {
    bind_onto(h, path, "netns attach");
  } catch (...) {
    unlink(path.c_str());
    throw;
  }
}

std::shared_ptr<NsHandle> create_anonymous() {
  return NsThread::instance().run([] {
    auto& t = NsThread::instance();
    if (unshare(CLONE_NEWNET) != 0) fail(errno, "netns add", "unshare(CLONE_NEWNET)");
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    // Inside already: open the route socket now, which saves the first request a trip
    // back here. A failure only leaves it to be opened on first use, as for any handle.
    std::shared_ptr<nl::Socket> route;
    if (fd >= 0) {
      try {
        route = std::make_shared<nl::Socket>(NETLINK_ROUTE);
      } catch (const std::exception&) {
        route.reset();
      }
    }
    t.return_home();
    if (fd < 0) fail(err, "netns add", "/proc/thread-self/ns/net");
    return std::make_shared<NsHandle>(fd, std::move(route));
  });
}

void delete_named(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    int e = errno;
    if (e == ENOENT) throw nl::NlError(ENOENT, "netns delete", "namespace \"" + name + "\" does not exist");
    fail(e, "netns delete", path);
  }
  // EINVAL: not a mount point (a half-made entry); remove the file anyway.
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL) fail(errno, "netns delete", "umount " + path);
  if (unlink(path.c_str()) != 0) fail(errno, "netns delete", "unlink " + path);
}

std::vector<std::string> list_named(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    fail(errno, "netns list", dir);
  }
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    out.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<NsHandle> open_current() { return std::make_shared<NsHandle>(open_current_netns()); }

}  // namespace np::ns
