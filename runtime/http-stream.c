/*
 * Streamed responses: a handler turns its connection into a body written
 * over time (SSE, `GET /v1/runs/{id}/output?follow=1`). The body has no
 * Content-Length and runs until the connection closes, which every HTTP/1.1
 * client understands without chunked framing. Backpressure is the one rule
 * that keeps a subscriber's cost bounded: when the bytes queued for a client
 * that does not read pass opts.max_unsent_bytes, the connection is closed.
 * An optional heartbeat is written on the connection's timer.
 */
#include "http-int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct rt_http_stream {
  struct rt_http_conn *conn; /* NULL once the connection is gone */
  const char *heartbeat;     /* static bytes, or NULL */
  rt_http_stream_close_cb cb;
  void *payload;
};

struct rt_http_stream *
rt__http_stream_open(struct rt_http_req *req, int status, const char *ctype,
                     const char *extra, const char *heartbeat,
                     rt_http_stream_close_cb cb, void *payload) {
  struct rt_http_conn *conn = req->conn;
  struct rt_http_stream *s;
  char head[512];
  int n;

  assert(conn == NULL || conn->active == req);
  rt__http_req_free(req);
  if (conn == NULL)
    return NULL;
  conn->active = NULL;
  n = snprintf(head, sizeof(head),
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s"
               "Connection: close\r\n\r\n",
               status, rt__http_reason(status), ctype, extra ? extra : "");
  assert(n > 0 && (size_t)n < sizeof(head));
  if (rt__http_conn_write(conn, head, (size_t)n) < 0)
    return NULL;
  s = xcalloc(1, sizeof(*s));
  s->conn = conn;
  s->heartbeat = heartbeat;
  s->cb = cb;
  s->payload = payload;
  rt__http_conn_streaming(conn, s, heartbeat != NULL);
  return s;
}

struct rt_http_stream *rt_http_stream_open(struct rt_http_req *req, int status,
                                           const char *content_type,
                                           rt_http_stream_close_cb cb,
                                           void *payload) {
  return rt__http_stream_open(req, status, content_type, NULL, NULL, cb,
                              payload);
}

int rt_http_stream_write(struct rt_http_stream *s, const void *data,
                         size_t len) {
  struct rt_http_conn *conn = s->conn;
  size_t unsent;

  if (conn == NULL || rt__http_conn_write(conn, data, len) < 0)
    return -EPIPE;
  unsent = rt_http_stream_unsent(s);
  if (unsent <= conn->srv->opts.max_unsent_bytes)
    return 0;
  log_info("control: stream client not reading (%zu bytes unsent), closing",
           unsent);
  rt__http_conn_close(conn);
  return CRL_ETOOBIG;
}

void rt_http_stream_close(struct rt_http_stream *s) {
  if (s->conn != NULL)
    rt__http_conn_finish(s->conn);
}

size_t rt_http_stream_unsent(const struct rt_http_stream *s) {
  if (s->conn == NULL)
    return 0;
  return uv_stream_get_write_queue_size((const uv_stream_t *)&s->conn->pipe);
}

void rt__http_stream_heartbeat(struct rt_http_stream *s) {
  if (s->heartbeat != NULL)
    rt_http_stream_write(s, s->heartbeat, strlen(s->heartbeat));
}

void rt__http_stream_closed(struct rt_http_stream *s) {
  s->conn = NULL;
  if (s->cb != NULL)
    s->cb(s, s->payload);
  free(s);
}
