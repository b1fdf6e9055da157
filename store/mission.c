/*
 * Missions in the store: one row per mission name, with the mission file it
 * came from and a free-text state the runtime maintains. Re-submitting a
 * mission upserts its row and keeps created_at, so listings stay in the
 * order missions were first seen.
 */
#include "store-int.h"

#include <assert.h>

int store_mission_upsert(struct store *st, const char *id, const char *file,
                         int64_t now, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(id != NULL);
  if ((rc = store__write(st, STORE_STMT_MISSION_UPSERT, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, id);
  store__bind_text(s, 2, file);
  store__bind_int(s, 3, now);
  rc = store__step_done(st, s, __func__, err);
  store__stmt_put(st, STORE_STMT_MISSION_UPSERT, s);
  return rc;
}

int store_mission_set_state(struct store *st, const char *id, const char *state,
                            int64_t now, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(id != NULL && state != NULL);
  if ((rc = store__write(st, STORE_STMT_MISSION_SET_STATE, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, id);
  store__bind_text(s, 2, state);
  store__bind_int(s, 3, now);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_EMISSION_NOT_FOUND, "mission %s not found", id);
  store__stmt_put(st, STORE_STMT_MISSION_SET_STATE, s);
  return rc;
}

/* Fills m from the current row; its strings are the statement's. */
static void mission_row(sqlite3_stmt *s, struct store_mission *m) {
  m->id = store__col_text(s, 0);
  m->file = store__col_text(s, 1);
  m->state = store__col_text(s, 2);
  m->created_at = sqlite3_column_int64(s, 3);
  m->updated_at = sqlite3_column_int64(s, 4);
  m->repo = store__col_text(s, 5);
  m->base = store__col_text(s, 6);
}

int store_mission_get(struct store *st, const char *id,
                      struct store_mission *out, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(id != NULL && out != NULL);
  store__hold_clear(st);
  if ((rc = store__stmt_get(st, STORE_STMT_MISSION_GET, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, id);
  switch (sqlite3_step(s)) {
  case SQLITE_ROW:
    mission_row(s, out);
    out->id = store__hold(st, s, 0);
    out->file = store__hold(st, s, 1);
    out->state = store__hold(st, s, 2);
    out->repo = store__hold(st, s, 5);
    out->base = store__hold(st, s, 6);
    break;
  case SQLITE_DONE:
    rc = crl_err_set(err, CRL_EMISSION_NOT_FOUND, "mission %s not found", id);
    break;
  default:
    rc = store__fail(st, __func__, err);
  }
  store__stmt_put(st, STORE_STMT_MISSION_GET, s);
  return rc;
}

int store_mission_list(struct store *st, store_mission_cb cb, void *payload) {
  struct store_mission m;
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__stmt_get(st, STORE_STMT_MISSION_LIST, &s, NULL)) < 0)
    return rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    mission_row(s, &m);
    if ((rc = cb(&m, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, __func__);
out:
  store__stmt_put(st, STORE_STMT_MISSION_LIST, s);
  return rc;
}

int store__mission_exists(struct store *st, const char *id) {
  sqlite3_stmt *s = NULL;
  int found;

  if (store__stmt_get(st, STORE_STMT_MISSION_GET, &s, NULL) < 0)
    return 0;
  store__bind_text(s, 1, id);
  found = sqlite3_step(s) == SQLITE_ROW;
  store__stmt_put(st, STORE_STMT_MISSION_GET, s);
  return found;
}

int store_mission_set_repo(struct store *st, const char *id, const char *repo,
                           const char *base, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(id != NULL);
  if ((rc = store__write(st, STORE_STMT_MISSION_SET_REPO, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, id);
  store__bind_text(s, 2, repo);
  store__bind_text(s, 3, base);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_EMISSION_NOT_FOUND, "mission %s not found", id);
  store__stmt_put(st, STORE_STMT_MISSION_SET_REPO, s);
  return rc;
}
