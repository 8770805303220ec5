// The floor of the container-attach benchmark: the same rtnetlink requests the
// workload needs, made by hand with no library, one request and one ack at a time.
// Deliberately naive: no batching, no pipelining, no socket or queue tuning, no IPv6
// tuning. Compiled by bench/peers/floor.mjs at bench time (cc -O2); not part of the
// addon.
//
//   floor attach   PLAN BRIDGE GATEWAY NETNSDIR   attach every container of PLAN
//   floor teardown PLAN NETNSDIR                  detach them one by one (timed each)
//   floor bulk     PLAN NETNSDIR                  detach them all (timed as a whole)
//   floor linkget  ITERATIONS                     RTM_GETLINK "lo", timed each
//   floor publat   ITERATIONS                     publish + unpublish one port (below), timed each
//   floor publat6  ITERATIONS                     the same over IPv6 (dnat6_ip, pub6)
//
// With PORTBASE after the arguments of attach, teardown and bulk (the published-port
// workload), container i also publishes tcp PORTBASE+i on every host address to its
// own port 80, in the nftables layout netplumb uses (table inet netplumb, made by the
// harness): one NETLINK_NETFILTER batch per container,
//   NFNL_MSG_BATCH_BEGIN
//   NFT_MSG_NEWSETELEM dnat4_any { tcp . PORT : IP . 80 }  (NLM_F_CREATE|NLM_F_EXCL)
//   NFT_MSG_NEWSETELEM pub4 { IP . tcp . 80 }              (NLM_F_CREATE|NLM_F_EXCL)
//   NFNL_MSG_BATCH_END
// and both acks read; teardown sends the same batch with NFT_MSG_DELSETELEM (keys only)
// before deleting the veth. publat does the same with a host address (dnat4_ip), in
// the namespace it runs in, for bench/nft-elements.mjs; publat6 with an IPv6 host address
// and container (dnat6_ip, pub6: 16-byte addresses in the keys and data).
//
// PLAN is a text file, one container a line: "NSNAME VETHNAME A.B.C.D/LEN".
// Output: one JSON object on stdout with times in milliseconds (bulk: also when it
// started, in ms since the epoch, so the harness can time it until the kernel is done).
//
// Per attach (8 requests, each waited for):
//   namespace   open(O_CREAT) NETNSDIR/NS; unshare(CLONE_NEWNET); bind mount
//               /proc/self/ns/net onto it; socket(NETLINK_ROUTE) there; setns(home)
//   host        RTM_NEWLINK veth VETH, master BRIDGE, IFF_UP,
//               peer { eth0, IFLA_NET_NS_FD }
//   container   RTM_GETLINK eth0 (its ifindex); RTM_NEWADDR; RTM_NEWLINK lo up;
//               RTM_NEWLINK eth0 up; RTM_NEWROUTE default via GATEWAY
// Per detach: RTM_DELLINK VETH; umount2(MNT_DETACH) + unlink of the namespace file.
//
// With FLOOR_TUNED=1 in the environment, attach sends instead the requests netplumb's
// attachVeth sends, still by hand: the same namespace creation; on the host, in one
// sendmsg, RTM_NEWLINK veth with one TX/RX queue per end and a chosen ifindex for each
// end (no RTM_GETLINK later), addr_gen_mode none on the host end, up; then in the
// container, in one sendmsg, lo up, addr_gen_mode none on eth0, eth0 up, RTM_NEWADDR,
// RTM_NEWROUTE; the acks read after each send. It is the kernel's price for that request set with no library
// around it: how close netplumb's fast path comes to it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IFLA_NET_NS_FD
#define IFLA_NET_NS_FD 28
#endif

static void die(const char *what, int err) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(err));
  exit(1);
}

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

// ---- message building (bounds-checked, like libmnl's attr helpers) ----

struct msg {
  union {
    struct nlmsghdr h;
    char buf[1024];
  };
};

static void *tail(struct msg *m) { return m->buf + NLMSG_ALIGN(m->h.nlmsg_len); }

static struct rtattr *put_attr(struct msg *m, unsigned short type, const void *data, size_t len) {
  size_t need = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_SPACE(len);
  if (need > sizeof m->buf) die("message too long", EMSGSIZE);
  struct rtattr *a = tail(m);
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->h.nlmsg_len = need;
  return a;
}

static void put_u32(struct msg *m, unsigned short type, uint32_t v) { put_attr(m, type, &v, sizeof v); }
static void put_str(struct msg *m, unsigned short type, const char *s) { put_attr(m, type, s, strlen(s) + 1); }
static struct rtattr *nest_start(struct msg *m, unsigned short type) { return put_attr(m, type, NULL, 0); }
static void nest_end(struct msg *m, struct rtattr *a) { a->rta_len = (char *)tail(m) - (char *)a; }

static void *put_header(struct msg *m, uint16_t type, uint16_t flags, size_t extra) {
  memset(m, 0, sizeof *m);
  m->h.nlmsg_type = type;
  m->h.nlmsg_flags = NLM_F_REQUEST | flags;
  m->h.nlmsg_len = NLMSG_LENGTH(extra);
  return NLMSG_DATA(&m->h);
}

// ---- one request, one answer ----

static uint32_t seq;

// Sends m and waits for its answer: the ack (returns 0), an error (returns -errno), or
// for a plain RTM_GETLINK the first reply, whose ifindex goes to *index when given.
static int talk(int fd, struct msg *m, int *index) {
  m->h.nlmsg_seq = ++seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) die("sendto", errno);
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recv", errno);
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != m->h.nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (index && h->nlmsg_type == RTM_NEWLINK) *index = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
      return 0;
    }
  }
}

static void must(int fd, struct msg *m, const char *what) {
  int err = talk(fd, m, NULL);
  if (err) die(what, -err);
}

static int rtnl_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die("socket", errno);
  return fd;
}

// ---- nftables: one published port ----

// A published port: tcp HOSTPORT on HOSTIP (or on every address when has_host_ip is 0)
// to IP:CTRPORT.
struct port {
  int has_host_ip;
  struct in_addr host_ip;
  uint16_t host_port;
  struct in_addr ip;
  uint16_t ctr_port;
  // IPv6 instead (dnat6_*, pub6) when set: these addresses replace the two above.
  int six;
  struct in6_addr host_ip6, ip6;
};

static void put_header_nft(struct msg *m, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
  struct nfgenmsg *g = put_header(m, type, flags, sizeof *g);
  g->nfgen_family = family;
  g->version = NFNETLINK_V0;
  g->res_id = htons(res_id);
}

static struct rtattr *nest_start_nft(struct msg *m, unsigned short type) { return nest_start(m, type | NLA_F_NESTED); }

// Concatenation parts each take a whole 4-byte register, zero padded.
static size_t put_part(char *key, size_t off, const void *v, size_t len) {
  memset(key + off, 0, 4);
  memcpy(key + off, v, len);
  return off + 4;
}

// One element list message: the element of SET with KEY (and DATA when adding).
static void elem_msg(struct msg *m, int add, const char *set, const char *key, size_t klen, const char *data,
                     size_t dlen) {
  put_header_nft(m, (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
                 NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0), NFPROTO_INET, 0);
  put_str(m, NFTA_SET_ELEM_LIST_TABLE, "netplumb");
  put_str(m, NFTA_SET_ELEM_LIST_SET, set);
  struct rtattr *list = nest_start_nft(m, NFTA_SET_ELEM_LIST_ELEMENTS);
  struct rtattr *el = nest_start_nft(m, NFTA_LIST_ELEM);
  struct rtattr *k = nest_start_nft(m, NFTA_SET_ELEM_KEY);
  put_attr(m, NFTA_DATA_VALUE, key, klen);
  nest_end(m, k);
  if (add && data) {
    struct rtattr *d = nest_start_nft(m, NFTA_SET_ELEM_DATA);
    put_attr(m, NFTA_DATA_VALUE, data, dlen);
    nest_end(m, d);
  }
  nest_end(m, el);
  nest_end(m, list);
}

// Publishes (add) or unpublishes a port: one batch, two element messages, two acks.
static void port_batch(int fd, const struct port *p, int add) {
  uint8_t tcp = IPPROTO_TCP;
  uint16_t hport = htons(p->host_port), cport = htons(p->ctr_port);
  char key[24], data[20], pub[24];
  size_t klen = 0, dlen = 0, plen = 0;
  // An IPv6 address takes four registers.
  const void *hip = p->six ? (const void *)&p->host_ip6 : (const void *)&p->host_ip;
  const void *cip = p->six ? (const void *)&p->ip6 : (const void *)&p->ip;
  size_t alen = p->six ? 16 : 4;
  if (p->has_host_ip) { memcpy(key, hip, alen); klen = alen; }
  klen = put_part(key, klen, &tcp, 1);
  klen = put_part(key, klen, &hport, 2);
  memcpy(data, cip, alen);
  dlen = put_part(data, alen, &cport, 2);
  memcpy(pub, cip, alen);
  plen = put_part(pub, alen, &tcp, 1);
  plen = put_part(pub, plen, &cport, 2);

  struct msg m[4];
  put_header_nft(&m[0], NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  elem_msg(&m[1], add, p->six ? (p->has_host_ip ? "dnat6_ip" : "dnat6_any") : (p->has_host_ip ? "dnat4_ip" : "dnat4_any"), key, klen, data, dlen);
  elem_msg(&m[2], add, p->six ? "pub6" : "pub4", pub, plen, NULL, 0);
  put_header_nft(&m[3], NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  char buf[sizeof m];
  size_t len = 0;
  uint32_t first = seq + 1;
  for (int i = 0; i < 4; i++) {
    m[i].h.nlmsg_seq = ++seq;
    memcpy(buf + len, m[i].buf, m[i].h.nlmsg_len);
    len += NLMSG_ALIGN(m[i].h.nlmsg_len);
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, buf, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) die("sendto nftables", errno);
  int acks = 0;
  char rbuf[16384];
  while (acks < 2) {
    ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recv nftables", errno);
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq < first || h->nlmsg_seq > first + 3 || h->nlmsg_type != NLMSG_ERROR) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) die(add ? "NFT_MSG_NEWSETELEM" : "NFT_MSG_DELSETELEM", -err);
      acks++;
    }
  }
}

static int nft_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) die("socket(NETLINK_NETFILTER)", errno);
  return fd;
}

static struct port port_of(struct in_addr ip, long base, size_t i) {
  struct port p = {.host_port = (uint16_t)(base + (long)i), .ip = ip, .ctr_port = 80};
  return p;
}

// ---- the plan ----

struct container {
  char ns[64];
  char veth[IFNAMSIZ];
  struct in_addr ip;
  unsigned prefixlen;
};

static struct container *read_plan(const char *file, size_t *count) {
  FILE *f = fopen(file, "r");
  if (!f) die(file, errno);
  size_t cap = 1024, n = 0;
  struct container *c = malloc(cap * sizeof *c);
  char ns[64], veth[IFNAMSIZ], cidr[64];
  while (fscanf(f, "%63s %15s %63s", ns, veth, cidr) == 3) {
    if (n == cap) c = realloc(c, (cap *= 2) * sizeof *c);
    char *slash = strchr(cidr, '/');
    if (!slash) die("plan: address without prefix length", EINVAL);
    *slash = 0;
    if (inet_pton(AF_INET, cidr, &c[n].ip) != 1) die("plan: bad address", EINVAL);
    c[n].prefixlen = (unsigned)atoi(slash + 1);
    snprintf(c[n].ns, sizeof c[n].ns, "%s", ns);
    snprintf(c[n].veth, sizeof c[n].veth, "%s", veth);
    n++;
  }
  fclose(f);
  *count = n;
  return c;
}

// ---- the requests ----

// Sends every message of ms in one sendmsg, then reads one ack per message.
static void must_all(int fd, struct msg *ms, int count, const char *what) {
  struct iovec iov[8];
  if (count > 8) die("too many messages", E2BIG);
  for (int i = 0; i < count; i++) {
    ms[i].h.nlmsg_seq = ++seq;
    iov[i] = (struct iovec){.iov_base = ms[i].buf, .iov_len = ms[i].h.nlmsg_len};
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof kernel, .msg_iov = iov, .msg_iovlen = (size_t)count};
  if (sendmsg(fd, &mh, 0) < 0) die("sendmsg", errno);
  uint32_t last = seq;
  char buf[16384];
  for (int acks = 0; acks < count;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recv", errno);
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq > last || h->nlmsg_seq + (uint32_t)count <= last) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) die(what, -err);
      acks++;
    }
  }
}

static void put_u8(struct msg *m, unsigned short type, uint8_t v) { put_attr(m, type, &v, sizeof v); }

// IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE none } }: no link-local address,
// so no DAD or MLD for it.
static void put_no_ipv6(struct msg *m) {
  struct rtattr *spec = nest_start(m, IFLA_AF_SPEC);
  struct rtattr *v6 = nest_start(m, AF_INET6);
  put_u8(m, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
  nest_end(m, v6);
  nest_end(m, spec);
}

static void link_up(int fd, int index) {
  struct msg m;
  struct ifinfomsg *ifi = put_header(&m, RTM_NEWLINK, NLM_F_ACK, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  must(fd, &m, "RTM_NEWLINK up");
}

static int link_index(int fd, const char *name) {
  struct msg m;
  struct ifinfomsg *ifi = put_header(&m, RTM_GETLINK, 0, sizeof *ifi);
  ifi->ifi_family = AF_PACKET;
  put_str(&m, IFLA_IFNAME, name);
  put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_VF);  // as netplumb's links.get asks
  int index = 0;
  int err = talk(fd, &m, &index);
  if (err) die("RTM_GETLINK", -err);
  return index;
}

static void veth_add(int fd, const char *name, int master, int peer_ns) {
  struct msg m;
  struct ifinfomsg *ifi = put_header(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  put_str(&m, IFLA_IFNAME, name);
  put_u32(&m, IFLA_MASTER, (uint32_t)master);
  struct rtattr *info = nest_start(&m, IFLA_LINKINFO);
  put_str(&m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest_start(&m, IFLA_INFO_DATA);
  struct rtattr *peer = nest_start(&m, VETH_INFO_PEER);
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
  // The peer's ifinfomsg is the start of VETH_INFO_PEER's payload.
  memcpy(tail(&m), &peer_ifi, sizeof peer_ifi);
  m.h.nlmsg_len = NLMSG_ALIGN(m.h.nlmsg_len) + NLMSG_ALIGN(sizeof peer_ifi);
  put_str(&m, IFLA_IFNAME, "eth0");
  put_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_ns);
  nest_end(&m, peer);
  nest_end(&m, data);
  nest_end(&m, info);
  must(fd, &m, "RTM_NEWLINK veth");
}

static void addr_msg(struct msg *m, int index, struct in_addr ip, unsigned prefixlen) {
  struct ifaddrmsg *ifa = put_header(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefixlen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)index;
  put_attr(m, IFA_LOCAL, &ip, sizeof ip);
  put_attr(m, IFA_ADDRESS, &ip, sizeof ip);
}

static void addr_add(int fd, int index, struct in_addr ip, unsigned prefixlen) {
  struct msg m;
  addr_msg(&m, index, ip, prefixlen);
  must(fd, &m, "RTM_NEWADDR");
}

static void route_msg(struct msg *m, struct in_addr gw, int oif) {
  struct rtmsg *rtm = put_header(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  put_attr(m, RTA_GATEWAY, &gw, sizeof gw);
  if (oif) put_u32(m, RTA_OIF, (uint32_t)oif);
}

static void default_route(int fd, struct in_addr gw) {
  struct msg m;
  route_msg(&m, gw, 0);
  must(fd, &m, "RTM_NEWROUTE");
}

static void link_up_msg(struct msg *m, int index) {
  struct ifinfomsg *ifi = put_header(m, RTM_NEWLINK, NLM_F_ACK, sizeof *ifi);
  ifi->ifi_index = index;
  ifi->ifi_flags = ifi->ifi_change = IFF_UP;
}

static void no_ipv6_msg(struct msg *m, int index) {
  struct ifinfomsg *ifi = put_header(m, RTM_NEWLINK, NLM_F_ACK, sizeof *ifi);
  ifi->ifi_index = index;
  put_no_ipv6(m);
}

// The tuned attach's host send: the veth (one queue per end, both ifindexes chosen),
// then addr_gen_mode none on the host end (the kernel refuses IFLA_AF_SPEC at
// creation), then up: three messages, one sendmsg.
static void veth_add_tuned(int fd, const char *name, int master, int peer_ns, int host_index, int peer_index) {
  struct msg ms[3];
  struct msg *m = &ms[0];
  struct ifinfomsg *ifi = put_header(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = host_index;
  put_str(m, IFLA_IFNAME, name);
  put_u32(m, IFLA_NUM_TX_QUEUES, 1);
  put_u32(m, IFLA_NUM_RX_QUEUES, 1);
  put_u32(m, IFLA_MASTER, (uint32_t)master);
  struct rtattr *info = nest_start(m, IFLA_LINKINFO);
  put_str(m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = nest_start(m, IFLA_INFO_DATA);
  struct rtattr *peer = nest_start(m, VETH_INFO_PEER);
  struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC, .ifi_index = peer_index};
  memcpy(tail(m), &peer_ifi, sizeof peer_ifi);
  m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + NLMSG_ALIGN(sizeof peer_ifi);
  put_str(m, IFLA_IFNAME, "eth0");
  put_u32(m, IFLA_NET_NS_FD, (uint32_t)peer_ns);
  put_u32(m, IFLA_NUM_TX_QUEUES, 1);
  put_u32(m, IFLA_NUM_RX_QUEUES, 1);
  nest_end(m, peer);
  nest_end(m, data);
  nest_end(m, info);
  no_ipv6_msg(&ms[1], host_index);
  link_up_msg(&ms[2], host_index);
  must_all(fd, ms, 3, "host requests");
}

// The container's send: lo up; addr_gen_mode none on eth0; eth0 up; its address; the
// default route through it: five messages, one sendmsg.
static void container_tuned(int fd, int index, struct in_addr ip, unsigned prefixlen, struct in_addr gw) {
  struct msg ms[5];
  link_up_msg(&ms[0], 1);
  no_ipv6_msg(&ms[1], index);
  link_up_msg(&ms[2], index);
  addr_msg(&ms[3], index, ip, prefixlen);
  route_msg(&ms[4], gw, index);
  must_all(fd, ms, 5, "container requests");
}

static void link_del(int fd, const char *name) {
  struct msg m;
  struct ifinfomsg *ifi = put_header(&m, RTM_DELLINK, NLM_F_ACK, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  put_str(&m, IFLA_IFNAME, name);
  must(fd, &m, "RTM_DELLINK");
}

// ---- the workload ----

static int home_ns;

// As `ip netns add`: a file under dir, a fresh namespace bind-mounted on it. Returns a
// netlink socket opened inside the namespace; *ns_fd gets an fd of the namespace.
static int netns_add(const char *dir, const char *name, int *ns_fd) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) die(path, errno);
  close(fd);
  if (unshare(CLONE_NEWNET) < 0) die("unshare", errno);
  if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0) die("mount", errno);
  *ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*ns_fd < 0) die("open ns", errno);
  int sock = rtnl_socket();
  if (setns(home_ns, CLONE_NEWNET) < 0) abort();  // never go on in the wrong namespace
  return sock;
}

static void netns_del(const char *dir, const char *name) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (umount2(path, MNT_DETACH) < 0) die("umount2", errno);
  if (unlink(path) < 0) die("unlink", errno);
}

static void print_times(const char *key, const double *t, size_t n) {
  printf("\"%s\":[", key);
  for (size_t i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", t[i]);
  printf("]");
}

static void usage(void) {
  fprintf(stderr,
          "usage: floor attach PLAN BRIDGE GATEWAY NETNSDIR [PORTBASE] | teardown PLAN NETNSDIR [PORTBASE]"
          " | bulk PLAN NETNSDIR [PORTBASE] | linkget ITERATIONS | publat[6] ITERATIONS\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) usage();
  const char *mode = argv[1];
  int host = rtnl_socket();
  home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_ns < 0) die("open /proc/self/ns/net", errno);

  if (!strcmp(mode, "linkget")) {
    long iters = atol(argv[2]);
    if (iters <= 0) usage();
    double *t = malloc(iters * sizeof *t);
    for (long i = 0; i < iters; i++) {
      double t0 = now_ms();
      link_index(host, "lo");
      t[i] = now_ms() - t0;
    }
    printf("{");
    print_times("times", t, (size_t)iters);
    printf("}\n");
    return 0;
  }

  if (!strcmp(mode, "publat") || !strcmp(mode, "publat6")) {
    // The port bench/nft-elements.mjs measures: tcp on 198.19.0.1, to 10.200.x.y:80;
    // publat6: on 2001:db8:ffff::1, to fd00:200::x:80.
    long iters = atol(argv[2]);
    if (iters <= 0) usage();
    int six = !strcmp(mode, "publat6");
    int nft = nft_socket();
    double *pub = malloc(iters * sizeof *pub), *unpub = malloc(iters * sizeof *unpub);
    for (long j = 0; j < iters; j++) {
      struct port p = {.has_host_ip = 1, .host_port = (uint16_t)(1024 + j % 60000), .ctr_port = 80, .six = six};
      inet_pton(AF_INET, "198.19.0.1", &p.host_ip);
      p.ip.s_addr = htonl((10u << 24 | 200u << 16) + 2 + (uint32_t)(j % 60000));
      inet_pton(AF_INET6, "2001:db8:ffff::1", &p.host_ip6);
      inet_pton(AF_INET6, "fd00:200::", &p.ip6);
      uint32_t low = htonl(2 + (uint32_t)(j % 60000));
      memcpy(&p.ip6.s6_addr[12], &low, 4);
      double t0 = now_ms();
      port_batch(nft, &p, 1);
      pub[j] = now_ms() - t0;
      t0 = now_ms();
      port_batch(nft, &p, 0);
      unpub[j] = now_ms() - t0;
    }
    printf("{");
    print_times("publish", pub, (size_t)iters);
    printf(",");
    print_times("unpublish", unpub, (size_t)iters);
    printf("}\n");
    return 0;
  }

  size_t n;
  struct container *c = read_plan(argv[2], &n);
  double *t = malloc((n ? n : 1) * sizeof *t);

  if (!strcmp(mode, "attach")) {
    if (argc != 6 && argc != 7) usage();
    long ports = argc == 7 ? atol(argv[6]) : 0;
    int nft = ports ? nft_socket() : -1;
    int master = (int)if_nametoindex(argv[3]);
    if (!master) die(argv[3], errno);
    struct in_addr gw;
    if (inet_pton(AF_INET, argv[4], &gw) != 1) die("gateway", EINVAL);
    const char *dir = argv[5];
    const char *tuned_env = getenv("FLOOR_TUNED");
    int tuned = tuned_env && !strcmp(tuned_env, "1");
    for (size_t i = 0; i < n; i++) {
      double t0 = now_ms();
      int ns_fd;
      int ns = netns_add(dir, c[i].ns, &ns_fd);
      if (tuned) {
        // Indexes well above anything the kernel has handed out in this sandbox.
        int host_index = 3000000 + 2 * (int)i, peer_index = host_index + 1;
        veth_add_tuned(host, c[i].veth, master, ns_fd, host_index, peer_index);
        close(ns_fd);
        container_tuned(ns, peer_index, c[i].ip, c[i].prefixlen, gw);
      } else {
        veth_add(host, c[i].veth, master, ns_fd);
        close(ns_fd);
        int eth0 = link_index(ns, "eth0");
        addr_add(ns, eth0, c[i].ip, c[i].prefixlen);
        link_up(ns, 1);
        link_up(ns, eth0);
        default_route(ns, gw);
      }
      close(ns);
      if (ports) {
        struct port p = port_of(c[i].ip, ports, i);
        port_batch(nft, &p, 1);
      }
      t[i] = now_ms() - t0;
    }
    printf("{");
    print_times("times", t, n);
    printf("}\n");
  } else if (!strcmp(mode, "teardown") || !strcmp(mode, "bulk")) {
    if (argc != 4 && argc != 5) usage();
    const char *dir = argv[3];
    long ports = argc == 5 ? atol(argv[4]) : 0;
    int nft = ports ? nft_socket() : -1;
    double started_at = clock_ms(CLOCK_REALTIME);
    double start = now_ms();
    for (size_t i = 0; i < n; i++) {
      double t0 = now_ms();
      if (ports) {
        struct port p = port_of(c[i].ip, ports, i);
        port_batch(nft, &p, 0);
      }
      link_del(host, c[i].veth);
      netns_del(dir, c[i].ns);
      t[i] = now_ms() - t0;
    }
    double total = now_ms() - start;
    printf("{");
    if (!strcmp(mode, "teardown")) print_times("times", t, n);
    else printf("\"startedAt\":%.4f,\"ms\":%.4f", started_at, total);
    printf("}\n");
  } else {
    usage();
  }
  return 0;
}
