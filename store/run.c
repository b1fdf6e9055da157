/*
 * Runs in the store: one row per attempt of a task, from insert ("starting")
 * through spawn ("running", with the shim's pid and start time so a daemon
 * restart can find the shim again and tell it from a recycled pid) to end
 * ("ended", with how it ended). The log offset records how much of the run's
 * output.log has become events, so re-attaching resumes the parse there.
 * Updates never read first: the UPDATE's row count tells a missing run.
 */
#include "store-int.h"

#include <assert.h>

int store_run_insert(struct store *st, struct store_run *r,
                     struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(r != NULL && r->mission != NULL && r->task != NULL);
  if ((rc = store__write(st, STORE_STMT_RUN_INSERT, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, r->mission);
  store__bind_text(s, 2, r->task);
  store__bind_int(s, 3, r->attempt);
  store__bind_text(s, 4, r->dir);
  store__bind_int(s, 5, r->started_at);
  if ((rc = store__step_done(st, s, __func__, err)) == 0)
    r->id = sqlite3_last_insert_rowid(st->db);
  else if (store__is_fk_error(st))
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s not found in %s",
                     r->task, r->mission);
  store__stmt_put(st, STORE_STMT_RUN_INSERT, s);
  return rc;
}

/* Steps an UPDATE of one run whose parameters are bound; a run that is not
 * there is CRL_ENOT_FOUND. Releases the statement. */
static int run_update(struct store *st, enum store_stmt id, sqlite3_stmt *s,
                      int64_t run, struct crl_err *err) {
  int rc;

  if ((rc = store__step_done(st, s, "run update", err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_ENOT_FOUND, "run %lld not found", (long long)run);
  store__stmt_put(st, id, s);
  return rc;
}

int store_run_set_dir(struct store *st, int64_t run, const char *dir,
                      struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__write(st, STORE_STMT_RUN_SET_DIR, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, run);
  store__bind_text(s, 2, dir);
  return run_update(st, STORE_STMT_RUN_SET_DIR, s, run, err);
}

int store_run_set_spawned(struct store *st, int64_t run, int64_t shim_pid,
                          int64_t shim_start, int64_t pid,
                          struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__write(st, STORE_STMT_RUN_SET_SPAWNED, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, run);
  store__bind_int(s, 2, shim_pid);
  store__bind_int(s, 3, shim_start);
  store__bind_int(s, 4, pid);
  return run_update(st, STORE_STMT_RUN_SET_SPAWNED, s, run, err);
}

int store_run_set_offset(struct store *st, int64_t run, int64_t offset,
                         struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__write(st, STORE_STMT_RUN_SET_OFFSET, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, run);
  store__bind_int(s, 2, offset);
  return run_update(st, STORE_STMT_RUN_SET_OFFSET, s, run, err);
}

int store_run_end(struct store *st, int64_t run, int exit_code, int sig,
                  const char *reason, int err_no, int64_t ended_at,
                  struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__write(st, STORE_STMT_RUN_END, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, run);
  store__bind_int(s, 2, exit_code);
  store__bind_int(s, 3, sig);
  store__bind_text(s, 4, reason);
  store__bind_int(s, 5, err_no);
  store__bind_int(s, 6, ended_at);
  return run_update(st, STORE_STMT_RUN_END, s, run, err);
}

/* Fills r from the current row (columns in stmt.c's RUN_COLS order); its
 * strings are the statement's. */
static void run_row(sqlite3_stmt *s, struct store_run *r) {
  r->id = sqlite3_column_int64(s, 0);
  r->mission = store__col_text(s, 1);
  r->task = store__col_text(s, 2);
  r->attempt = sqlite3_column_int(s, 3);
  r->state = store__col_text(s, 4);
  r->dir = store__col_text(s, 5);
  r->shim_pid = sqlite3_column_int64(s, 6);
  r->shim_start = sqlite3_column_int64(s, 7);
  r->pid = sqlite3_column_int64(s, 8);
  r->exit_code = sqlite3_column_int(s, 9);
  r->signal = sqlite3_column_int(s, 10);
  r->reason = store__col_text(s, 11);
  r->err_no = sqlite3_column_int(s, 12);
  r->log_offset = sqlite3_column_int64(s, 13);
  r->started_at = sqlite3_column_int64(s, 14);
  r->ended_at = sqlite3_column_int64(s, 15);
}

int store_run_get(struct store *st, int64_t run, struct store_run *out,
                  struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(out != NULL);
  store__hold_clear(st);
  if ((rc = store__stmt_get(st, STORE_STMT_RUN_GET, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, run);
  switch (sqlite3_step(s)) {
  case SQLITE_ROW:
    run_row(s, out);
    out->mission = store__hold(st, s, 1);
    out->task = store__hold(st, s, 2);
    out->state = store__hold(st, s, 4);
    out->dir = store__hold(st, s, 5);
    out->reason = store__hold(st, s, 11);
    break;
  case SQLITE_DONE:
    rc = crl_err_set(err, CRL_ENOT_FOUND, "run %lld not found", (long long)run);
    break;
  default:
    rc = store__fail(st, __func__, err);
  }
  store__stmt_put(st, STORE_STMT_RUN_GET, s);
  return rc;
}

/* Walks the rows of a bound list statement into cb; releases it. */
static int run_walk(struct store *st, enum store_stmt id, sqlite3_stmt *s,
                    store_run_cb cb, void *payload) {
  struct store_run r;
  int rc;

  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    run_row(s, &r);
    if ((rc = cb(&r, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, "run list");
out:
  store__stmt_put(st, id, s);
  return rc;
}

int store_run_list_live(struct store *st, const char *mission, store_run_cb cb,
                        void *payload) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL);
  if ((rc = store__stmt_get(st, STORE_STMT_RUN_LIST_LIVE, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  return run_walk(st, STORE_STMT_RUN_LIST_LIVE, s, cb, payload);
}

int store_run_list(struct store *st, const char *mission, const char *task,
                   store_run_cb cb, void *payload) {
  enum store_stmt id = task ? STORE_STMT_RUN_LIST_TASK : STORE_STMT_RUN_LIST;
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL);
  if ((rc = store__stmt_get(st, id, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  if (task != NULL)
    store__bind_text(s, 2, task);
  return run_walk(st, id, s, cb, payload);
}
