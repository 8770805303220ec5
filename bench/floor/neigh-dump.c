// The floor for bench/neigh-dump.mjs: the same RTM_GETNEIGH dump (strict checking,
// NDA_IFINDEX when a device is given), received into a 32 KiB buffer and counted,
// nothing decoded. What the kernel alone costs.
//
//   neigh-dump NETNS_PATH ITERATIONS [IFINDEX]  ->  {"count":N,"times":[ms,...]}
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: neigh-dump NETNS_PATH ITERATIONS [IFINDEX]\n");
    return 2;
  }
  int nsfd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) die("setns");
  int iterations = atoi(argv[2]);
  unsigned ifindex = argc > 3 ? (unsigned)atoi(argv[3]) : 0;

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die("socket");
  int one = 1, rcvbuf = 8 << 20;
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

  static char buf[32768];
  struct {
    struct nlmsghdr h;
    struct ndmsg ndm;
    struct rtattr rta;
    unsigned ifindex;
  } req;
  int count = 0;
  printf("{\"times\":[");
  for (int it = 0; it < iterations; it++) {
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = ifindex ? sizeof req : NLMSG_LENGTH(sizeof req.ndm);
    req.h.nlmsg_type = RTM_GETNEIGH;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = it + 1;
    req.rta.rta_type = NDA_IFINDEX;
    req.rta.rta_len = RTA_LENGTH(sizeof req.ifindex);
    req.ifindex = ifindex;
    double t0 = now_ms();
    if (send(fd, &req, req.h.nlmsg_len, 0) < 0) die("send");
    int done = 0;
    count = 0;
    while (!done) {
      int got = recv(fd, buf, sizeof buf, 0);
      if (got < 0) die("recv");
      for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, got); h = NLMSG_NEXT(h, got)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = 1;
          break;
        }
        if (h->nlmsg_type == RTM_NEWNEIGH) count++;
      }
    }
    printf("%s%.4f", it ? "," : "", now_ms() - t0);
  }
  printf("],\"count\":%d}\n", count);
  return 0;
}
