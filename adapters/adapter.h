/*
 * adapters: one `const struct adapter_ops` per agent kind. An adapter turns a
 * task into argv, extra environment and config files, and turns the agent's
 * output lines into normalized events. Adapters never touch processes or
 * files; the runtime does both. adapters/adapter.c holds the table.
 *
 * What the runtime owes the agent CLI adapters (claude-code, codex, gemini,
 * qwen-code, opencode): a private home (adapter_run.home) where it writes the
 * files of build_files before the spawn; the run's gateway URL; stdin from
 * /dev/null (codex waits for more input on an open pipe); PATH with node;
 * and a line limit (adapter_stream max_line) of a few MiB, since one JSON
 * line carries a whole tool result.
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
  /* For the agent CLIs (claude-code, codex, gemini, qwen-code, opencode): */
  const char *home;       /* the run's private home, absolute: HOME and every
                             config dir of the CLI point into it */
  const char *base_url;   /* the run's LLM gateway, "http://127.0.0.1:PORT"
                             without a path; adapters add "/v1" where the
                             CLI's SDK wants it */
  const char *api_key;    /* the key the CLI sends to the gateway; NULL means
                             ADAPTER_PLACEHOLDER_KEY. Never a real key: the
                             gateway injects that upstream */
  const char *session_id; /* the CLI's own session id to resume, or NULL */
  int max_turns;          /* 0: the CLI's default; ignored by CLIs without
                             such a limit (codex, opencode) */
};

/* What an agent CLI is given as its API key: the gateway swaps it for the
 * real key, so the sandbox never holds one. */
#define ADAPTER_PLACEHOLDER_KEY "corral-placeholder-key"

/* A config file an adapter wants written before the run starts. `path` is
 * relative to adapter_run.home and never holds "..". */
struct adapter_file {
  char *path;
  char *content; /* NUL-terminated; len excludes the NUL */
  size_t len;
  int mode; /* permission bits, e.g. 0600 */
};

/* Frees n files from build_files and the array itself. NULL-safe. */
void adapter_files_free(struct adapter_file *files, size_t n);

/*
 * Normalized events. `text` per kind:
 *   message      the agent's text (streamed deltas joined into one)
 *   tool_call    compact JSON {"id":…,"name":…,"input":…} ("id" when known)
 *   tool_result  compact JSON {"id":…,"is_error":bool,"output":…}
 *   usage        {"input":N,"output":N,"cache_read":N,"cache_write":N}, an
 *                increment: a run's usage is the sum of its usage events.
 *                "input" excludes the cache tokens (Anthropic's convention),
 *                so cost = input, output, cache_read and cache_write each
 *                times its price
 *   error        a short human message
 *   session      the CLI's own session id, when first seen or changed
 */
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

/* What a parser remembers between the lines of one stream, owned by the
 * stream: adapter_stream_init zeroes it, the stream keeps `piece` up to date,
 * and adapter_stream_finish emits what `text` still holds as a message. */
struct adapter_parse {
  size_t piece;        /* index of this piece within an overlong line: 0 for
                          the first (or only) piece */
  char session[128];   /* the session id last reported, "" before one */
  struct crl_buf text; /* streamed message deltas not yet emitted, joined
                          (gemini); bounded by ADAPTER_TEXT_MAX */
};

/* A joined message is emitted early when it reaches this size. */
#define ADAPTER_TEXT_MAX (1024 * 1024)

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
  /* Lists the config files to write under r->home before the run (owned by
   * the caller: adapter_files_free). NULL when the adapter needs none. */
  int (*build_files)(struct adapter_file **out, size_t *n,
                     const struct adapter_run *r, struct crl_err *err);
  /* Turns one complete output line (without its newline) into events. `p`
   * is the stream's parser memory. `truncated` marks a piece of a line
   * longer than the stream's maximum (p->piece counts the pieces). */
  void (*parse_line)(struct adapter_parse *p, const char *line, size_t len,
                     int truncated, adapter_emit_cb emit, void *payload);
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
  struct adapter_parse parse;
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
/* Emits the message text p holds, if any, and empties it. */
void adapter_parse_flush(struct adapter_parse *p, adapter_emit_cb emit,
                         void *payload);

#endif
