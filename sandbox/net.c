/*
 * The network namespace's loopback. A new network namespace holds only
 * `lo`, and it starts down; the agent gets it up, so tools that talk to
 * themselves over 127.0.0.1 work while nothing outside is reachable. One
 * SIOCSIFFLAGS ioctl does it, with no netlink and no allocation, because
 * it runs in the sandbox child.
 */
#include "sbx-int.h"

#include <errno.h>
#include <net/if.h>
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
