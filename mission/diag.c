/*
 * diag.c: the list of diagnostics a mission load produces. Each entry holds
 * its own copy of the file name and the formatted message; they print one per
 * line as "FILE:LINE:COL: error: MSG", the form compilers use, so editors can
 * jump to the spot. Entries without a position (the file could not be read)
 * print as "FILE: error: MSG". The loader sorts its entries into document
 * order before returning, since the checks run in several passes.
 */
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

void msn_diags_init(struct msn_diags *d) {
  memset(d, 0, sizeof(*d));
}

void msn_diags_close(struct msn_diags *d) {
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->n; i++) {
    free(d->v[i].file);
    free(d->v[i].msg);
  }
  free(d->v);
  memset(d, 0, sizeof(*d));
}

void msn__diags_addv(struct msn_diags *d, const char *file, int line, int col,
                     const char *fmt, va_list ap) {
  struct msn_diag *e;
  char *msg = NULL;

  if (vasprintf(&msg, fmt, ap) < 0)
    abort();
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 8;
    d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
  }
  e = &d->v[d->n++];
  e->file = xstrdup(file ? file : "-");
  e->line = line;
  e->col = col;
  e->msg = msg;
}

void msn_diags_add(struct msn_diags *d, const char *file, int line, int col,
                   const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  msn__diags_addv(d, file, line, col, fmt, ap);
  va_end(ap);
}

void msn_diags_print(const struct msn_diags *d, FILE *fp) {
  for (size_t i = 0; i < d->n; i++) {
    const struct msn_diag *e = &d->v[i];

    if (e->line > 0)
      fprintf(fp, "%s:%d:%d: error: %s\n", e->file, e->line, e->col, e->msg);
    else
      fprintf(fp, "%s: error: %s\n", e->file, e->msg);
  }
}

static int diag_before(const struct msn_diag *a, const struct msn_diag *b) {
  if (a->line != b->line)
    return a->line < b->line;
  return a->col < b->col;
}

/* Merge sort keeps equal positions in the order they were found. */
static void diag_merge_sort(struct msn_diag *v, struct msn_diag *tmp,
                            size_t n) {
  size_t mid = n / 2, i = 0, j = mid, k = 0;

  if (n < 2)
    return;
  diag_merge_sort(v, tmp, mid);
  diag_merge_sort(v + mid, tmp, n - mid);
  while (i < mid && j < n)
    tmp[k++] = diag_before(&v[j], &v[i]) ? v[j++] : v[i++];
  while (i < mid)
    tmp[k++] = v[i++];
  while (j < n)
    tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof(*v));
}

void msn__diags_sort(struct msn_diags *d, size_t from) {
  struct msn_diag *tmp;

  if (from + 1 >= d->n)
    return;
  tmp = xreallocarray(NULL, d->n - from, sizeof(*tmp));
  diag_merge_sort(d->v + from, tmp, d->n - from);
  free(tmp);
}
