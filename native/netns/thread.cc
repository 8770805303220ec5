#include "netns/thread.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "netlink/socket.h"

namespace np::ns {

NsThread& NsThread::instance() {
  static NsThread* t = new NsThread();  // intentionally never destroyed
  return *t;
}

NsThread::NsThread() {
  std::promise<int> ready;
  auto fut = ready.get_future();
  thread_ = std::thread([this, &ready] {
    // The thread's own namespace at birth is the process's: nobody else calls setns.
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ready.set_value(fd < 0 ? -errno : fd);
    if (fd < 0) return;
    for (;;) queue_.take()();  // packaged_task: exceptions are stored in the future
  });
  int r = fut.get();
  if (r < 0) {
    thread_.join();
    throw nl::NlError(-r, "open(/proc/thread-self/ns/net)", std::strerror(-r));
  }
  home_fd_ = r;
  id_ = thread_.get_id();
  thread_.detach();
}

void TaskQueue::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

std::function<void()> TaskQueue::take() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [this] { return !queue_.empty(); });
  auto fn = std::move(queue_.front());
  queue_.pop_front();
  return fn;
}

bool TaskQueue::empty() {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.empty();
}

void NsThread::return_home() {
  if (setns(home_fd_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "netplumb: FATAL: cannot return the namespace thread home: %s\n",
                 std::strerror(errno));
    std::abort();
  }
}

SpillWorkers& SpillWorkers::instance() {
  static SpillWorkers* w = new SpillWorkers();  // intentionally never destroyed
  return *w;
}

SpillWorkers::SpillWorkers() {
  unsigned n = std::thread::hardware_concurrency();
  n = n < 2 ? 2 : n > 4 ? 4 : n;
  for (unsigned i = 0; i < n; i++) std::thread([this] {
    for (;;) queue_.take()();
  }).detach();
}

namespace {

// Whether two nsfs fds refer to the same namespace.
bool same_namespace(int a, int b) {
  struct stat sa, sb;
  return a == b || (fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

}  // namespace

NsThread::Enter::Enter(NsThread& t, int nsfd) : t_(t) {
  // Already there (a handle on the process's own namespace): no setns, which would need
  // CAP_SYS_ADMIN even to re-enter the namespace the thread is in.
  if (same_namespace(nsfd, t.home_fd_)) return;
  if (setns(nsfd, CLONE_NEWNET) != 0) {
    int e = errno;
    throw nl::NlError(e, "setns", std::string("cannot enter network namespace: ") + std::strerror(e));
  }
  moved_ = true;
}

NsThread::Enter::~Enter() {
  if (moved_) t_.return_home();
}

}  // namespace np::ns
