/*
 * The git side of tickets: the branch corral made for a ticket, the head it
 * last recorded there (the force-push policy holds the branch to it, across
 * runs and restarts), and the state of its merge into the mission's base.
 * Rows are created by store_ticket_upsert (task.c) with the mission's shape.
 */
#include "store-int.h"

#include <assert.h>

int store_ticket_set_head(struct store *st, const char *mission, const char *id,
                          const char *branch, const char *head,
                          struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && id != NULL);
  if ((rc = store__write(st, STORE_STMT_TICKET_SET_HEAD, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, id);
  store__bind_text(s, 3, branch);
  store__bind_text(s, 4, head);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_ENOT_FOUND, "ticket %s not found in %s", id,
                     mission);
  store__stmt_put(st, STORE_STMT_TICKET_SET_HEAD, s);
  return rc;
}

int store_ticket_set_state(struct store *st, const char *mission,
                           const char *id, const char *state,
                           const char *detail, const char *merged,
                           struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && id != NULL && state != NULL);
  if ((rc = store__write(st, STORE_STMT_TICKET_SET_STATE, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, id);
  store__bind_text(s, 3, state);
  store__bind_text(s, 4, detail);
  store__bind_text(s, 5, merged);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_ENOT_FOUND, "ticket %s not found in %s", id,
                     mission);
  store__stmt_put(st, STORE_STMT_TICKET_SET_STATE, s);
  return rc;
}

/* Fills t from the current row; its strings are the statement's. */
static void ticket_row(sqlite3_stmt *s, struct store_ticket *t) {
  t->mission = store__col_text(s, 0);
  t->id = store__col_text(s, 1);
  t->title = store__col_text(s, 2);
  t->state = store__col_text(s, 3);
  t->branch = store__col_text(s, 4);
  t->head = store__col_text(s, 5);
  t->merged = store__col_text(s, 6);
  t->detail = store__col_text(s, 7);
  t->repo = store__col_text(s, 8);
  t->base = store__col_text(s, 9);
}

/* Copies the row's strings so they survive the statement's reset. */
static void ticket_hold(struct store *st, sqlite3_stmt *s,
                        struct store_ticket *t) {
  const char **cols[] = {&t->mission, &t->id,   &t->title,  &t->state,
                         &t->branch,  &t->head, &t->merged, &t->detail,
                         &t->repo,    &t->base};

  for (size_t i = 0; i < CRL_ARRAY_SIZE(cols); i++)
    *cols[i] = store__hold(st, s, (int)i);
}

int store_ticket_get(struct store *st, const char *mission, const char *id,
                     struct store_ticket *out, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && id != NULL && out != NULL);
  store__hold_clear(st);
  if ((rc = store__stmt_get(st, STORE_STMT_TICKET_GET, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, id);
  switch (sqlite3_step(s)) {
  case SQLITE_ROW:
    ticket_hold(st, s, out);
    break;
  case SQLITE_DONE:
    rc = crl_err_set(err, CRL_ENOT_FOUND, "ticket %s not found in %s", id,
                     mission);
    break;
  default:
    rc = store__fail(st, __func__, err);
  }
  store__stmt_put(st, STORE_STMT_TICKET_GET, s);
  return rc;
}

int store_ticket_list(struct store *st, const char *mission, store_ticket_cb cb,
                      void *payload) {
  struct store_ticket t;
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__stmt_get(st, STORE_STMT_TICKET_LIST, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ticket_row(s, &t);
    if ((rc = cb(&t, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, __func__);
out:
  store__stmt_put(st, STORE_STMT_TICKET_LIST, s);
  return rc;
}
