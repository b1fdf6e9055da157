#include "store-fixture.h"

TestSuite(store_task, .init = fx_setup, .fini = fx_teardown);

Test(store_task, task_for_unknown_mission_fails) {
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(store_task_upsert(fx_st, "nope", "a", "T", "claude", 0, &err),
               CRL_EMISSION_NOT_FOUND);
  cr_assert_eq(err.code, CRL_EMISSION_NOT_FOUND);
  cr_assert_eq(store_ticket_upsert(fx_st, "nope", "T", "t", 0, &err),
               CRL_EMISSION_NOT_FOUND);
}

Test(store_task, task_for_unknown_ticket_fails) {
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(store_mission_upsert(fx_st, "m", NULL, 1, &err), 0);
  cr_assert_eq(store_task_upsert(fx_st, "m", "a", "NOPE", "claude", 0, &err),
               CRL_ENOT_FOUND);
  cr_assert_not_null(strstr(err.msg, "NOPE"));
}

Test(store_task, upsert_then_get_has_defaults) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  fx_mission_abc();
  cr_assert_eq(store_task_get(fx_st, "m", "b", &t, &err), 0, "%s", err.msg);
  cr_assert_str_eq(t.mission, "m");
  cr_assert_str_eq(t.id, "b");
  cr_assert_str_eq(t.ticket, "T");
  cr_assert_str_eq(t.agent, "claude");
  cr_assert_str_eq(t.state, "pending");
  cr_assert_null(t.reason);
  cr_assert_eq(t.attempts, 0);
  cr_assert_eq(t.position, 1);
  cr_assert_eq(t.started_at, 0);
  cr_assert_eq(t.ended_at, 0);
  cr_assert_eq(t.resume_turns, 0);
}

Test(store_task, resume_turns_are_kept_until_cleared) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  fx_mission_abc();
  cr_assert_eq(store_task_set_resume(fx_st, "m", "a", 5, &err), 0, "%s",
               err.msg);
  cr_assert_eq(store_commit(fx_st, &err), 0);
  cr_assert_eq(store_task_upsert(fx_st, "m", "a", "T", "codex", 0, &err), 0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_eq(t.resume_turns, 5, "an upsert keeps the request");
  cr_assert_eq(store_task_set_resume(fx_st, "m", "a", 0, &err), 0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_eq(t.resume_turns, 0);
  cr_assert_eq(store_task_set_resume(fx_st, "m", "zz", 1, &err),
               CRL_ETASK_NOT_FOUND);
}

Test(store_task, upsert_keeps_state) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  fx_mission_abc();
  cr_assert_eq(store_task_set_state(fx_st, "m", "a", "running", 2, "retry", 50,
                                    -1, &err),
               0, "%s", err.msg);
  cr_assert_eq(store_commit(fx_st, &err), 0);
  cr_assert_eq(store_ticket_upsert(fx_st, "m", "T", "renamed", 3, &err), 0);
  cr_assert_eq(store_task_upsert(fx_st, "m", "a", "T", "codex", 7, &err), 0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_str_eq(t.state, "running");
  cr_assert_eq(t.attempts, 2);
  cr_assert_str_eq(t.reason, "retry");
  cr_assert_eq(t.started_at, 50);
  cr_assert_str_eq(t.agent, "codex");
  cr_assert_eq(t.position, 7);
}

Test(store_task, set_state_null_reason_and_minus_one_keep_stored) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  fx_mission_abc();
  cr_assert_eq(store_task_set_state(fx_st, "m", "a", "running", 1, "first", 10,
                                    -1, &err),
               0);
  cr_assert_eq(
      store_task_set_state(fx_st, "m", "a", "failed", 1, NULL, -1, 20, &err),
      0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_str_eq(t.state, "failed");
  cr_assert_str_eq(t.reason, "first");
  cr_assert_eq(t.started_at, 10);
  cr_assert_eq(t.ended_at, 20);
  cr_assert_eq(
      store_task_set_state(fx_st, "m", "a", "ready", 1, "again", 0, 0, &err),
      0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_str_eq(t.reason, "again");
  cr_assert_eq(t.started_at, 0);
  cr_assert_eq(t.ended_at, 0);
}

Test(store_task, unknown_task_is_not_found) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  fx_mission_abc();
  cr_assert_eq(
      store_task_set_state(fx_st, "m", "zz", "running", 0, NULL, -1, -1, &err),
      CRL_ETASK_NOT_FOUND);
  cr_assert_eq(store_task_set_state(fx_st, "other", "a", "running", 0, NULL, -1,
                                    -1, NULL),
               CRL_ETASK_NOT_FOUND);
  cr_assert_eq(store_task_get(fx_st, "m", "zz", &t, &err), CRL_ETASK_NOT_FOUND);
  cr_assert_eq(err.code, CRL_ETASK_NOT_FOUND);
}

struct ids {
  char v[8][16];
  int n;
};

static int collect_task(const struct store_task *t, void *payload) {
  struct ids *ids = payload;

  snprintf(ids->v[ids->n++], sizeof(ids->v[0]), "%s", t->id);
  return 0;
}

Test(store_task, list_is_in_file_order) {
  struct ids ids = {.n = 0};

  fx_mission_abc();
  /* Move a to the end: the list follows position, not insertion. */
  cr_assert_eq(store_task_upsert(fx_st, "m", "a", "T", "claude", 9, NULL), 0);
  cr_assert_eq(store_task_list(fx_st, "m", collect_task, &ids), 0);
  cr_assert_eq(ids.n, 3);
  cr_assert_str_eq(ids.v[0], "b");
  cr_assert_str_eq(ids.v[1], "c");
  cr_assert_str_eq(ids.v[2], "a");
  ids.n = 0;
  cr_assert_eq(store_task_list(fx_st, "other", collect_task, &ids), 0);
  cr_assert_eq(ids.n, 0);
}

Test(store_task, dep_add_checks_both_tasks_and_is_idempotent) {
  struct crl_err err = CRL_ERR_INIT;
  sqlite3 *db;

  fx_mission_abc();
  cr_assert_eq(store_dep_add(fx_st, "m", "b", "a", &err), 0, "%s", err.msg);
  cr_assert_eq(store_dep_add(fx_st, "m", "b", "a", &err), 0, "%s", err.msg);
  cr_assert_eq(store_dep_add(fx_st, "m", "c", "zz", &err), CRL_ETASK_NOT_FOUND);
  cr_assert_eq(store_dep_add(fx_st, "m", "zz", "a", &err), CRL_ETASK_NOT_FOUND);
  cr_assert_eq(store_commit(fx_st, &err), 0);
  db = fx_raw_open();
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM deps"), 1);
  sqlite3_close(db);
}

static int set_state_from_list(const struct store_task *t, void *payload) {
  struct store *st = payload;
  struct store_task got;

  /* Writing and reading from inside a walk is allowed. */
  cr_assert_eq(store_task_set_state(st, t->mission, t->id, "ready", 0, NULL, -1,
                                    -1, NULL),
               0);
  cr_assert_eq(store_task_get(st, t->mission, t->id, &got, NULL), 0);
  cr_assert_str_eq(got.state, "ready");
  return 0;
}

Test(store_task, callbacks_may_call_back_into_the_store) {
  struct ids ids = {.n = 0};

  fx_mission_abc();
  cr_assert_eq(store_task_list(fx_st, "m", set_state_from_list, fx_st), 0);
  cr_assert_eq(store_task_list(fx_st, "m", collect_task, &ids), 0);
  cr_assert_eq(ids.n, 3);
}
