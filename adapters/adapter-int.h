/*
 * adapters-internal: symbols the adapter files share but the rest of corral
 * reaches only through adapter_find(). Each adapter kind exports one
 * `const struct adapter_ops`, listed in the table in adapter.c. The agent
 * CLI adapters share the helpers of cli.c (argv, env and config files) and
 * jsonl.c (one JSON object per line, emitted as normalized events).
 */
#ifndef ADAPTER_INT_H
#define ADAPTER_INT_H

#include <jansson.h>

#include "adapter.h"

extern const struct adapter_ops adapter_exec;
extern const struct adapter_ops adapter_claude_code;
extern const struct adapter_ops adapter_codex;
extern const struct adapter_ops adapter_gemini;
extern const struct adapter_ops adapter_qwen_code;
extern const struct adapter_ops adapter_opencode;

/* cli.c: a growable NULL-terminated argv. */
struct adapter__argv {
  char **v;
  size_t n;
  size_t cap;
};

void adapter__argv_init(struct adapter__argv *a);
/* Appends copies of each string up to a NULL. */
void adapter__argv_add(struct adapter__argv *a, ...);
/* Hands the vector to *out (adapter_argv_free) and empties a. */
void adapter__argv_take(char ***out, struct adapter__argv *a);

/* Checks what every agent CLI run needs: a prompt or a session to resume,
 * a private home and a gateway URL. CRL_EVALIDATION_FAILED otherwise. */
int adapter__cli_check(const struct adapter_run *r, const char *kind,
                       struct crl_err *err);
/* The key the CLI sends to the gateway: r->api_key or the placeholder. */
const char *adapter__cli_key(const struct adapter_run *r);
/* Sets HOME to r->home and XDG_{CONFIG,DATA,STATE,CACHE}_HOME under it. */
void adapter__cli_home_env(struct adapter_env *env,
                           const struct adapter_run *r);
/* Sets key to r->home + "/" + rel. */
void adapter__cli_home_path(struct adapter_env *env, const char *key,
                            const struct adapter_run *r, const char *rel);
/* Returns one file (path and content copied) in a new array. */
void adapter__files_one(struct adapter_file **out, size_t *n, const char *path,
                        const char *content);
/* Returns a malloc'd TOML basic string for s, quotes included. */
char *adapter__toml_str(const char *s);

/* jsonl.c: the line parser every JSONL agent shares. */
typedef void (*adapter__json_cb)(struct adapter_parse *p, json_t *root,
                                 adapter_emit_cb emit, void *payload);

/* Parses one line as JSON and hands an object to cb. Emits an error event
 * for the first piece of an overlong line and for invalid JSON; blank lines
 * and JSON that is not an object are ignored. */
void adapter__jsonl_line(struct adapter_parse *p, const char *line, size_t len,
                         int truncated, adapter__json_cb cb,
                         adapter_emit_cb emit, void *payload);

/* Joins a streamed message delta to p->text (adapter_parse_flush emits it). */
void adapter__text_add(struct adapter_parse *p, const char *text,
                       adapter_emit_cb emit, void *payload);
void adapter__emit_text(adapter_emit_cb emit, void *payload,
                        enum adapter_event_kind kind, const char *text);
void adapter__emit_error(adapter_emit_cb emit, void *payload, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
/* Emits a session event when id differs from the last one reported. */
void adapter__emit_session(struct adapter_parse *p, const char *id,
                           adapter_emit_cb emit, void *payload);
/* Emits {"id":…,"name":…,"input":…}; id may be NULL, input is borrowed
 * (NULL means {}). */
void adapter__emit_tool_call(const char *id, const char *name, json_t *input,
                             adapter_emit_cb emit, void *payload);
/* Emits {"id":…,"is_error":…,"output":…}; output is borrowed (NULL: ""). */
void adapter__emit_tool_result(const char *id, int is_error, json_t *output,
                               adapter_emit_cb emit, void *payload);

struct adapter__usage {
  json_int_t input; /* without the cache tokens */
  json_int_t output;
  json_int_t cache_read;
  json_int_t cache_write;
};

void adapter__emit_usage(const struct adapter__usage *u, adapter_emit_cb emit,
                         void *payload);

/* Getters that tolerate a missing key or a wrong type: NULL, or 0 for a
 * count (a negative count is also 0). */
const char *adapter__jstr(json_t *obj, const char *key);
json_int_t adapter__jcount(json_t *obj, const char *key);
/* The first of a dotted path, e.g. "message.usage". NULL when absent. */
json_t *adapter__jpath(json_t *obj, const char *path);

/* claude-code.c: Claude Code's stream-json shape, which qwen-code shares.
 * ADAPTER__CLAUDE_QWEN selects qwen's differences: usage.input_tokens
 * includes the cache read tokens, and a text "[API Error: …]" is an error. */
#define ADAPTER__CLAUDE_QWEN 1

void adapter__claude_json(struct adapter_parse *p, json_t *root, int flags,
                          adapter_emit_cb emit, void *payload);

#endif
