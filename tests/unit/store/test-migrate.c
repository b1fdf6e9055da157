#include "store-fixture.h"

TestSuite(store_migrate, .init = fx_dir_setup, .fini = fx_teardown);

Test(store_migrate, fresh_db_gets_latest_version_and_wal) {
  char mode[16];
  sqlite3 *db;

  fx_open();
  cr_assert_geq(store_schema_version(fx_st), 1);
  db = fx_raw_open();
  fx_raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
  cr_assert_str_eq(mode, "wal");
  cr_assert_eq(fx_raw_int(db, "PRAGMA user_version"),
               store_schema_version(fx_st));
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM sqlite_master "
                              "WHERE type = 'table' AND name IN ('missions', "
                              "'tickets', 'tasks', 'deps', 'runs', 'events')"),
               6);
  sqlite3_close(db);
}

Test(store_migrate, reopen_applies_nothing_twice) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_mission m;
  int version;
  int64_t objects;
  sqlite3 *db;

  fx_open();
  version = store_schema_version(fx_st);
  cr_assert_eq(store_mission_upsert(fx_st, "m", "m.yaml", 1, &err), 0);
  cr_assert_eq(store_commit(fx_st, &err), 0);
  db = fx_raw_open();
  objects = fx_raw_int(db, "SELECT count(*) FROM sqlite_master");
  fx_reopen();
  fx_reopen();
  cr_assert_eq(store_schema_version(fx_st), version);
  cr_assert_eq(fx_raw_int(db, "PRAGMA user_version"), version);
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM sqlite_master"), objects);
  cr_assert_eq(store_mission_get(fx_st, "m", &m, &err), 0, "%s", err.msg);
  cr_assert_str_eq(m.file, "m.yaml");
  sqlite3_close(db);
}

Test(store_migrate, newer_schema_is_refused) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *st = NULL;
  sqlite3 *db;

  fx_open();
  store_close(fx_st);
  fx_st = NULL;
  db = fx_raw_open();
  cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 9999", NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  cr_assert_eq(store_open(&st, fx_path, &err), CRL_ESCHEMA);
  cr_assert_eq(err.code, CRL_ESCHEMA);
  cr_assert_null(st);
}

Test(store_migrate, foreign_keys_are_on) {
  struct crl_err err = CRL_ERR_INIT;

  fx_open();
  cr_assert_eq(store_ticket_upsert(fx_st, "nope", "T", "t", 0, &err),
               CRL_EMISSION_NOT_FOUND);
}

Test(store_migrate, unopenable_path_is_a_store_error) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *st = NULL;

  cr_assert_eq(store_open(&st, "/nonexistent-corral-dir/x/corral.db", &err),
               CRL_ESTORE);
  cr_assert_null(st);
  cr_assert_neq(err.msg[0], '\0');
}

Test(store_migrate, close_commits_pending_writes) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_mission m;

  fx_open();
  cr_assert_eq(store_mission_upsert(fx_st, "m", NULL, 1, &err), 0);
  cr_assert(store_dirty(fx_st));
  fx_reopen();
  cr_assert_eq(store_mission_get(fx_st, "m", &m, &err), 0, "%s", err.msg);
  cr_assert_null(m.file);
}
