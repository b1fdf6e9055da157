/*
 * Bounded byte buffers. Every buffer that ingests agent or socket bytes has
 * a hard maximum and fails with CRL_ETOOBIG instead of growing without end
 * (curl dynbuf). The data is kept NUL-terminated for convenience.
 */
#include "crl.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void crl_buf_init(struct crl_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void crl_buf_close(struct crl_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void crl_buf_reset(struct crl_buf *b) {
  b->len = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}

static int buf_reserve(struct crl_buf *b, size_t extra) {
  size_t want = b->len + extra + 1;
  size_t cap;

  if (b->max != 0 && b->len + extra > b->max)
    return CRL_ETOOBIG;
  if (want <= b->cap)
    return 0;
  cap = b->cap == 0 ? 64 : b->cap;
  while (cap < want)
    cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
  return 0;
}

int crl_buf_append(struct crl_buf *b, const void *p, size_t n) {
  int rc;

  if ((rc = buf_reserve(b, n)) < 0)
    return rc;
  if (n > 0)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int crl_buf_printf(struct crl_buf *b, const char *fmt, ...) {
  va_list ap;
  char *s;
  int n, rc;

  va_start(ap, fmt);
  n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -ENOMEM;
  rc = crl_buf_append(b, s, (size_t)n);
  free(s);
  return rc;
}

void crl_buf_consume(struct crl_buf *b, size_t n) {
  if (n >= b->len) {
    crl_buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}
