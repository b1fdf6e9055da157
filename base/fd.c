/*
 * Passing one file descriptor over a Unix socket (SCM_RIGHTS) with a
 * one-byte message: the sandbox hands the gateway's listening socket out
 * of its network namespace this way, and the engine hands a copy to the
 * shim to hold.
 */
#include "crl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int crl_fd_send(int sock, int fd, int flags) {
  char ctl[CMSG_SPACE(sizeof(int))], b = 'f';
  struct iovec iov = {&b, 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  struct cmsghdr *c;

  memset(ctl, 0, sizeof(ctl));
  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &m, MSG_NOSIGNAL | flags) < 0 ? -errno : 0;
}

int crl_fd_recv(int sock, int flags) {
  char ctl[CMSG_SPACE(sizeof(int))], b;
  struct iovec iov = {&b, 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  struct cmsghdr *c;
  int fd = -1;

  m.msg_control = ctl;
  m.msg_controllen = sizeof(ctl);
  if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags) <= 0)
    return -1;
  c = CMSG_FIRSTHDR(&m);
  if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}
