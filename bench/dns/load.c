// A DNS load generator for bench/dns.mjs: sends prebuilt queries (a file of 2-byte
// length-prefixed DNS messages) round robin over one UDP socket, at most WINDOW in
// flight, each with a fresh id; measures each answer's latency. Closed loop: a new
// query leaves when an answer comes (or one times out, after 1 s).
//
//   load SERVER PORT QUERIES_FILE WINDOW SECONDS
//
// Prints one JSON line: sent, answered, timeouts, rcode counts, qps, p50/p90/p99 in µs.
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: load SERVER PORT QUERIES WINDOW SECONDS\n");
    return 2;
  }
  int window = atoi(argv[4]);
  double secs = atof(argv[5]);
  FILE *f = fopen(argv[3], "rb");
  if (!f) { perror("queries"); return 1; }
  static uint8_t qbuf[1 << 24];
  size_t qlen = fread(qbuf, 1, sizeof qbuf, f);
  fclose(f);
  // Index the queries.
  size_t nq = 0, cap = 1024;
  uint8_t **q = malloc(cap * sizeof *q);
  uint16_t *ql = malloc(cap * sizeof *ql);
  for (size_t o = 0; o + 2 <= qlen;) {
    uint16_t n = (qbuf[o] << 8) | qbuf[o + 1];
    if (nq == cap) { cap *= 2; q = realloc(q, cap * sizeof *q); ql = realloc(ql, cap * sizeof *ql); }
    q[nq] = qbuf + o + 2; ql[nq] = n; nq++;
    o += 2 + n;
  }
  int fam = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
  int s = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_storage ss = {0};
  socklen_t sl;
  if (fam == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET; a->sin_port = htons(atoi(argv[2])); inet_pton(AF_INET, argv[1], &a->sin_addr); sl = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6; a->sin6_port = htons(atoi(argv[2])); inet_pton(AF_INET6, argv[1], &a->sin6_addr); sl = sizeof *a;
  }
  if (connect(s, (struct sockaddr *)&ss, sl) < 0) { perror("connect"); return 1; }
  // In flight: by id (the low bits index the slot).
  double *sent_at = calloc(65536, sizeof(double));
  size_t lat_cap = 1 << 22, nlat = 0;
  double *lat = malloc(lat_cap * sizeof(double));
  long sent = 0, answered = 0, timeouts = 0, rcodes[16] = {0};
  int inflight = 0;
  uint16_t next_id = 1;
  size_t qi = 0;
  uint8_t out[4096], in[65536];
  double start = now_us(), end = start + secs * 1e6;
  for (;;) {
    double t = now_us();
    while (inflight < window && t < end) {
      uint16_t id = next_id++;
      if (sent_at[id] != 0) { timeouts++; sent_at[id] = 0; inflight--; }
      uint16_t n = ql[qi];
      memcpy(out, q[qi], n);
      qi = (qi + 1) % nq;
      out[0] = id >> 8; out[1] = id & 0xff;
      if (send(s, out, n, 0) < 0) { if (errno == EAGAIN) break; perror("send"); return 1; }
      sent_at[id] = now_us();
      sent++; inflight++;
    }
    if (t >= end && inflight == 0) break;
    if (t >= end + 1e6) { timeouts += inflight; break; }
    struct pollfd p = {s, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r == 0) {
      // Nothing for 100 ms: expire what waited over a second.
      double now = now_us();
      for (int i = 0; i < 65536; i++) if (sent_at[i] != 0 && now - sent_at[i] > 1e6) { sent_at[i] = 0; inflight--; timeouts++; }
      continue;
    }
    for (;;) {
      ssize_t m = recv(s, in, sizeof in, 0);
      if (m < 0) break;
      if (m < 12) continue;
      uint16_t id = (in[0] << 8) | in[1];
      if (sent_at[id] == 0) continue;
      double l = now_us() - sent_at[id];
      sent_at[id] = 0; inflight--; answered++;
      rcodes[in[3] & 0xf]++;
      if (nlat < lat_cap) lat[nlat++] = l;
    }
  }
  double dur = (now_us() - start) / 1e6;
  qsort(lat, nlat, sizeof *lat, cmp);
  double p50 = nlat ? lat[nlat / 2] : 0, p90 = nlat ? lat[nlat * 9 / 10] : 0, p99 = nlat ? lat[nlat * 99 / 100] : 0;
  printf("{\"sent\":%ld,\"answered\":%ld,\"timeouts\":%ld,\"noerror\":%ld,\"nxdomain\":%ld,\"servfail\":%ld,\"other\":%ld,"
         "\"seconds\":%.2f,\"qps\":%.0f,\"p50us\":%.1f,\"p90us\":%.1f,\"p99us\":%.1f}\n",
         sent, answered, timeouts, rcodes[0], rcodes[3], rcodes[2], answered - rcodes[0] - rcodes[3] - rcodes[2],
         dur, answered / dur, p50, p90, p99);
  return 0;
}
