/*
 * Commits in the store: rows with their stats and per-file stats, linked to
 * a task, listed in order; unknown tasks refused.
 */
#include "store-fixture.h"

static void commit_setup(void) {
  fx_setup();
  fx_mission_abc();
}

TestSuite(store_commit, .init = commit_setup, .fini = fx_teardown);

static const struct store_commit_file commit_files[] = {
    {"src/a.c", 10, 2},
    {"README", 1, 0},
};

static int64_t add(const char *task, const char *sha, const char *parent) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_commit c = {.mission = "m",
                           .ticket = "T",
                           .task = task,
                           .run = 7,
                           .agent = "sh",
                           .branch = "corral/m/T",
                           .sha = sha,
                           .parent = parent,
                           .files = 2,
                           .insertions = 11,
                           .deletions = 2,
                           .created_at = 5,
                           .per_file = commit_files,
                           .nper_file = 2};

  cr_assert_eq(store_commit_add(fx_st, &c, &err), 0, "%s", err.msg);
  cr_assert_gt(c.id, 0);
  return c.id;
}

struct seen {
  int n;
  char sha[2][48];
  int64_t ins;
};

static int collect(const struct store_commit *c, void *payload) {
  struct seen *s = payload;

  cr_assert_lt(s->n, 2);
  snprintf(s->sha[s->n++], sizeof(s->sha[0]), "%s", c->sha);
  s->ins += c->insertions;
  cr_assert_str_eq(c->branch, "corral/m/T");
  return 0;
}

Test(store_commit, add_then_list_in_order_with_stats) {
  struct seen s = {0};
  sqlite3 *db;

  add("a", "aaaa", NULL);
  add("b", "bbbb", "aaaa");
  cr_assert_eq(store_commit(fx_st, NULL), 0);
  cr_assert_eq(store_commit_list(fx_st, "m", collect, &s), 0);
  cr_assert_eq(s.n, 2);
  cr_assert_str_eq(s.sha[0], "aaaa");
  cr_assert_str_eq(s.sha[1], "bbbb");
  cr_assert_eq(s.ins, 22);
  db = fx_raw_open();
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM commit_files"), 4);
  cr_assert_eq(fx_raw_int(db, "SELECT sum(insertions) FROM commit_files"), 22);
  sqlite3_close(db);
}

Test(store_commit, unknown_task_is_refused) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_commit c = {.mission = "m", .task = "nope", .sha = "cccc"};

  cr_assert_eq(store_commit_add(fx_st, &c, &err), CRL_ETASK_NOT_FOUND);
}
