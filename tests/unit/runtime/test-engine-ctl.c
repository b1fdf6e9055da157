/*
 * An engine embedded the way the daemon embeds it: a shared store, no
 * signal handlers, callbacks after each commit and at the end, human
 * decisions through rt_engine_approve/reject/retry/cancel/pause, and a
 * detach that leaves the agents running for the next engine to re-attach.
 * Everything is driven by the loop's events; every test ends with
 * uv_loop_close == 0.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt-int.h"

static char state[] = "/tmp/corral-ectl-XXXXXX";
static uv_loop_t loop;
static struct store *st;
static int commits, finished;

/* Every commit (a state change among them) returns from uv_run, so the
 * tests look at the state after each one instead of blocking on a quiet
 * agent. */
static void on_commit(struct rt_engine *e, void *payload) {
  commits++;
  uv_stop(&loop);
}

static void on_finish(struct rt_engine *e, void *payload) {
  finished++;
  uv_stop(&loop);
}

static void setup(void) {
  cr_assert_not_null(mkdtemp(state));
  cr_assert_eq(uv_loop_init(&loop), 0);
  cr_assert_eq(rt_store_open(&st, state, NULL), 0);
  commits = finished = 0;
}

static void teardown(void) {
  char *cmd;

  store_close(st);
  cr_assert_eq(uv_loop_close(&loop), 0);
  xasprintf(&cmd, "rm -rf '%s'", state);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
}

TestSuite(rt_engine_ctl, .init = setup, .fini = teardown, .timeout = 60);

static struct msn_mission *load(const char *yaml) {
  struct msn_mission *m = NULL;
  struct msn_diags d;

  msn_diags_init(&d);
  if (msn_load_buffer(&m, "t.yaml", state, yaml, strlen(yaml), 0, &d) < 0)
    msn_diags_print(&d, stderr);
  msn_diags_close(&d);
  cr_assert_not_null(m);
  return m;
}

static void start(struct rt_engine *e, struct msn_mission *m) {
  struct rt_engine_opts o = {.state_dir = state,
                             .shim_path = SHIM_PATH,
                             .jobs = 2,
                             .view = RT_VIEW_QUIET,
                             .st = st,
                             .embedded = 1,
                             .on_commit = on_commit,
                             .on_finish = on_finish};
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(rt_engine_init(e, &loop, &o, m, &err), 0, "%s", err.msg);
}

static enum sched_state state_of(struct rt_engine *e, const char *id) {
  return sched_task_state(e->sched, (size_t)rt_engine_task_index(e, id));
}

/* Turns the loop until task id is in st (the loop blocks on real events:
 * shims exiting, logs growing). */
static void until_state(struct rt_engine *e, const char *id,
                        enum sched_state want) {
  while (state_of(e, id) != want && !e->finished)
    uv_run(&loop, UV_RUN_ONCE);
  cr_assert_eq(state_of(e, id), want, "%s is %s", id,
               sched_state_name(state_of(e, id)));
}

static void until_finished(struct rt_engine *e) {
  while (!finished)
    uv_run(&loop, UV_RUN_ONCE);
  while (!rt_engine_idle(e))
    uv_run(&loop, UV_RUN_ONCE);
}

static void close_engine(struct rt_engine *e, struct msn_mission *m) {
  rt_engine_close(e);
  msn_mission_free(m);
}

#define HEAD "mission: c\ndefaults: { sandbox: none }\ntickets:\n"

Test(rt_engine_ctl, review_waits_for_a_decision_then_goes_on) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, review: required, command: \"true\" }\n"
                "      - { id: b, needs: [a], command: \"true\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  cr_assert_eq(finished, 0, "a daemon's engine waits for the review");
  cr_assert_eq(rt_engine_approve(&e, 1, &err), CRL_EINVALID_TRANSITION);
  cr_assert_not_null(strstr(err.msg, "task b of mission c is pending"));
  cr_assert_eq(rt_engine_approve(&e, 0, &err), 0, "%s", err.msg);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  cr_assert_gt(commits, 0);
  close_engine(&e, m);
}

static int read_file(char *buf, size_t len, const char *name) {
  char *path;
  int fd, n;

  xasprintf(&path, "%s/%s", state, name);
  fd = open(path, O_RDONLY);
  free(path);
  if (fd < 0)
    return -1;
  n = (int)read(fd, buf, len - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

Test(rt_engine_ctl, reject_reruns_with_the_feedback) {
  struct msn_mission *m = load(
      HEAD "  - id: T\n    tasks:\n"
           "      - { id: a, review: required, command: "
           "\"printf '%s' \\\"${CORRAL_FEEDBACK:-none}\\\" > fb.txt\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;
  char buf[64];

  start(&e, m);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  read_file(buf, sizeof(buf), "fb.txt");
  cr_assert_str_eq(buf, "none");
  cr_assert_eq(rt_engine_reject(&e, 0, "shorter please", &err), 0);
  cr_assert_eq(state_of(&e, "a"), SCHED_READY);
  until_state(&e, "a", SCHED_RUNNING);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  read_file(buf, sizeof(buf), "fb.txt");
  cr_assert_str_eq(buf, "shorter please");
  cr_assert_eq(sched_task_attempts(e.sched, 0), 2);
  cr_assert_eq(rt_engine_approve(&e, 0, &err), 0);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  close_engine(&e, m);
}

Test(rt_engine_ctl, retry_runs_a_failed_task_again) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: \"test -e ok || { touch ok; exit 3; "
                "}\" }\n"
                "      - { id: b, needs: [a], command: \"true\" }\n"
                "      - { id: c, review: required, command: \"true\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  until_state(&e, "b", SCHED_SKIPPED);
  until_state(&e, "c", SCHED_PENDING_REVIEW);
  cr_assert_eq(state_of(&e, "a"), SCHED_FAILED);
  cr_assert_eq(rt_engine_retry(&e, 2, &err), CRL_EINVALID_TRANSITION);
  cr_assert_eq(rt_engine_retry(&e, 0, &err), 0, "%s", err.msg);
  cr_assert_eq(state_of(&e, "b"), SCHED_PENDING, "b waits for a again");
  until_state(&e, "b", SCHED_COMPLETED);
  cr_assert_eq(sched_task_attempts(e.sched, 0), 2);
  cr_assert_eq(rt_engine_approve(&e, 2, &err), 0);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  close_engine(&e, m);
}

Test(rt_engine_ctl, pause_holds_starts_and_cancel_stops_the_mission) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: \"exec sleep 60\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  cr_assert_eq(rt_engine_pause(&e, 1, &err), 0);
  cr_assert_eq(rt_engine_pause(&e, 1, &err), CRL_EINVALID_TRANSITION);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  cr_assert_eq(state_of(&e, "a"), SCHED_READY, "paused: nothing starts");
  cr_assert_eq(e.live, 0);
  cr_assert_eq(rt_engine_pause(&e, 0, &err), 0);
  until_state(&e, "a", SCHED_RUNNING);
  cr_assert_eq(rt_engine_cancel(&e, &err), 0);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_CANCELLED);
  cr_assert_eq(state_of(&e, "a"), SCHED_CANCELLED);
  cr_assert_eq(rt_engine_cancel(&e, &err), CRL_EINVALID_TRANSITION);
  close_engine(&e, m);
}

Test(rt_engine_ctl, detach_leaves_the_agent_and_a_new_engine_reattaches) {
  const char *yaml = HEAD "  - id: T\n    tasks:\n"
                          "      - { id: a, command: \"echo started; while [ "
                          "! -e go ]; do sleep 0.02; done; echo finished\" }\n";
  struct msn_mission *m = load(yaml);
  struct rt_engine e;
  char buf[256], *path;
  pid_t shim;
  int fd;

  start(&e, m);
  until_state(&e, "a", SCHED_RUNNING);
  cr_assert_not_null(e.runs[0]);
  /* Its first line proves the agent runs (a shim detached before it took
   * its lock would be fenced off and the task started afresh). */
  while (e.runs[0]->read_off == 0)
    uv_run(&loop, UV_RUN_ONCE);
  shim = e.runs[0]->shim_pid;
  rt_engine_detach(&e);
  while (!rt_engine_idle(&e))
    uv_run(&loop, UV_RUN_ONCE);
  cr_assert_eq(finished, 0, "a detached mission is not over");
  close_engine(&e, m);
  cr_assert_eq(kill(shim, 0), 0, "the shim outlives its engine");

  xasprintf(&path, "%s/go", state);
  fd = open(path, O_CREAT | O_WRONLY, 0600);
  cr_assert_geq(fd, 0);
  close(fd);
  free(path);
  m = load(yaml);
  start(&e, m);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  cr_assert_eq(sched_task_attempts(e.sched, 0), 1, "the task ran once (%d)",
               sched_task_attempts(e.sched, 0));
  close_engine(&e, m);
  xasprintf(&path, "%s/runs/1/output.log", state);
  fd = open(path, O_RDONLY);
  free(path);
  cr_assert_geq(fd, 0);
  buf[read(fd, buf, sizeof(buf) - 1)] = '\0';
  close(fd);
  cr_assert_str_eq(buf, "started\nfinished\n");
}
