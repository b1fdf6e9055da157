/*
 * The opencode adapter: runs opencode 1.18 headless (`opencode run --format
 * json --auto -m corral/MODEL`) with a provider "corral" in its config
 * ($XDG_CONFIG_HOME/opencode/opencode.json, also named by OPENCODE_CONFIG):
 * the AI SDK's openai-compatible client pointed at the run's gateway
 * ($base_url/v1) with the placeholder key. Models fetch, autoupdate, default
 * plugins and sharing are off. Resume is --session ID. opencode has no turn
 * limit on the command line, so max_turns is ignored. A model is required:
 * the provider must list it.
 *
 * Events: every line carries sessionID (session event on first sight or
 * change); tool_use lines hold a finished tool part (part.tool, callID,
 * state.input, state.output, state.status) and give a tool_call and its
 * tool_result; text lines give a message; error lines give an error.
 *
 * Usage rule: opencode reports usage per step (one LLM call), in
 * step_finish.part.tokens{input,output,reasoning,cache{read,write}}; each
 * step_finish is one increment. opencode 1.18 computes tokens.input as the
 * SDK's input minus cache read and cache write, and tokens.output as the
 * SDK's output minus reasoning (read in its bundle), so input is already
 * exclusive and reasoning is added back to output, as providers bill it. The
 * title call opencode makes before the first step appears in no event: only the
 * gateway sees it.
 */
#include "adapter-int.h"

#include <stdlib.h>
#include <string.h>

#define OPENCODE_CONFIG ".config/opencode/opencode.json"

static int opencode_check(const struct adapter_run *r, struct crl_err *err) {
  int rc;

  if ((rc = adapter__cli_check(r, "opencode", err)) < 0)
    return rc;
  if (r->model == NULL || r->model[0] == '\0')
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "task %s: the opencode adapter needs a model",
                       r->task != NULL ? r->task : "?");
  return 0;
}

static int opencode_build_argv(char ***out, const struct adapter_run *r,
                               struct crl_err *err) {
  struct adapter__argv a;
  char *model;
  int rc;

  if ((rc = opencode_check(r, err)) < 0)
    return rc;
  xasprintf(&model, "corral/%s", r->model);
  adapter__argv_init(&a);
  adapter__argv_add(&a, "opencode", "run", "--format", "json", "--auto", "-m",
                    model, NULL);
  if (r->session_id != NULL && r->session_id[0] != '\0')
    adapter__argv_add(&a, "--session", r->session_id, NULL);
  adapter__argv_add(&a, "--",
                    r->prompt != NULL && r->prompt[0] != '\0' ? r->prompt
                                                              : "Continue.",
                    NULL);
  adapter__argv_take(out, &a);
  free(model);
  return 0;
}

static int opencode_build_env(struct adapter_env *env,
                              const struct adapter_run *r,
                              struct crl_err *err) {
  int rc;

  if ((rc = opencode_check(r, err)) < 0)
    return rc;
  adapter__cli_home_env(env, r);
  adapter__cli_home_path(env, "OPENCODE_CONFIG", r, OPENCODE_CONFIG);
  adapter_env_set(env, "OPENCODE_DISABLE_MODELS_FETCH", "1");
  adapter_env_set(env, "OPENCODE_DISABLE_AUTOUPDATE", "1");
  adapter_env_set(env, "OPENCODE_DISABLE_DEFAULT_PLUGINS", "1");
  adapter_env_set(env, "OPENCODE_DISABLE_SHARE", "1");
  return 0;
}

static int opencode_build_files(struct adapter_file **out, size_t *n,
                                const struct adapter_run *r,
                                struct crl_err *err) {
  json_t *cfg;
  char *url, *text;
  int rc;

  if ((rc = opencode_check(r, err)) < 0)
    return rc;
  xasprintf(&url, "%s/v1", r->base_url);
  cfg =
      json_pack("{s:{s:{s:s, s:s, s:{s:s, s:s}, s:{s:{}}}}, s:s+}", "provider",
                "corral", "npm", "@ai-sdk/openai-compatible", "name", "corral",
                "options", "baseURL", url, "apiKey", adapter__cli_key(r),
                "models", r->model, "model", "corral/", r->model);
  text = cfg != NULL ? json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
                     : NULL;
  json_decref(cfg);
  free(url);
  if (text == NULL)
    return crl_err_set(err, CRL_EINTERNAL,
                       "opencode: cannot encode its config");
  adapter__files_one(out, n, OPENCODE_CONFIG, text);
  free(text);
  return 0;
}

static void opencode_tool(json_t *part, adapter_emit_cb emit, void *payload) {
  json_t *state = json_object_get(part, "state");
  const char *id = adapter__jstr(part, "callID");
  const char *status = adapter__jstr(state, "status");
  json_t *output = json_object_get(state, "output");

  adapter__emit_tool_call(id, adapter__jstr(part, "tool"),
                          json_object_get(state, "input"), emit, payload);
  if (status == NULL ||
      (strcmp(status, "completed") != 0 && strcmp(status, "error") != 0))
    return;
  if (output == NULL)
    output = json_object_get(state, "error");
  adapter__emit_tool_result(id, strcmp(status, "error") == 0, output, emit,
                            payload);
}

static void opencode_usage(json_t *tokens, adapter_emit_cb emit,
                           void *payload) {
  struct adapter__usage u;

  if (!json_is_object(tokens))
    return;
  u.input = adapter__jcount(tokens, "input");
  u.output =
      adapter__jcount(tokens, "output") + adapter__jcount(tokens, "reasoning");
  u.cache_read = adapter__jcount(json_object_get(tokens, "cache"), "read");
  u.cache_write = adapter__jcount(json_object_get(tokens, "cache"), "write");
  adapter__emit_usage(&u, emit, payload);
}

static void opencode_error(json_t *root, adapter_emit_cb emit, void *payload) {
  json_t *e = json_object_get(root, "error");
  const char *msg = json_string_value(adapter__jpath(e, "data.message"));

  if (msg == NULL)
    msg = adapter__jstr(e, "message");
  if (msg == NULL)
    msg = adapter__jstr(e, "name");
  adapter__emit_error(emit, payload, "%.240s", msg != NULL ? msg : "error");
}

static void opencode_json(struct adapter_parse *p, json_t *root,
                          adapter_emit_cb emit, void *payload) {
  const char *type = adapter__jstr(root, "type"), *s;
  json_t *part = json_object_get(root, "part");

  adapter__emit_session(p, adapter__jstr(root, "sessionID"), emit, payload);
  if (type == NULL)
    return;
  if (strcmp(type, "tool_use") == 0) {
    opencode_tool(part, emit, payload);
  } else if (strcmp(type, "text") == 0) {
    if ((s = adapter__jstr(part, "text")) != NULL && s[0] != '\0')
      adapter__emit_text(emit, payload, ADAPTER_EV_MESSAGE, s);
  } else if (strcmp(type, "step_finish") == 0) {
    opencode_usage(json_object_get(part, "tokens"), emit, payload);
  } else if (strcmp(type, "error") == 0) {
    opencode_error(root, emit, payload);
  }
}

static void opencode_parse_line(struct adapter_parse *p, const char *line,
                                size_t len, int truncated, adapter_emit_cb emit,
                                void *payload) {
  adapter__jsonl_line(p, line, len, truncated, opencode_json, emit, payload);
}

const struct adapter_ops adapter_opencode = {
    .name = "opencode",
    .build_argv = opencode_build_argv,
    .build_env = opencode_build_env,
    .build_files = opencode_build_files,
    .parse_line = opencode_parse_line,
};
