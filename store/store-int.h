/*
 * Internals shared by the files of store/: the handle itself, the ids of the
 * prepared statements (stmt.c owns their SQL), the lazily opened per-turn
 * transaction (store.c), the migrations (migrate.c) and small helpers to
 * bind, step and read columns. Nothing here leaves the module: callers see
 * only store.h, and only this module includes sqlite3.h.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* One id per SQL statement; stmt.c maps each to its text. */
enum store_stmt {
  STORE_STMT_BEGIN,
  STORE_STMT_COMMIT,
  STORE_STMT_MISSION_UPSERT,
  STORE_STMT_MISSION_SET_STATE,
  STORE_STMT_MISSION_GET,
  STORE_STMT_MISSION_LIST,
  STORE_STMT_TICKET_UPSERT,
  STORE_STMT_TASK_UPSERT,
  STORE_STMT_DEP_ADD,
  STORE_STMT_TASK_SET_STATE,
  STORE_STMT_TASK_GET,
  STORE_STMT_TASK_LIST,
  STORE_STMT_RUN_INSERT,
  STORE_STMT_RUN_SET_DIR,
  STORE_STMT_RUN_SET_SPAWNED,
  STORE_STMT_RUN_SET_OFFSET,
  STORE_STMT_RUN_END,
  STORE_STMT_RUN_GET,
  STORE_STMT_RUN_LIST_LIVE,
  STORE_STMT_RUN_LIST,
  STORE_STMT_RUN_LIST_TASK,
  STORE_STMT_EVENT_APPEND,
  STORE_STMT_EVENT_LIST_ALL,
  STORE_STMT_EVENT_LIST_MISSION,
  STORE_STMT_COMMIT_ADD,
  STORE_STMT_COMMIT_FILE_ADD,
  STORE_STMT_COMMIT_LIST,
  STORE_STMT_MISSION_SET_REPO,
  STORE_STMT_TICKET_SET_HEAD,
  STORE_STMT_TICKET_SET_STATE,
  STORE_STMT_TICKET_GET,
  STORE_STMT_TICKET_LIST,
  STORE_STMT_TASK_SET_FEEDBACK,
  STORE_STMT_TASK_SET_PHASE,
  STORE_STMT_QUESTION_ADD,
  STORE_STMT_QUESTION_ANSWER,
  STORE_STMT_QUESTION_GET,
  STORE_STMT_QUESTION_LIST,
  STORE_STMT_SPEND_LIST,
  STORE_STMT_TASK_SET_RESUME,
  STORE_STMT_LLM_CALL_ADD,
  STORE_STMT_LLM_CALL_LIST,
  STORE_STMT_LLM_CALL_TOTALS,
  STORE_STMT__COUNT
};

/* Getters copy a row's strings here so they outlive the statement reset;
 * the copies are freed by the next getter or by store_close. */
#define STORE_HOLD_MAX 12

struct store {
  sqlite3 *db;
  int version;
  sqlite3_stmt *stmts[STORE_STMT__COUNT];
  char *hold[STORE_HOLD_MAX];
  int nhold;
};

/* migrate.c: brings the schema forward; sets st->version. */
int store__migrate(struct store *st, struct crl_err *err);
/* The number of migrations this build knows. */
int store__migration_count(void);

/* mission.c: 1 when the mission has a row (error paths only). */
int store__mission_exists(struct store *st, const char *id);

/* stmt.c: prepares every statement once, at open. */
int store__stmt_prepare_all(struct store *st, struct crl_err *err);
void store__stmt_finalize_all(struct store *st);
/* Hands out the cached statement for `id`. When that statement is still
 * stepping (a list callback re-entered the same list), a private copy is
 * prepared instead; store__stmt_put finalizes it. */
int store__stmt_get(struct store *st, enum store_stmt id, sqlite3_stmt **out,
                    struct crl_err *err);
/* Resets the statement (ending its read) and releases it. */
void store__stmt_put(struct store *st, enum store_stmt id, sqlite3_stmt *s);

/* store.c: opens the turn's transaction unless one is open already. */
int store__begin(struct store *st, struct crl_err *err);
/* Begins the turn and hands out statement `id`, ready to bind. */
int store__write(struct store *st, enum store_stmt id, sqlite3_stmt **out,
                 struct crl_err *err);
/* Steps a statement that returns no row; `what` prefixes the error. */
int store__step_done(struct store *st, sqlite3_stmt *s, const char *what,
                     struct crl_err *err);
/* Records sqlite's last message under `what`; returns CRL_ESTORE. */
int store__fail(struct store *st, const char *what, struct crl_err *err);
/* Ends a list walk whose last sqlite3_step returned `step`: 0 when the walk
 * ran out of rows, else logs the failure (list calls have no err) and
 * returns CRL_ESTORE. */
int store__walk_end(struct store *st, int step, const char *what);
/* 1 when the last failed step broke a foreign key. */
int store__is_fk_error(struct store *st);
/* Getters: forget previous copies; copy one column's text. */
void store__hold_clear(struct store *st);
const char *store__hold(struct store *st, sqlite3_stmt *s, int col);

/* Binding: every statement is reset before its caller returns, so the
 * caller's strings outlive the binding and SQLITE_STATIC saves a copy. NULL
 * binds SQL NULL. The parameter numbers are fixed by the SQL in stmt.c, and
 * the only other failure is a value over SQLite's 1 GB limit, which corral's
 * capped buffers never produce, so the return codes are not checked. */
static inline void store__bind_text(sqlite3_stmt *s, int i, const char *v) {
  sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static inline void store__bind_int(sqlite3_stmt *s, int i, int64_t v) {
  sqlite3_bind_int64(s, i, v);
}

static inline void store__bind_blob(sqlite3_stmt *s, int i, const void *v,
                                    size_t n) {
  if (v == NULL)
    sqlite3_bind_null(s, i);
  else
    sqlite3_bind_blob64(s, i, n ? v : "", n, SQLITE_STATIC);
}

static inline const char *store__col_text(sqlite3_stmt *s, int i) {
  return (const char *)sqlite3_column_text(s, i);
}

#endif
