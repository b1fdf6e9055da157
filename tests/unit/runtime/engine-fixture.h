/*
 * An engine embedded the way the daemon embeds it, on a private loop with a
 * temp state dir and a shared store: every commit and the end return from
 * uv_run, so tests look at the state after each one instead of blocking on a
 * quiet agent. Shared by test-engine-ctl.c and test-gate.c.
 */
#ifndef ENGINE_FIXTURE_H
#define ENGINE_FIXTURE_H

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

#define HEAD "mission: c\ndefaults: { sandbox: none }\ntickets:\n"

#endif
