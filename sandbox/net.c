/*
 * The network namespace's loopback. A new network namespace holds only
 * `lo`, and it starts down; the agent gets it up, so tools that talk to
 * themselves over 127.0.0.1 work while nothing outside is reachable. One
 * SIOCSIFFLAGS ioctl does it, with no netlink and no allocation, because
 * it runs in the sandbox child.
 *
 * The LLM gateway's port is made here too: a socket bound in the sandbox's
 * namespace serves only that namespace, whoever accepts on it. The child
 * makes it and hands it out over SCM_RIGHTS; the engine serves it from the
 * host's side, so the agent needs no other network.
 */
#include "sbx-int.h"

#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int sbx__net_lo_up(void) {
  struct ifreq ifr;
  int fd, rc = 0;

  if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
    return -errno;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    rc = -errno;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (rc == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    rc = -errno;
  close(fd);
  return rc;
}

static int net_listen(int port) {
  struct sockaddr_in a;
  int fd, one = 1;

  if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
    return -errno;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
      bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0) {
    one = -errno;
    close(fd);
    return one;
  }
  return fd;
}

int sbx__net_gw_send(int fd, int port) {
  int lfd = net_listen(port), rc = 0;

  if (lfd < 0) {
    close(fd);
    return lfd;
  }
  rc = crl_fd_send(fd, lfd, 0);
  close(lfd);
  close(fd);
  return rc;
}
