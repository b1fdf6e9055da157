/*
 * Tests for the exec adapter and the adapter table: argv is the task's
 * command, the environment carries the run's identity, every line becomes a
 * message, and the table holds exec and the five agent CLIs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "adapter.h"

static const struct adapter_ops *exec_ops(void) {
  const struct adapter_ops *ops = adapter_find("exec");

  cr_assert_not_null(ops);
  return ops;
}

Test(adapter_table, names_match_the_table) {
  static const char *const want[] = {"exec",   "claude-code", "codex",
                                     "gemini", "qwen-code",   "opencode"};
  const char *const *names = adapter_names();
  size_t i;

  for (i = 0; i < CRL_ARRAY_SIZE(want); i++) {
    cr_assert_str_eq(names[i], want[i]);
    cr_assert_not_null(adapter_find(want[i]));
    cr_assert_str_eq(adapter_find(want[i])->name, want[i]);
  }
  cr_assert_null(names[i]);
  cr_assert_null(adapter_find("claude"));
  cr_assert_null(adapter_find(NULL));
}

Test(adapter_table, event_kind_names) {
  cr_assert_str_eq(adapter_event_kind_name(ADAPTER_EV_MESSAGE), "message");
  cr_assert_str_eq(adapter_event_kind_name(ADAPTER_EV_TOOL_CALL), "tool_call");
  cr_assert_str_eq(adapter_event_kind_name(ADAPTER_EV_SESSION), "session");
  cr_assert_str_eq(adapter_event_kind_name((enum adapter_event_kind)99),
                   "unknown");
}

Test(adapter_exec, argv_is_a_copy_of_the_command) {
  char *cmd[] = {"make", "test", NULL};
  struct adapter_run r = {.task = "t", .command = cmd};
  char **argv = NULL;

  cr_assert_eq(exec_ops()->build_argv(&argv, &r, NULL), 0);
  cr_assert_str_eq(argv[0], "make");
  cr_assert_str_eq(argv[1], "test");
  cr_assert_null(argv[2]);
  cr_assert_neq(argv[0], cmd[0]);
  adapter_argv_free(argv);
}

Test(adapter_exec, missing_command_fails_validation) {
  char *empty[] = {NULL};
  char *blank[] = {"", NULL};
  struct adapter_run r = {.task = "build"};
  struct crl_err err = CRL_ERR_INIT;
  char **argv = NULL;

  cr_assert_eq(exec_ops()->build_argv(&argv, &r, &err), CRL_EVALIDATION_FAILED);
  cr_assert_eq(err.code, CRL_EVALIDATION_FAILED);
  cr_assert_not_null(strstr(err.msg, "build"));
  r.command = empty;
  cr_assert_eq(exec_ops()->build_argv(&argv, &r, NULL), CRL_EVALIDATION_FAILED);
  r.command = blank;
  cr_assert_eq(exec_ops()->build_argv(&argv, &r, NULL), CRL_EVALIDATION_FAILED);
  cr_assert_null(argv);
}

Test(adapter_exec, env_carries_the_run) {
  struct adapter_run r = {.mission = "m",
                          .ticket = "RL-1",
                          .task = "impl",
                          .run_id = "r7",
                          .prompt = "do it",
                          .attempt = 3};
  struct adapter_env env;

  adapter_env_init(&env);
  cr_assert_eq(exec_ops()->build_env(&env, &r, NULL), 0);
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_PROMPT"), "do it");
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_MISSION"), "m");
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_TICKET"), "RL-1");
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_TASK"), "impl");
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_RUN"), "r7");
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_ATTEMPT"), "3");
  cr_assert_eq(env.n, 6);
  adapter_env_close(&env);
}

Test(adapter_exec, env_without_prompt_has_no_prompt) {
  struct adapter_run r = {
      .mission = "m", .ticket = "T", .task = "t", .run_id = "r", .attempt = 0};
  struct adapter_env env;

  adapter_env_init(&env);
  cr_assert_eq(exec_ops()->build_env(&env, &r, NULL), 0);
  cr_assert_null(adapter_env_get(&env, "CORRAL_PROMPT"));
  cr_assert_str_eq(adapter_env_get(&env, "CORRAL_ATTEMPT"), "0");
  adapter_env_close(&env);
}

struct seen {
  int n;
  struct adapter_event last;
};

static void remember(const struct adapter_event *ev, void *payload) {
  struct seen *s = payload;

  s->n++;
  s->last = *ev;
}

Test(adapter_exec, each_line_is_one_message) {
  struct seen s = {0};
  struct adapter_parse p = {0};

  exec_ops()->parse_line(&p, "{\"not\":\"parsed\"}", 16, 1, remember, &s);
  cr_assert_eq(s.n, 1);
  cr_assert_eq(s.last.kind, ADAPTER_EV_MESSAGE);
  cr_assert_eq(s.last.len, 16);
  cr_assert_eq(memcmp(s.last.text, "{\"not\":\"parsed\"}", 16), 0);
  cr_assert_eq(s.last.truncated, 1);
}
