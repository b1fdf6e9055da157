/*
 * Allocation that never returns NULL: corral cannot do anything useful once
 * memory is exhausted, so it says so and aborts (tmux xmalloc.c).
 */
#include "crl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void xmalloc_die(size_t n) {
  fprintf(stderr, "corral: fatal: out of memory allocating %zu bytes\n", n);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n == 0 ? 1 : n);

  if (p == NULL)
    xmalloc_die(n);
  return p;
}

void *xcalloc(size_t nmemb, size_t size) {
  void *p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

  if (p == NULL)
    xmalloc_die(nmemb * size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n == 0 ? 1 : n);

  if (q == NULL)
    xmalloc_die(n);
  return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t size) {
  void *q = reallocarray(p, nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

  if (q == NULL)
    xmalloc_die(nmemb * size);
  return q;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);

  if (p == NULL)
    xmalloc_die(strlen(s) + 1);
  return p;
}

char *xstrndup(const char *s, size_t n) {
  char *p = strndup(s, n);

  if (p == NULL)
    xmalloc_die(n + 1);
  return p;
}

int xasprintf(char **out, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vasprintf(out, fmt, ap);
  va_end(ap);
  if (n < 0)
    xmalloc_die(0);
  return n;
}
