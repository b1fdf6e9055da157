/*
 * Symbols the gateway's files share (STYLE.md rule 2): the gateway, listener,
 * connection and call structs; the provider table (gateway-provider.c); the
 * usage parser (gateway-usage.c); libcurl's multi interface on the loop
 * (gateway-curl.c); the client side of a connection (gateway-conn.c); and
 * the life of one call (gateway-call.c).
 */
#ifndef RT_GATEWAY_INT_H
#define RT_GATEWAY_INT_H

#include <curl/curl.h>
#include <http_parser.h>
#include <jansson.h>

#include "gateway.h"
#include "http-hdr.h"

struct rt__gw_call;

/* One socket libcurl asked us to watch. */
struct rt__gw_sock {
  uv_poll_t poll;
  curl_socket_t fd;
  struct rt_gw *gw;
  struct rt__gw_sock *prev, *next;
};

struct rt_gw {
  uv_loop_t *loop;
  struct rt_gw_opts opts;
  char *base_url[RT_GW_NPROVIDERS]; /* owned copies; opts points here */
  char *api_key[RT_GW_NPROVIDERS];
  char *key_header[RT_GW_NPROVIDERS];
  CURLM *multi;
  uv_timer_t timer; /* libcurl's timeout */
  struct rt_gw_listener *listeners;
  struct rt__gw_sock *socks; /* libcurl's sockets, each with a uv_poll_t */
  char rbuf[64 * 1024];      /* shared read buffer: reads are copied at once */
  unsigned handles;          /* uv handles not yet closed, the timer included */
  int closing;
  rt_gw_close_cb close_cb;
  void *close_payload;
};

struct rt_gw_listener {
  struct rt_gw *gw;
  uv_tcp_t tcp;
  struct rt_gw_run run;       /* strings and replay owned */
  unsigned char *replay_used; /* per replay entry: served already */
  struct rt_gw_totals totals;
  int budget_fired;
  uint64_t seq;
  struct rt__gw_conn *conns;
  struct rt_gw_listener *prev, *next;
};

/* One request header as received. */
struct rt__gw_hdr {
  char *name;
  char *value;
};

/* One client connection of a listener. */
struct rt__gw_conn {
  uv_tcp_t tcp;
  struct rt_gw *gw;
  struct rt_gw_listener *l; /* NULL once the listener is gone */
  struct rt__gw_conn *prev, *next;
  http_parser parser;
  struct crl_buf in; /* bytes not yet parsed (while a call runs) */
  /* The request being parsed. */
  struct crl_buf url;
  struct rt__http_hdr hdr; /* the header being read; counts the bytes */
  struct rt__gw_hdr *hdrs;
  size_t nhdrs;
  struct crl_buf body;
  int keep_alive;
  int parse_error;          /* status to answer with, from a parser callback */
  struct rt__gw_call *call; /* the call in progress, at most one */
  uv_shutdown_t shutdown;
  int complete; /* a whole request was parsed */
  int pumping;  /* conn_pump is on the stack */
  int finishing;
  int closing;
};

/* The life of one call. */
struct rt__gw_call {
  struct rt__gw_conn *conn;
  struct rt_gw_listener *l;
  struct rt_gw_call rec; /* the record, filled as the call goes */
  char *method;
  char *path;
  char *query;
  char *model;
  int head_only;
  uint64_t t0_ns;
  CURL *easy;
  struct curl_slist *slist;
  char *url;
  char curl_error[CURL_ERROR_SIZE];
  struct crl_buf head; /* response head lines for the client */
  int head_sent;
  int status;
  struct crl_buf req_rec;
  struct crl_buf resp_rec;
  struct crl_buf line; /* SSE: the current line; JSON: the body */
  int line_over;       /* the line (or body) went past max_parse_bytes */
  int sse;
  char *ctype; /* the answer's content type */
  char *error;
};

/* gateway-provider.c */
struct rt__gw_route {
  enum rt_gw_provider provider;
  enum rt_gw_api api;
  int local; /* answered by the gateway (the HEAD probe) */
};

/* Classifies a request by method, path and headers. */
void rt__gw_route(struct rt__gw_route *out, const char *method,
                  const char *path, const struct rt__gw_hdr *hdrs,
                  size_t nhdrs);
/* True for headers never forwarded upstream: hop-by-hop, Host, length,
 * encodings, and every kind of API key. */
int rt__gw_hdr_dropped(const char *name);
/* The header line that carries provider p's real key ("x-api-key: K"),
 * named by header (NULL: the provider's own). New string. */
char *rt__gw_key_header(enum rt_gw_provider p, const char *header,
                        const char *key);
/* The upstream a call of listener l to provider p goes to: the run's own
 * when it has a key, else the gateway's. Borrowed. */
void rt__gw_upstream_of(struct rt_gw_upstream *out,
                        const struct rt_gw_listener *l, enum rt_gw_provider p);
/* The query without any key= parameter (Gemini's key in the URL). New
 * string, "" when nothing is left. */
char *rt__gw_query_strip_key(const char *query);
/* Why the gateway answers a call itself. */
enum rt__gw_refusal {
  RT_GW_R_BUDGET,       /* 429: a cap was reached */
  RT_GW_R_UNCONFIGURED, /* 502 (401 style): no upstream for the provider */
  RT_GW_R_BAD_REQUEST,  /* 400 */
  RT_GW_R_TOO_LARGE,    /* 413 */
  RT_GW_R_NOT_FOUND,    /* 404: not an LLM API path */
  RT_GW_R_UPSTREAM,     /* 502: the upstream failed before answering */
  RT_GW_R_REPLAY_END,   /* 503: the replay list is exhausted */
};

/* An error body in provider p's own format; *status is the HTTP status.
 * New string (JSON). */
char *rt__gw_error_body(enum rt_gw_provider p, enum rt__gw_refusal why,
                        const char *message, int *status);
/* The model named by the request: Gemini's path segment, or the JSON body's
 * "model". New string or NULL. */
char *rt__gw_model_of(enum rt_gw_api api, const char *path, const char *body,
                      size_t len);
/* The default public base URL of provider p. */
const char *rt__gw_default_base(enum rt_gw_provider p);

/* gateway-usage.c: feeds answer bytes; parses SSE data lines (sse) or the
 * whole JSON body at the end (rt__gw_usage_end). Updates call->rec.usage. */
void rt__gw_usage_feed(struct rt__gw_call *call, const char *data, size_t n);
void rt__gw_usage_end(struct rt__gw_call *call);

/* gateway-curl.c */
int rt__gw_curl_init(struct rt_gw *gw);
void rt__gw_curl_close(struct rt_gw *gw);
/* Starts call's upstream transfer. Returns 0 or CRL_EINTERNAL. */
int rt__gw_curl_start(struct rt__gw_call *call);
/* Removes the call's transfer from the multi handle (not from inside a
 * libcurl callback). */
void rt__gw_curl_stop(struct rt__gw_call *call);

/* gateway-conn.c */
void rt__gw_conn_accept(struct rt_gw_listener *l);
/* Closes conn (aborting its call). */
void rt__gw_conn_close(struct rt__gw_conn *conn);
/* Queues bytes to the client; returns 0 or -EPIPE. */
int rt__gw_conn_write(struct rt__gw_conn *conn, const char *data, size_t n);
/* A call finished: serve the next request, or close. */
void rt__gw_conn_call_done(struct rt__gw_conn *conn, int keep);
/* Header value of the request being served, or NULL. */
const char *rt__gw_conn_header(const struct rt__gw_conn *conn,
                               const char *name);
void rt__gw_gw_handle_closed(struct rt_gw *gw);

/* gateway-replay.c: the listener's copy of src's replay list, and its
 * release. */
void rt__gw_replay_copy(struct rt_gw_listener *l, const struct rt_gw_run *src);
void rt__gw_replay_free(struct rt_gw_listener *l);
/* gateway-replay.c: the replay entry that answers a request (method, path,
 * body), or -1 when none is left. Marks it used. */
long rt__gw_replay_pick(struct rt_gw_listener *l, const char *method,
                        const char *path, const char *body, size_t len);

/* gateway-call.c */
/* A complete request arrived on conn. */
void rt__gw_call_start(struct rt__gw_conn *conn);
/* libcurl callbacks' targets. */
size_t rt__gw_call_on_header(struct rt__gw_call *call, const char *line,
                             size_t n);
size_t rt__gw_call_on_body(struct rt__gw_call *call, const char *data,
                           size_t n);
/* The upstream transfer ended with result rc. */
void rt__gw_call_done(struct rt__gw_call *call, CURLcode rc);
/* The client went away or the listener closes: abort and record. */
void rt__gw_call_abort(struct rt__gw_call *call, const char *why);

#endif
