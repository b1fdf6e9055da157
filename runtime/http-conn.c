/*
 * One control-socket connection: reading into a bounded input buffer,
 * feeding the parser one request at a time, dispatching it to its route, and
 * taking the next pipelined request only after the previous one is answered
 * and its reply has drained below the unsent bound. One timer per
 * connection carries the phase's deadline: idle keep-alive, request read
 * (from a request's first byte, never extended: slowloris), the linger
 * after a last reply, or a stream's heartbeat. A connection is freed only in
 * the close callback of its last handle (STYLE.md rule 12), which is also
 * where a pending request's abort callback and a stream's close callback
 * run, so neither ever runs inside a call its owner made.
 */
#include "http-int.h"

#include <errno.h>
#include <string.h>

/* Input kept while a handler holds a request: past HIGH we stop reading, and
 * one read can add at most READ_CHUNK on top. */
#define CONN_IN_HIGH (64 * 1024)
#define CONN_READ_CHUNK (64 * 1024)

struct conn_write {
  uv_write_t req;
  char data[];
};

static void conn_process(struct rt_http_conn *c);
static void conn_update_reading(struct rt_http_conn *c);

static size_t conn_unsent(const struct rt_http_conn *c) {
  return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe);
}

static void conn_timer_start(struct rt_http_conn *c, uint64_t ms,
                             uint64_t repeat);

static void conn_set_phase(struct rt_http_conn *c, enum rt__http_phase phase) {
  const struct rt_http_opts *o = &c->srv->opts;

  c->phase = phase;
  if (phase == RT_HTTP_IDLE)
    conn_timer_start(c, o->idle_timeout_ms, 0);
  else if (phase == RT_HTTP_READING || phase == RT_HTTP_LINGER)
    conn_timer_start(c, o->read_timeout_ms, 0);
  else
    uv_timer_stop(&c->timer);
}

static void conn_abort_active(struct rt_http_conn *c) {
  struct rt_http_req *req = c->active;

  if (req == NULL)
    return;
  c->active = NULL;
  req->conn = NULL;
  /* Without an abort callback the handler still holds req and frees it by
   * answering; the reply then reports -EPIPE. */
  if (req->abort_cb == NULL)
    return;
  req->abort_cb(req, req->abort_payload);
  rt__http_req_free(req);
}

static void conn_handle_closed(uv_handle_t *h) {
  struct rt_http_conn *c = h->data;
  struct rt_http_server *srv = c->srv;

  if (--c->handles > 0)
    return;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  srv->nconns--;
  if (c->served)
    srv->nserved--;
  conn_abort_active(c);
  if (c->stream != NULL)
    rt__http_stream_closed(c->stream);
  rt__http_parse_close(&c->parse);
  crl_buf_close(&c->in);
  free(c);
  rt__http_server_maybe_free(srv);
}

void rt__http_conn_close(struct rt_http_conn *c) {
  if (c->closing)
    return;
  c->closing = 1;
  uv_read_stop((uv_stream_t *)&c->pipe);
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
  uv_close((uv_handle_t *)&c->pipe, conn_handle_closed);
}

static void conn_timer_cb(uv_timer_t *t) {
  struct rt_http_conn *c = crl_container_of(t, struct rt_http_conn, timer);

  if (c->phase == RT_HTTP_STREAM) {
    rt__http_stream_heartbeat(c->stream);
    return;
  }
  log_debug("%s: closing connection in phase %d", __func__, (int)c->phase);
  rt__http_conn_close(c);
}

static void conn_timer_start(struct rt_http_conn *c, uint64_t ms,
                             uint64_t repeat) {
  uv_timer_start(&c->timer, conn_timer_cb, ms, repeat);
}

static void conn_write_cb(uv_write_t *req, int status) {
  struct conn_write *w = crl_container_of(req, struct conn_write, req);
  struct rt_http_conn *c =
      crl_container_of(req->handle, struct rt_http_conn, pipe);

  free(w);
  if (status < 0) {
    rt__http_conn_close(c);
    return;
  }
  /* A drained reply may unblock the next pipelined request. */
  if (c->phase == RT_HTTP_IDLE || c->phase == RT_HTTP_READING)
    conn_process(c);
}

int rt__http_conn_write(struct rt_http_conn *c, const char *data, size_t len) {
  struct conn_write *w;
  uv_buf_t buf;

  if (c->closing || c->phase == RT_HTTP_LINGER)
    return -EPIPE;
  w = xmalloc(sizeof(*w) + len);
  memcpy(w->data, data, len);
  buf = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, conn_write_cb) < 0) {
    free(w);
    rt__http_conn_close(c);
    return -EPIPE;
  }
  return 0;
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status) {
  struct rt_http_conn *c = crl_container_of(req, struct rt_http_conn, shutdown);

  c->shut_done = 1;
  if (status < 0 || c->eof)
    rt__http_conn_close(c);
}

/*
 * The last reply is queued: half-close after it drains, then keep reading
 * and dropping input until the peer closes or the read timeout passes
 * (Apache's lingering close). Closing at once would let a peer that is still
 * sending see EPIPE before it reads our answer.
 */
static void conn_linger(struct rt_http_conn *c) {
  if (c->closing || c->phase == RT_HTTP_LINGER)
    return;
  conn_set_phase(c, RT_HTTP_LINGER);
  crl_buf_reset(&c->in);
  conn_update_reading(c);
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, conn_shutdown_cb) < 0)
    rt__http_conn_close(c);
}

void rt__http_conn_finish(struct rt_http_conn *c) {
  conn_linger(c);
}

/* Answers with an error outside any handler (parse errors, refusals) and
 * closes after it. */
static void conn_fail(struct rt_http_conn *c, int code, int status,
                      const char *extra, const char *msg) {
  json_t *body = rt_http_error_body(code, msg, NULL);
  char *text = json_dumps(body, JSON_COMPACT);

  json_decref(body);
  rt__http_write_response(c, status ? status : rt_http_status_of(code), extra,
                          "application/json", text, strlen(text), 0);
  free(text);
  conn_linger(c);
}

void rt__http_conn_answered(struct rt_http_conn *c, int keep) {
  if (c->closing || c->phase == RT_HTTP_LINGER)
    return;
  if (!keep) {
    conn_linger(c);
    return;
  }
  if (c->in.len > 0 || rt__http_parse_busy(&c->parse))
    conn_set_phase(c, RT_HTTP_READING);
  else
    conn_set_phase(c, RT_HTTP_IDLE);
  /* The next pipelined request is taken when this reply's write completes
   * (conn_write_cb), never from inside the reply call: a daemon answering
   * many long polls in a loop must not see new requests arrive in it. */
}

void rt__http_conn_streaming(struct rt_http_conn *c,
                             struct rt_http_stream *stream, int heartbeat) {
  uint64_t every = c->srv->opts.sse_heartbeat_ms;

  c->active = NULL;
  c->stream = stream;
  conn_set_phase(c, RT_HTTP_STREAM);
  if (heartbeat)
    conn_timer_start(c, every, every);
}

static void conn_dispatch(struct rt_http_conn *c, struct rt_http_req *req) {
  struct rt_http_server *srv = c->srv;
  const struct rt_http_route *route;
  char allow[128];
  int code;

  conn_set_phase(c, RT_HTTP_BUSY);
  c->active = req;
  req->conn = c;
  srv->nrequests++;
  route = rt__http_route_find(srv->routes, srv->nroutes, req, &code, allow,
                              sizeof(allow));
  if (route == NULL) {
    rt__http_reply_route_error(req, code, allow);
    return;
  }
  route->fn(req, srv->payload);
}

/* Feeds buffered input to the parser and dispatches complete requests, one
 * at a time and only while nothing is pending. */
static void conn_process(struct rt_http_conn *c) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_http_req *req;
  size_t used;
  int rc, status;

  while (!c->closing && c->active == NULL && c->in.len > 0 &&
         (c->phase == RT_HTTP_IDLE || c->phase == RT_HTTP_READING) &&
         conn_unsent(c) <= c->srv->opts.max_unsent_bytes) {
    rc = rt__http_parse_feed(&c->parse, c->in.data, c->in.len, &used, &req,
                             &status, &err);
    crl_buf_consume(&c->in, used);
    if (rc < 0) {
      conn_fail(c, rc, status, NULL, err.msg);
      break;
    }
    if (req == NULL && c->parse.expect_continue)
      rt__http_conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    c->parse.expect_continue = 0;
    if (req == NULL)
      break;
    conn_dispatch(c, req);
  }
  conn_update_reading(c);
}

static void conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct rt_http_conn *c = h->data;

  buf->base = c->srv->rbuf;
  buf->len = sizeof(c->srv->rbuf);
}

/*
 * The peer's EOF. While a handler holds a request or a stream runs, it means
 * the client is gone: close (the request is aborted). Otherwise the client
 * may only have half-closed after its last request, so its replies still
 * drain before we close.
 */
static void conn_read_eof(struct rt_http_conn *c, ssize_t nread) {
  if (nread != UV_EOF || c->phase == RT_HTTP_BUSY ||
      c->phase == RT_HTTP_STREAM) {
    rt__http_conn_close(c);
    return;
  }
  c->eof = 1;
  conn_update_reading(c);
  if (c->phase != RT_HTTP_LINGER)
    conn_linger(c);
  else if (c->shut_done)
    rt__http_conn_close(c);
}

static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct rt_http_conn *c = s->data;

  if (nread < 0) {
    conn_read_eof(c, nread);
    return;
  }
  /* A stream's client has nothing to say; its bytes are dropped, and only
   * its EOF matters. */
  if (nread == 0 || c->phase == RT_HTTP_STREAM || c->phase == RT_HTTP_LINGER)
    return;
  if (crl_buf_append(&c->in, buf->base, (size_t)nread) < 0) {
    conn_fail(c, CRL_EPAYLOAD_TOO_LARGE, 0, NULL, "input buffer full");
    return;
  }
  if (c->phase == RT_HTTP_IDLE)
    conn_set_phase(c, RT_HTTP_READING);
  conn_process(c);
}

static void conn_update_reading(struct rt_http_conn *c) {
  int want =
      !c->closing && (c->phase == RT_HTTP_LINGER || c->in.len < CONN_IN_HIGH);

  if (want && !c->reading)
    uv_read_start((uv_stream_t *)&c->pipe, conn_alloc_cb, conn_read_cb);
  else if (!want && c->reading)
    uv_read_stop((uv_stream_t *)&c->pipe);
  c->reading = want;
}

static struct rt_http_conn *conn_new(struct rt_http_server *srv) {
  struct rt_http_conn *c = xcalloc(1, sizeof(*c));

  c->srv = srv;
  uv_pipe_init(srv->loop, &c->pipe, 0);
  uv_timer_init(srv->loop, &c->timer);
  c->pipe.data = c;
  c->timer.data = c;
  c->handles = 2;
  rt__http_parse_init(&c->parse, srv->opts.max_header_bytes,
                      srv->opts.max_body_bytes);
  crl_buf_init(&c->in, CONN_IN_HIGH + CONN_READ_CHUNK);
  c->next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->prev = c;
  srv->conns = c;
  srv->nconns++;
  return c;
}

void rt__http_conn_accept(struct rt_http_server *srv) {
  struct rt_http_conn *c = conn_new(srv);
  uv_os_fd_t fd;

  if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->pipe) < 0 ||
      uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0) {
    rt__http_conn_close(c);
    return;
  }
  c->phase = RT_HTTP_IDLE;
  if (!rt__http_peer_allowed(srv, fd)) {
    conn_fail(c, CRL_EUNAUTHORIZED, 401, NULL, "peer credentials refused");
    return;
  }
  if (srv->nserved >= srv->opts.max_conns) {
    conn_fail(c, CRL_EINTERNAL, 503, "Retry-After: 1\r\n",
              "too many connections, retry later");
    return;
  }
  srv->nserved++;
  c->served = 1;
  conn_set_phase(c, RT_HTTP_IDLE);
  conn_update_reading(c);
}
