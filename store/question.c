/*
 * Questions and action approvals raised by agents through their channel.
 * A row is open until a human answers it or its deadline passes (then it
 * is answered with its default and marked expired); answering twice is an
 * invalid transition, so a late human and a timer cannot both win.
 */
#include "store-int.h"

#include <assert.h>

int store_question_add(struct store *st, struct store_question *q,
                       struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(q->mission != NULL && q->task != NULL && q->kind && q->text);
  if ((rc = store__write(st, STORE_STMT_QUESTION_ADD, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, q->mission);
  store__bind_text(s, 2, q->task);
  store__bind_int(s, 3, q->run);
  store__bind_text(s, 4, q->kind);
  store__bind_text(s, 5, q->text);
  store__bind_text(s, 6, q->default_answer);
  store__bind_int(s, 7, q->deadline);
  store__bind_int(s, 8, q->created_at);
  if ((rc = store__step_done(st, s, __func__, err)) == 0)
    q->id = sqlite3_last_insert_rowid(st->db);
  store__stmt_put(st, STORE_STMT_QUESTION_ADD, s);
  return rc;
}

int store_question_answer(struct store *st, int64_t id, const char *state,
                          const char *answer, int64_t now,
                          struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__write(st, STORE_STMT_QUESTION_ANSWER, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, id);
  store__bind_text(s, 2, state);
  store__bind_text(s, 3, answer);
  store__bind_int(s, 4, now);
  if ((rc = store__step_done(st, s, __func__, err)) == 0 &&
      sqlite3_changes(st->db) == 0)
    rc = crl_err_set(err, CRL_EINVALID_TRANSITION, "question %lld is not open",
                     (long long)id);
  store__stmt_put(st, STORE_STMT_QUESTION_ANSWER, s);
  return rc;
}

static void question_row(sqlite3_stmt *s, struct store_question *q) {
  q->id = sqlite3_column_int64(s, 0);
  q->mission = store__col_text(s, 1);
  q->task = store__col_text(s, 2);
  q->run = sqlite3_column_int64(s, 3);
  q->kind = store__col_text(s, 4);
  q->text = store__col_text(s, 5);
  q->state = store__col_text(s, 6);
  q->answer = store__col_text(s, 7);
  q->default_answer = store__col_text(s, 8);
  q->deadline = sqlite3_column_int64(s, 9);
  q->created_at = sqlite3_column_int64(s, 10);
  q->answered_at = sqlite3_column_int64(s, 11);
}

static void question_hold(struct store *st, sqlite3_stmt *s,
                          struct store_question *q) {
  q->mission = store__hold(st, s, 1);
  q->task = store__hold(st, s, 2);
  q->kind = store__hold(st, s, 4);
  q->text = store__hold(st, s, 5);
  q->state = store__hold(st, s, 6);
  q->answer = store__hold(st, s, 7);
  q->default_answer = store__hold(st, s, 8);
}

int store_question_get(struct store *st, int64_t id, struct store_question *out,
                       struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  store__hold_clear(st);
  if ((rc = store__stmt_get(st, STORE_STMT_QUESTION_GET, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, id);
  switch (sqlite3_step(s)) {
  case SQLITE_ROW:
    question_row(s, out);
    question_hold(st, s, out);
    break;
  case SQLITE_DONE:
    rc = crl_err_set(err, CRL_ENOT_FOUND, "no question %lld", (long long)id);
    break;
  default:
    rc = store__fail(st, __func__, err);
  }
  store__stmt_put(st, STORE_STMT_QUESTION_GET, s);
  return rc;
}

int store_question_list(struct store *st, const char *mission,
                        const char *state, const char *kind,
                        store_question_cb cb, void *payload) {
  struct store_question q;
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__stmt_get(st, STORE_STMT_QUESTION_LIST, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, state);
  store__bind_text(s, 3, kind);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    question_row(s, &q);
    if ((rc = cb(&q, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, __func__);
out:
  store__stmt_put(st, STORE_STMT_QUESTION_LIST, s);
  return rc;
}
