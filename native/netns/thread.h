// The one thread that enters network namespaces.
//
// setns(2) moves only the calling thread. The JS thread and the libuv pool threads
// must never move: a pool thread left in the wrong namespace would silently run every
// later request there. So everything that must happen *inside* a namespace (opening a
// socket, unshare for a new namespace, opening a per-namespace /proc/sys file) runs on
// this addon-owned thread, which enters, does the work, and returns home. If it cannot
// return home the process aborts: continuing would corrupt later operations.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace np::ns {

// A queue of work for one or more threads: post() from anywhere, take() blocks until
// there is something.
class TaskQueue {
 public:
  void post(std::function<void()> fn);
  std::function<void()> take();
  bool empty();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

class NsThread {
 public:
  // The process-wide instance, started on first use. It is never destroyed: it holds
  // no JS values and must outlive every environment that uses it.
  static NsThread& instance();

  // Runs fn on the namespace thread and waits for it; exceptions propagate.
  template <typename F>
  auto run(F&& fn) -> decltype(fn()) {
    using R = decltype(fn());
    if (on_thread()) return fn();
    std::packaged_task<R()> task(std::forward<F>(fn));
    auto fut = task.get_future();
    post([&task] { task(); });
    return fut.get();
  }

  // Runs fn with the thread inside the namespace `nsfd`, then returns home.
  template <typename F>
  auto run_in(int nsfd, F&& fn) -> decltype(fn()) {
    return run([&]() -> decltype(fn()) {
      Enter guard(*this, nsfd);
      return fn();
    });
  }

  // Queues fn to run on the namespace thread and returns at once. fn must not throw
  // (catch inside); the caller learns of its end through fn itself.
  void submit(std::function<void()> fn) { post(std::move(fn)); }

  // Whether work is queued behind whatever the thread is doing now: a caller on the
  // thread can hand the part of its work that needs no namespace to the spill workers.
  bool backlog() { return !queue_.empty(); }

  // The namespace this thread returns to (the process's own at start).
  int home_fd() const { return home_fd_; }
  // Whether we are on the namespace thread right now.
  bool on_thread() const { return std::this_thread::get_id() == id_; }

  // Called on this thread only: go back home or abort.
  void return_home();

  // RAII: enter a namespace on this thread; return home on scope exit.
  class Enter {
   public:
    Enter(NsThread& t, int nsfd);
    ~Enter();
    Enter(const Enter&) = delete;
    Enter& operator=(const Enter&) = delete;

   private:
    NsThread& t_;
    bool moved_ = false;
  };

 private:
  NsThread();
  void post(std::function<void()> fn) { queue_.post(std::move(fn)); }

  int home_fd_ = -1;
  TaskQueue queue_;
  std::thread thread_;
  std::thread::id id_;
};

// Threads that never enter a namespace, for the part of a namespace-thread operation
// that needs none (sending batches on sockets already open) when the namespace thread
// has more work waiting: with many creations in flight the namespace thread makes the
// next namespace while these send the previous one's batches. A few threads, started on
// first use, never destroyed (as the namespace thread).
class SpillWorkers {
 public:
  static SpillWorkers& instance();
  // Queues fn and returns at once; fn must not throw.
  void submit(std::function<void()> fn) { queue_.post(std::move(fn)); }

 private:
  SpillWorkers();
  TaskQueue queue_;
};

}  // namespace np::ns
