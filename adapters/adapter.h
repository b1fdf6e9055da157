/*
 * adapters: one `const struct adapter_ops` per agent kind. An adapter turns a
 * task into argv and extra environment, and turns the agent's output lines
 * into normalized events. Adapters never touch processes or files; the
 * runtime does both. adapters/adapter.c holds the table.
 */
#ifndef ADAPTER_H
#define ADAPTER_H

#include <stddef.h>

#include "crl.h"

/* What an adapter needs to know about one run. Borrowed pointers. */
struct adapter_run {
  const char *mission;
  const char *ticket;
  const char *task;
  const char *run_id;
  const char *prompt; /* may be NULL */
  const char *model;  /* may be NULL */
  const char *workdir;
  char *const *command; /* the task's effective argv, may be NULL */
  int attempt;
};

enum adapter_event_kind {
  ADAPTER_EV_MESSAGE,
  ADAPTER_EV_TOOL_CALL,
  ADAPTER_EV_TOOL_RESULT,
  ADAPTER_EV_USAGE,
  ADAPTER_EV_ERROR,
  ADAPTER_EV_SESSION
};

const char *adapter_event_kind_name(enum adapter_event_kind k);

/* A normalized event. `text` is a borrowed pointer valid during the call;
 * `truncated` says the line exceeded the stream's maximum. */
struct adapter_event {
  enum adapter_event_kind kind;
  const char *text;
  size_t len;
  int truncated;
};

typedef void (*adapter_emit_cb)(const struct adapter_event *ev, void *payload);

/* An environment under construction: NULL-terminated "KEY=VALUE" strings. */
struct adapter_env {
  char **v;
  size_t n;
  size_t cap;
};

void adapter_env_init(struct adapter_env *e);
void adapter_env_close(struct adapter_env *e);
/* Sets KEY=VALUE, replacing an earlier KEY. */
void adapter_env_set(struct adapter_env *e, const char *key, const char *val);
/* Sets from a "KEY=VALUE" string; CRL_EPARSE when there is no '='. */
int adapter_env_put(struct adapter_env *e, const char *kv);
const char *adapter_env_get(const struct adapter_env *e, const char *key);

struct adapter_ops {
  const char *name;
  /* Builds a NULL-terminated argv in *out (free with adapter_argv_free). */
  int (*build_argv)(char ***out, const struct adapter_run *r,
                    struct crl_err *err);
  /* Adds the adapter's own variables to env. */
  int (*build_env)(struct adapter_env *env, const struct adapter_run *r,
                   struct crl_err *err);
  /* Turns one complete output line (without its newline) into events. */
  void (*parse_line)(const char *line, size_t len, int truncated,
                     adapter_emit_cb emit, void *payload);
};

/* The adapter table. NULL when unknown. */
const struct adapter_ops *adapter_find(const char *name);
/* Names of every adapter, NULL-terminated, for "did you mean". */
const char *const *adapter_names(void);

char **adapter_argv_dup(char *const *argv);
void adapter_argv_free(char **argv);

/*
 * Splits a byte stream into lines for an adapter, with a bounded buffer: a
 * line longer than `max_line` is delivered in pieces of max_line bytes with
 * `truncated` set, so memory stays bounded whatever the agent prints.
 */
struct adapter_stream {
  const struct adapter_ops *ops;
  struct crl_buf partial;
  size_t max_line;
  int overlong; /* the pending line already gave a piece; its rest is
                   delivered truncated too */
};

void adapter_stream_init(struct adapter_stream *s,
                         const struct adapter_ops *ops, size_t max_line);
void adapter_stream_feed(struct adapter_stream *s, const char *buf, size_t len,
                         adapter_emit_cb emit, void *payload);
/* Delivers a final unterminated line, if any. */
void adapter_stream_finish(struct adapter_stream *s, adapter_emit_cb emit,
                           void *payload);
void adapter_stream_close(struct adapter_stream *s);

#endif
