/*
 * Commits in the store: each commit corral makes (or keeps) on a ticket
 * branch, linked to its mission, ticket, task, run and agent, with its diff
 * stats and one row per changed file. Written in the run's turn, like every
 * other row, so a commit is recorded exactly when its run's end is.
 */
#include "store-int.h"

#include <assert.h>

static int commit_file_add(struct store *st, int64_t commit,
                           const struct store_commit_file *f,
                           struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__write(st, STORE_STMT_COMMIT_FILE_ADD, &s, err)) < 0)
    return rc;
  store__bind_int(s, 1, commit);
  store__bind_text(s, 2, f->path);
  store__bind_int(s, 3, f->insertions);
  store__bind_int(s, 4, f->deletions);
  rc = store__step_done(st, s, __func__, err);
  store__stmt_put(st, STORE_STMT_COMMIT_FILE_ADD, s);
  return rc;
}

static void commit_bind(sqlite3_stmt *s, const struct store_commit *c) {
  store__bind_text(s, 1, c->mission);
  store__bind_text(s, 2, c->ticket);
  store__bind_text(s, 3, c->task);
  store__bind_int(s, 4, c->run);
  store__bind_text(s, 5, c->agent);
  store__bind_text(s, 6, c->branch);
  store__bind_text(s, 7, c->sha);
  store__bind_text(s, 8, c->parent);
  store__bind_int(s, 9, c->files);
  store__bind_int(s, 10, c->insertions);
  store__bind_int(s, 11, c->deletions);
  store__bind_int(s, 12, c->created_at);
}

int store_commit_add(struct store *st, struct store_commit *c,
                     struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(c != NULL && c->mission != NULL && c->sha != NULL);
  if ((rc = store__write(st, STORE_STMT_COMMIT_ADD, &s, err)) < 0)
    return rc;
  commit_bind(s, c);
  if ((rc = store__step_done(st, s, __func__, err)) == 0)
    c->id = sqlite3_last_insert_rowid(st->db);
  else if (store__is_fk_error(st))
    rc = crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s not found in %s",
                     c->task ? c->task : "(none)", c->mission);
  store__stmt_put(st, STORE_STMT_COMMIT_ADD, s);
  for (size_t i = 0; rc == 0 && i < c->nper_file; i++)
    rc = commit_file_add(st, c->id, &c->per_file[i], err);
  return rc;
}

static void commit_row(struct store_commit *c, sqlite3_stmt *s) {
  c->id = sqlite3_column_int64(s, 0);
  c->mission = store__col_text(s, 1);
  c->ticket = store__col_text(s, 2);
  c->task = store__col_text(s, 3);
  c->run = sqlite3_column_int64(s, 4);
  c->agent = store__col_text(s, 5);
  c->branch = store__col_text(s, 6);
  c->sha = store__col_text(s, 7);
  c->parent = store__col_text(s, 8);
  c->files = sqlite3_column_int64(s, 9);
  c->insertions = sqlite3_column_int64(s, 10);
  c->deletions = sqlite3_column_int64(s, 11);
  c->created_at = sqlite3_column_int64(s, 12);
  c->per_file = NULL;
  c->nper_file = 0;
}

int store_commit_list(struct store *st, const char *mission, store_commit_cb cb,
                      void *payload) {
  struct store_commit c;
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL);
  if ((rc = store__stmt_get(st, STORE_STMT_COMMIT_LIST, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    commit_row(&c, s);
    if ((rc = cb(&c, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, "commit list");
out:
  store__stmt_put(st, STORE_STMT_COMMIT_LIST, s);
  return rc;
}
