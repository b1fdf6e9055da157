/*
 * Trace files in the store: a mission's rows copied into a trace of their
 * own with blobs and a checksum; the trace opens read-only and verified, a
 * changed row or a cut file is refused; import under a new name shifts run
 * ids, renumbers events and rewrites {"run": N} in event data; an existing
 * mission id is refused.
 */
#include "store-fixture.h"

#include <sys/stat.h>

static char tr_path[160];

static void trace_setup(void) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run r = {.mission = "m", .task = "a", .attempt = 1};
  struct store_event ev = {.ts = 1, .mission = "m", .task = "a", .kind = "x"};

  fx_setup();
  fx_mission_abc();
  snprintf(tr_path, sizeof(tr_path), "%s/t.corral", fx_dir);
  cr_assert_eq(store_run_insert(fx_st, &r, &err), 0, "%s", err.msg);
  ev.run = r.id;
  ev.data = "{\"run\":1}";
  cr_assert_eq(store_event_append(fx_st, &ev, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(fx_st, &err), 0, "%s", err.msg);
}

TestSuite(store_trace, .init = trace_setup, .fini = fx_teardown);

static void make_trace(void) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *tr;

  cr_assert_eq(store_trace_create(&tr, tr_path, fx_st, "m", &err), 0, "%s",
               err.msg);
  cr_assert_eq(store_trace_blob_put(tr, "log/1", "hello\n", 6, &err), 0, "%s",
               err.msg);
  cr_assert_eq(store_trace_seal(tr, &err), 0, "%s", err.msg);
  store_close(tr);
}

static int count_tasks(const struct store_task *t, void *payload) {
  (*(int *)payload)++;
  return 0;
}

static int blob_cb(const char *name, const void *data, size_t len,
                   void *payload) {
  cr_assert_str_eq(name, "log/1");
  cr_assert_eq(len, 6);
  cr_assert_eq(memcmp(data, "hello\n", 6), 0);
  (*(int *)payload)++;
  return 0;
}

Test(store_trace, round_trip_reads_rows_and_blobs) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *tr;
  char v[200];
  int n = 0, blobs = 0;
  struct stat sb;

  make_trace();
  cr_assert_eq(stat(tr_path, &sb), 0);
  snprintf(v, sizeof(v), "%s-wal", tr_path);
  cr_assert_neq(access(v, F_OK), 0, "a trace is one file at rest");
  cr_assert_eq(store_trace_open(&tr, tr_path, 1, &err), 0, "%s", err.msg);
  cr_assert_eq(store_task_list(tr, "m", count_tasks, &n), 0);
  cr_assert_eq(n, 3);
  cr_assert_eq(store_trace_blob_list(tr, "log/", blob_cb, &blobs), 0);
  cr_assert_eq(blobs, 1);
  cr_assert_eq(store_trace_meta(tr, "format", v, sizeof(v), &err), 0);
  cr_assert_str_eq(v, "1");
  cr_assert_eq(store_trace_meta(tr, "mission", v, sizeof(v), &err), 0);
  cr_assert_str_eq(v, "m");
  store_close(tr);
}

Test(store_trace, changed_row_fails_the_checksum) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *tr;
  sqlite3 *db;

  make_trace();
  cr_assert_eq(sqlite3_open(tr_path, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, "UPDATE tasks SET state = 'completed'", NULL,
                            NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  cr_assert_eq(store_trace_open(&tr, tr_path, 1, &err), CRL_EPARSE);
  cr_assert_not_null(strstr(err.msg, "checksum mismatch"), "%s", err.msg);
  cr_assert_eq(store_trace_open(&tr, tr_path, 0, &err), 0, "%s", err.msg);
  store_close(tr);
}

Test(store_trace, cut_file_is_refused) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *tr;
  struct stat sb;

  make_trace();
  cr_assert_eq(stat(tr_path, &sb), 0);
  cr_assert_eq(truncate(tr_path, sb.st_size - 1024), 0);
  cr_assert_eq(store_trace_open(&tr, tr_path, 1, &err), CRL_EPARSE);
  cr_assert_not_null(strstr(err.msg, "truncated"), "%s", err.msg);
}

Test(store_trace, import_renames_and_shifts_ids) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_import im = {.as = "m2", .runs_dir = "/s/runs"};
  sqlite3 *db;
  char text[128];

  make_trace();
  cr_assert_eq(store_trace_import(fx_st, tr_path, &im, &err), 0, "%s", err.msg);
  cr_assert_eq(im.run_offset, 1);
  db = fx_raw_open();
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM tasks WHERE mission_id = "
                              "'m2'"),
               3);
  cr_assert_eq(fx_raw_int(db, "SELECT id FROM runs WHERE mission_id = 'm2'"),
               2);
  fx_raw_text(db, "SELECT dir FROM runs WHERE mission_id = 'm2'", text,
              sizeof(text));
  cr_assert_str_eq(text, "/s/runs/2");
  fx_raw_text(db, "SELECT data FROM events WHERE mission_id = 'm2'", text,
              sizeof(text));
  cr_assert_str_eq(text, "{\"run\":2}");
  cr_assert_eq(fx_raw_int(db, "SELECT run_id FROM events WHERE mission_id = "
                              "'m2'"),
               2);
  sqlite3_close(db);
  im.as = "m";
  cr_assert_eq(store_trace_import(fx_st, tr_path, &im, &err), CRL_EDUPLICATE);
}
