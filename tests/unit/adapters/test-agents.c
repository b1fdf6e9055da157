/*
 * What the five agent CLI adapters hand the runtime: argv (headless flags,
 * model, turn limit, resume), environment (the gateway's URL, a placeholder
 * key, HOME and config dirs inside the run's private home) and the config
 * files to write there. Also that no adapter ever passes a key other than
 * the placeholder, and that a run without a prompt, a home or a gateway is
 * refused with a clear error.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static const char *const kinds[] = {"claude-code", "codex", "gemini",
                                    "qwen-code", "opencode"};

static struct adapter_run run_of(void) {
  struct adapter_run r = {
      .task = "t1",
      .prompt = "write out.txt",
      .model = "local-model",
      .workdir = "/w",
      .home = "/h",
      .base_url = "http://127.0.0.1:9999",
  };
  return r;
}

/* argv joined with '|', owned by the caller. */
static char *argv_of(const char *kind, const struct adapter_run *r) {
  struct crl_err err = CRL_ERR_INIT;
  struct crl_buf b;
  char **argv = NULL;
  size_t i;

  cr_assert_eq(adapter_find(kind)->build_argv(&argv, r, &err), 0, "%s: %s",
               kind, err.msg);
  crl_buf_init(&b, 0);
  crl_buf_append(&b, "", 0);
  for (i = 0; argv[i] != NULL; i++)
    crl_buf_printf(&b, "%s%s", i > 0 ? "|" : "", argv[i]);
  adapter_argv_free(argv);
  return b.data;
}

static void assert_argv(const char *kind, const struct adapter_run *r,
                        const char *want) {
  char *got = argv_of(kind, r);

  cr_assert_str_eq(got, want, "%s", kind);
  free(got);
}

static void env_of(struct adapter_env *env, const char *kind,
                   const struct adapter_run *r) {
  struct crl_err err = CRL_ERR_INIT;

  adapter_env_init(env);
  cr_assert_eq(adapter_find(kind)->build_env(env, r, &err), 0, "%s: %s", kind,
               err.msg);
}

static void assert_env(const struct adapter_env *env, const char *key,
                       const char *want) {
  const char *got = adapter_env_get(env, key);

  cr_assert_not_null(got, "%s is not set", key);
  cr_assert_str_eq(got, want, "%s", key);
}

/* The content of file `path` among the adapter's files, or NULL. */
static char *file_of(const char *kind, const struct adapter_run *r,
                     const char *path) {
  const struct adapter_ops *ops = adapter_find(kind);
  struct crl_err err = CRL_ERR_INIT;
  struct adapter_file *files = NULL;
  char *content = NULL;
  size_t n = 0, i;

  if (ops->build_files == NULL)
    return NULL;
  cr_assert_eq(ops->build_files(&files, &n, r, &err), 0, "%s: %s", kind,
               err.msg);
  for (i = 0; i < n; i++) {
    cr_assert_neq(files[i].path[0], '/', "%s: absolute path", kind);
    cr_assert_null(strstr(files[i].path, ".."), "%s: '..' in path", kind);
    cr_assert_eq(strlen(files[i].content), files[i].len);
    cr_assert_eq(files[i].mode, 0600);
    if (strcmp(files[i].path, path) == 0)
      content = strdup(files[i].content);
  }
  adapter_files_free(files, n);
  return content;
}

Test(adapter_agents, claude_code_argv) {
  struct adapter_run r = run_of();

  assert_argv("claude-code", &r,
              "claude|-p|--output-format|stream-json|--verbose|"
              "--dangerously-skip-permissions|--model|local-model|--|"
              "write out.txt");
  r.max_turns = 7;
  r.session_id = "2a9aa53b-6637-46fd-b14f-c4ff07fe1d2f";
  r.model = NULL;
  assert_argv("claude-code", &r,
              "claude|-p|--output-format|stream-json|--verbose|"
              "--dangerously-skip-permissions|--max-turns|7|--resume|"
              "2a9aa53b-6637-46fd-b14f-c4ff07fe1d2f|--|write out.txt");
}

Test(adapter_agents, claude_code_env) {
  struct adapter_run r = run_of();
  struct adapter_env env;

  env_of(&env, "claude-code", &r);
  assert_env(&env, "HOME", "/h");
  assert_env(&env, "CLAUDE_CONFIG_DIR", "/h/.claude");
  assert_env(&env, "ANTHROPIC_BASE_URL", "http://127.0.0.1:9999");
  assert_env(&env, "ANTHROPIC_API_KEY", ADAPTER_PLACEHOLDER_KEY);
  assert_env(&env, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
  assert_env(&env, "IS_SANDBOX", "1");
  cr_assert_null(adapter_env_get(&env, "ANTHROPIC_AUTH_TOKEN"));
  adapter_env_close(&env);
  cr_assert_null(adapter_find("claude-code")->build_files);
}

Test(adapter_agents, codex_argv_and_resume) {
  struct adapter_run r = run_of();

  r.max_turns = 3; /* codex has no turn limit: ignored */
  assert_argv("codex", &r,
              "codex|exec|--json|--skip-git-repo-check|"
              "--dangerously-bypass-approvals-and-sandbox|-m|local-model|--|"
              "write out.txt");
  r.session_id = "01a20877-84a4-75c3-afe6-9657b3101c87";
  r.prompt = "-go on";
  assert_argv("codex", &r,
              "codex|exec|resume|--json|--skip-git-repo-check|"
              "--dangerously-bypass-approvals-and-sandbox|-m|local-model|--|"
              "01a20877-84a4-75c3-afe6-9657b3101c87|-go on");
}

Test(adapter_agents, codex_env_and_config) {
  struct adapter_run r = run_of();
  struct adapter_env env;
  char *toml;

  env_of(&env, "codex", &r);
  assert_env(&env, "HOME", "/h");
  assert_env(&env, "CODEX_HOME", "/h/.codex");
  assert_env(&env, "CORRAL_GATEWAY_KEY", ADAPTER_PLACEHOLDER_KEY);
  cr_assert_null(adapter_env_get(&env, "OPENAI_API_KEY"));
  adapter_env_close(&env);
  r.model = "we\"ird\\model";
  toml = file_of("codex", &r, ".codex/config.toml");
  cr_assert_str_eq(toml, "model = \"we\\\"ird\\\\model\"\n"
                         "model_provider = \"corral\"\n"
                         "\n[model_providers.corral]\n"
                         "name = \"corral\"\n"
                         "base_url = \"http://127.0.0.1:9999/v1\"\n"
                         "env_key = \"CORRAL_GATEWAY_KEY\"\n"
                         "wire_api = \"responses\"\n"
                         "\n[analytics]\nenabled = false\n"
                         "\n[features]\nplugins = false\n"
                         "unbounded_connection_retries = false\n");
  free(toml);
}

Test(adapter_agents, gemini_argv_env_settings) {
  struct adapter_run r = run_of();
  struct adapter_env env;
  char *json;

  assert_argv("gemini", &r,
              "gemini|--prompt=write out.txt|-o|stream-json|--yolo|"
              "--skip-trust|-m|local-model");
  r.session_id = "44577376-28e5-4087-80f7-4dca4b03cbee";
  assert_argv("gemini", &r,
              "gemini|--prompt=write out.txt|-o|stream-json|--yolo|"
              "--skip-trust|-m|local-model|--resume|"
              "44577376-28e5-4087-80f7-4dca4b03cbee");
  env_of(&env, "gemini", &r);
  assert_env(&env, "GEMINI_CLI_HOME", "/h");
  assert_env(&env, "GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9999");
  assert_env(&env, "GEMINI_API_KEY", ADAPTER_PLACEHOLDER_KEY);
  adapter_env_close(&env);
  json = file_of("gemini", &r, ".gemini/settings.json");
  cr_assert_not_null(strstr(json, "\"selectedType\":\"gemini-api-key\""));
  cr_assert_not_null(strstr(json, "\"usageStatisticsEnabled\":false"));
  cr_assert_null(strstr(json, "maxSessionTurns"));
  free(json);
  r.max_turns = 12;
  json = file_of("gemini", &r, ".gemini/settings.json");
  cr_assert_not_null(strstr(json, "\"model\":{\"maxSessionTurns\":12}"));
  free(json);
}

Test(adapter_agents, qwen_code_argv_env_settings) {
  struct adapter_run r = run_of();
  struct adapter_env env;
  char *json;

  r.max_turns = 4;
  r.session_id = "9119b188-d290-4cf5-8bd3-c07ba4e3a4c4";
  assert_argv("qwen-code", &r,
              "qwen|--auth-type|openai|-o|stream-json|--yolo|-m|local-model|"
              "--max-session-turns|4|--resume|"
              "9119b188-d290-4cf5-8bd3-c07ba4e3a4c4|--prompt=write out.txt");
  env_of(&env, "qwen-code", &r);
  assert_env(&env, "HOME", "/h");
  assert_env(&env, "OPENAI_BASE_URL", "http://127.0.0.1:9999/v1");
  assert_env(&env, "OPENAI_API_KEY", ADAPTER_PLACEHOLDER_KEY);
  assert_env(&env, "OPENAI_MODEL", "local-model");
  cr_assert_null(adapter_env_get(&env, "HTTPS_PROXY"));
  adapter_env_close(&env);
  json = file_of("qwen-code", &r, ".qwen/settings.json");
  cr_assert_str_eq(json, "{\"privacy\":{\"usageStatisticsEnabled\":false}}\n");
  free(json);
}

Test(adapter_agents, opencode_argv_env_config) {
  struct adapter_run r = run_of();
  struct adapter_env env;
  char *json;

  assert_argv("opencode", &r,
              "opencode|run|--format|json|--auto|-m|corral/local-model|--|"
              "write out.txt");
  r.session_id = "ses_df78851d8ffedE5AWWZSLZtdoW";
  assert_argv("opencode", &r,
              "opencode|run|--format|json|--auto|-m|corral/local-model|"
              "--session|ses_df78851d8ffedE5AWWZSLZtdoW|--|write out.txt");
  env_of(&env, "opencode", &r);
  assert_env(&env, "XDG_CONFIG_HOME", "/h/.config");
  assert_env(&env, "XDG_DATA_HOME", "/h/.local/share");
  assert_env(&env, "OPENCODE_CONFIG", "/h/.config/opencode/opencode.json");
  assert_env(&env, "OPENCODE_DISABLE_MODELS_FETCH", "1");
  adapter_env_close(&env);
  json = file_of("opencode", &r, ".config/opencode/opencode.json");
  cr_assert_not_null(strstr(json, "\"baseURL\": \"http://127.0.0.1:9999/v1\""));
  cr_assert_not_null(
      strstr(json, "\"apiKey\": \"" ADAPTER_PLACEHOLDER_KEY "\""));
  cr_assert_not_null(strstr(json, "\"local-model\": {}"));
  cr_assert_not_null(strstr(json, "\"model\": \"corral/local-model\""));
  free(json);
}

/* Every variable that looks like a credential holds the placeholder, and
 * so does every file that mentions a key. */
Test(adapter_agents, only_the_placeholder_key_is_passed) {
  struct adapter_run r = run_of();
  struct adapter_env env;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    env_of(&env, kinds[i], &r);
    for (size_t j = 0; j < env.n; j++) {
      const char *eq = strchr(env.v[j], '=');

      if (memmem(env.v[j], (size_t)(eq - env.v[j]), "KEY", 3) == NULL &&
          memmem(env.v[j], (size_t)(eq - env.v[j]), "TOKEN", 5) == NULL)
        continue;
      cr_assert_str_eq(eq + 1, ADAPTER_PLACEHOLDER_KEY, "%s: %s", kinds[i],
                       env.v[j]);
    }
    adapter_env_close(&env);
  }
  r.api_key = "gateway-issued-token";
  env_of(&env, "claude-code", &r);
  assert_env(&env, "ANTHROPIC_API_KEY", "gateway-issued-token");
  adapter_env_close(&env);
}

Test(adapter_agents, a_run_without_prompt_home_or_gateway_is_refused) {
  struct crl_err err = CRL_ERR_INIT;
  struct adapter_run r;
  struct adapter_env env;
  char **argv = NULL;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    const struct adapter_ops *ops = adapter_find(kinds[i]);

    r = run_of();
    r.prompt = NULL;
    cr_assert_eq(ops->build_argv(&argv, &r, &err), CRL_EVALIDATION_FAILED);
    cr_assert_not_null(strstr(err.msg, "prompt"), "%s", err.msg);
    r.session_id = "s1"; /* resuming needs no prompt */
    cr_assert_eq(ops->build_argv(&argv, &r, &err), 0);
    adapter_argv_free(argv);
    r = run_of();
    r.home = "relative/home";
    cr_assert_eq(ops->build_argv(&argv, &r, &err), CRL_EVALIDATION_FAILED);
    r = run_of();
    r.base_url = NULL;
    adapter_env_init(&env);
    cr_assert_eq(ops->build_env(&env, &r, &err), CRL_EVALIDATION_FAILED);
    cr_assert_not_null(strstr(err.msg, "gateway"), "%s", err.msg);
    adapter_env_close(&env);
  }
}

Test(adapter_agents, opencode_needs_a_model) {
  struct crl_err err = CRL_ERR_INIT;
  struct adapter_run r = run_of();
  char **argv = NULL;

  r.model = NULL;
  cr_assert_eq(adapter_find("opencode")->build_argv(&argv, &r, &err),
               CRL_EVALIDATION_FAILED);
  cr_assert_not_null(strstr(err.msg, "model"), "%s", err.msg);
}
