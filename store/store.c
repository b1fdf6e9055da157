/*
 * The store handle: opening the database (pragmas, migrations, statement
 * cache), closing it, and the per-turn transaction. The first write of a
 * loop turn opens BEGIN IMMEDIATE lazily, so the write lock is taken up
 * front and a turn never fails half way on a lock upgrade; store_commit ends
 * it. WAL with synchronous=NORMAL makes a commit durable against the death
 * of the process (kill -9 at any instant leaves a consistent database that
 * holds every committed turn) without an fsync per commit; only a power loss
 * may drop the last turns, which the design accepts. Also here: the small
 * step/error/copy helpers every other file uses.
 */
#include "store-int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* One statement each: sqlite3_exec runs them outside the statement cache,
 * which only happens at open. */
static const char *const store_pragmas[] = {
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
};

static int store_journal_wal(struct store *st, const char *path,
                             struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0;

  if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) !=
          SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    rc = store__fail(st, "unable to set journal_mode", err);
    goto out;
  }
  /* An in-memory or temporary database cannot use WAL; a file must. */
  if (strcmp(store__col_text(s, 0), "wal") != 0 && path[0] != '\0' &&
      strcmp(path, ":memory:") != 0)
    rc = crl_err_set(err, CRL_ESTORE, "%s: journal_mode is %s, not wal", path,
                     store__col_text(s, 0));
out:
  sqlite3_finalize(s);
  return rc;
}

static int store_configure(struct store *st, const char *path,
                           struct crl_err *err) {
  int rc;

  /* Another connection may hold the write lock (a CLI reader during a
   * checkpoint, a second daemon): wait instead of failing at once. */
  sqlite3_busy_timeout(st->db, 5000);
  if ((rc = store_journal_wal(st, path, err)) < 0)
    return rc;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(store_pragmas); i++)
    if (sqlite3_exec(st->db, store_pragmas[i], NULL, NULL, NULL) != SQLITE_OK)
      return store__fail(st, store_pragmas[i], err);
  return 0;
}

int store_open(struct store **out, const char *path, struct crl_err *err) {
  struct store *st = xcalloc(1, sizeof(*st));
  int rc;

  assert(out != NULL && path != NULL);
  *out = NULL;
  /* NOMUTEX: the handle belongs to the loop thread, so SQLite's own
   * connection mutex would only cost time. */
  if (sqlite3_open_v2(path, &st->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    rc = crl_err_set(err, CRL_ESTORE, "unable to open store %s: %s", path,
                     st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
    goto out;
  }
  if ((rc = store_configure(st, path, err)) < 0 ||
      (rc = store__migrate(st, err)) < 0 ||
      (rc = store__stmt_prepare_all(st, err)) < 0)
    goto out;
  *out = st;
  st = NULL;
out:
  store_close(st);
  return rc;
}

void store_close(struct store *st) {
  struct crl_err err = CRL_ERR_INIT;

  if (st == NULL)
    return;
  if (st->stmts[STORE_STMT_COMMIT] != NULL && store_commit(st, &err) < 0)
    log_error("%s: %s", __func__, err.msg);
  store__hold_clear(st);
  store__stmt_finalize_all(st);
  /* Every statement is finalized, so close cannot be busy. */
  if (sqlite3_close(st->db) != SQLITE_OK)
    log_error("%s: %s", __func__, sqlite3_errmsg(st->db));
  free(st);
}

int store_schema_version(struct store *st) {
  return st->version;
}

int store_dirty(const struct store *st) {
  return !sqlite3_get_autocommit(st->db);
}

/* Runs BEGIN or COMMIT from the cache. */
static int store_tx(struct store *st, enum store_stmt id, const char *what,
                    struct crl_err *err) {
  sqlite3_stmt *s = st->stmts[id];
  int rc = 0;

  if (sqlite3_step(s) != SQLITE_DONE)
    rc = store__fail(st, what, err);
  sqlite3_reset(s);
  return rc;
}

int store__begin(struct store *st, struct crl_err *err) {
  if (!sqlite3_get_autocommit(st->db))
    return 0;
  return store_tx(st, STORE_STMT_BEGIN, "unable to begin", err);
}

/*
 * A failed COMMIT that SQLite left open (SQLITE_BUSY) stays open, so the
 * caller may retry; one that SQLite rolled back is gone, and store_dirty
 * reports 0.
 */
int store_commit(struct store *st, struct crl_err *err) {
  if (sqlite3_get_autocommit(st->db))
    return 0;
  return store_tx(st, STORE_STMT_COMMIT, "unable to commit", err);
}

int store__write(struct store *st, enum store_stmt id, sqlite3_stmt **out,
                 struct crl_err *err) {
  int rc;

  if ((rc = store__begin(st, err)) < 0)
    return rc;
  return store__stmt_get(st, id, out, err);
}

int store__step_done(struct store *st, sqlite3_stmt *s, const char *what,
                     struct crl_err *err) {
  if (sqlite3_step(s) == SQLITE_DONE)
    return 0;
  return store__fail(st, what, err);
}

int store__fail(struct store *st, const char *what, struct crl_err *err) {
  return crl_err_set(err, CRL_ESTORE, "%s: %s", what, sqlite3_errmsg(st->db));
}

int store__walk_end(struct store *st, int step, const char *what) {
  if (step == SQLITE_DONE)
    return 0;
  log_error("%s: %s", what, sqlite3_errmsg(st->db));
  return CRL_ESTORE;
}

int store__is_fk_error(struct store *st) {
  return sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY;
}

void store__hold_clear(struct store *st) {
  for (int i = 0; i < st->nhold; i++)
    free(st->hold[i]);
  st->nhold = 0;
}

const char *store__hold(struct store *st, sqlite3_stmt *s, int col) {
  const char *v = store__col_text(s, col);

  if (v == NULL)
    return NULL;
  assert(st->nhold < STORE_HOLD_MAX);
  return st->hold[st->nhold++] = xstrdup(v);
}
