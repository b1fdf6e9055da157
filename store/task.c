/*
 * Tickets, tasks and the dependency edges between tasks. The mission file is
 * the source of truth for their shape, so upserts rewrite title, priority,
 * ticket, agent and file order but never the progress the store has
 * recorded (state, attempts, reason, times): re-submitting a mission after a
 * restart resumes it instead of starting over. A row that references an
 * absent mission, ticket or task is refused by the foreign keys and reported
 * with the matching NOT_FOUND code.
 */
#include "store-int.h"

#include <assert.h>

int store_ticket_upsert(struct store *st, const char *mission, const char *id,
                        const char *title, int priority, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && id != NULL);
  if ((rc = store__write(st, STORE_STMT_TICKET_UPSERT, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, id);
  store__bind_text(s, 3, title);
  store__bind_int(s, 4, priority);
  rc = store__step_done(st, s, __func__, err);
  if (rc < 0 && store__is_fk_error(st))
    rc = crl_err_set(err, CRL_EMISSION_NOT_FOUND, "mission %s not found",
                     mission);
  store__stmt_put(st, STORE_STMT_TICKET_UPSERT, s);
  return rc;
}

/* A task's foreign keys point at its mission and its ticket; tell which one
 * is missing. Only runs on the error path. */
static int task_fk_error(struct store *st, const char *mission,
                         const char *ticket, struct crl_err *err) {
  if (!store__mission_exists(st, mission))
    return crl_err_set(err, CRL_EMISSION_NOT_FOUND, "mission %s not found",
                       mission);
  return crl_err_set(err, CRL_ENOT_FOUND, "ticket %s not found in mission %s",
                     ticket, mission);
}

int store_task_upsert(struct store *st, const char *mission, const char *id,
                      const char *ticket, const char *agent, int position,
                      struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && id != NULL);
  if ((rc = store__write(st, STORE_STMT_TASK_UPSERT, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, id);
  store__bind_text(s, 3, ticket);
  store__bind_text(s, 4, agent);
  store__bind_int(s, 5, position);
  rc = store__step_done(st, s, __func__, err);
  if (rc < 0 && store__is_fk_error(st))
    rc = task_fk_error(st, mission, ticket, err);
  store__stmt_put(st, STORE_STMT_TASK_UPSERT, s);
  return rc;
}

int store_dep_add(struct store *st, const char *mission, const char *task,
                  const char *needs, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && task != NULL && needs != NULL);
  if ((rc = store__write(st, STORE_STMT_DEP_ADD, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, task);
  store__bind_text(s, 3, needs);
  rc = store__step_done(st, s, __func__, err);
  if (rc < 0 && store__is_fk_error(st))
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND,
                     "task %s or %s not found in mission %s", task, needs,
                     mission);
  store__stmt_put(st, STORE_STMT_DEP_ADD, s);
  return rc;
}

int store_task_set_state(struct store *st, const char *mission,
                         const char *task, const char *state, int attempts,
                         const char *reason, int64_t started_at,
                         int64_t ended_at, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && task != NULL && state != NULL);
  if ((rc = store__write(st, STORE_STMT_TASK_SET_STATE, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, task);
  store__bind_text(s, 3, state);
  store__bind_int(s, 4, attempts);
  store__bind_text(s, 5, reason);
  store__bind_int(s, 6, started_at);
  store__bind_int(s, 7, ended_at);
  /* No SELECT first: the row count of the UPDATE tells a missing task. */
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s not found in %s", task,
                     mission);
  store__stmt_put(st, STORE_STMT_TASK_SET_STATE, s);
  return rc;
}

/* Fills t from the current row; its strings are the statement's. */
static void task_row(sqlite3_stmt *s, struct store_task *t) {
  t->mission = store__col_text(s, 0);
  t->id = store__col_text(s, 1);
  t->ticket = store__col_text(s, 2);
  t->agent = store__col_text(s, 3);
  t->state = store__col_text(s, 4);
  t->reason = store__col_text(s, 5);
  t->attempts = sqlite3_column_int(s, 6);
  t->position = sqlite3_column_int(s, 7);
  t->started_at = sqlite3_column_int64(s, 8);
  t->ended_at = sqlite3_column_int64(s, 9);
  t->feedback = store__col_text(s, 10);
  t->phase = store__col_text(s, 11);
  t->resume_turns = sqlite3_column_int(s, 12);
}

/* Copies the row's strings so they survive the statement's reset. */
static void task_hold(struct store *st, sqlite3_stmt *s, struct store_task *t) {
  t->mission = store__hold(st, s, 0);
  t->id = store__hold(st, s, 1);
  t->ticket = store__hold(st, s, 2);
  t->agent = store__hold(st, s, 3);
  t->state = store__hold(st, s, 4);
  t->reason = store__hold(st, s, 5);
  t->feedback = store__hold(st, s, 10);
  t->phase = store__hold(st, s, 11);
}

int store_task_get(struct store *st, const char *mission, const char *id,
                   struct store_task *out, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && id != NULL && out != NULL);
  store__hold_clear(st);
  if ((rc = store__stmt_get(st, STORE_STMT_TASK_GET, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, id);
  switch (sqlite3_step(s)) {
  case SQLITE_ROW:
    task_row(s, out);
    task_hold(st, s, out);
    break;
  case SQLITE_DONE:
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s not found in %s", id,
                     mission);
    break;
  default:
    rc = store__fail(st, __func__, err);
  }
  store__stmt_put(st, STORE_STMT_TASK_GET, s);
  return rc;
}

int store_task_list(struct store *st, const char *mission, store_task_cb cb,
                    void *payload) {
  struct store_task t;
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL);
  if ((rc = store__stmt_get(st, STORE_STMT_TASK_LIST, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    task_row(s, &t);
    if ((rc = cb(&t, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, __func__);
out:
  store__stmt_put(st, STORE_STMT_TASK_LIST, s);
  return rc;
}

int store_task_set_feedback(struct store *st, const char *mission,
                            const char *task, const char *feedback,
                            struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && task != NULL);
  if ((rc = store__write(st, STORE_STMT_TASK_SET_FEEDBACK, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, task);
  store__bind_text(s, 3, feedback);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s not found in %s", task,
                     mission);
  store__stmt_put(st, STORE_STMT_TASK_SET_FEEDBACK, s);
  return rc;
}

/* Runs one UPDATE of a task's row whose ?3 is bound by the caller; a task
 * that matched no row is CRL_ETASK_NOT_FOUND. */
static int task_update(struct store *st, enum store_stmt id, sqlite3_stmt *s,
                       const char *mission, const char *task,
                       struct crl_err *err) {
  int rc;

  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, task);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s not found in %s", task,
                     mission);
  store__stmt_put(st, id, s);
  return rc;
}

int store_task_set_phase(struct store *st, const char *mission,
                         const char *task, const char *phase,
                         struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && task != NULL);
  if ((rc = store__write(st, STORE_STMT_TASK_SET_PHASE, &s, err)) < 0)
    return rc;
  store__bind_text(s, 3, phase);
  return task_update(st, STORE_STMT_TASK_SET_PHASE, s, mission, task, err);
}

int store_task_set_resume(struct store *st, const char *mission,
                          const char *task, int turns, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && task != NULL && turns >= 0);
  if ((rc = store__write(st, STORE_STMT_TASK_SET_RESUME, &s, err)) < 0)
    return rc;
  store__bind_int(s, 3, turns);
  return task_update(st, STORE_STMT_TASK_SET_RESUME, s, mission, task, err);
}
