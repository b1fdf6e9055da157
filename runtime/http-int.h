/*
 * Symbols the control socket's HTTP files share (STYLE.md rule 2): the
 * socket-free request parser (what the fuzz harness drives), URL decoding,
 * route matching, and the server and connection structs.
 */
#ifndef RT_HTTP_INT_H
#define RT_HTTP_INT_H

#include <http_parser.h>

#include "http-hdr.h"
#include "http.h"

/*
 * The request parser: http_parser callbacks that build one rt_http_req at a
 * time under the header and body limits. It touches no socket, so tests and
 * the fuzzer feed it bytes directly.
 */
struct rt__http_parse {
  http_parser parser;
  size_t max_body;
  struct rt__http_hdr hdr; /* also counts the request line */
  struct crl_buf url;
  struct crl_buf body;
  int expect_continue;     /* set at headers complete; the conn clears it */
  struct rt_http_req *req; /* being built */
  struct rt_http_req *done;
  int error;  /* CRL_E* from a callback */
  int status; /* HTTP status for error when not the default */
  char msg[160];
};

void rt__http_parse_init(struct rt__http_parse *p, size_t max_header,
                         size_t max_body);
void rt__http_parse_close(struct rt__http_parse *p);
/*
 * Feeds len bytes, stopping right after the first complete request. Returns
 * 0 with *used bytes consumed and *out the complete request (caller owns,
 * free with rt__http_req_free) or NULL when more bytes are needed; or a
 * CRL_E* code with the message in err and *status the HTTP status to send.
 * After an error the parser is unusable.
 */
int rt__http_parse_feed(struct rt__http_parse *p, const char *data, size_t len,
                        size_t *used, struct rt_http_req **out, int *status,
                        struct crl_err *err);
/* True when the parser is inside a request (some bytes of it seen). */
int rt__http_parse_busy(const struct rt__http_parse *p);

/* Splits the request target into path and query, percent-decoding both.
 * Returns 0 or CRL_EBAD_REQUEST with detail in err. */
int rt__http_req_set_target(struct rt_http_req *req, const char *url,
                            size_t len, struct crl_err *err);
/* Percent-decodes n bytes of s into a new string (plus_space: '+' is a
 * space, as in a query). Returns 0, or CRL_EBAD_REQUEST on a bad escape or
 * a decoded NUL. */
int rt__http_decode(char **out, const char *s, size_t n, int plus_space);
void rt__http_req_free(struct rt_http_req *req);
void rt__http_kv_add(struct rt_http_kv **kv, size_t *n, char *name,
                     char *value);

/*
 * Finds the route for req and fills req->params. Returns the route; or NULL
 * with CRL_ENOT_FOUND, or CRL_EMETHOD_NOT_ALLOWED with the allowed methods
 * ("GET, POST") in allow, through *code.
 */
const struct rt_http_route *
rt__http_route_find(const struct rt_http_route *routes, size_t n,
                    struct rt_http_req *req, int *code, char *allow,
                    size_t allowlen);

/* Connection phases; the timer's meaning follows the phase. */
enum rt__http_phase {
  RT_HTTP_IDLE,    /* between requests: idle timeout */
  RT_HTTP_READING, /* a request is arriving: read timeout */
  RT_HTTP_BUSY,    /* a handler holds the request: no timeout */
  RT_HTTP_STREAM,  /* a streamed response: heartbeat, if any */
  RT_HTTP_LINGER   /* last reply queued, closing after it drains */
};

struct rt_http_conn {
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_shutdown_t shutdown;
  struct rt_http_server *srv;
  struct rt_http_conn *prev, *next;
  struct rt__http_parse parse;
  struct crl_buf in;
  struct rt_http_req *active;
  struct rt_http_stream *stream;
  enum rt__http_phase phase;
  int reading;
  int served;    /* counted in the server's nserved */
  int eof;       /* the peer half-closed (or closed) its side */
  int shut_done; /* our half-close went out after the last reply */
  int closing;
  int handles;
};

struct rt_http_server {
  uv_loop_t *loop;
  uv_pipe_t listener;
  int listening;
  struct rt_http_opts opts;
  const struct rt_http_route *routes;
  size_t nroutes;
  void *payload;
  struct rt_http_conn *conns;
  unsigned nconns;
  unsigned nserved;   /* connections past the peer check, not refused */
  uint64_t nrequests; /* requests dispatched (routed or answered 404/405) */
  int closing;
  char rbuf[64 * 1024]; /* shared read buffer: reads are consumed at once */
  rt_http_close_cb close_cb;
  void *close_payload;
};

/* Accepts one connection from the listener (http-conn.c). */
void rt__http_conn_accept(struct rt_http_server *srv);
/* Closes conn now, dropping unsent bytes; safe to call twice. */
void rt__http_conn_close(struct rt_http_conn *conn);
/* Closes conn once its queued bytes have drained (bounded by the read
 * timeout for a peer that does not read). */
void rt__http_conn_finish(struct rt_http_conn *conn);
/* Queues a copy of len bytes. Returns 0 or -EPIPE when closing or
 * finishing. */
int rt__http_conn_write(struct rt_http_conn *conn, const char *data,
                        size_t len);
/* The active request was answered (keep: the connection stays open). */
void rt__http_conn_answered(struct rt_http_conn *conn, int keep);
/* The active request became a streamed response (heartbeat: run the
 * stream's heartbeat on the connection timer). */
void rt__http_conn_streaming(struct rt_http_conn *conn,
                             struct rt_http_stream *stream, int heartbeat);
/* SO_PEERCRED (and SO_PEERGROUPS) of fd against the server's options. */
int rt__http_peer_allowed(const struct rt_http_server *srv, int fd);
/* Frees the server once it is closing and its last handle closed. */
void rt__http_server_maybe_free(struct rt_http_server *srv);

/* http-stream.c: opens a stream with extra head lines (may be NULL) and a
 * heartbeat written every opts.sse_heartbeat_ms (static string or NULL). */
struct rt_http_stream *
rt__http_stream_open(struct rt_http_req *req, int status, const char *ctype,
                     const char *extra, const char *heartbeat,
                     rt_http_stream_close_cb cb, void *payload);
/* The connection's timer fired / the connection closed (runs the owner's
 * close callback and frees the stream). */
void rt__http_stream_heartbeat(struct rt_http_stream *stream);
void rt__http_stream_closed(struct rt_http_stream *stream);

/* http-reply.c: writes a complete response head plus body. */
int rt__http_write_response(struct rt_http_conn *conn, int status,
                            const char *extra_headers, const char *ctype,
                            const char *body, size_t len, int keep);
const char *rt__http_reason(int status);
/* Answers req with 404, or 405 and an Allow header listing allow. */
int rt__http_reply_route_error(struct rt_http_req *req, int code,
                               const char *allow);

#endif
