/*
 * Replies: the status line and headers, JSON and text bodies, and the one
 * error format {"error":{"code":…,"message":…,"details":…}} whose code is
 * the stable name from CRL_ERRNO_MAP and whose HTTP status comes from one
 * table here. A reply answers the connection's active request and frees it.
 */
#include "http-int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct status_entry {
  int code;
  int status;
};

/* BUDGET_EXCEEDED is 429, not 402: RFC 9110 keeps 402 "reserved for future
 * use", while 429 is what LLM APIs answer for an exhausted quota and what
 * clients already treat as "not now, not your syntax". */
static const struct status_entry status_table[] = {
    {CRL_EBAD_REQUEST, 400},
    {CRL_EPARSE, 400},
    {CRL_EUNAUTHORIZED, 401},
    {CRL_ENOT_FOUND, 404},
    {CRL_EMISSION_NOT_FOUND, 404},
    {CRL_ETASK_NOT_FOUND, 404},
    {CRL_EMETHOD_NOT_ALLOWED, 405},
    {CRL_EINVALID_TRANSITION, 409},
    {CRL_EAGENT_BUSY, 409},
    {CRL_EDUPLICATE, 409},
    {CRL_ECYCLE, 409},
    {CRL_EPAYLOAD_TOO_LARGE, 413},
    {CRL_ETOOBIG, 413},
    {CRL_EVALIDATION_FAILED, 422},
    {CRL_EBUDGET_EXCEEDED, 429},
};

int rt_http_status_of(int code) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(status_table); i++)
    if (status_table[i].code == code)
      return status_table[i].status;
  return 500;
}

struct reason_entry {
  int status;
  const char *text;
};

static const struct reason_entry reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {503, "Service Unavailable"},
};

const char *rt__http_reason(int status) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(reasons); i++)
    if (reasons[i].status == status)
      return reasons[i].text;
  return status < 500 ? "Client Error" : "Internal Server Error";
}

/* The stable wire name: corral's own codes by name, anything else (-errno,
 * unknown) as INTERNAL so no errno name leaks into the protocol. */
static const char *wire_name(int code) {
  if (code <= CRL_E__BASE && strcmp(crl_strerror(code), "unknown error"))
    return crl_err_name(code);
  return "INTERNAL";
}

json_t *rt_http_error_body(int code, const char *message, json_t *details) {
  json_t *e = json_object();

  json_object_set_new(e, "code", json_string(wire_name(code)));
  json_object_set_new(e, "message", json_string(message ? message : ""));
  if (details != NULL)
    json_object_set_new(e, "details", details);
  return json_pack("{s:o}", "error", e);
}

int rt__http_write_response(struct rt_http_conn *conn, int status,
                            const char *extra_headers, const char *ctype,
                            const char *body, size_t len, int keep) {
  struct crl_buf b;
  int rc;

  crl_buf_init(&b, SIZE_MAX);
  crl_buf_printf(&b,
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n",
                 status, rt__http_reason(status), ctype, len,
                 extra_headers ? extra_headers : "",
                 keep ? "keep-alive" : "close");
  crl_buf_append(&b, body, len);
  rc = rt__http_conn_write(conn, b.data, b.len);
  crl_buf_close(&b);
  return rc;
}

/* Answers req with a complete response and frees it. */
static int reply_send(struct rt_http_req *req, int status, const char *extra,
                      const char *ctype, const char *body, size_t len) {
  struct rt_http_conn *conn = req->conn;
  int keep = req->keep_alive, rc;

  assert(conn == NULL || conn->active == req);
  if (conn != NULL)
    conn->active = NULL;
  rt__http_req_free(req);
  if (conn == NULL)
    return -EPIPE;
  rc = rt__http_write_response(conn, status, extra, ctype, body, len, keep);
  rt__http_conn_answered(conn, keep && rc == 0);
  return rc;
}

int rt_http_reply_json(struct rt_http_req *req, int status, json_t *body) {
  char *text = json_dumps(body, JSON_COMPACT);
  int rc;

  json_decref(body);
  if (text == NULL)
    return rt_http_reply_error(req, CRL_EINTERNAL, NULL, "cannot encode");
  rc = reply_send(req, status, NULL, "application/json", text, strlen(text));
  free(text);
  return rc;
}

int rt_http_reply_text(struct rt_http_req *req, int status,
                       const char *content_type, const char *text, size_t len) {
  return reply_send(req, status, NULL,
                    content_type ? content_type : "text/plain; charset=utf-8",
                    text, len);
}

/* The error reply, with an Allow header for 405 (extra may be NULL). */
static int reply_error_extra(struct rt_http_req *req, int code,
                             const char *extra, json_t *details,
                             const char *msg) {
  json_t *body = rt_http_error_body(code, msg, details);
  char *text = json_dumps(body, JSON_COMPACT);
  int rc;

  json_decref(body);
  rc = reply_send(req, rt_http_status_of(code), extra, "application/json", text,
                  strlen(text));
  free(text);
  return rc;
}

int rt_http_reply_error(struct rt_http_req *req, int code, json_t *details,
                        const char *fmt, ...) {
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return reply_error_extra(req, code, NULL, details, msg);
}

int rt__http_reply_route_error(struct rt_http_req *req, int code,
                               const char *allow) {
  char extra[160];

  if (code != CRL_EMETHOD_NOT_ALLOWED)
    return reply_error_extra(req, code, NULL, NULL, "no such resource");
  snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
  return reply_error_extra(req, code, extra, NULL,
                           "method not allowed on this resource");
}
