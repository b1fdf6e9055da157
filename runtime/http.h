/*
 * The control socket's transport: an HTTP/1.1 server on a libuv loop over a
 * Unix socket, built on libhttp-parser and our own connection code. It owns
 * listening (or adopting a systemd socket), peer-credential checks, request
 * parsing with hard limits, routing by method and path pattern, replies in
 * the one JSON error format, and Server-Sent Event streams with heartbeats
 * and backpressure. It knows nothing about missions or tasks: the daemon
 * passes a route table and answers requests.
 *
 * Threading: everything runs on the loop given to rt_http_server_new; no
 * function here may be called from another thread.
 */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "crl.h"

struct rt_http_server;
struct rt_http_conn;
struct rt_http_stream;
struct rt_sse;

/*
 * Limits and access. Every field has a safe default in RT_HTTP_OPTS_INIT;
 * a zero there means "use the default" too.
 */
struct rt_http_opts {
  /* Request line plus headers, in bytes; over it the reply is 431. */
  size_t max_header_bytes;
  /* Request body, in bytes; over it (from Content-Length before reading, or
   * while reading a chunked body) the reply is 413. */
  size_t max_body_bytes;
  /* A request must arrive completely within this many ms after its first
   * byte (slowloris); otherwise the connection is closed. */
  uint64_t read_timeout_ms;
  /* A keep-alive connection with no request in progress is closed after
   * this many ms. */
  uint64_t idle_timeout_ms;
  /* Connections served at once; past it a new one gets 503 and is closed. */
  unsigned max_conns;
  /* Reply bytes a connection may have queued but unsent before it stops
   * serving its next pipelined request (plain replies) or is closed
   * (streams and SSE). */
  size_t max_unsent_bytes;
  /* SSE comment heartbeat period in ms. */
  uint64_t sse_heartbeat_ms;
  /* Peer credentials: a peer is allowed when its uid is `uid`, when it is
   * root and allow_root is set, or when allow_gid is set and `gid` is its
   * primary or a supplementary group. */
  uid_t uid;
  int allow_root;
  int allow_gid;
  gid_t gid;
};

/* uid (uid_t)-1 means "the server's own uid", resolved by
 * rt_http_server_new. */
#define RT_HTTP_OPTS_INIT                                                  \
  {                                                                        \
    .max_header_bytes = 16 * 1024, .max_body_bytes = 1024 * 1024,          \
    .read_timeout_ms = 10000, .idle_timeout_ms = 60000, .max_conns = 1024, \
    .max_unsent_bytes = 256 * 1024, .sse_heartbeat_ms = 15000,             \
    .uid = (uid_t)-1, .allow_root = 1, .allow_gid = 0, .gid = 0            \
  }

/* One name=value pair, both NUL-terminated and percent-decoded. */
struct rt_http_kv {
  char *name;
  char *value;
};

/*
 * One parsed request. All fields are read-only for handlers and owned by the
 * request. The request lives until it is answered (rt_http_reply_*), turned
 * into a stream (rt_http_stream_open, rt_sse_open), or aborted (its abort
 * callback runs).
 */
struct rt_http_req {
  const char *method; /* "GET", "POST", ... */
  int method_id;      /* enum http_method from http_parser.h */
  char *path;         /* decoded path, "/v1/tasks/t 1/approve" */
  char *raw_path;     /* path as sent, before percent-decoding */
  struct rt_http_kv *query;
  size_t nquery;
  struct rt_http_kv *params; /* {name} captures of the matched route */
  size_t nparams;
  char *content_type;  /* NULL when absent */
  char *last_event_id; /* NULL when absent */
  char *body;          /* NUL-terminated; body_len excludes the NUL */
  size_t body_len;
  int keep_alive;
  /* Private: the connection, the abort callback. */
  struct rt_http_conn *conn;
  void (*abort_cb)(struct rt_http_req *req, void *payload);
  void *abort_payload;
};

/* A route handler. It answers req now or later; see rt_http_req_on_abort. */
typedef void (*rt_http_handler)(struct rt_http_req *req, void *payload);
typedef void (*rt_http_abort_cb)(struct rt_http_req *req, void *payload);
typedef void (*rt_http_close_cb)(void *payload);

/*
 * A route: method ("GET") and a pattern of literal segments and {name}
 * captures, "/v1/tasks/{id}/approve". A {name} matches one non-empty
 * segment, percent-decoded.
 */
struct rt_http_route {
  const char *method;
  const char *pattern;
  rt_http_handler fn;
};

/*
 * Creates a server on loop with a copy of opts (NULL: defaults). routes is
 * borrowed and must outlive the server; payload is passed to every handler.
 * Returns 0 and *out, or -errno.
 */
int rt_http_server_new(struct rt_http_server **out, uv_loop_t *loop,
                       const struct rt_http_opts *opts,
                       const struct rt_http_route *routes, size_t nroutes,
                       void *payload);
/*
 * Listens on path: creates its parent directory (0700) when missing,
 * unlinks a stale socket there, binds, and sets the socket mode to 0600.
 * Returns 0, -errno (detail in err).
 */
int rt_http_server_listen(struct rt_http_server *srv, const char *path,
                          struct crl_err *err);
/* Serves an inherited listening Unix socket (systemd LISTEN_FDS); the server
 * owns fd from now on. Returns 0, -errno. */
int rt_http_server_adopt(struct rt_http_server *srv, int fd,
                         struct crl_err *err);
/*
 * Stops accepting, closes every connection (pending requests get their abort
 * callback, streams their close callback), and frees the server once every
 * handle is closed; then cb(payload) runs when not NULL. srv is invalid after
 * the call. The socket file is left in place.
 */
void rt_http_server_close(struct rt_http_server *srv, rt_http_close_cb cb,
                          void *payload);
/* Connections open right now (refused ones included until closed). */
unsigned rt_http_server_conns(const struct rt_http_server *srv);
/* Requests parsed and dispatched since the server started (those answered
 * 404 or 405 included; refusals before a request is read are not). */
uint64_t rt_http_server_requests(const struct rt_http_server *srv);

/* Request accessors: the decoded value of a query parameter or route
 * capture, or NULL. Borrowed from req. */
const char *rt_http_req_query(const struct rt_http_req *req, const char *name);
const char *rt_http_req_param(const struct rt_http_req *req, const char *name);
/*
 * Decodes the body as one JSON value (UTF-8 checked, depth bounded by
 * jansson's JSON_PARSER_MAX_DEPTH). Returns 0 and a new reference in *out,
 * or CRL_EBAD_REQUEST with the position in err.
 */
int rt_http_req_json(json_t **out, const struct rt_http_req *req,
                     struct crl_err *err);
/*
 * For a handler that answers later: cb(req, payload) runs if the connection
 * dies first; req is freed right after cb returns and must not be answered.
 */
void rt_http_req_on_abort(struct rt_http_req *req, rt_http_abort_cb cb,
                          void *payload);

/*
 * Replies. Each one answers req and frees it (req is invalid afterwards),
 * also when the connection died in the meantime. Return 0 or -EPIPE when
 * the reply could not be queued.
 */
/* status and a JSON body; steals the reference to body. */
int rt_http_reply_json(struct rt_http_req *req, int status, json_t *body);
/* status and len bytes of text with content_type (NULL: text/plain). */
int rt_http_reply_text(struct rt_http_req *req, int status,
                       const char *content_type, const char *text, size_t len);
/*
 * The one error format {"error":{"code":NAME,"message":…,"details":…}}:
 * code is a CRL_E* (or -errno, answered as INTERNAL), the status comes from
 * rt_http_status_of, details (stolen, may be NULL) is omitted when NULL.
 */
int rt_http_reply_error(struct rt_http_req *req, int code, json_t *details,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The HTTP status for a CRL_E* code (500 for anything unknown). */
int rt_http_status_of(int code);
/* The error body for code/message/details (details stolen). New reference. */
json_t *rt_http_error_body(int code, const char *message, json_t *details);

/*
 * Streamed responses. rt_http_stream_open answers req with status and
 * content_type, no Content-Length (the body runs until the connection
 * closes), and turns the connection into a stream; req is invalid
 * afterwards. The server closes the stream when the client goes away or
 * does not read and more than opts.max_unsent_bytes wait unsent.
 * cb(stream, payload) runs exactly once when the stream ends for any reason,
 * including rt_http_stream_close, always from the loop and never inside a
 * call the owner made; the stream is freed after cb returns. Returns NULL
 * when the connection died first (cb does not run).
 */
typedef void (*rt_http_stream_close_cb)(struct rt_http_stream *stream,
                                        void *payload);

struct rt_http_stream *rt_http_stream_open(struct rt_http_req *req, int status,
                                           const char *content_type,
                                           rt_http_stream_close_cb cb,
                                           void *payload);
/* Queues len bytes. Returns 0, -EPIPE (the stream is closing), or
 * CRL_ETOOBIG when these bytes pushed the unsent bytes over the bound and
 * the stream is now closing. */
int rt_http_stream_write(struct rt_http_stream *stream, const void *data,
                         size_t len);
/* Ends the stream: what is queued still drains (for at most
 * opts.read_timeout_ms), then the connection closes and the close callback
 * runs. Later writes return -EPIPE. */
void rt_http_stream_close(struct rt_http_stream *stream);
/* Bytes queued for this stream and not yet taken by the kernel. */
size_t rt_http_stream_unsent(const struct rt_http_stream *stream);

/*
 * Server-Sent Events: a stream (same lifetime, close callback and
 * backpressure rules as above) whose head is text/event-stream with
 * Cache-Control: no-cache, and which sends a ": hb" comment every
 * opts.sse_heartbeat_ms.
 */
typedef void (*rt_sse_close_cb)(struct rt_sse *stream, void *payload);

struct rt_sse *rt_sse_open(struct rt_http_req *req, rt_sse_close_cb cb,
                           void *payload);
/*
 * Sends one event. id and event may be NULL and must not contain CR or LF;
 * data is split into one "data:" line per line (LF, CRLF or CR). Returns 0,
 * -EINVAL (bad id/event), -EPIPE (the stream is closing), or CRL_ETOOBIG
 * when this event pushed the unsent bytes over the bound and the stream is
 * now closing.
 */
int rt_sse_send(struct rt_sse *stream, const char *id, const char *event,
                const char *data);
/* Ends the stream as rt_http_stream_close does. */
void rt_sse_close(struct rt_sse *stream);
/* Bytes queued for this stream and not yet taken by the kernel. */
size_t rt_sse_unsent(const struct rt_sse *stream);

#endif
