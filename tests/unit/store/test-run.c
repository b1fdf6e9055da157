#include "store-fixture.h"

static void run_setup(void) {
  fx_setup();
  fx_mission_abc();
}

TestSuite(store_run, .init = run_setup, .fini = fx_teardown);

static int64_t insert_run(const char *task, int attempt) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r = {.mission = "m", .task = task, .attempt = attempt};

  r.started_at = 1000 + attempt;
  cr_assert_eq(store_run_insert(fx_st, &r, &err), 0, "%s", err.msg);
  cr_assert_gt(r.id, 0);
  return r.id;
}

Test(store_run, insert_assigns_id_and_starts_in_starting) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r;
  int64_t a = insert_run("a", 1);
  int64_t b = insert_run("a", 2);

  cr_assert_gt(b, a);
  cr_assert_eq(store_run_get(fx_st, a, &r, &err), 0, "%s", err.msg);
  cr_assert_eq(r.id, a);
  cr_assert_str_eq(r.mission, "m");
  cr_assert_str_eq(r.task, "a");
  cr_assert_eq(r.attempt, 1);
  cr_assert_str_eq(r.state, "starting");
  cr_assert_null(r.dir);
  cr_assert_eq(r.exit_code, -1);
  cr_assert_eq(r.signal, 0);
  cr_assert_null(r.reason);
  cr_assert_eq(r.log_offset, 0);
  cr_assert_eq(r.started_at, 1001);
  cr_assert_eq(r.ended_at, 0);
}

Test(store_run, insert_for_unknown_task_fails) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r = {.mission = "m", .task = "zz", .attempt = 1};

  cr_assert_eq(store_run_insert(fx_st, &r, &err), CRL_ETASK_NOT_FOUND);
  r.mission = "nope";
  r.task = "a";
  cr_assert_eq(store_run_insert(fx_st, &r, &err), CRL_ETASK_NOT_FOUND);
}

Test(store_run, dir_spawned_and_offset_are_recorded) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r;
  int64_t id = insert_run("a", 1);

  cr_assert_eq(store_run_set_dir(fx_st, id, "/state/runs/1", &err), 0);
  cr_assert_eq(store_run_set_spawned(fx_st, id, 4242, 777, 4243, &err), 0);
  cr_assert_eq(store_run_set_offset(fx_st, id, 1234, &err), 0);
  cr_assert_eq(store_run_set_offset(fx_st, id, 5678, &err), 0);
  cr_assert_eq(store_run_get(fx_st, id, &r, &err), 0);
  cr_assert_str_eq(r.dir, "/state/runs/1");
  cr_assert_str_eq(r.state, "running");
  cr_assert_eq(r.shim_pid, 4242);
  cr_assert_eq(r.shim_start, 777);
  cr_assert_eq(r.pid, 4243);
  cr_assert_eq(r.log_offset, 5678);
}

Test(store_run, end_sets_fields) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r;
  int64_t id = insert_run("a", 1);

  cr_assert_eq(store_run_set_spawned(fx_st, id, 1, 2, 3, &err), 0);
  cr_assert_eq(store_run_end(fx_st, id, -1, 9, "signal 9", 0, 2000, &err), 0);
  cr_assert_eq(store_run_get(fx_st, id, &r, &err), 0);
  cr_assert_str_eq(r.state, "ended");
  cr_assert_eq(r.exit_code, -1);
  cr_assert_eq(r.signal, 9);
  cr_assert_str_eq(r.reason, "signal 9");
  cr_assert_eq(r.err_no, 0);
  cr_assert_eq(r.ended_at, 2000);
  id = insert_run("b", 1);
  cr_assert_eq(store_run_end(fx_st, id, 127, 0, "spawn", 2, 2001, &err), 0);
  cr_assert_eq(store_run_get(fx_st, id, &r, &err), 0);
  cr_assert_eq(r.exit_code, 127);
  cr_assert_eq(r.err_no, 2);
}

Test(store_run, unknown_run_is_not_found) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r;

  cr_assert_eq(store_run_get(fx_st, 99, &r, &err), CRL_ENOT_FOUND);
  cr_assert_eq(store_run_set_dir(fx_st, 99, "/x", &err), CRL_ENOT_FOUND);
  cr_assert_eq(store_run_set_spawned(fx_st, 99, 1, 2, 3, &err), CRL_ENOT_FOUND);
  cr_assert_eq(store_run_set_offset(fx_st, 99, 1, &err), CRL_ENOT_FOUND);
  cr_assert_eq(store_run_end(fx_st, 99, 0, 0, NULL, 0, 1, &err),
               CRL_ENOT_FOUND);
  cr_assert_eq(err.code, CRL_ENOT_FOUND);
}

struct runs {
  int64_t id[8];
  char task[8][8];
  int n;
};

static int collect_run(const struct store_run *r, void *payload) {
  struct runs *runs = payload;

  runs->id[runs->n] = r->id;
  snprintf(runs->task[runs->n++], sizeof(runs->task[0]), "%s", r->task);
  return 0;
}

Test(store_run, list_live_returns_only_runs_not_ended) {
  struct runs runs = {.n = 0};
  int64_t a = insert_run("a", 1);
  int64_t b = insert_run("b", 1);
  int64_t c = insert_run("c", 1);

  cr_assert_eq(store_run_set_spawned(fx_st, b, 1, 2, 3, NULL), 0);
  cr_assert_eq(store_run_end(fx_st, a, 0, 0, "exit 0", 0, 5, NULL), 0);
  cr_assert_eq(store_mission_upsert(fx_st, "m2", NULL, 1, NULL), 0);
  cr_assert_eq(store_ticket_upsert(fx_st, "m2", "T", NULL, 0, NULL), 0);
  cr_assert_eq(store_task_upsert(fx_st, "m2", "a", "T", NULL, 0, NULL), 0);
  struct store_run other = {.mission = "m2", .task = "a", .attempt = 1};
  cr_assert_eq(store_run_insert(fx_st, &other, NULL), 0);
  cr_assert_eq(store_commit(fx_st, NULL), 0);
  cr_assert_eq(store_run_list_live(fx_st, "m", collect_run, &runs), 0);
  cr_assert_eq(runs.n, 2);
  cr_assert_eq(runs.id[0], b);
  cr_assert_eq(runs.id[1], c);
}

Test(store_run, list_by_task_and_by_mission_oldest_first) {
  struct runs runs = {.n = 0};
  int64_t a1 = insert_run("a", 1);
  int64_t b1 = insert_run("b", 1);
  int64_t a2 = insert_run("a", 2);

  cr_assert_eq(store_run_list(fx_st, "m", "a", collect_run, &runs), 0);
  cr_assert_eq(runs.n, 2);
  cr_assert_eq(runs.id[0], a1);
  cr_assert_eq(runs.id[1], a2);
  runs.n = 0;
  cr_assert_eq(store_run_list(fx_st, "m", NULL, collect_run, &runs), 0);
  cr_assert_eq(runs.n, 3);
  cr_assert_eq(runs.id[1], b1);
  cr_assert_str_eq(runs.task[1], "b");
}

static int end_each(const struct store_run *r, void *payload) {
  struct runs inner = {.n = 0};

  /* Re-entering the same list from its own callback is allowed. */
  cr_assert_eq(store_run_list_live(fx_st, "m", collect_run, &inner), 0);
  cr_assert_geq(inner.n, 1);
  cr_assert_eq(store_run_end(fx_st, r->id, 0, 0, "exit 0", 0, 9, NULL), 0);
  (*(int *)payload)++;
  return 0;
}

Test(store_run, list_live_callback_may_end_runs) {
  struct runs runs = {.n = 0};
  int ended = 0;

  insert_run("a", 1);
  insert_run("b", 1);
  cr_assert_eq(store_run_list_live(fx_st, "m", end_each, &ended), 0);
  cr_assert_eq(ended, 2);
  cr_assert_eq(store_run_list_live(fx_st, "m", collect_run, &runs), 0);
  cr_assert_eq(runs.n, 0);
}
