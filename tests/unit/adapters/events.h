/*
 * Shared by the agent adapter tests: runs bytes through adapter_stream in
 * chosen chunk sizes and renders the events in the format of the
 * tests/data/<cli>/NAME.events files: one line per event, "kind<TAB>text".
 * The JSON kinds (tool_call, tool_result, usage) are written as they are,
 * since compact JSON holds no raw control characters; for message, error
 * and session, '\\', newline, CR and tab are escaped as \\, \n, \r, \t.
 */
#ifndef TEST_ADAPTER_EVENTS_H
#define TEST_ADAPTER_EVENTS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

struct events {
  struct crl_buf out;
  size_t n;
  size_t kinds[ADAPTER_EV_SESSION + 1];
};

static inline void events_init(struct events *e) {
  memset(e, 0, sizeof(*e));
  crl_buf_init(&e->out, 0);
  crl_buf_append(&e->out, "", 0);
}

static inline void events_close(struct events *e) {
  crl_buf_close(&e->out);
}

static inline int events_json_kind(enum adapter_event_kind k) {
  return k == ADAPTER_EV_TOOL_CALL || k == ADAPTER_EV_TOOL_RESULT ||
         k == ADAPTER_EV_USAGE;
}

static inline void events_collect(const struct adapter_event *ev,
                                  void *payload) {
  struct events *e = payload;
  const char *kind = adapter_event_kind_name(ev->kind);
  size_t i;

  cr_assert_eq(ev->text[ev->len], '\0', "event text is not NUL-terminated");
  cr_assert_eq(strlen(ev->text), ev->len, "event text holds a NUL");
  e->n++;
  e->kinds[ev->kind]++;
  crl_buf_printf(&e->out, "%s\t", kind);
  for (i = 0; i < ev->len; i++) {
    char c = ev->text[i];
    const char *esc = NULL;

    if (!events_json_kind(ev->kind))
      esc = c == '\\'   ? "\\\\"
            : c == '\n' ? "\\n"
            : c == '\r' ? "\\r"
            : c == '\t' ? "\\t"
                        : NULL;
    if (esc != NULL)
      crl_buf_append(&e->out, esc, 2);
    else
      crl_buf_append(&e->out, &c, 1);
  }
  crl_buf_append(&e->out, "\n", 1);
}

/* Feeds len bytes in chunks: chunk > 0 is a fixed size, chunk == 0 picks
 * random sizes (1..4096) from seed. */
static inline void events_feed(struct events *e, const char *kind,
                               const char *data, size_t len, size_t chunk,
                               unsigned seed, size_t max_line) {
  struct adapter_stream s;
  const struct adapter_ops *ops = adapter_find(kind);
  size_t off, n;

  cr_assert_not_null(ops, "no adapter %s", kind);
  adapter_stream_init(&s, ops, max_line);
  for (off = 0; off < len; off += n) {
    n = chunk > 0 ? chunk : 1 + (size_t)(rand_r(&seed) % 4096);
    if (n > len - off)
      n = len - off;
    adapter_stream_feed(&s, data + off, n, events_collect, e);
  }
  adapter_stream_finish(&s, events_collect, e);
  adapter_stream_close(&s);
}

/* Reads a whole file; the caller frees. */
static inline char *events_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  struct crl_buf b;
  char tmp[65536];
  size_t n;

  cr_assert_not_null(f, "cannot open %s", path);
  crl_buf_init(&b, 0);
  crl_buf_append(&b, "", 0);
  while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
    crl_buf_append(&b, tmp, n);
  fclose(f);
  *len = b.len;
  return b.data;
}

#endif
