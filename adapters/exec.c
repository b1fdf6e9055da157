/*
 * The exec adapter: runs the task's own command as given (`command: [make,
 * test]`), tells it about its run through CORRAL_* variables, and reports
 * each output line as one message event. It knows nothing of any agent CLI,
 * which makes it the adapter for checks, scripts and fake agents.
 */
#include "adapter-int.h"

#include <stdio.h>

static int exec_build_argv(char ***out, const struct adapter_run *r,
                           struct crl_err *err) {
  if (r->command == NULL || r->command[0] == NULL || r->command[0][0] == '\0')
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "task %s: the exec adapter needs a command",
                       r->task != NULL ? r->task : "?");
  *out = adapter_argv_dup(r->command);
  return 0;
}

static void exec_env_opt(struct adapter_env *env, const char *key,
                         const char *val) {
  if (val != NULL)
    adapter_env_set(env, key, val);
}

static int exec_build_env(struct adapter_env *env, const struct adapter_run *r,
                          struct crl_err *err) {
  char attempt[16];

  exec_env_opt(env, "CORRAL_PROMPT", r->prompt);
  exec_env_opt(env, "CORRAL_MISSION", r->mission);
  exec_env_opt(env, "CORRAL_TICKET", r->ticket);
  exec_env_opt(env, "CORRAL_TASK", r->task);
  exec_env_opt(env, "CORRAL_RUN", r->run_id);
  snprintf(attempt, sizeof(attempt), "%d", r->attempt);
  adapter_env_set(env, "CORRAL_ATTEMPT", attempt);
  return 0;
}

static void exec_parse_line(struct adapter_parse *p, const char *line,
                            size_t len, int truncated, adapter_emit_cb emit,
                            void *payload) {
  struct adapter_event ev = {
      .kind = ADAPTER_EV_MESSAGE,
      .text = line,
      .len = len,
      .truncated = truncated,
  };

  emit(&ev, payload);
}

const struct adapter_ops adapter_exec = {
    .name = "exec",
    .build_argv = exec_build_argv,
    .build_env = exec_build_env,
    .parse_line = exec_parse_line,
};
