/*
 * Server-Sent Event streams on a control-socket connection: the response
 * head (text/event-stream, no Content-Length, so the body runs until the
 * connection closes), event framing (id/event/data lines, one data line per
 * line of the payload), a ": hb" comment heartbeat driven by the
 * connection's timer, and backpressure: a client that stops reading is
 * disconnected once its unsent bytes pass the bound, so a stuck subscriber
 * costs at most that much memory. It resumes with Last-Event-ID.
 */
#include "http-int.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

struct rt_sse {
  struct rt_http_conn *conn; /* NULL once the connection is gone */
  rt_sse_close_cb cb;
  void *payload;
};

static const char sse_head[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/event-stream\r\n"
                               "Cache-Control: no-cache\r\n"
                               "X-Accel-Buffering: no\r\n"
                               "\r\n";

struct rt_sse *rt_sse_open(struct rt_http_req *req, rt_sse_close_cb cb,
                           void *payload) {
  struct rt_http_conn *conn = req->conn;
  struct rt_sse *s;

  assert(conn == NULL || conn->active == req);
  rt__http_req_free(req);
  if (conn == NULL)
    return NULL;
  conn->active = NULL;
  if (rt__http_conn_write(conn, sse_head, sizeof(sse_head) - 1) < 0)
    return NULL;
  s = xcalloc(1, sizeof(*s));
  s->conn = conn;
  s->cb = cb;
  s->payload = payload;
  rt__http_conn_streaming(conn, s);
  return s;
}

/* Queues bytes and enforces the unsent bound. */
static int sse_write(struct rt_sse *s, const char *data, size_t len) {
  struct rt_http_conn *conn = s->conn;
  size_t unsent;

  if (conn == NULL || conn->closing)
    return -EPIPE;
  if (rt__http_conn_write(conn, data, len) < 0)
    return -EPIPE;
  unsent = rt_sse_unsent(s);
  if (unsent <= conn->srv->opts.max_unsent_bytes)
    return 0;
  log_info("control: SSE client not reading (%zu bytes unsent), closing",
           unsent);
  rt__http_conn_close(conn);
  return CRL_ETOOBIG;
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
  rc = sse_write(s, b.data, b.len);
  crl_buf_close(&b);
  return rc;
}

void rt__sse_heartbeat(struct rt_sse *s) {
  sse_write(s, ": hb\n\n", 6);
}

void rt_sse_close(struct rt_sse *s) {
  if (s->conn != NULL)
    rt__http_conn_close(s->conn);
}

size_t rt_sse_unsent(const struct rt_sse *s) {
  if (s->conn == NULL)
    return 0;
  return uv_stream_get_write_queue_size((const uv_stream_t *)&s->conn->pipe);
}

void rt__sse_conn_closed(struct rt_sse *s) {
  s->conn = NULL;
  if (s->cb != NULL)
    s->cb(s, s->payload);
  free(s);
}
