/*
 * The claude-code adapter: runs Claude Code 2.1.x headless (`claude -p …
 * --output-format stream-json --verbose`) against the run's gateway, and
 * parses its stream-json output, a shape qwen-code copies (qwen-code.c uses
 * adapter__claude_json too).
 *
 * Events: `system`/`init` and every later event carry `session_id` (session
 * event on first sight or change); `assistant` content blocks give message
 * (text) and tool_call (tool_use) events; `user` tool_result blocks give
 * tool_result events; a `result` with is_error gives an error event with its
 * text (a failed API call ends with subtype "success" and is_error true,
 * after a synthetic `assistant` message marked "error", which is skipped).
 *
 * Usage rule: only `result.usage` counts, once per run. An `assistant`
 * event is written before its message_delta arrives, so its
 * usage.output_tokens is a snapshot (often 1), and one API message may be
 * split over several `assistant` events with the same message.id; adding
 * those up would be wrong twice. Claude's usage.input_tokens already
 * excludes cache_read_input_tokens and cache_creation_input_tokens. Its
 * total_cost_usd comes from a price table inside the CLI and is ignored.
 */
#include "adapter-int.h"

#include <stdio.h>
#include <string.h>

static int claude_build_argv(char ***out, const struct adapter_run *r,
                             struct crl_err *err) {
  struct adapter__argv a;
  char turns[16];
  int rc;

  if ((rc = adapter__cli_check(r, "claude-code", err)) < 0)
    return rc;
  adapter__argv_init(&a);
  adapter__argv_add(&a, "claude", "-p", "--output-format", "stream-json",
                    "--verbose", "--dangerously-skip-permissions", NULL);
  if (r->model != NULL)
    adapter__argv_add(&a, "--model", r->model, NULL);
  if (r->max_turns > 0) {
    snprintf(turns, sizeof(turns), "%d", r->max_turns);
    adapter__argv_add(&a, "--max-turns", turns, NULL);
  }
  if (r->session_id != NULL && r->session_id[0] != '\0')
    adapter__argv_add(&a, "--resume", r->session_id, NULL);
  /* The prompt is a positional argument (-p only selects print mode); after
   * "--" one that starts with '-' is not read as an option. */
  adapter__argv_add(&a, "--",
                    r->prompt != NULL && r->prompt[0] != '\0' ? r->prompt
                                                              : "Continue.",
                    NULL);
  adapter__argv_take(out, &a);
  return 0;
}

static int claude_build_env(struct adapter_env *env,
                            const struct adapter_run *r, struct crl_err *err) {
  int rc;

  if ((rc = adapter__cli_check(r, "claude-code", err)) < 0)
    return rc;
  adapter__cli_home_env(env, r);
  adapter__cli_home_path(env, "CLAUDE_CONFIG_DIR", r, ".claude");
  adapter_env_set(env, "ANTHROPIC_BASE_URL", r->base_url);
  adapter_env_set(env, "ANTHROPIC_API_KEY", adapter__cli_key(r));
  /* Without it Claude Code calls api.anthropic.com for metrics, flags and
   * a title; as root, --dangerously-skip-permissions needs IS_SANDBOX. */
  adapter_env_set(env, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
  adapter_env_set(env, "DISABLE_AUTOUPDATER", "1");
  adapter_env_set(env, "IS_SANDBOX", "1");
  return 0;
}

/* A tool_result's content is a string or a list of blocks; text blocks are
 * joined into one string, anything else is kept as it is. Returns a new
 * reference. */
static json_t *claude_result_output(json_t *content) {
  struct crl_buf b;
  json_t *blk, *out;
  size_t i;

  if (!json_is_array(content))
    return content != NULL ? json_incref(content) : json_string("");
  json_array_foreach(content, i, blk) {
    if (!json_is_string(json_object_get(blk, "text")))
      return json_incref(content);
  }
  crl_buf_init(&b, 0);
  crl_buf_append(&b, "", 0);
  json_array_foreach(content, i, blk) {
    const char *t = adapter__jstr(blk, "text");
    crl_buf_append(&b, t, strlen(t));
  }
  out = json_stringn(b.data != NULL ? b.data : "", b.len);
  crl_buf_close(&b);
  return out != NULL ? out : json_string("");
}

/* qwen-code reports a failed API call as a text message "[API Error: …]"
 * and then a successful result, so the text itself is the only sign. */
static int claude_api_error_text(const char *text, int flags) {
  return (flags & ADAPTER__CLAUDE_QWEN) != 0 &&
         strncmp(text, "[API Error:", 11) == 0;
}

static void claude_blocks(json_t *content, int flags, adapter_emit_cb emit,
                          void *payload) {
  json_t *blk, *output;
  const char *type, *text;
  size_t i;

  json_array_foreach(content, i, blk) {
    type = adapter__jstr(blk, "type");
    if (type == NULL)
      continue;
    if (strcmp(type, "text") == 0) {
      text = adapter__jstr(blk, "text");
      if (text != NULL && text[0] != '\0')
        adapter__emit_text(emit, payload,
                           claude_api_error_text(text, flags)
                               ? ADAPTER_EV_ERROR
                               : ADAPTER_EV_MESSAGE,
                           text);
    } else if (strcmp(type, "tool_use") == 0) {
      adapter__emit_tool_call(adapter__jstr(blk, "id"),
                              adapter__jstr(blk, "name"),
                              json_object_get(blk, "input"), emit, payload);
    } else if (strcmp(type, "tool_result") == 0) {
      output = claude_result_output(json_object_get(blk, "content"));
      adapter__emit_tool_result(adapter__jstr(blk, "tool_use_id"),
                                json_is_true(json_object_get(blk, "is_error")),
                                output, emit, payload);
      json_decref(output);
    }
  }
}

static void claude_result(json_t *root, int flags, adapter_emit_cb emit,
                          void *payload) {
  json_t *u = json_object_get(root, "usage");
  const char *subtype = adapter__jstr(root, "subtype");
  const char *text = adapter__jstr(root, "result");
  struct adapter__usage usage;

  if (json_is_true(json_object_get(root, "is_error")) ||
      (subtype != NULL && strcmp(subtype, "success") != 0))
    adapter__emit_error(emit, payload, "%.240s",
                        text != NULL      ? text
                        : subtype != NULL ? subtype
                                          : "the run failed");
  if (!json_is_object(u))
    return;
  usage.output = adapter__jcount(u, "output_tokens");
  usage.cache_read = adapter__jcount(u, "cache_read_input_tokens");
  usage.cache_write = adapter__jcount(u, "cache_creation_input_tokens");
  usage.input = adapter__jcount(u, "input_tokens");
  if ((flags & ADAPTER__CLAUDE_QWEN) != 0)
    usage.input -= usage.cache_read + usage.cache_write;
  if (usage.input < 0)
    usage.input = 0;
  adapter__emit_usage(&usage, emit, payload);
}

void adapter__claude_json(struct adapter_parse *p, json_t *root, int flags,
                          adapter_emit_cb emit, void *payload) {
  const char *type = adapter__jstr(root, "type");

  adapter__emit_session(p, adapter__jstr(root, "session_id"), emit, payload);
  if (type == NULL)
    return;
  /* A failed API call gives a synthetic assistant message marked "error",
   * then a result with is_error: the result reports it, once. */
  if (strcmp(type, "assistant") == 0 &&
      json_is_string(json_object_get(root, "error")))
    return;
  if (strcmp(type, "assistant") == 0 || strcmp(type, "user") == 0)
    claude_blocks(adapter__jpath(root, "message.content"), flags, emit,
                  payload);
  else if (strcmp(type, "result") == 0)
    claude_result(root, flags, emit, payload);
}

static void claude_json(struct adapter_parse *p, json_t *root,
                        adapter_emit_cb emit, void *payload) {
  adapter__claude_json(p, root, 0, emit, payload);
}

static void claude_parse_line(struct adapter_parse *p, const char *line,
                              size_t len, int truncated, adapter_emit_cb emit,
                              void *payload) {
  adapter__jsonl_line(p, line, len, truncated, claude_json, emit, payload);
}

const struct adapter_ops adapter_claude_code = {
    .name = "claude-code",
    .build_argv = claude_build_argv,
    .build_env = claude_build_env,
    .build_files = NULL,
    .parse_line = claude_parse_line,
};
