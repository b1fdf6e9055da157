/*
 * The event log: the trajectory and the audit trail in one append-only
 * table. Each append gets the next global sequence number (AUTOINCREMENT,
 * so a number is never handed out twice, even across restarts), and
 * triggers refuse any UPDATE or DELETE, so a reader holding a sequence
 * number (an SSE client's Last-Event-ID) can resume from it. Appends join
 * the turn's transaction like every other write; the runtime fans events out
 * only after store_commit.
 */
#include "store-int.h"

#include <assert.h>

int store_event_append(struct store *st, struct store_event *ev,
                       struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(ev != NULL && ev->kind != NULL);
  if ((rc = store__write(st, STORE_STMT_EVENT_APPEND, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, ev->ts);
  store__bind_text(s, 2, ev->mission);
  store__bind_text(s, 3, ev->task);
  store__bind_int(s, 4, ev->run);
  store__bind_text(s, 5, ev->kind);
  store__bind_text(s, 6, ev->data);
  if ((rc = store__step_done(st, s, __func__, err)) == 0)
    ev->seq = sqlite3_last_insert_rowid(st->db);
  store__stmt_put(st, STORE_STMT_EVENT_APPEND, s);
  return rc;
}

static void event_row(sqlite3_stmt *s, struct store_event *ev) {
  ev->seq = sqlite3_column_int64(s, 0);
  ev->ts = sqlite3_column_int64(s, 1);
  ev->mission = store__col_text(s, 2);
  ev->task = store__col_text(s, 3);
  ev->run = sqlite3_column_int64(s, 4);
  ev->kind = store__col_text(s, 5);
  ev->data = store__col_text(s, 6);
}

int store_event_list(struct store *st, const char *mission, const char *task,
                     int64_t after, store_event_cb cb, void *payload) {
  enum store_stmt id = mission != NULL ? STORE_STMT_EVENT_LIST_MISSION
                                       : STORE_STMT_EVENT_LIST_ALL;
  struct store_event ev;
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__stmt_get(st, id, &s, NULL)) < 0)
    return rc;
  store__bind_int(s, 1, after);
  store__bind_text(s, 2, task);
  if (mission != NULL)
    store__bind_text(s, 3, mission);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    event_row(s, &ev);
    if ((rc = cb(&ev, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, __func__);
out:
  store__stmt_put(st, id, s);
  return rc;
}
