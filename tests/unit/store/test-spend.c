/* LLM spending summed from llm.call events (store/spend.c). */
#include "store-fixture.h"

TestSuite(store_spend, .init = fx_setup, .fini = fx_teardown);

static void append(const char *mission, const char *task, const char *kind,
                   const char *data) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_event ev = {
      .ts = 1, .mission = mission, .task = task, .kind = kind, .data = data};

  cr_assert_eq(store_event_append(fx_st, &ev, &err), 0, "%s", err.msg);
}

struct rows {
  char task[4][16];
  int64_t calls[4];
  int64_t tokens[4];
  double usd[4];
  int n;
};

static int collect(const struct store_spend *s, void *payload) {
  struct rows *r = payload;

  cr_assert_lt(r->n, 4);
  snprintf(r->task[r->n], sizeof(r->task[0]), "%s", s->task ? s->task : "-");
  r->calls[r->n] = s->calls;
  r->tokens[r->n] = s->tokens;
  r->usd[r->n++] = s->usd;
  return 0;
}

static void list(struct rows *r, const char *mission) {
  struct crl_err err = CRL_ERR_INIT;

  memset(r, 0, sizeof(*r));
  cr_assert_eq(store_spend_list(fx_st, mission, collect, r, &err), 0, "%s",
               err.msg);
}

#define CALL(in, out, cr, cw, tail)                            \
  "{\"input\":" #in ",\"output\":" #out ",\"cache_read\":" #cr \
  ",\"cache_write\":" #cw ",\"reasoning\":7,\"usage_seen\":true," tail "}"

Test(store_spend, sums_every_token_class_and_priced_dollars_per_task) {
  struct rows r;

  append("m", "a", "llm.call", CALL(100, 20, 30, 4, "\"usd\":0.5"));
  append("m", "a", "llm.call", CALL(1, 2, 3, 4, "\"unpriced\":true"));
  append("m", "b", "llm.call", CALL(10, 0, 0, 0, "\"usd\":0.25"));
  list(&r, "m");
  cr_assert_eq(r.n, 2);
  cr_assert_str_eq(r.task[0], "a");
  cr_assert_eq(r.calls[0], 2);
  /* reasoning is inside output already: never added. */
  cr_assert_eq(r.tokens[0], 154 + 10);
  cr_assert_float_eq(r.usd[0], 0.5, 1e-12);
  cr_assert_str_eq(r.task[1], "b");
  cr_assert_eq(r.tokens[1], 10);
  cr_assert_float_eq(r.usd[1], 0.25, 1e-12);
}

Test(store_spend,
     ignores_other_missions_kinds_bad_json_and_calls_without_usage) {
  struct rows r;

  append("m", "a", "llm.call", CALL(5, 5, 0, 0, "\"usd\":1.0"));
  append("other", "a", "llm.call", CALL(100, 0, 0, 0, "\"usd\":9.0"));
  append("m", "a", "usage", CALL(100, 0, 0, 0, "\"usd\":9.0"));
  append("m", "a", "llm.call", "{not json");
  append("m", "a", "llm.call", NULL);
  append("m", "a", "llm.call",
         "{\"input\":50,\"usage_seen\":false,\"usd\":3.0,\"refused\":true}");
  list(&r, "m");
  cr_assert_eq(r.n, 1);
  cr_assert_eq(r.tokens[0], 10);
  cr_assert_float_eq(r.usd[0], 1.0, 1e-12);
}

Test(store_spend, keeps_calls_without_a_task_and_survives_a_reopen) {
  struct rows r;

  append("m", NULL, "llm.call", CALL(1, 1, 0, 0, "\"usd\":0.125"));
  append("m", "t", "llm.call", CALL(2, 2, 0, 0, "\"usd\":0.125"));
  cr_assert_eq(store_commit(fx_st, NULL), 0);
  fx_reopen();
  list(&r, "m");
  cr_assert_eq(r.n, 2);
  cr_assert_str_eq(r.task[0], "-");
  cr_assert_eq(r.tokens[0], 2);
  cr_assert_str_eq(r.task[1], "t");
  cr_assert_eq(r.tokens[1], 4);
  list(&r, "none");
  cr_assert_eq(r.n, 0);
}

static int stop(const struct store_spend *s, void *payload) {
  ++*(int *)payload;
  return 42;
}

Test(store_spend, a_callback_stops_the_walk) {
  struct crl_err err = CRL_ERR_INIT;
  int n = 0;

  append("m", "a", "llm.call", CALL(1, 0, 0, 0, "\"usd\":0"));
  append("m", "b", "llm.call", CALL(1, 0, 0, 0, "\"usd\":0"));
  cr_assert_eq(store_spend_list(fx_st, "m", stop, &n, &err), 42);
  cr_assert_eq(n, 1);
}
