/*
 * The control socket's client (client.c, client-sse.c, client-call.c): the
 * CLI verbs that talk to `corral daemon` over HTTP/1.1 on its Unix socket
 * with libcurl (CURLOPT_UNIX_SOCKET_PATH, host "corral"). A request either
 * gets its whole reply, bounded, or streams it to a callback (followed
 * output, Server-Sent Events). Transport failures are negative codes; an
 * unreachable daemon is -ECONNREFUSED whether the socket is missing or
 * refuses; a socket this user may not open is -EACCES.
 */
#ifndef RT_CLIENT_H
#define RT_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "crl.h"

/* Largest reply body a non-streamed request accepts. */
#define RT_CLIENT_BODY_MAX (64 * 1024 * 1024)

struct rt_client {
  char *socket; /* heap: the socket path */
  void *curl;   /* one easy handle, reused so connections are kept alive */
};

/* A whole reply: the HTTP status and its body (NUL-terminated, heap). */
struct rt_client_reply {
  long status;
  struct crl_buf body;
};

/* Receives streamed body bytes; a non-zero return stops the transfer. */
typedef int (*rt_client_data_cb)(const char *data, size_t len, void *payload);

/*
 * Opens a client of the socket at opt, else rt_socket_path's default. No
 * connection is made yet. Close it with rt_client_close.
 */
void rt_client_init(struct rt_client *c, const char *opt);
void rt_client_close(struct rt_client *c);

/* 1 when something accepts connections at the socket named by opt (or the
 * default one), 0 when not: the verbs that also work on a state dir go
 * through the daemon only then. */
int rt_client_probe(const char *opt);

/* Whether a verb that also works on a state dir goes through the daemon:
 * only without --state-dir, and with --socket or a daemon answering at the
 * default socket. */
int rt_client_wanted(const char *state_dir, const char *socket);

/* The arguments of a verb that takes only --socket PATH, --json and --help
 * and exactly nargs operands (left at argv[optind]). Returns -1 to go on,
 * else the exit status, usage printed (to stdout for --help). */
int rt_client_args(int argc, char **argv, int nargs, void (*usage)(FILE *fp),
                   const char **sock, int *json);

/* The daemon side of the verbs that also work locally (client-show.c,
 * client-logs.c, client-review.c); each returns an exit code. */
int rt_client_show(const char *socket, const char *mission, int json);
/* The line `corral show` prints for a mission's LLM calls, from its "llm"
 * object ({calls, input, output, cache_read, cache_write, usd, unpriced});
 * nothing when llm is NULL. */
void rt_show_llm_print(const json_t *llm);
int rt_client_logs(const char *socket, const char *mission, const char *id,
                   int follow, int all);
int rt_client_review(const char *socket, const char *mission, const char *task,
                     const char *feedback, int json);
/* POST /v1/tasks/{task}/{op}[?mission=M] with body (may be NULL): an exit
 * code, with the error printed; on RT_EXIT_OK *doc is the reply (the
 * caller's). */
int rt_client_task_op(const char *socket, const char *mission, const char *task,
                      const char *op, json_t *body, json_t **doc);

/*
 * Sends method path (with its query, escaped by the caller) with an
 * optional body of content type ctype, and collects the reply into *out
 * (initialised here; free with rt_client_reply_close). Returns 0 when a
 * reply arrived whatever its status, -ECONNREFUSED when the daemon is not
 * there, -EACCES when its socket is not ours to use, CRL_ETOOBIG past
 * RT_CLIENT_BODY_MAX, CRL_EINTERNAL otherwise; err says why.
 */
int rt_client_request(struct rt_client *c, const char *method, const char *path,
                      const char *ctype, const char *body, size_t len,
                      struct rt_client_reply *out, struct crl_err *err);
void rt_client_reply_close(struct rt_client_reply *r);

/*
 * GETs path and hands each chunk of a 2xx body to cb. headers, when not
 * NULL, is one extra request header ("Last-Event-ID: 12"). A reply of
 * another status is collected into *out instead (its error document).
 * idle_ms > 0 stops the transfer once no byte arrived for that long.
 * Returns 0 when the server ended the body, 1 when cb or the idle limit
 * stopped it, -ECONNREFUSED when unreachable, CRL_EINTERNAL when the
 * connection broke.
 */
int rt_client_stream(struct rt_client *c, const char *path, const char *header,
                     int idle_ms, rt_client_data_cb cb, void *payload,
                     struct rt_client_reply *out, struct crl_err *err);

/* s percent-escaped for a path segment or a query value. Heap. */
char *rt_client_escape(const char *s);

/* The verbs' side (client-call.c): requests whose outcome is an RT_EXIT_*
 * code, with the error already printed. */

/* Prints the unreachable-daemon or transport error; returns the exit code
 * (RT_EXIT_UNREACHABLE or RT_EXIT_FAILED). */
int rt_client_fail(const struct rt_client *c, int rc,
                   const struct crl_err *err);
/* Prints `corral: CODE: message` for an error reply (and, for a 422, each
 * error as `FILE:LINE:COL: error: MSG`, FILE replaced by file when not
 * NULL). Returns RT_EXIT_USAGE for 400 and 422, else RT_EXIT_FAILED. */
int rt_client_fail_reply(const struct rt_client_reply *r, const char *file);
/*
 * method path with a JSON body (or none) that must answer 2xx with JSON:
 * *out gets the parsed document (owned by the caller). Any failure is
 * printed and its exit code returned; RT_EXIT_OK on success.
 */
int rt_client_call(struct rt_client *c, const char *method, const char *path,
                   json_t *body, json_t **out);
/* POST /v1/missions/{id}/OP (pause, resume, cancel) and prints the state,
 * or the reply with json; an exit code (cmd-pause.c). */
int rt_client_mission_op(struct rt_client *c, const char *id, const char *op,
                         int json);
/* Prints a document as --json does: indented, one newline. */
void rt_client_print_json(json_t *doc);

/* Server-Sent Events (client-sse.c): a parser fed raw bytes. */
struct rt_sse_event {
  const char *id;    /* NULL when the event had no id: field */
  const char *event; /* the event: field or "message" */
  const char *data;  /* data: lines joined with "\n" */
};
typedef int (*rt_sse_event_cb)(const struct rt_sse_event *ev, void *payload);

struct rt_sse_parser {
  struct crl_buf line; /* the line being received */
  struct crl_buf data;
  char *id;
  char *event;
  char *last_id; /* the last id: seen, kept across events (Last-Event-ID) */
  int has_data;
  int after_cr; /* the last byte was a CR: a LF next is part of it */
};

void rt_sse_parser_init(struct rt_sse_parser *p);
void rt_sse_parser_close(struct rt_sse_parser *p);
/* Feeds bytes; cb gets each complete event. Returns cb's first non-zero
 * return, CRL_ETOOBIG for a line or event over 1 MiB, else 0. */
int rt_sse_parser_feed(struct rt_sse_parser *p, const char *buf, size_t len,
                       rt_sse_event_cb cb, void *payload);
/* Drops a partly received event (the connection broke mid-event). */
void rt_sse_parser_reset(struct rt_sse_parser *p);

#endif
