/*
 * Expectations checked inside a forked child of the sandbox tests: the first
 * one that fails writes its message to failfd (a pipe the parent reads) and
 * exits 1, so the parent can assert on the child's status and show why.
 */
#ifndef CHILD_EXPECT_H
#define CHILD_EXPECT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failfd = -1;

/* In the child: reports the first failed expectation and exits 1. */
static void child_fail(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vdprintf(failfd, fmt, ap);
  va_end(ap);
  _exit(1);
}

#define EXPECT_ERRNO(call, e)                                           \
  do {                                                                  \
    long r_;                                                            \
    errno = 0;                                                          \
    r_ = (long)(call);                                                  \
    if (r_ != -1 || errno != (e))                                       \
      child_fail("%s: returned %ld errno %s, want errno %s", #call, r_, \
                 strerror(errno), strerror(e));                         \
  } while (0)

#define EXPECT_OK(call)                                         \
  do {                                                          \
    errno = 0;                                                  \
    if ((long)(call) < 0)                                       \
      child_fail("%s: failed with %s", #call, strerror(errno)); \
  } while (0)

#endif
