/*
 * The codex adapter: runs Codex CLI 0.169 headless (`codex exec --json`)
 * with a custom model provider in $CODEX_HOME/config.toml that points at the
 * run's gateway ($base_url/v1, Responses wire API; "chat" is rejected) and
 * reads its key from CORRAL_GATEWAY_KEY. Analytics and plugins are off (no
 * calls to chatgpt.com or github.com), and connection retries are bounded
 * so a dead gateway fails the run instead of hanging it. Resume is `codex
 * exec resume ID PROMPT`. Codex has no turn limit, so max_turns is ignored.
 * The runtime must give it /dev/null as stdin: with an open pipe it waits
 * for "additional input" forever.
 *
 * Events: thread.started.thread_id is the session; item.started of a
 * command_execution or mcp_tool_call is a tool_call and its item.completed
 * the tool_result; a file_change (completed only) gives both; agent_message
 * is a message; error items, turn.failed and top-level error are errors.
 *
 * Usage rule: codex reports nothing per LLM call, only one
 * turn.completed.usage per turn, which is the increment for that turn (a
 * resumed session starts a new count). input_tokens includes
 * cached_input_tokens (OpenAI's convention), and is assumed to include
 * cache_write_input_tokens too (unverified: the Responses API never sent
 * one), so both are subtracted.
 */
#include "adapter-int.h"

#include <stdlib.h>
#include <string.h>

static int codex_build_argv(char ***out, const struct adapter_run *r,
                            struct crl_err *err) {
  int resume = r->session_id != NULL && r->session_id[0] != '\0';
  struct adapter__argv a;
  int rc;

  if ((rc = adapter__cli_check(r, "codex", err)) < 0)
    return rc;
  adapter__argv_init(&a);
  adapter__argv_add(&a, "codex", "exec", NULL);
  if (resume)
    adapter__argv_add(&a, "resume", NULL);
  adapter__argv_add(&a, "--json", "--skip-git-repo-check",
                    "--dangerously-bypass-approvals-and-sandbox", NULL);
  if (r->model != NULL)
    adapter__argv_add(&a, "-m", r->model, NULL);
  adapter__argv_add(&a, "--", NULL);
  if (resume)
    adapter__argv_add(&a, r->session_id, NULL);
  adapter__argv_add(
      &a, r->prompt != NULL && r->prompt[0] != '\0' ? r->prompt : "Continue.",
      NULL);
  adapter__argv_take(out, &a);
  return 0;
}

static int codex_build_env(struct adapter_env *env, const struct adapter_run *r,
                           struct crl_err *err) {
  int rc;

  if ((rc = adapter__cli_check(r, "codex", err)) < 0)
    return rc;
  adapter__cli_home_env(env, r);
  adapter__cli_home_path(env, "CODEX_HOME", r, ".codex");
  adapter_env_set(env, "CORRAL_GATEWAY_KEY", adapter__cli_key(r));
  return 0;
}

static int codex_build_files(struct adapter_file **out, size_t *n,
                             const struct adapter_run *r, struct crl_err *err) {
  char *model, *url, *base, *toml;
  int rc;

  if ((rc = adapter__cli_check(r, "codex", err)) < 0)
    return rc;
  xasprintf(&base, "%s/v1", r->base_url);
  model = r->model != NULL ? adapter__toml_str(r->model) : NULL;
  url = adapter__toml_str(base);
  xasprintf(&toml,
            "%s%s%s"
            "model_provider = \"corral\"\n"
            "\n[model_providers.corral]\n"
            "name = \"corral\"\n"
            "base_url = %s\n"
            "env_key = \"CORRAL_GATEWAY_KEY\"\n"
            "wire_api = \"responses\"\n"
            "\n[analytics]\nenabled = false\n"
            "\n[features]\nplugins = false\n"
            "unbounded_connection_retries = false\n",
            model != NULL ? "model = " : "", model != NULL ? model : "",
            model != NULL ? "\n" : "", url);
  adapter__files_one(out, n, ".codex/config.toml", toml);
  free(toml);
  free(url);
  free(model);
  free(base);
  return 0;
}

static void codex_item_started(json_t *item, const char *type,
                               adapter_emit_cb emit, void *payload) {
  const char *id = adapter__jstr(item, "id");
  json_t *input;

  if (strcmp(type, "command_execution") == 0) {
    input = json_pack("{s:O?}", "command", json_object_get(item, "command"));
    adapter__emit_tool_call(id, type, input, emit, payload);
    json_decref(input);
  } else if (strcmp(type, "mcp_tool_call") == 0) {
    adapter__emit_tool_call(id, adapter__jstr(item, "tool"),
                            json_object_get(item, "arguments"), emit, payload);
  }
}

static int codex_failed(json_t *item) {
  const char *status = adapter__jstr(item, "status");
  json_t *code = json_object_get(item, "exit_code");

  return (status != NULL && strcmp(status, "completed") != 0) ||
         (json_is_integer(code) && json_integer_value(code) != 0);
}

static void codex_item_completed(json_t *item, const char *type,
                                 adapter_emit_cb emit, void *payload) {
  const char *id = adapter__jstr(item, "id"), *s;
  json_t *input;

  if (strcmp(type, "command_execution") == 0) {
    adapter__emit_tool_result(id, codex_failed(item),
                              json_object_get(item, "aggregated_output"), emit,
                              payload);
  } else if (strcmp(type, "mcp_tool_call") == 0) {
    adapter__emit_tool_result(id,
                              json_object_get(item, "error") != NULL &&
                                  !json_is_null(json_object_get(item, "error")),
                              json_object_get(item, "result"), emit, payload);
  } else if (strcmp(type, "file_change") == 0) {
    input = json_pack("{s:O?}", "changes", json_object_get(item, "changes"));
    adapter__emit_tool_call(id, type, input, emit, payload);
    adapter__emit_tool_result(id, codex_failed(item), NULL, emit, payload);
    json_decref(input);
  } else if (strcmp(type, "agent_message") == 0) {
    if ((s = adapter__jstr(item, "text")) != NULL && s[0] != '\0')
      adapter__emit_text(emit, payload, ADAPTER_EV_MESSAGE, s);
  } else if (strcmp(type, "error") == 0) {
    s = adapter__jstr(item, "message");
    adapter__emit_error(emit, payload, "%.240s", s != NULL ? s : "error");
  }
}

static void codex_usage(json_t *u, adapter_emit_cb emit, void *payload) {
  struct adapter__usage usage;

  if (!json_is_object(u))
    return;
  usage.output = adapter__jcount(u, "output_tokens");
  usage.cache_read = adapter__jcount(u, "cached_input_tokens");
  usage.cache_write = adapter__jcount(u, "cache_write_input_tokens");
  usage.input =
      adapter__jcount(u, "input_tokens") - usage.cache_read - usage.cache_write;
  if (usage.input < 0)
    usage.input = 0;
  adapter__emit_usage(&usage, emit, payload);
}

static void codex_error(json_t *root, const char *fallback,
                        adapter_emit_cb emit, void *payload) {
  const char *msg = adapter__jstr(root, "message");

  if (msg == NULL)
    msg = json_string_value(adapter__jpath(root, "error.message"));
  adapter__emit_error(emit, payload, "%.240s", msg != NULL ? msg : fallback);
}

static void codex_json(struct adapter_parse *p, json_t *root,
                       adapter_emit_cb emit, void *payload) {
  const char *type = adapter__jstr(root, "type");
  json_t *item = json_object_get(root, "item");
  const char *itype = adapter__jstr(item, "type");

  if (type == NULL)
    return;
  if (strcmp(type, "thread.started") == 0)
    adapter__emit_session(p, adapter__jstr(root, "thread_id"), emit, payload);
  else if (strcmp(type, "item.started") == 0 && itype != NULL)
    codex_item_started(item, itype, emit, payload);
  else if (strcmp(type, "item.completed") == 0 && itype != NULL)
    codex_item_completed(item, itype, emit, payload);
  else if (strcmp(type, "turn.completed") == 0)
    codex_usage(json_object_get(root, "usage"), emit, payload);
  else if (strcmp(type, "turn.failed") == 0)
    codex_error(root, "the turn failed", emit, payload);
  else if (strcmp(type, "error") == 0)
    codex_error(root, "error", emit, payload);
}

static void codex_parse_line(struct adapter_parse *p, const char *line,
                             size_t len, int truncated, adapter_emit_cb emit,
                             void *payload) {
  adapter__jsonl_line(p, line, len, truncated, codex_json, emit, payload);
}

const struct adapter_ops adapter_codex = {
    .name = "codex",
    .build_argv = codex_build_argv,
    .build_env = codex_build_env,
    .build_files = codex_build_files,
    .parse_line = codex_parse_line,
};
