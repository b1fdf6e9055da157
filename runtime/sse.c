/*
 * Server-Sent Events on top of a streamed response: the text/event-stream
 * head with Cache-Control: no-cache, event framing (id/event/data lines, one
 * data line per line of the payload), and a ": hb" comment heartbeat. The
 * stream's backpressure applies unchanged: a client that stops reading is
 * disconnected once its unsent bytes pass the bound, so a stuck subscriber
 * costs at most that much memory; it resumes with Last-Event-ID.
 */
#include "http-int.h"

#include <errno.h>
#include <string.h>

struct rt_sse {
  struct rt_http_stream *stream;
  rt_sse_close_cb cb;
  void *payload;
};

static void sse_closed(struct rt_http_stream *stream, void *payload) {
  struct rt_sse *s = payload;

  if (s->cb != NULL)
    s->cb(s, s->payload);
  free(s);
}

struct rt_sse *rt_sse_open(struct rt_http_req *req, rt_sse_close_cb cb,
                           void *payload) {
  struct rt_sse *s = xcalloc(1, sizeof(*s));

  s->cb = cb;
  s->payload = payload;
  s->stream = rt__http_stream_open(req, 200, "text/event-stream",
                                   "Cache-Control: no-cache\r\n"
                                   "X-Accel-Buffering: no\r\n",
                                   ": hb\n\n", sse_closed, s);
  if (s->stream != NULL)
    return s;
  free(s);
  return NULL;
}

/* Appends one "data:" line per line of data; CRLF, CR and LF all end a
 * line, as the SSE parser in every client splits them. */
static void sse_add_data(struct crl_buf *b, const char *data) {
  size_t n;

  for (;;) {
    n = strcspn(data, "\r\n");
    crl_buf_append(b, "data: ", 6);
    crl_buf_append(b, data, n);
    crl_buf_append(b, "\n", 1);
    data += n;
    if (*data == '\0')
      return;
    data += (data[0] == '\r' && data[1] == '\n') ? 2 : 1;
  }
}

int rt_sse_send(struct rt_sse *s, const char *id, const char *event,
                const char *data) {
  struct crl_buf b;
  int rc;

  if ((id && strpbrk(id, "\r\n")) || (event && strpbrk(event, "\r\n")))
    return -EINVAL;
  crl_buf_init(&b, 0);
  if (id != NULL)
    crl_buf_printf(&b, "id: %s\n", id);
  if (event != NULL)
    crl_buf_printf(&b, "event: %s\n", event);
  sse_add_data(&b, data ? data : "");
  crl_buf_append(&b, "\n", 1);
  rc = rt_http_stream_write(s->stream, b.data, b.len);
  crl_buf_close(&b);
  return rc;
}

void rt_sse_close(struct rt_sse *s) {
  rt_http_stream_close(s->stream);
}

size_t rt_sse_unsent(const struct rt_sse *s) {
  return rt_http_stream_unsent(s->stream);
}
