/*
 * Network probes (issue groups 13, 14): a TCP connect to an outside address
 * or the host's loopback, the host's abstract and pathname Unix sockets,
 * netlink's view of the interfaces, vsock, ICMP and DNS. The tests provide
 * the listeners, so an unsandboxed run escapes without touching the
 * internet. Every wait is bounded (2 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

#define WAIT_MS 2000

/* Fills *ss from IP and PORT (v4 or v6); the address length or 0. */
static socklen_t inet_addr_of(struct sockaddr_storage *ss, const char *ip,
                              int port) {
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

  memset(ss, 0, sizeof(*ss));
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return sizeof(*v4);
  }
  if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return sizeof(*v6);
  }
  return 0;
}

/* Waits for fd to become ready for events; 0, or -1 with errno. */
static int wait_fd(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  int n = poll(&p, 1, WAIT_MS);

  if (n == 0)
    errno = ETIMEDOUT;
  return n > 0 ? 0 : -1;
}

/* A non-blocking connect bounded by WAIT_MS. 0 or -1/errno. */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len) {
  socklen_t elen = sizeof(int);
  int err = 0;

  if (connect(fd, sa, len) == 0)
    return 0;
  if (errno != EINPROGRESS && errno != EAGAIN)
    return -1;
  if (wait_fd(fd, POLLOUT) < 0)
    return -1;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  errno = err;
  return err == 0 ? 0 : -1;
}

static int net_connect(int argc, char **argv) {
  struct sockaddr_storage ss;
  long port = probe_num(argv[1]);
  socklen_t len = inet_addr_of(&ss, argv[0], (int)port);
  int fd, rc;

  if (len == 0 || port <= 0 || port > 65535)
    return PROBE_USAGE;
  fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return probe_blocked("socket");
  rc = connect_bounded(fd, (struct sockaddr *)&ss, len);
  close(fd);
  if (rc < 0)
    return probe_blocked("connect %s:%ld", argv[0], port);
  return probe_escaped("connected to %s:%ld", argv[0], port);
}

/* Connects to a Unix socket: path, or an abstract name when abstract. */
static int unix_connect_to(const char *name, int abstract) {
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  size_t n = strlen(name);
  socklen_t len;
  int fd, rc;

  if (n + 1 + (size_t)abstract > sizeof(sun.sun_path))
    return PROBE_USAGE;
  memcpy(sun.sun_path + abstract, name, n);
  len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + abstract +
                    (abstract ? 0 : 1));
  if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
    return probe_blocked("socket(AF_UNIX)");
  rc = connect_bounded(fd, (struct sockaddr *)&sun, len);
  close(fd);
  if (rc < 0)
    return probe_blocked("connect %s%s", abstract ? "@" : "", name);
  return probe_escaped("connected to %s%s", abstract ? "@" : "", name);
}

static int net_unix_abstract(int argc, char **argv) {
  return unix_connect_to(argv[0], 1);
}

static int unix_connect(int argc, char **argv) {
  return unix_connect_to(argv[0], 0);
}

/* Asks for a dump of the links. 0 or -1/errno. */
static int netlink_ask_links(int fd) {
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
  } req;

  memset(&req, 0, sizeof(req));
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  return send(fd, &req, sizeof(req), 0) < 0 ? -1 : 0;
}

/* Prints one RTM_NEWLINK's name; 1 when it is not lo. */
static int netlink_link(struct nlmsghdr *nh) {
  struct ifinfomsg *ifi = NLMSG_DATA(nh);
  int alen = (int)IFLA_PAYLOAD(nh);

  for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen);
       a = RTA_NEXT(a, alen)) {
    if (a->rta_type != IFLA_IFNAME)
      continue;
    probe_note("link %s", (char *)RTA_DATA(a));
    return strcmp((char *)RTA_DATA(a), "lo") != 0;
  }
  return 0;
}

/* Reads the dump; the number of links other than lo, or -1/errno. */
static int netlink_count(int fd) {
  static char buf[32768];
  int others = 0;
  ssize_t n;

  for (;;) {
    if (wait_fd(fd, POLLIN) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0)
      return -1;
    for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
         nh = NLMSG_NEXT(nh, n)) {
      if (nh->nlmsg_type == NLMSG_DONE)
        return others;
      if (nh->nlmsg_type == NLMSG_ERROR) {
        errno = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
        return -1;
      }
      if (nh->nlmsg_type == RTM_NEWLINK)
        others += netlink_link(nh);
    }
  }
}

static int netlink(int argc, char **argv) {
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  int fd, others = -1;

  if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0)
    return probe_blocked("socket(AF_NETLINK)");
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
      netlink_ask_links(fd) == 0)
    others = netlink_count(fd);
  close(fd);
  if (others < 0)
    return probe_blocked("link dump");
  if (others == 0) {
    errno = ENODEV;
    return probe_blocked("only lo is visible");
  }
  return probe_escaped("%d links besides lo", others);
}

/* vsock is not confined by a network namespace: a socket that can be made
 * can reach the hypervisor (CID 2). Only the socket is made, never a
 * connection: the host's vsock peers are not ours to poke. */
static int vsock(int argc, char **argv) {
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return probe_blocked("socket(AF_VSOCK)");
  close(fd);
  return probe_escaped("made an AF_VSOCK socket");
}

static uint16_t icmp_sum(const void *data, size_t len) {
  const uint8_t *p = data;
  uint32_t sum = 0;

  for (size_t i = 0; i + 1 < len; i += 2)
    sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1)
    sum += (uint32_t)(p[len - 1] << 8);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

/* An ICMP socket: unprivileged ping (DGRAM) or, failing that, RAW. */
static int icmp_socket(int *raw) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);

  *raw = 0;
  if (fd >= 0)
    return fd;
  probe_note("socket(SOCK_DGRAM, IPPROTO_ICMP): %s", probe_errname(errno));
  *raw = 1;
  return socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
}

/* Waits for an echo reply (RAW sockets also see our own request). */
static int icmp_reply(int fd, int raw) {
  unsigned char buf[1500];
  struct icmphdr *h;
  ssize_t n;

  for (;;) {
    if (wait_fd(fd, POLLIN) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0)
      return -1;
    h = (struct icmphdr *)(buf + (raw ? ((struct ip *)buf)->ip_hl * 4 : 0));
    if (h->type == ICMP_ECHOREPLY)
      return 0;
  }
}

static int icmp(int argc, char **argv) {
  struct sockaddr_storage ss;
  struct icmphdr req = {.type = ICMP_ECHO};
  int fd, raw, rc;

  if (inet_addr_of(&ss, argv[0], 0) != sizeof(struct sockaddr_in))
    return PROBE_USAGE;
  if ((fd = icmp_socket(&raw)) < 0)
    return probe_blocked("socket(IPPROTO_ICMP)");
  req.un.echo.id = htons((uint16_t)getpid());
  req.un.echo.sequence = htons(1);
  req.checksum = icmp_sum(&req, sizeof(req));
  rc = sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&ss,
              sizeof(struct sockaddr_in)) < 0
           ? -1
           : icmp_reply(fd, raw);
  close(fd);
  if (rc < 0)
    return probe_blocked("echo to %s", argv[0]);
  return probe_escaped("echo reply from %s", argv[0]);
}

/* A DNS query for NAME (type A) in q; its length. */
static size_t dns_query(unsigned char *q, size_t cap, const char *name) {
  static const unsigned char head[12] = {0x12, 0x34, 1, 0, 0, 1};
  size_t n = sizeof(head);
  const char *label = name, *dot;

  memcpy(q, head, n);
  while (*label != '\0' && n + 64 < cap) {
    size_t l =
        (dot = strchr(label, '.')) ? (size_t)(dot - label) : strlen(label);
    l = l > 63 ? 63 : l;
    q[n++] = (unsigned char)l;
    memcpy(q + n, label, l);
    n += l;
    label += l + (dot != NULL);
  }
  memcpy(q + n, "\0\0\1\0\1", 5);
  return n + 5;
}

/* NAME through the resolver, or as one UDP query to SERVER PORT. */
static int dns(int argc, char **argv) {
  struct addrinfo *ai = NULL, hints = {.ai_socktype = SOCK_STREAM};
  struct sockaddr_storage ss;
  unsigned char q[512];
  socklen_t len;
  int fd, rc;

  if (argc == 1) {
    if ((rc = getaddrinfo(argv[0], NULL, &hints, &ai)) != 0) {
      errno = rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
      return probe_blocked("getaddrinfo %s: %s", argv[0], gai_strerror(rc));
    }
    freeaddrinfo(ai);
    return probe_escaped("resolved %s", argv[0]);
  }
  if (argc != 3 ||
      (len = inet_addr_of(&ss, argv[1], (int)probe_num(argv[2]))) == 0)
    return PROBE_USAGE;
  if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
    return probe_blocked("socket");
  rc = sendto(fd, q, dns_query(q, sizeof(q), argv[0]), 0,
              (struct sockaddr *)&ss, len) < 0 ||
               wait_fd(fd, POLLIN) < 0 || recv(fd, q, sizeof(q), 0) < 0
           ? -1
           : 0;
  close(fd);
  if (rc < 0)
    return probe_blocked("query %s at %s:%s", argv[0], argv[1], argv[2]);
  return probe_escaped("answer for %s from %s:%s", argv[0], argv[1], argv[2]);
}

const struct probe probe_net[] = {
    {"net-connect", 2, 2, net_connect, "IP PORT  TCP connect (group 13)"},
    {"net-unix-abstract", 1, 1, net_unix_abstract,
     "NAME  connect to the abstract Unix socket @NAME (group 13)"},
    {"netlink", 0, 0, netlink, " RTM_GETLINK dump shows a link besides lo"},
    {"vsock", 0, 0, vsock, " make an AF_VSOCK socket (group 13)"},
    {"icmp", 1, 1, icmp, "IPV4  echo request, wait for the reply (group 13)"},
    {"dns", 1, 3, dns,
     "NAME [SERVER PORT]  resolve NAME, or query SERVER (group 13)"},
    {"unix-connect", 1, 1, unix_connect,
     "PATH  connect to a Unix socket (group 14)"},
    {NULL, 0, 0, NULL, NULL},
};
