/*
 * The request parser: libhttp-parser's callbacks building one rt_http_req at
 * a time. Every byte it keeps sits in a bounded buffer: the request line and
 * headers share max_header (431 past it), the body has max_body (413, from
 * Content-Length before any body byte arrives, or while a chunked body
 * grows). Only a handful of headers are kept; the rest are counted and
 * dropped. It touches no socket, so the fuzz harness drives it directly.
 */
#include "http-int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct rt__http_parse *parse_of(http_parser *hp) {
  return crl_container_of(hp, struct rt__http_parse, parser);
}

static int parse_fail(struct rt__http_parse *p, int code, int status,
                      const char *msg) {
  p->error = code;
  p->status = status;
  snprintf(p->msg, sizeof(p->msg), "%s", msg);
  return -1;
}

/* Counts header bytes against the limit; returns -1 past it. */
static int parse_count(struct rt__http_parse *p, size_t n) {
  if (rt__http_hdr_count(&p->hdr, n) == 0)
    return 0;
  return parse_fail(p, CRL_EPAYLOAD_TOO_LARGE, 431,
                    "request headers too large");
}

static int on_message_begin(http_parser *hp) {
  struct rt__http_parse *p = parse_of(hp);

  rt__http_req_free(p->req);
  p->req = xcalloc(1, sizeof(*p->req));
  rt__http_hdr_reset(&p->hdr);
  p->expect_continue = 0;
  crl_buf_reset(&p->url);
  crl_buf_reset(&p->body);
  return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n) {
  struct rt__http_parse *p = parse_of(hp);

  if (parse_count(p, n) < 0)
    return -1;
  return crl_buf_append(&p->url, at, n) < 0 ? -1 : 0;
}

/* Keeps the value of a header we care about; drops the others. */
static int parse_keep_header(const char *name, const char *value,
                             void *payload) {
  struct rt__http_parse *p = payload;
  char **slot = NULL;

  if (strcasecmp(name, "Content-Type") == 0)
    slot = &p->req->content_type;
  else if (strcasecmp(name, "Last-Event-ID") == 0)
    slot = &p->req->last_event_id;
  else if (strcasecmp(name, "Expect") == 0)
    p->expect_continue = strcasecmp(value, "100-continue") == 0;
  if (slot == NULL)
    return 0;
  free(*slot);
  *slot = xstrdup(value);
  return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n) {
  struct rt__http_parse *p = parse_of(hp);

  if (parse_count(p, n) < 0)
    return -1;
  return rt__http_hdr_field(&p->hdr, at, n, parse_keep_header, p);
}

static int on_header_value(http_parser *hp, const char *at, size_t n) {
  struct rt__http_parse *p = parse_of(hp);

  if (parse_count(p, n) < 0)
    return -1;
  return rt__http_hdr_value(&p->hdr, at, n);
}

static int on_headers_complete(http_parser *hp) {
  struct rt__http_parse *p = parse_of(hp);
  struct crl_err err = CRL_ERR_INIT;

  rt__http_hdr_end(&p->hdr, parse_keep_header, p);
  if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > p->max_body)
    return parse_fail(p, CRL_EPAYLOAD_TOO_LARGE, 413,
                      "request body larger than the limit");
  if (rt__http_req_set_target(p->req, p->url.data ? p->url.data : "",
                              p->url.len, &err) < 0)
    return parse_fail(p, CRL_EBAD_REQUEST, 400, err.msg);
  p->req->method_id = hp->method;
  p->req->method = http_method_str(hp->method);
  p->req->keep_alive = http_should_keep_alive(hp);
  return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n) {
  struct rt__http_parse *p = parse_of(hp);

  if (crl_buf_append(&p->body, at, n) == 0)
    return 0;
  return parse_fail(p, CRL_EPAYLOAD_TOO_LARGE, 413,
                    "request body larger than the limit");
}

/* Hands the request over and pauses, so one feed yields one request and
 * pipelined requests are answered in order. */
static int on_message_complete(http_parser *hp) {
  struct rt__http_parse *p = parse_of(hp);
  struct rt_http_req *req = p->req;

  if (hp->upgrade)
    return parse_fail(p, CRL_EBAD_REQUEST, 400, "upgrade is not supported");
  req->body_len = p->body.len;
  req->body = p->body.data ? xstrndup(p->body.data, p->body.len) : xstrdup("");
  crl_buf_reset(&p->body);
  p->done = req;
  p->req = NULL;
  http_parser_pause(hp, 1);
  return 0;
}

static const http_parser_settings parse_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void rt__http_parse_init(struct rt__http_parse *p, size_t max_header,
                         size_t max_body) {
  memset(p, 0, sizeof(*p));
  http_parser_init(&p->parser, HTTP_REQUEST);
  p->max_body = max_body;
  rt__http_hdr_init(&p->hdr, max_header);
  crl_buf_init(&p->url, max_header);
  crl_buf_init(&p->body, max_body);
}

void rt__http_parse_close(struct rt__http_parse *p) {
  rt__http_req_free(p->req);
  rt__http_req_free(p->done);
  p->req = p->done = NULL;
  crl_buf_close(&p->url);
  rt__http_hdr_close(&p->hdr);
  crl_buf_close(&p->body);
}

int rt__http_parse_busy(const struct rt__http_parse *p) {
  return p->req != NULL;
}

/* Turns the parser's state after an execute into our code and status. */
static int parse_error(struct rt__http_parse *p, int *status,
                       struct crl_err *err) {
  enum http_errno e = HTTP_PARSER_ERRNO(&p->parser);

  if (p->error != 0) {
    *status = p->status;
    return crl_err_set(err, p->error, "%s", p->msg);
  }
  if (e == HPE_HEADER_OVERFLOW) {
    *status = 431;
    return crl_err_set(err, CRL_EPAYLOAD_TOO_LARGE,
                       "request headers too large");
  }
  *status = 400;
  return crl_err_set(err, CRL_EBAD_REQUEST, "malformed request: %s",
                     http_errno_description(e));
}

int rt__http_parse_feed(struct rt__http_parse *p, const char *data, size_t len,
                        size_t *used, struct rt_http_req **out, int *status,
                        struct crl_err *err) {
  size_t n;
  enum http_errno e;

  *out = NULL;
  *used = 0;
  *status = 0;
  if (p->error != 0 || HTTP_PARSER_ERRNO(&p->parser) != HPE_OK)
    return parse_error(p, status, err);
  n = http_parser_execute(&p->parser, &parse_settings, data, len);
  *used = n;
  e = HTTP_PARSER_ERRNO(&p->parser);
  if (e == HPE_PAUSED && p->error == 0) {
    http_parser_pause(&p->parser, 0);
    *out = p->done;
    p->done = NULL;
    return 0;
  }
  if (e != HPE_OK || p->error != 0 || p->parser.upgrade)
    return parse_error(p, status, err);
  return 0;
}
