/*
 * The gemini adapter: runs Gemini CLI 0.61 headless (`gemini --prompt=…
 * -o stream-json --yolo --skip-trust`) against the run's gateway
 * (GOOGLE_GEMINI_BASE_URL). $GEMINI_CLI_HOME/.gemini/settings.json is
 * required: it selects the gemini-api-key auth type (with only the base URL
 * set, 0.61 picks a "gateway" auth type it then rejects), turns usage
 * statistics off and carries the turn limit (model.maxSessionTurns). The
 * model should always be set: the default "auto" adds a router call.
 * Resume passes the session id to --resume, which the CLI documents for
 * "latest" or an index (unverified with an id).
 *
 * Events: init.session_id is the session; assistant `message` lines are
 * streamed deltas (delta:true), joined into one message event that is
 * emitted before the next other event (or at the end of the stream); a
 * whole assistant message is one event; the user's own prompt echo is
 * skipped; tool_use / tool_result pair by tool_id; `error` lines and a
 * result whose status is not "success" are errors.
 *
 * Usage rule: Gemini reports usage once per run, in result.stats. Its
 * input_tokens includes the `cached` tokens; stats.input is the uncached
 * part and is used when present, else input_tokens - cached.
 */
#include "adapter-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gemini_build_argv(char ***out, const struct adapter_run *r,
                             struct crl_err *err) {
  struct adapter__argv a;
  char *prompt;
  int rc;

  if ((rc = adapter__cli_check(r, "gemini", err)) < 0)
    return rc;
  /* --prompt=TEXT: a prompt starting with '-' stays a value. */
  xasprintf(&prompt, "--prompt=%s",
            r->prompt != NULL && r->prompt[0] != '\0' ? r->prompt
                                                      : "Continue.");
  adapter__argv_init(&a);
  adapter__argv_add(&a, "gemini", prompt, "-o", "stream-json", "--yolo",
                    "--skip-trust", NULL);
  if (r->model != NULL)
    adapter__argv_add(&a, "-m", r->model, NULL);
  if (r->session_id != NULL && r->session_id[0] != '\0')
    adapter__argv_add(&a, "--resume", r->session_id, NULL);
  adapter__argv_take(out, &a);
  free(prompt);
  return 0;
}

static int gemini_build_env(struct adapter_env *env,
                            const struct adapter_run *r, struct crl_err *err) {
  int rc;

  if ((rc = adapter__cli_check(r, "gemini", err)) < 0)
    return rc;
  adapter__cli_home_env(env, r);
  adapter_env_set(env, "GEMINI_CLI_HOME", r->home);
  adapter_env_set(env, "GOOGLE_GEMINI_BASE_URL", r->base_url);
  adapter_env_set(env, "GEMINI_API_KEY", adapter__cli_key(r));
  return 0;
}

static int gemini_build_files(struct adapter_file **out, size_t *n,
                              const struct adapter_run *r,
                              struct crl_err *err) {
  char turns[64] = "";
  char *json;

  if (r->max_turns > 0)
    snprintf(turns, sizeof(turns), ",\n \"model\":{\"maxSessionTurns\":%d}",
             r->max_turns);
  xasprintf(&json,
            "{\"security\":{\"auth\":{\"selectedType\":\"gemini-api-key\"}},\n"
            " \"privacy\":{\"usageStatisticsEnabled\":false},\n"
            " \"general\":{\"enableAutoUpdate\":false,"
            "\"enableAutoUpdateNotification\":false}%s}\n",
            turns);
  adapter__files_one(out, n, ".gemini/settings.json", json);
  free(json);
  return 0;
}

static void gemini_tool_result(json_t *root, adapter_emit_cb emit,
                               void *payload) {
  const char *status = adapter__jstr(root, "status");
  json_t *output = json_object_get(root, "output");

  if (output == NULL)
    output = adapter__jpath(root, "error.message");
  adapter__emit_tool_result(adapter__jstr(root, "tool_id"),
                            status == NULL || strcmp(status, "success") != 0,
                            output, emit, payload);
}

static void gemini_result(json_t *root, adapter_emit_cb emit, void *payload) {
  const char *status = adapter__jstr(root, "status");
  json_t *stats = json_object_get(root, "stats");
  const char *msg = json_string_value(adapter__jpath(root, "error.message"));
  struct adapter__usage u;

  if (status == NULL || strcmp(status, "success") != 0)
    adapter__emit_error(emit, payload, "%.240s",
                        msg != NULL ? msg : "the run failed");
  if (!json_is_object(stats))
    return;
  u.output = adapter__jcount(stats, "output_tokens");
  u.cache_read = adapter__jcount(stats, "cached");
  u.cache_write = 0;
  if (json_object_get(stats, "input") != NULL)
    u.input = adapter__jcount(stats, "input");
  else
    u.input = adapter__jcount(stats, "input_tokens") - u.cache_read;
  if (u.input < 0)
    u.input = 0;
  adapter__emit_usage(&u, emit, payload);
}

/* Assistant text comes in deltas: joined until the next other line. */
static int gemini_delta(json_t *root, adapter_emit_cb emit, void *payload,
                        struct adapter_parse *p) {
  const char *s = adapter__jstr(root, "content");

  if (strcmp(adapter__jstr(root, "type") ?: "", "message") != 0 ||
      strcmp(adapter__jstr(root, "role") ?: "", "assistant") != 0 ||
      !json_is_true(json_object_get(root, "delta")) || s == NULL)
    return 0;
  adapter__text_add(p, s, emit, payload);
  return 1;
}

static void gemini_json(struct adapter_parse *p, json_t *root,
                        adapter_emit_cb emit, void *payload) {
  const char *type = adapter__jstr(root, "type"), *s;

  if (gemini_delta(root, emit, payload, p))
    return;
  adapter_parse_flush(p, emit, payload);
  if (type == NULL)
    return;
  if (strcmp(type, "init") == 0) {
    adapter__emit_session(p, adapter__jstr(root, "session_id"), emit, payload);
  } else if (strcmp(type, "message") == 0) {
    s = adapter__jstr(root, "content");
    if (s != NULL && s[0] != '\0' &&
        strcmp(adapter__jstr(root, "role") ?: "", "assistant") == 0)
      adapter__emit_text(emit, payload, ADAPTER_EV_MESSAGE, s);
  } else if (strcmp(type, "tool_use") == 0) {
    adapter__emit_tool_call(adapter__jstr(root, "tool_id"),
                            adapter__jstr(root, "tool_name"),
                            json_object_get(root, "parameters"), emit, payload);
  } else if (strcmp(type, "tool_result") == 0) {
    gemini_tool_result(root, emit, payload);
  } else if (strcmp(type, "error") == 0) {
    s = adapter__jstr(root, "message");
    adapter__emit_error(emit, payload, "%.240s", s != NULL ? s : "error");
  } else if (strcmp(type, "result") == 0) {
    gemini_result(root, emit, payload);
  }
}

static void gemini_parse_line(struct adapter_parse *p, const char *line,
                              size_t len, int truncated, adapter_emit_cb emit,
                              void *payload) {
  adapter__jsonl_line(p, line, len, truncated, gemini_json, emit, payload);
}

const struct adapter_ops adapter_gemini = {
    .name = "gemini",
    .build_argv = gemini_build_argv,
    .build_env = gemini_build_env,
    .build_files = gemini_build_files,
    .parse_line = gemini_parse_line,
};
