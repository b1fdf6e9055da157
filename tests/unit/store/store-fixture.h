/*
 * Shared fixture for the store tests: each test gets a fresh temporary
 * directory holding its own database (fx_path), an open store (fx_st) and a
 * second, raw SQLite connection (fx_raw_open) for looking at the file the way
 * another process would. Criterion runs each test in its own process, so the
 * file-scope state is per test.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static char fx_dir[64];
static char fx_path[128];
static struct store *fx_st;

static inline int fx_rm(const char *path, const struct stat *sb, int type,
                        struct FTW *ftw) {
  return remove(path);
}

/* Creates the directory only; tests that need a store call fx_open. */
static inline void fx_dir_setup(void) {
  snprintf(fx_dir, sizeof(fx_dir), "/tmp/corral-store-XXXXXX");
  cr_assert_not_null(mkdtemp(fx_dir));
  snprintf(fx_path, sizeof(fx_path), "%s/corral.db", fx_dir);
  fx_st = NULL;
}

static inline void fx_open(void) {
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(store_open(&fx_st, fx_path, &err), 0, "%s", err.msg);
}

static inline void fx_setup(void) {
  fx_dir_setup();
  fx_open();
}

static inline void fx_teardown(void) {
  store_close(fx_st);
  fx_st = NULL;
  nftw(fx_dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static inline void fx_reopen(void) {
  store_close(fx_st);
  fx_st = NULL;
  fx_open();
}

/* A second connection, as another process would open the file. */
static inline sqlite3 *fx_raw_open(void) {
  sqlite3 *db = NULL;

  cr_assert_eq(sqlite3_open(fx_path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

/* The first column of the first row of `sql` as an integer. */
static inline int64_t fx_raw_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  int64_t v;

  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s",
               sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sqlite3_errmsg(db));
  v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* The first column of the first row of `sql` as text, copied into out. */
static inline void fx_raw_text(sqlite3 *db, const char *sql, char *out,
                               size_t n) {
  sqlite3_stmt *s = NULL;

  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, "%s",
               sqlite3_errmsg(db));
  cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", sqlite3_errmsg(db));
  snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
}

/* A mission "m" with ticket "T" and tasks a, b, c in that file order. */
static inline void fx_mission_abc(void) {
  struct crl_err err = CRL_ERR_INIT;
  const char *ids[] = {"a", "b", "c"};

  cr_assert_eq(store_mission_upsert(fx_st, "m", "m.yaml", 100, &err), 0, "%s",
               err.msg);
  cr_assert_eq(store_ticket_upsert(fx_st, "m", "T", "ticket", 2, &err), 0, "%s",
               err.msg);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(store_task_upsert(fx_st, "m", ids[i], "T", "claude", i, &err),
                 0, "%s", err.msg);
}

#endif
