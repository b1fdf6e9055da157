/*
 * The one grammar of the CLI's messages to the user, "corral: fatal:
 * unable to open store: <strerror>" (skalibs strerr_diefu*), for the full
 * program and the lean front alike.
 */
#include "rt-cli.h"

#include <stdarg.h>
#include <stdio.h>

void rt_errorf(const char *fmt, ...) {
  va_list ap;

  fputs("corral: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}
