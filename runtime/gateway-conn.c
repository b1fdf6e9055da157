/*
 * The client side of the gateway: one TCP connection from an agent CLI on a
 * run's listener. Bytes read are queued and parsed with libhttp-parser one
 * request at a time; a complete request (all headers kept, body bounded)
 * becomes a call (gateway-call.c), and bytes of a pipelined next request
 * wait until that call is answered. Writes go out with uv_try_write first
 * and are copied only for what the kernel did not take.
 *
 * This is a dedicated server rather than runtime/http*.c: a proxy must keep
 * every request header (the control socket keeps three), write the
 * upstream's status and headers and then an open-ended chunked body on a
 * keep-alive TCP connection (control-socket streams end with the
 * connection), and it needs no peer credentials: the listener, inside the
 * run's network namespace, is the credential. Reading the headers and
 * bounding their bytes is shared with it (http-hdr.c).
 */
#include "gateway-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GW_MAX_HEADER_BYTES (64 * 1024)
#define GW_MAX_HEADERS 256

static struct rt__gw_conn *conn_of(http_parser *hp) {
  return crl_container_of(hp, struct rt__gw_conn, parser);
}

static void conn_clear_request(struct rt__gw_conn *c) {
  for (size_t i = 0; i < c->nhdrs; i++) {
    free(c->hdrs[i].name);
    free(c->hdrs[i].value);
  }
  free(c->hdrs);
  c->hdrs = NULL;
  c->nhdrs = 0;
  crl_buf_reset(&c->url);
  crl_buf_reset(&c->body);
  rt__http_hdr_reset(&c->hdr);
  c->parse_error = 0;
  c->complete = 0;
}

static int on_message_begin(http_parser *hp) {
  conn_clear_request(conn_of(hp));
  return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n) {
  struct rt__gw_conn *c = conn_of(hp);

  if (rt__http_hdr_count(&c->hdr, n) < 0)
    return -1;
  return crl_buf_append(&c->url, at, n) < 0 ? -1 : 0;
}

/* A proxy keeps every header (up to GW_MAX_HEADERS). */
static int keep_header(const char *name, const char *value, void *payload) {
  struct rt__gw_conn *c = payload;

  if (c->nhdrs >= GW_MAX_HEADERS)
    return -1;
  c->hdrs = xreallocarray(c->hdrs, c->nhdrs + 1, sizeof(*c->hdrs));
  c->hdrs[c->nhdrs].name = xstrdup(name);
  c->hdrs[c->nhdrs].value = xstrdup(value);
  c->nhdrs++;
  return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n) {
  struct rt__gw_conn *c = conn_of(hp);

  if (rt__http_hdr_count(&c->hdr, n) < 0)
    return -1;
  return rt__http_hdr_field(&c->hdr, at, n, keep_header, c);
}

static int on_header_value(http_parser *hp, const char *at, size_t n) {
  struct rt__gw_conn *c = conn_of(hp);

  if (rt__http_hdr_count(&c->hdr, n) < 0)
    return -1;
  return rt__http_hdr_value(&c->hdr, at, n);
}

static int on_headers_complete(http_parser *hp) {
  struct rt__gw_conn *c = conn_of(hp);

  if (rt__http_hdr_end(&c->hdr, keep_header, c) < 0)
    return -1;
  if ((hp->flags & F_CONTENTLENGTH) &&
      hp->content_length > c->gw->opts.max_request_bytes)
    c->parse_error = 413;
  return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n) {
  struct rt__gw_conn *c = conn_of(hp);

  /* Past the bound the rest of the body is read and dropped, so that the
   * 413 goes out in the provider's format once the request is complete. */
  if (c->parse_error == 0 && crl_buf_append(&c->body, at, n) < 0)
    c->parse_error = 413;
  return 0;
}

static int on_message_complete(http_parser *hp) {
  struct rt__gw_conn *c = conn_of(hp);

  c->keep_alive = http_should_keep_alive(hp);
  c->complete = 1;
  http_parser_pause(hp, 1);
  return 0;
}

static const http_parser_settings gw_parse_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

const char *rt__gw_conn_header(const struct rt__gw_conn *conn,
                               const char *name) {
  for (size_t i = 0; i < conn->nhdrs; i++)
    if (strcasecmp(conn->hdrs[i].name, name) == 0)
      return conn->hdrs[i].value;
  return NULL;
}

static void conn_closed(uv_handle_t *h) {
  struct rt__gw_conn *c = crl_container_of(h, struct rt__gw_conn, tcp);
  struct rt_gw *gw = c->gw;

  conn_clear_request(c);
  crl_buf_close(&c->in);
  crl_buf_close(&c->url);
  rt__http_hdr_close(&c->hdr);
  crl_buf_close(&c->body);
  free(c);
  rt__gw_gw_handle_closed(gw);
}

void rt__gw_conn_close(struct rt__gw_conn *conn) {
  if (conn->closing)
    return;
  conn->closing = 1;
  if (conn->call != NULL)
    rt__gw_call_abort(conn->call, "aborted: client connection closed");
  if (conn->l != NULL) {
    if (conn->prev != NULL)
      conn->prev->next = conn->next;
    else
      conn->l->conns = conn->next;
    if (conn->next != NULL)
      conn->next->prev = conn->prev;
    conn->l = NULL;
  }
  uv_close((uv_handle_t *)&conn->tcp, conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  rt__gw_conn_close(crl_container_of(req, struct rt__gw_conn, shutdown));
}

/* Closes once what is queued has been written. */
static void conn_finish(struct rt__gw_conn *c) {
  if (c->finishing || c->closing)
    return;
  c->finishing = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
    rt__gw_conn_close(c);
}

struct gw_write {
  uv_write_t req;
  char data[];
};

static void on_write(uv_write_t *req, int status) {
  free(req);
}

int rt__gw_conn_write(struct rt__gw_conn *conn, const char *data, size_t n) {
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)n);
  struct gw_write *w;
  int rc;

  if (conn->closing || conn->finishing)
    return -EPIPE;
  rc = uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1);
  if (rc == (int)n)
    return 0;
  if (rc < 0 && rc != UV_EAGAIN)
    return -EPIPE;
  rc = rc < 0 ? 0 : rc;
  if (conn->tcp.write_queue_size + n > conn->gw->opts.max_unsent_bytes)
    return -EPIPE;
  w = xmalloc(sizeof(*w) + n - (size_t)rc);
  memcpy(w->data, data + rc, n - (size_t)rc);
  buf = uv_buf_init(w->data, (unsigned)(n - (size_t)rc));
  if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_write) < 0) {
    free(w);
    return -EPIPE;
  }
  return 0;
}

static void conn_bad_request(struct rt__gw_conn *c) {
  static const char reply[] =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
      "Content-Length: 67\r\nConnection: close\r\n\r\n"
      "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"bad "
      "request\"}}";

  rt__gw_conn_write(c, reply, sizeof(reply) - 1);
  conn_finish(c);
}

/* Parses queued bytes and starts each complete request, one at a time. */
static void conn_pump(struct rt__gw_conn *c) {
  size_t used;

  c->pumping = 1;
  while (c->call == NULL && !c->closing && !c->finishing && c->in.len > 0) {
    used = http_parser_execute(&c->parser, &gw_parse_settings, c->in.data,
                               c->in.len);
    crl_buf_consume(&c->in, used);
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED && c->complete) {
      http_parser_pause(&c->parser, 0);
      rt__gw_call_start(c);
      continue;
    }
    if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || c->parser.upgrade) {
      conn_bad_request(c);
      break;
    }
  }
  c->pumping = 0;
}

void rt__gw_conn_call_done(struct rt__gw_conn *conn, int keep) {
  conn->call = NULL;
  if (!keep) {
    conn_finish(conn);
    return;
  }
  if (!conn->pumping)
    conn_pump(conn);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  struct rt__gw_conn *c = h->data;

  *buf = uv_buf_init(c->gw->rbuf, sizeof(c->gw->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct rt__gw_conn *c = s->data;

  if (n < 0) {
    rt__gw_conn_close(c);
    return;
  }
  if (n == 0)
    return;
  if (crl_buf_append(&c->in, buf->base, (size_t)n) < 0) {
    rt__gw_conn_close(c); /* a client flooding while a call runs */
    return;
  }
  conn_pump(c);
}

void rt__gw_conn_accept(struct rt_gw_listener *l) {
  struct rt__gw_conn *c = xcalloc(1, sizeof(*c));

  c->gw = l->gw;
  uv_tcp_init(l->gw->loop, &c->tcp);
  l->gw->handles++;
  c->tcp.data = c;
  crl_buf_init(&c->in, l->gw->opts.max_request_bytes + GW_MAX_HEADER_BYTES);
  crl_buf_init(&c->url, GW_MAX_HEADER_BYTES);
  rt__http_hdr_init(&c->hdr, GW_MAX_HEADER_BYTES);
  crl_buf_init(&c->body, l->gw->opts.max_request_bytes);
  http_parser_init(&c->parser, HTTP_REQUEST);
  if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&c->tcp) < 0) {
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return;
  }
  c->l = l;
  c->next = l->conns;
  if (l->conns != NULL)
    l->conns->prev = c;
  l->conns = c;
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
