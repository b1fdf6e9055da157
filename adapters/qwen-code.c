/*
 * The qwen-code adapter: runs qwen-code 0.15.x headless (`qwen PROMPT
 * --auth-type openai -o stream-json --yolo`) with its OpenAI-compatible
 * client pointed at the run's gateway ($base_url/v1). Its stdout copies
 * Claude Code's stream-json shape (system/init with session_id, assistant,
 * user, result), so parsing is adapter__claude_json's.
 *
 * Usage rule: only `result.usage` counts, once per run, as for Claude: the
 * `assistant` events carry per-call usage too and adding both would double
 * it. Unlike Claude, qwen's usage.input_tokens is the API's prompt_tokens,
 * which includes cache_read_input_tokens, so those are subtracted to keep
 * "input" exclusive.
 *
 * Errors: a failed API call is not an error in qwen's output: it prints an
 * assistant text "[API Error: 400 …]", then a result with is_error false,
 * and exits 0. That text is reported as an error event.
 *
 * It sets no proxy variable on purpose: qwen's OpenAI client ignores
 * NO_PROXY and would send even the loopback call to a proxy.
 */
#include "adapter-int.h"

#include <stdio.h>
#include <stdlib.h>

static int qwen_build_argv(char ***out, const struct adapter_run *r,
                           struct crl_err *err) {
  struct adapter__argv a;
  char turns[16], *prompt;
  int rc;

  if ((rc = adapter__cli_check(r, "qwen-code", err)) < 0)
    return rc;
  adapter__argv_init(&a);
  adapter__argv_add(&a, "qwen", "--auth-type", "openai", "-o", "stream-json",
                    "--yolo", NULL);
  if (r->model != NULL)
    adapter__argv_add(&a, "-m", r->model, NULL);
  if (r->max_turns > 0) {
    snprintf(turns, sizeof(turns), "%d", r->max_turns);
    adapter__argv_add(&a, "--max-session-turns", turns, NULL);
  }
  if (r->session_id != NULL && r->session_id[0] != '\0')
    adapter__argv_add(&a, "--resume", r->session_id, NULL);
  /* --prompt=TEXT keeps a prompt that starts with '-' a value. qwen marks
   * -p deprecated in favour of a positional prompt, but yargs puts a
   * positional after "--" aside, where qwen does not look. */
  xasprintf(&prompt, "--prompt=%s",
            r->prompt != NULL && r->prompt[0] != '\0' ? r->prompt
                                                      : "Continue.");
  adapter__argv_add(&a, prompt, NULL);
  free(prompt);
  adapter__argv_take(out, &a);
  return 0;
}

static int qwen_build_env(struct adapter_env *env, const struct adapter_run *r,
                          struct crl_err *err) {
  char *url;
  int rc;

  if ((rc = adapter__cli_check(r, "qwen-code", err)) < 0)
    return rc;
  adapter__cli_home_env(env, r);
  xasprintf(&url, "%s/v1", r->base_url);
  adapter_env_set(env, "OPENAI_BASE_URL", url);
  free(url);
  adapter_env_set(env, "OPENAI_API_KEY", adapter__cli_key(r));
  if (r->model != NULL)
    adapter_env_set(env, "OPENAI_MODEL", r->model);
  return 0;
}

/* $HOME/.qwen/settings.json: no usage statistics (RUM calls to aliyuncs). */
static int qwen_build_files(struct adapter_file **out, size_t *n,
                            const struct adapter_run *r, struct crl_err *err) {
  adapter__files_one(out, n, ".qwen/settings.json",
                     "{\"privacy\":{\"usageStatisticsEnabled\":false}}\n");
  return 0;
}

static void qwen_json(struct adapter_parse *p, json_t *root,
                      adapter_emit_cb emit, void *payload) {
  adapter__claude_json(p, root, ADAPTER__CLAUDE_QWEN, emit, payload);
}

static void qwen_parse_line(struct adapter_parse *p, const char *line,
                            size_t len, int truncated, adapter_emit_cb emit,
                            void *payload) {
  adapter__jsonl_line(p, line, len, truncated, qwen_json, emit, payload);
}

const struct adapter_ops adapter_qwen_code = {
    .name = "qwen-code",
    .build_argv = qwen_build_argv,
    .build_env = qwen_build_env,
    .build_files = qwen_build_files,
    .parse_line = qwen_parse_line,
};
