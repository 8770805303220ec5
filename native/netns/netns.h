// Network namespace handles: a namespace fd plus lazily opened netlink sockets that
// live in that namespace.
#pragma once

#include <sys/types.h>

#include <cerrno>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "netlink/socket.h"
#include "netns/thread.h"

namespace np::ns {

class NsHandle {
 public:
  // Takes ownership of fd (an nsfs file for a network namespace).
  explicit NsHandle(int fd);
  // The same, with the namespace's route socket already open (made while the namespace
  // thread was inside it, as create does: the first request needs no trip there).
  NsHandle(int fd, std::shared_ptr<nl::Socket> route);
  ~NsHandle();

  // Opens a handle from a path (/run/netns/NAME, /proc/PID/ns/net...). Checks that the
  // file is a network namespace (NS_GET_NSTYPE); ENOENT if it does not exist, EINVAL
  // if it is some other file.
  static std::shared_ptr<NsHandle> open_path(const std::string& path);

  // A handle for a namespace that a later native call makes (attachVeth with create):
  // open, with no fd until adopt() gives it one. Requests on it fail with EBADF until then.
  static std::shared_ptr<NsHandle> pending();
  bool is_pending() const;
  // Gives this pending handle the namespace and sockets of `made`, which is left closed.
  void adopt(NsHandle& made);
  // Shares the sockets `other` has open (another handle on the same namespace, such as
  // the file a bind mount made of it): this handle's first request then needs no trip
  // to the namespace thread. Sockets this handle already has stay.
  void share_sockets(const NsHandle& other);

  // The netlink socket of `protocol` inside this namespace, opened on first use by
  // the namespace thread. The caller must hold the socket's mutex while using it;
  // the shared_ptr keeps it alive across a close() that happens meanwhile.
  std::shared_ptr<nl::Socket> socket(int protocol);

  // Runs fn on the namespace thread while it is inside this namespace (opening a
  // socket or a /proc/sys/net file that must belong to it). Throws NlError(EBADF) if
  // closed.
  template <typename F>
  auto run_inside(F&& fn) -> decltype(fn()) {
    std::lock_guard<std::mutex> lk(mu_);
    if (fd_ < 0) throw nl::NlError(EBADF, "netns", "namespace handle is closed");
    return NsThread::instance().run_in(fd_, std::forward<F>(fn));
  }

  // Closes the namespace fd and drops the sockets; a request in flight keeps its
  // socket until it finishes, then the socket closes.
  void close();
  bool closed() const;
  int fd() const { return fd_; }
  dev_t dev() const { return dev_; }
  ino_t ino() const { return ino_; }

  // Throws NlError(EBADF) if closed.
  void check_open() const;

 private:
  mutable std::mutex mu_;  // guards fd_ and the socket slots
  int fd_;
  bool pending_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::shared_ptr<nl::Socket> route_;
  std::shared_ptr<nl::Socket> netfilter_;
};

// ip netns add: creates dir/name bound to a new namespace. The directory is made a
// shared mount point first, as iproute2 does, so mounts made later propagate to
// mount namespaces created after it (ip netns exec relies on this).
// Leaves nothing behind on failure.
std::shared_ptr<NsHandle> create_named(const std::string& dir, const std::string& name);
// Gives an existing namespace (any handle) a name: bind-mounts its fd at dir/name, as
// ip netns attach does. EEXIST if the name is taken; leaves nothing behind on failure.
void bind_named(const NsHandle& h, const std::string& dir, const std::string& name);
// A new namespace known only by its fd, with its route socket open. Runs on the
// namespace thread (a direct call when already there).
std::shared_ptr<NsHandle> create_anonymous();
// ip netns delete: detach the bind mount and remove the file.
void delete_named(const std::string& dir, const std::string& name);
// The calling thread's own namespace.
std::shared_ptr<NsHandle> open_current();
// Names of entries in dir (empty if dir does not exist).
std::vector<std::string> list_named(const std::string& dir);

}  // namespace np::ns
