#include "store-fixture.h"

TestSuite(store_mission, .init = fx_setup, .fini = fx_teardown);

Test(store_mission, upsert_then_get) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_mission m;

  cr_assert_eq(store_mission_upsert(fx_st, "m", "m.yaml", 100, &err), 0);
  cr_assert_eq(store_mission_get(fx_st, "m", &m, &err), 0, "%s", err.msg);
  cr_assert_str_eq(m.id, "m");
  cr_assert_str_eq(m.file, "m.yaml");
  cr_assert_str_eq(m.state, "pending");
  cr_assert_eq(m.created_at, 100);
  cr_assert_eq(m.updated_at, 100);
}

Test(store_mission, upsert_keeps_created_at_and_state) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_mission m;

  cr_assert_eq(store_mission_upsert(fx_st, "m", "a.yaml", 100, &err), 0);
  cr_assert_eq(store_mission_set_state(fx_st, "m", "running", 150, &err), 0);
  cr_assert_eq(store_mission_upsert(fx_st, "m", "b.yaml", 200, &err), 0);
  cr_assert_eq(store_mission_get(fx_st, "m", &m, &err), 0);
  cr_assert_str_eq(m.file, "b.yaml");
  cr_assert_str_eq(m.state, "running");
  cr_assert_eq(m.created_at, 100);
  cr_assert_eq(m.updated_at, 200);
}

Test(store_mission, set_state_updates_state_and_time) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_mission m;

  cr_assert_eq(store_mission_upsert(fx_st, "m", NULL, 100, &err), 0);
  cr_assert_eq(store_mission_set_state(fx_st, "m", "succeeded", 300, &err), 0);
  cr_assert_eq(store_mission_get(fx_st, "m", &m, &err), 0);
  cr_assert_str_eq(m.state, "succeeded");
  cr_assert_eq(m.updated_at, 300);
  cr_assert_null(m.file);
}

Test(store_mission, unknown_mission_is_not_found) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_mission m;

  cr_assert_eq(store_mission_get(fx_st, "nope", &m, &err),
               CRL_EMISSION_NOT_FOUND);
  cr_assert_eq(err.code, CRL_EMISSION_NOT_FOUND);
  cr_assert_eq(store_mission_set_state(fx_st, "nope", "x", 1, NULL),
               CRL_EMISSION_NOT_FOUND);
}

struct names {
  char ids[8][16];
  int n;
  int stop_at;
};

static int collect_mission(const struct store_mission *m, void *payload) {
  struct names *names = payload;

  snprintf(names->ids[names->n++], sizeof(names->ids[0]), "%s", m->id);
  return names->n == names->stop_at ? 42 : 0;
}

Test(store_mission, list_is_newest_first_and_stops_on_nonzero) {
  struct names names = {.n = 0};

  cr_assert_eq(store_mission_upsert(fx_st, "old", NULL, 100, NULL), 0);
  cr_assert_eq(store_mission_upsert(fx_st, "new", NULL, 300, NULL), 0);
  cr_assert_eq(store_mission_upsert(fx_st, "mid", NULL, 200, NULL), 0);
  cr_assert_eq(store_mission_list(fx_st, collect_mission, &names), 0);
  cr_assert_eq(names.n, 3);
  cr_assert_str_eq(names.ids[0], "new");
  cr_assert_str_eq(names.ids[1], "mid");
  cr_assert_str_eq(names.ids[2], "old");
  names = (struct names){.stop_at = 2};
  cr_assert_eq(store_mission_list(fx_st, collect_mission, &names), 42);
  cr_assert_eq(names.n, 2);
}

Test(store_mission, writes_are_invisible_until_commit) {
  struct crl_err err = CRL_ERR_INIT;
  sqlite3 *db = fx_raw_open();

  cr_assert_not(store_dirty(fx_st));
  cr_assert_eq(store_mission_upsert(fx_st, "m", NULL, 1, &err), 0);
  cr_assert(store_dirty(fx_st));
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM missions"), 0);
  cr_assert_eq(store_commit(fx_st, &err), 0, "%s", err.msg);
  cr_assert_not(store_dirty(fx_st));
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM missions"), 1);
  /* A commit with nothing pending is a no-op. */
  cr_assert_eq(store_commit(fx_st, &err), 0);
  sqlite3_close(db);
}

Test(store_mission, failed_write_keeps_the_turn) {
  struct crl_err err = CRL_ERR_INIT;
  sqlite3 *db = fx_raw_open();

  cr_assert_eq(store_mission_upsert(fx_st, "m", NULL, 1, &err), 0);
  cr_assert_eq(store_ticket_upsert(fx_st, "nope", "T", NULL, 0, &err),
               CRL_EMISSION_NOT_FOUND);
  cr_assert(store_dirty(fx_st));
  cr_assert_eq(store_commit(fx_st, &err), 0, "%s", err.msg);
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM missions"), 1);
  sqlite3_close(db);
}
