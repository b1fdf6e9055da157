/*
 * The engine on a private loop: real shims, real processes, a temp state
 * dir. Each test closes every handle and asserts uv_loop_close == 0.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt-int.h"

static char state[] = "/tmp/corral-engine-XXXXXX";

static void setup(void) {
  cr_assert_not_null(mkdtemp(state));
}

static void teardown(void) {
  char *cmd;

  xasprintf(&cmd, "rm -rf '%s'", state);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
}

static struct msn_mission *load(const char *yaml) {
  struct msn_mission *m = NULL;
  struct msn_diags d;

  msn_diags_init(&d);
  if (msn_load_buffer(&m, "test.yaml", state, yaml, strlen(yaml), 0, &d) < 0)
    msn_diags_print(&d, stderr);
  msn_diags_close(&d);
  cr_assert_not_null(m);
  return m;
}

/* Runs a mission to the end on a fresh loop; returns the exit code. */
static int run(const char *yaml, int jobs) {
  struct rt_engine_opts o = {.state_dir = state,
                             .shim_path = SHIM_PATH,
                             .jobs = jobs,
                             .view = RT_VIEW_QUIET};
  struct crl_err err = CRL_ERR_INIT;
  struct msn_mission *m = load(yaml);
  struct rt_engine e;
  uv_loop_t loop;
  int code;

  cr_assert_eq(uv_loop_init(&loop), 0);
  cr_assert_eq(rt_engine_init(&e, &loop, &o, m, &err), 0, "%s", err.msg);
  code = rt_engine_run(&e);
  rt_engine_close(&e);
  cr_assert_eq(uv_loop_close(&loop), 0);
  msn_mission_free(m);
  return code;
}

struct task_row {
  char state[32];
  char reason[128];
  int attempts;
};

static int grab(const struct store_task *t, void *payload) {
  struct task_row *r = payload;

  snprintf(r->state, sizeof(r->state), "%s", t->state);
  snprintf(r->reason, sizeof(r->reason), "%s", t->reason ? t->reason : "");
  r->attempts = t->attempts;
  return 1;
}

static struct task_row task(const char *mission, const char *id) {
  struct task_row r = {{0}, {0}, 0};
  struct store_task t;
  struct store *st;

  cr_assert_eq(rt_store_open(&st, state, NULL), 0);
  cr_assert_eq(store_task_get(st, mission, id, &t, NULL), 0);
  grab(&t, &r);
  store_close(st);
  return r;
}

TestSuite(rt_engine, .init = setup, .fini = teardown, .timeout = 60);

Test(rt_engine, diamond_completes_and_closes_the_loop) {
  int code = run("mission: d\n"
                 "tickets:\n"
                 "  - id: A\n"
                 "    tasks: [ { id: a, command: [true] } ]\n"
                 "  - id: B\n"
                 "    tasks: [ { id: b, needs: [a], command: [true] } ]\n"
                 "  - id: C\n"
                 "    tasks: [ { id: c, needs: [a], command: [true] },\n"
                 "             { id: d, needs: [b, c], command: [true] } ]\n",
                 2);

  cr_assert_eq(code, RT_EXIT_OK);
  cr_assert_str_eq(task("d", "d").state, "completed");
  cr_assert_str_eq(task("d", "d").reason, "exit 0");
}

Test(rt_engine, failure_skips_dependents_and_exits_1) {
  int code = run("mission: f\n"
                 "tickets:\n"
                 "  - id: A\n"
                 "    tasks:\n"
                 "      - { id: a, command: 'exit 7',"
                 " retries: { max: 1, backoff: 10ms } }\n"
                 "      - { id: b, needs: [a], command: [true] }\n",
                 1);

  cr_assert_eq(code, RT_EXIT_FAILED);
  cr_assert_str_eq(task("f", "a").state, "failed");
  cr_assert_str_eq(task("f", "a").reason, "exit 7");
  cr_assert_eq(task("f", "a").attempts, 2);
  cr_assert_str_eq(task("f", "b").state, "skipped");
}

Test(rt_engine, timeout_stops_the_run_and_exits_4) {
  int code = run("mission: t\n"
                 "tickets:\n"
                 "  - id: A\n"
                 "    tasks: [ { id: a, command: [sleep, '100'],"
                 " timeout: 200ms, grace: 100ms } ]\n",
                 1);

  cr_assert_eq(code, RT_EXIT_LIMIT);
  cr_assert_str_eq(task("t", "a").state, "failed");
  cr_assert_str_eq(task("t", "a").reason, "timeout");
}

Test(rt_engine, missing_command_is_a_spawn_error) {
  int code = run("mission: s\n"
                 "tickets:\n"
                 "  - id: A\n"
                 "    tasks: [ { id: a, command: [/nonexistent/cmd] } ]\n",
                 1);

  cr_assert_eq(code, RT_EXIT_FAILED);
  cr_assert_str_eq(task("s", "a").reason,
                   "spawn error: ENOENT (No such file or directory)");
}

Test(rt_engine, second_run_resumes_without_rerunning) {
  const char *yaml = "mission: r\n"
                     "tickets:\n"
                     "  - id: A\n"
                     "    tasks: [ { id: a, command: 'echo x >> count' } ]\n";
  char *path, buf[64] = {0};
  FILE *fp;

  cr_assert_eq(run(yaml, 1), RT_EXIT_OK);
  cr_assert_eq(run(yaml, 1), RT_EXIT_OK);
  xasprintf(&path, "%s/count", state);
  fp = fopen(path, "r");
  cr_assert_not_null(fp);
  cr_assert_eq(fread(buf, 1, sizeof(buf) - 1, fp), 2, "ran twice: %s", buf);
  fclose(fp);
  free(path);
}
