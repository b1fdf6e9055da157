/*
 * Tests for struct adapter_stream: lines come out the same however the bytes
 * were chunked, CRLF endings lose their '\r', overlong lines come out in
 * bounded pieces, and finish delivers an unterminated last line.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/* Collects delivered lines as "text|truncated" entries. */
struct lines {
  char *v[64];
  size_t n;
  size_t total;
};

static void collect(const struct adapter_event *ev, void *payload) {
  struct lines *l = payload;

  cr_assert_eq(ev->text[ev->len], '\0');
  l->total++;
  if (l->n < CRL_ARRAY_SIZE(l->v))
    xasprintf(&l->v[l->n++], "%.*s|%d", (int)ev->len, ev->text, ev->truncated);
}

static void lines_free(struct lines *l) {
  size_t i;

  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  l->n = 0;
}

static void run(struct lines *l, const char *in, size_t chunk, size_t max) {
  struct adapter_stream s;
  size_t len = strlen(in), off, n;

  memset(l, 0, sizeof(*l));
  adapter_stream_init(&s, adapter_find("exec"), max);
  for (off = 0; off < len; off += n) {
    n = len - off < chunk ? len - off : chunk;
    adapter_stream_feed(&s, in + off, n, collect, l);
  }
  adapter_stream_finish(&s, collect, l);
  adapter_stream_close(&s);
}

static void assert_lines(struct lines *l, const char *const *want) {
  size_t i;

  for (i = 0; want[i] != NULL; i++) {
    cr_assert_lt(i, l->n, "missing line %zu (%s)", i, want[i]);
    cr_assert_str_eq(l->v[i], want[i]);
  }
  cr_assert_eq(l->n, i);
}

Test(adapter_stream, splits_lines_and_finishes_partial) {
  static const char *const want[] = {"one|0", "|0", "two|0", "tail|0", NULL};
  struct lines l;

  run(&l, "one\n\ntwo\ntail", 1000, 64);
  assert_lines(&l, want);
  lines_free(&l);
}

Test(adapter_stream, chunking_does_not_change_lines) {
  static const char *const in =
      "alpha\r\nbeta\n\r\nabcdefghij\r\nabcdefgh\rx\nabcdefghijklmnopq\n"
      "abcdefgh\r\r\nend";
  struct lines ref, l;
  size_t chunk, i;

  run(&ref, in, strlen(in), 8);
  for (chunk = 1; chunk <= 13; chunk++) {
    run(&l, in, chunk, 8);
    cr_assert_eq(l.n, ref.n, "chunk %zu", chunk);
    for (i = 0; i < l.n; i++)
      cr_assert_str_eq(l.v[i], ref.v[i], "chunk %zu line %zu", chunk, i);
    lines_free(&l);
  }
  lines_free(&ref);
}

Test(adapter_stream, crlf_loses_the_cr) {
  static const char *const want[] = {"a|0", "b\rc|0", "|0", "last|0", NULL};
  struct lines l;

  run(&l, "a\r\nb\rc\r\n\r\nlast\r", 1, 64);
  assert_lines(&l, want);
  lines_free(&l);
}

Test(adapter_stream, long_line_comes_in_truncated_pieces) {
  static const char *const want[] = {"abcd|1", "efgh|1", "ij|1", "abcd|0",
                                     "abcd|1", "efgh|1", "x|0",  NULL};
  struct lines l;

  run(&l, "abcdefghij\nabcd\r\nabcdefgh\nx", 3, 4);
  assert_lines(&l, want);
  lines_free(&l);
}

Test(adapter_stream, cr_at_the_limit_waits_for_the_next_byte) {
  static const char *const want[] = {"abcd|0", "abcd|1", "\ry|1", NULL};
  struct lines l;

  run(&l, "abcd\r\nabcd\ry\n", 1, 4);
  assert_lines(&l, want);
  lines_free(&l);
}

Test(adapter_stream, ten_megabytes_without_newline_stay_bounded) {
  struct adapter_stream s;
  struct lines l;
  static char chunk[65536];
  size_t i, fed = 0;

  memset(&l, 0, sizeof(l));
  memset(chunk, 'x', sizeof(chunk));
  adapter_stream_init(&s, adapter_find("exec"), 4096);
  for (i = 0; fed < 10u * 1024 * 1024; i++) {
    adapter_stream_feed(&s, chunk, 1 + i % sizeof(chunk), collect, &l);
    fed += 1 + i % sizeof(chunk);
    cr_assert_leq(s.partial.cap, 8192);
  }
  adapter_stream_finish(&s, collect, &l);
  cr_assert_eq(l.total, (fed + 4095) / 4096);
  cr_assert_eq(s.partial.len, 0);
  adapter_stream_close(&s);
  lines_free(&l);
}

Test(adapter_stream, finish_on_empty_stream_delivers_nothing) {
  struct lines l;

  run(&l, "", 1, 16);
  cr_assert_eq(l.total, 0);
  run(&l, "done\n", 1, 16);
  cr_assert_eq(l.total, 1);
  lines_free(&l);
}
