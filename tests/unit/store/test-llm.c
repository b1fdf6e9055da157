/*
 * LLM calls in the store: a call's row keeps its bodies byte for byte (NUL
 * included) with their truncated flags, lists by run and seq, sums per
 * mission, task and run; a trace carries the rows under its checksum (a
 * changed body is refused) and import moves them with their run.
 */
#include "store-fixture.h"

static int64_t run_a, run_b;

static void llm_add(int64_t run, const char *task, int64_t seq, int64_t in,
                    double usd, int unpriced) {
  struct crl_err err = CRL_ERR_INIT;
  static const char resp[] = "event: x\ndata: {\"a\":1}\n\n\0tail";
  struct store_llm_call c = {.mission = "m",
                             .task = task,
                             .run = run,
                             .seq = seq,
                             .ts = 1000 + seq,
                             .provider = "anthropic",
                             .api = "messages",
                             .method = "POST",
                             .path = "/v1/messages",
                             .model = "m1",
                             .status = 200,
                             .stream = 1,
                             .content_type = "text/event-stream",
                             .request = "{\"model\":\"m1\"}",
                             .request_len = 14,
                             .request_truncated = 1,
                             .response = resp,
                             .response_len = sizeof(resp) - 1,
                             .input = in,
                             .output = 7,
                             .cache_read = 3,
                             .usage_seen = 1,
                             .usd = usd,
                             .unpriced = unpriced,
                             .latency_ms = 12.5,
                             .ttfb_ms = 2};

  cr_assert_eq(store_llm_call_add(fx_st, &c, &err), 0, "%s", err.msg);
}

static void llm_setup(void) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_run a = {.mission = "m", .task = "a", .attempt = 1};
  struct store_run b = {.mission = "m", .task = "b", .attempt = 1};

  fx_setup();
  fx_mission_abc();
  cr_assert_eq(store_run_insert(fx_st, &a, &err), 0, "%s", err.msg);
  cr_assert_eq(store_run_insert(fx_st, &b, &err), 0, "%s", err.msg);
  run_a = a.id;
  run_b = b.id;
  llm_add(run_b, "b", 1, 100, 0.5, 0);
  llm_add(run_a, "a", 2, 20, 0.25, 0);
  llm_add(run_a, "a", 1, 10, 0, 1);
  cr_assert_eq(store_commit(fx_st, &err), 0, "%s", err.msg);
}

TestSuite(store_llm, .init = llm_setup, .fini = fx_teardown);

struct seen {
  int64_t run[8], seq[8];
  int n;
};

static int llm_cb(const struct store_llm_call *c, void *payload) {
  struct seen *s = payload;
  static const char resp[] = "event: x\ndata: {\"a\":1}\n\n\0tail";

  cr_assert_eq(c->response_len, sizeof(resp) - 1);
  cr_assert_eq(memcmp(c->response, resp, sizeof(resp) - 1), 0);
  cr_assert_eq(c->request_len, 14);
  cr_assert(c->request_truncated && !c->response_truncated);
  cr_assert_str_eq(c->content_type, "text/event-stream");
  cr_assert_str_eq(c->path, "/v1/messages");
  cr_assert_eq(c->ttfb_ms, 2);
  s->run[s->n] = c->run;
  s->seq[s->n++] = c->seq;
  return 0;
}

Test(store_llm, rows_keep_bodies_and_list_by_run_then_seq) {
  struct seen s = {0};

  cr_assert_eq(store_llm_call_list(fx_st, "m", 0, llm_cb, &s), 0);
  cr_assert_eq(s.n, 3);
  cr_assert(s.run[0] == run_a && s.seq[0] == 1 && s.run[1] == run_a &&
            s.seq[1] == 2 && s.run[2] == run_b);
  s.n = 0;
  cr_assert_eq(store_llm_call_list(fx_st, "m", run_b, llm_cb, &s), 0);
  cr_assert_eq(s.n, 1);
}

Test(store_llm, totals_per_mission_task_and_run) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_llm_totals t;

  cr_assert_eq(store_llm_totals(fx_st, "m", NULL, 0, &t, &err), 0);
  cr_assert(t.calls == 3 && t.input == 130 && t.output == 21 &&
            t.cache_read == 9 && t.unpriced == 1);
  cr_assert_float_eq(t.usd, 0.75, 1e-12);
  cr_assert_eq(store_llm_totals(fx_st, "m", "a", 0, &t, &err), 0);
  cr_assert(t.calls == 2 && t.input == 30);
  cr_assert_eq(store_llm_totals(fx_st, "m", NULL, run_b, &t, &err), 0);
  cr_assert(t.calls == 1 && t.input == 100);
  cr_assert_eq(store_llm_totals(fx_st, "none", NULL, 0, &t, &err), 0);
  cr_assert_eq(t.calls, 0);
}

Test(store_llm, trace_carries_rows_under_its_checksum_and_import_moves_them) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_import im = {.as = "m2", .runs_dir = "/s/runs"};
  struct store *tr;
  struct seen s = {0};
  char path[200];
  sqlite3 *db;

  snprintf(path, sizeof(path), "%s/t.corral", fx_dir);
  cr_assert_eq(store_trace_create(&tr, path, fx_st, "m", &err), 0, "%s",
               err.msg);
  cr_assert_eq(store_trace_seal(tr, &err), 0, "%s", err.msg);
  store_close(tr);
  cr_assert_eq(store_trace_open(&tr, path, 1, &err), 0, "%s", err.msg);
  cr_assert_eq(store_llm_call_list(tr, "m", 0, llm_cb, &s), 0);
  cr_assert_eq(s.n, 3);
  store_close(tr);

  cr_assert_eq(store_trace_import(fx_st, path, &im, &err), 0, "%s", err.msg);
  db = fx_raw_open();
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM llm_calls WHERE "
                              "mission_id = 'm2' AND run_id > 2"),
               3);
  sqlite3_close(db);

  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  cr_assert_eq(
      sqlite3_exec(db, "UPDATE llm_calls SET response = 'x'", NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  cr_assert_eq(store_trace_open(&tr, path, 1, &err), CRL_EPARSE);
  cr_assert(strstr(err.msg, "checksum mismatch") != NULL, "%s", err.msg);
}
