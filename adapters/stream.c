/*
 * struct adapter_stream: splits an agent's output bytes into lines for its
 * adapter. Chunks arrive cut anywhere, so the unfinished tail waits in a
 * bounded buffer. A line is delivered without its '\n' and without a '\r'
 * just before it. A line longer than max_line is delivered in pieces of
 * max_line bytes, every piece of it with `truncated` set, so memory stays
 * bounded whatever the agent prints (STYLE rule 14). A piece is cut only
 * when the next byte arrives, so the result does not depend on how the
 * bytes were chunked: the buffer holds at most max_line bytes plus a '\r'
 * that may still turn out to end the line. The stream also owns the
 * parser's memory (struct adapter_parse) and counts the pieces in it.
 */
#include "adapter.h"

#include <assert.h>
#include <string.h>

void adapter_stream_init(struct adapter_stream *s,
                         const struct adapter_ops *ops, size_t max_line) {
  assert(ops != NULL && ops->parse_line != NULL);
  assert(max_line > 0);
  s->ops = ops;
  s->max_line = max_line;
  s->overlong = 0;
  memset(&s->parse, 0, sizeof(s->parse));
  crl_buf_init(&s->parse.text, ADAPTER_TEXT_MAX);
  crl_buf_init(&s->partial, max_line + 1);
}

void adapter_stream_close(struct adapter_stream *s) {
  crl_buf_close(&s->partial);
  crl_buf_close(&s->parse.text);
  s->overlong = 0;
}

/* Hands the first len bytes of the buffer to the adapter, NUL-terminated
 * for the duration of the call. */
static void stream_deliver(struct adapter_stream *s, size_t len,
                           adapter_emit_cb emit, void *payload) {
  struct crl_buf *b = &s->partial;
  char saved = b->data[len];

  b->data[len] = '\0';
  s->ops->parse_line(&s->parse, b->data, len, s->overlong, emit, payload);
  b->data[len] = saved;
}

/* Delivers the buffered line, ended by a newline or by the end of input. */
static void stream_end_line(struct adapter_stream *s, adapter_emit_cb emit,
                            void *payload) {
  struct crl_buf *b = &s->partial;
  size_t len = b->len;

  if (len > 0 && b->data[len - 1] == '\r')
    len--;
  if (b->data == NULL)
    crl_buf_append(b, "", 0);
  stream_deliver(s, len, emit, payload);
  crl_buf_reset(b);
  s->overlong = 0;
  s->parse.piece = 0;
}

static void stream_cut_piece(struct adapter_stream *s, adapter_emit_cb emit,
                             void *payload) {
  s->overlong = 1;
  stream_deliver(s, s->max_line, emit, payload);
  s->parse.piece++;
  crl_buf_consume(&s->partial, s->max_line);
}

/* Appends n bytes that hold no newline, cutting pieces as the buffer fills.
 * A lone '\r' may sit past max_line: the next byte says whether it ends the
 * line or belongs to the next piece. */
static void stream_append(struct adapter_stream *s, const char *p, size_t n,
                          adapter_emit_cb emit, void *payload) {
  struct crl_buf *b = &s->partial;
  size_t take;
  int rc = 0;

  while (n > 0) {
    if (b->len >= s->max_line) {
      if (b->len == s->max_line && n == 1 && p[0] == '\r') {
        rc = crl_buf_append(b, p, 1);
        assert(rc == 0);
        return;
      }
      stream_cut_piece(s, emit, payload);
      continue;
    }
    take = s->max_line - b->len < n ? s->max_line - b->len : n;
    rc = crl_buf_append(b, p, take);
    assert(rc == 0);
    p += take;
    n -= take;
  }
  (void)rc;
}

void adapter_stream_feed(struct adapter_stream *s, const char *buf, size_t len,
                         adapter_emit_cb emit, void *payload) {
  const char *nl;
  size_t seg;

  while (len > 0) {
    nl = memchr(buf, '\n', len);
    seg = nl != NULL ? (size_t)(nl - buf) : len;
    stream_append(s, buf, seg, emit, payload);
    buf += seg;
    len -= seg;
    if (nl == NULL)
      break;
    stream_end_line(s, emit, payload);
    buf++;
    len--;
  }
}

/* Ends the stream: an unterminated last line is delivered, then message
 * text the parser was still joining is emitted. */
void adapter_stream_finish(struct adapter_stream *s, adapter_emit_cb emit,
                           void *payload) {
  if (s->partial.len > 0)
    stream_end_line(s, emit, payload);
  adapter_parse_flush(&s->parse, emit, payload);
}

void adapter_parse_flush(struct adapter_parse *p, adapter_emit_cb emit,
                         void *payload) {
  struct adapter_event ev = {.kind = ADAPTER_EV_MESSAGE};

  if (p->text.len == 0)
    return;
  ev.text = p->text.data;
  ev.len = p->text.len;
  emit(&ev, payload);
  crl_buf_reset(&p->text);
}
