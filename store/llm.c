/*
 * LLM calls in the store: one row per call the gateway answered for a run,
 * written in the run's turn like its llm.call event, with the request and
 * response bodies as the gateway recorded them. They travel in traces, feed
 * the reports' tokens and costs, and are what agents-mode replay serves the
 * CLIs again.
 */
#include "store-int.h"

#include <assert.h>

static void llm_bind_usage(sqlite3_stmt *s, const struct store_llm_call *c) {
  store__bind_int(s, 20, c->input);
  store__bind_int(s, 21, c->output);
  store__bind_int(s, 22, c->cache_read);
  store__bind_int(s, 23, c->cache_write);
  store__bind_int(s, 24, c->reasoning);
  store__bind_int(s, 25, c->usage_seen);
  sqlite3_bind_double(s, 26, c->usd);
  store__bind_int(s, 27, c->unpriced);
  sqlite3_bind_double(s, 28, c->latency_ms);
  sqlite3_bind_double(s, 29, c->ttfb_ms);
  store__bind_text(s, 30, c->error);
}

static void llm_bind(sqlite3_stmt *s, const struct store_llm_call *c) {
  store__bind_text(s, 1, c->mission);
  store__bind_text(s, 2, c->task);
  store__bind_int(s, 3, c->run);
  store__bind_int(s, 4, c->seq);
  store__bind_int(s, 5, c->ts);
  store__bind_text(s, 6, c->provider);
  store__bind_text(s, 7, c->api);
  store__bind_text(s, 8, c->method);
  store__bind_text(s, 9, c->path);
  store__bind_text(s, 10, c->model);
  store__bind_int(s, 11, c->status);
  store__bind_int(s, 12, c->stream);
  store__bind_int(s, 13, c->refused);
  store__bind_int(s, 14, c->replayed);
  store__bind_text(s, 15, c->content_type);
  store__bind_blob(s, 16, c->request, c->request_len);
  store__bind_int(s, 17, c->request_truncated);
  store__bind_blob(s, 18, c->response, c->response_len);
  store__bind_int(s, 19, c->response_truncated);
  llm_bind_usage(s, c);
}

int store_llm_call_add(struct store *st, const struct store_llm_call *c,
                       struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(c != NULL && c->mission != NULL && c->run > 0);
  if ((rc = store__write(st, STORE_STMT_LLM_CALL_ADD, &s, err)) < 0)
    return rc;
  llm_bind(s, c);
  rc = store__step_done(st, s, __func__, err);
  store__stmt_put(st, STORE_STMT_LLM_CALL_ADD, s);
  return rc;
}

static void llm_row_usage(struct store_llm_call *c, sqlite3_stmt *s) {
  c->input = sqlite3_column_int64(s, 19);
  c->output = sqlite3_column_int64(s, 20);
  c->cache_read = sqlite3_column_int64(s, 21);
  c->cache_write = sqlite3_column_int64(s, 22);
  c->reasoning = sqlite3_column_int64(s, 23);
  c->usage_seen = sqlite3_column_int(s, 24);
  c->usd = sqlite3_column_double(s, 25);
  c->unpriced = sqlite3_column_int(s, 26);
  c->latency_ms = sqlite3_column_double(s, 27);
  c->ttfb_ms = sqlite3_column_double(s, 28);
  c->error = store__col_text(s, 29);
}

static void llm_row(struct store_llm_call *c, sqlite3_stmt *s) {
  c->mission = store__col_text(s, 0);
  c->task = store__col_text(s, 1);
  c->run = sqlite3_column_int64(s, 2);
  c->seq = sqlite3_column_int64(s, 3);
  c->ts = sqlite3_column_int64(s, 4);
  c->provider = store__col_text(s, 5);
  c->api = store__col_text(s, 6);
  c->method = store__col_text(s, 7);
  c->path = store__col_text(s, 8);
  c->model = store__col_text(s, 9);
  c->status = sqlite3_column_int(s, 10);
  c->stream = sqlite3_column_int(s, 11);
  c->refused = sqlite3_column_int(s, 12);
  c->replayed = sqlite3_column_int(s, 13);
  c->content_type = store__col_text(s, 14);
  c->request = sqlite3_column_blob(s, 15);
  c->request_len = (size_t)sqlite3_column_bytes(s, 15);
  c->request_truncated = sqlite3_column_int(s, 16);
  c->response = sqlite3_column_blob(s, 17);
  c->response_len = (size_t)sqlite3_column_bytes(s, 17);
  c->response_truncated = sqlite3_column_int(s, 18);
  llm_row_usage(c, s);
}

int store_llm_call_list(struct store *st, const char *mission, int64_t run,
                        store_llm_call_cb cb, void *payload) {
  struct store_llm_call c;
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL);
  if ((rc = store__stmt_get(st, STORE_STMT_LLM_CALL_LIST, &s, NULL)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_int(s, 2, run);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    llm_row(&c, s);
    if ((rc = cb(&c, payload)) != 0)
      goto out;
  }
  rc = store__walk_end(st, rc, __func__);
out:
  store__stmt_put(st, STORE_STMT_LLM_CALL_LIST, s);
  return rc;
}

int store_llm_totals(struct store *st, const char *mission, const char *task,
                     int64_t run, struct store_llm_totals *out,
                     struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL);
  if ((rc = store__stmt_get(st, STORE_STMT_LLM_CALL_TOTALS, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  store__bind_text(s, 2, task);
  store__bind_int(s, 3, run);
  if (sqlite3_step(s) != SQLITE_ROW) {
    rc = store__fail(st, __func__, err);
    goto out;
  }
  out->calls = sqlite3_column_int64(s, 0);
  out->input = sqlite3_column_int64(s, 1);
  out->output = sqlite3_column_int64(s, 2);
  out->cache_read = sqlite3_column_int64(s, 3);
  out->cache_write = sqlite3_column_int64(s, 4);
  out->reasoning = sqlite3_column_int64(s, 5);
  out->usd = sqlite3_column_double(s, 6);
  out->unpriced = sqlite3_column_int64(s, 7);
out:
  store__stmt_put(st, STORE_STMT_LLM_CALL_TOTALS, s);
  return rc;
}
