// The netplumb CNI plugin executable (docs/cni.md). A runtime starts one process per
// call; what that costs is the process start, so this is a small C program that does
// one of two things:
//
//   daemon running:  connect to its unix socket, POST /v1/cni with the CNI_* variables
//                    and the config from stdin, print what the daemon's plugin code
//                    printed and exit with its status (no Node start at all)
//   no daemon:       exec node on dist/cni/main.js beside this file (the same plugin
//                    code, run in-process on the same state directory), with the config
//                    it already read put back on stdin through a memfd
//
// bench/cni.mjs measured why: node with the library loaded takes tens of milliseconds
// to start, this executable well under one (docs/cni.md has the numbers).
//
// Environment: NETPLUMB_SOCKET (default /run/netplumb/netplumb.sock), NETPLUMB_NODE (the
// node to exec; default the first `node` on PATH, then /usr/local/bin/node and
// /usr/bin/node), NETPLUMB_CNI_MAIN (the in-process plugin; default main.js in the
// directory of this executable's real path, so a symlink into a runtime's CNI bin dir
// finds it).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/netplumb/netplumb.sock"
#define MAX_STDIN (1 << 20)

typedef struct {
  char *p;
  size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      perror("netplumb-cni: realloc");
      exit(1);
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

// A JSON string of bytes: quotes, backslashes and control characters escaped; other
// bytes as they are (the config is UTF-8 JSON already).
static void put_json_string(buf *b, const char *s, size_t n) {
  put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      put(b, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
      char e[8];
      snprintf(e, sizeof e, "\\u%04x", c);
      put(b, e, 6);
    } else {
      put(b, (const char *)&s[i], 1);
    }
  }
  put(b, "\"", 1);
}

// A CNI error on stdout (the spec's error JSON), exit status 1.
static void cni_fail(int code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  buf out = {0};
  char head[64];
  snprintf(head, sizeof head, "{\"cniVersion\":\"1.1.0\",\"code\":%d,\"msg\":", code);
  puts_(&out, head);
  put_json_string(&out, msg, strlen(msg));
  puts_(&out, "}\n");
  if (write(1, out.p, out.len) < 0) {
    // nothing more to say
  }
  exit(1);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static const char *VARS[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH", NULL};

static int connect_daemon(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) return -1;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The reply: "HTTP/1.1 200 ...", an X-CNI-Exit header, the plugin's stdout as the body.
static void forward(int fd, const char *in, size_t n) {
  buf body = {0};
  puts_(&body, "{\"env\":{");
  int first = 1;
  for (const char **v = VARS; *v; v++) {
    const char *val = getenv(*v);
    if (!val) continue;
    if (!first) puts_(&body, ",");
    first = 0;
    put_json_string(&body, *v, strlen(*v));
    puts_(&body, ":");
    put_json_string(&body, val, strlen(val));
  }
  puts_(&body, "},\"stdin\":");
  put_json_string(&body, in, n);
  puts_(&body, "}");
  char head[256];
  int hl = snprintf(head, sizeof head,
                    "POST /v1/cni HTTP/1.1\r\nHost: netplumb\r\nAccept: application/x-cni-stdout\r\n"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                    body.len);
  // A daemon that stops answering must not hang the runtime forever.
  struct timeval tv = {.tv_sec = 300};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (write_all(fd, head, (size_t)hl) < 0 || write_all(fd, body.p, body.len) < 0) {
    cni_fail(11, "netplumb daemon: sending the call failed: %s", strerror(errno));
  }
  buf resp = {0};
  char chunk[16384];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0) {
      if (errno == EINTR) continue;
      cni_fail(11, "netplumb daemon: reading the answer failed: %s", strerror(errno));
    }
    if (r == 0) break;
    put(&resp, chunk, (size_t)r);
  }
  close(fd);
  if (resp.len == 0) cni_fail(11, "netplumb daemon closed the connection without an answer");
  char *end = strstr(resp.p, "\r\n\r\n");
  int status = 0;
  if (!end || sscanf(resp.p, "HTTP/1.%*d %d", &status) != 1) cni_fail(11, "netplumb daemon: malformed HTTP answer");
  *end = 0;
  const char *bodyp = end + 4;
  size_t bodylen = resp.len - (size_t)(bodyp - resp.p);
  if (status != 200) cni_fail(11, "netplumb daemon answered HTTP %d: %.*s", status, (int)(bodylen > 600 ? 600 : bodylen), bodyp);
  int code = 1;
  const char *h = strcasestr(resp.p, "\r\nx-cni-exit:");
  if (h) code = atoi(h + strlen("\r\nx-cni-exit:"));
  if (bodylen > 0 && write_all(1, bodyp, bodylen) < 0) exit(1);
  exit(code);
}

static int executable(const char *p) { return access(p, X_OK) == 0; }

static const char *find_node(char *out, size_t outlen) {
  const char *env = getenv("NETPLUMB_NODE");
  if (env && *env) return env;
  const char *path = getenv("PATH");
  if (path) {
    char *copy = strdup(path);
    for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
      snprintf(out, outlen, "%s/node", d);
      if (executable(out)) {
        free(copy);
        return out;
      }
    }
    free(copy);
  }
  if (executable("/usr/local/bin/node")) return "/usr/local/bin/node";
  if (executable("/usr/bin/node")) return "/usr/bin/node";
  return NULL;
}

// No daemon: node on the in-process plugin, the config back on its stdin.
static void in_process(const char *in, size_t n) {
  char main_js[PATH_MAX + 16];
  const char *env = getenv("NETPLUMB_CNI_MAIN");
  if (env && *env) {
    snprintf(main_js, sizeof main_js, "%s", env);
  } else {
    char self[PATH_MAX];
    if (!realpath("/proc/self/exe", self)) cni_fail(5, "netplumb-cni: cannot resolve /proc/self/exe: %s", strerror(errno));
    char *slash = strrchr(self, '/');
    *slash = 0;
    snprintf(main_js, sizeof main_js, "%s/main.js", self);
  }
  if (access(main_js, R_OK) != 0) {
    cni_fail(50, "no netplumb daemon answers and the in-process plugin %s is missing (set NETPLUMB_CNI_MAIN, or symlink this executable rather than copy it)", main_js);
  }
  char nodebuf[PATH_MAX];
  const char *node = find_node(nodebuf, sizeof nodebuf);
  if (!node) cni_fail(50, "no netplumb daemon answers and no node was found (set NETPLUMB_NODE)");
  int mfd = memfd_create("netplumb-cni-stdin", 0);
  if (mfd < 0 || write_all(mfd, in, n) < 0 || lseek(mfd, 0, SEEK_SET) < 0 || dup2(mfd, 0) < 0) {
    cni_fail(5, "netplumb-cni: cannot pass the config on: %s", strerror(errno));
  }
  close(mfd);
  setenv("NETPLUMB_CNI_NO_DAEMON", "1", 1);
  char *argv[] = {(char *)node, main_js, NULL};
  execv(node, argv);
  cni_fail(50, "netplumb-cni: exec %s: %s", node, strerror(errno));
}

int main(void) {
  buf in = {0};
  const char *cmd = getenv("CNI_COMMAND");
  // VERSION has no config to read (pkg/skel ignores stdin for it).
  if (!cmd || strcmp(cmd, "VERSION") != 0) {
    char chunk[16384];
    for (;;) {
      ssize_t r = read(0, chunk, sizeof chunk);
      if (r < 0) {
        if (errno == EINTR) continue;
        cni_fail(5, "error reading from stdin: %s", strerror(errno));
      }
      if (r == 0) break;
      put(&in, chunk, (size_t)r);
      if (in.len > MAX_STDIN) cni_fail(6, "the network config is over %d bytes", MAX_STDIN);
    }
  }
  if (!in.p) puts_(&in, "");
  const char *sock = getenv("NETPLUMB_SOCKET");
  if (!sock || !*sock) sock = DEFAULT_SOCKET;
  int fd = connect_daemon(sock);
  if (fd >= 0) forward(fd, in.p, in.len);
  in_process(in.p, in.len);
  return 1;
}
