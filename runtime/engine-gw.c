/*
 * The engine's LLM gateway (gateway.h): one per engine, made when a task's
 * agent is an LLM CLI. Upstreams and keys come from the gateway config
 * ($CORRAL_GATEWAY_CONFIG, else $XDG_CONFIG_HOME/corral/gateway.json), the
 * prices from the shipped pricing file ($CORRAL_PRICING, else the source
 * tree's data/pricing.json) with $XDG_CONFIG_HOME/corral/pricing.json on
 * top. An engine that replays recorded answers (opts.llm_replay) reads no
 * gateway config: no upstream, no key. Each call becomes an "llm.call"
 * event of its run and a row of the store's llm_calls with its bodies; a
 * cap reached stops the run with reason budget-exceeded. Budgets of the
 * task, its ticket and the mission span runs (budget.c): each run is capped
 * at the least of what they have left when it starts, and admit refuses any
 * call once one of them is spent. Spending is summed from the calls as they
 * end, and reloaded from the store's llm.call events when an engine starts, so
 * the caps hold across a restart.
 */
#include "rt-budget.h"
#include "rt-json.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CORRAL_PRICING_DEFAULT
#define CORRAL_PRICING_DEFAULT "/usr/share/corral/pricing.json"
#endif

int rt_agent_uses_gw(const struct adapter_ops *ops) {
  return ops != NULL && strcmp(ops->name, "exec") != 0;
}

static int engine_gw_wanted(const struct msn_mission *m) {
  for (size_t i = 0; i < m->nagents; i++)
    if (rt_agent_uses_gw(adapter_find(m->agents[i].adapter)))
      return 1;
  return 0;
}

static int engine_gw_prices(struct rt_engine *e, struct crl_err *err) {
  const char *p = getenv("CORRAL_PRICING"), *xdg = getenv("XDG_CONFIG_HOME");
  char *user;
  int rc;

  e->prices = rt_price_table_new();
  if ((rc = rt_price_table_load(e->prices, p ? p : CORRAL_PRICING_DEFAULT,
                                err)) < 0)
    return rc;
  if (xdg != NULL && xdg[0] != '\0')
    xasprintf(&user, "%s/corral/pricing.json", xdg);
  else
    xasprintf(&user, "%s/.config/corral/pricing.json",
              getenv("HOME") ? getenv("HOME") : "");
  if (access(user, F_OK) == 0)
    rc = rt_price_table_load(e->prices, user, err);
  free(user);
  return rc;
}

static void engine_gw_usage(json_t *o, const struct rt_gw_call *c) {
  json_object_set_new(o, "input", json_integer(c->usage.input));
  json_object_set_new(o, "output", json_integer(c->usage.output));
  json_object_set_new(o, "cache_read", json_integer(c->usage.cache_read));
  json_object_set_new(o, "cache_write", json_integer(c->usage.cache_write));
  json_object_set_new(o, "reasoning", json_integer(c->usage.reasoning));
  json_object_set_new(o, "usage_seen", json_boolean(c->usage_seen));
  if (c->cost_rc == 0)
    json_object_set_new(o, "usd", json_real(c->usd));
  else
    json_object_set_new(o, "unpriced", json_true());
}

/* The call's row, with its bodies, beside its llm.call event. */
static void engine_gw_store(struct rt_run *r, const struct rt_gw_call *c) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_llm_call s = {.mission = r->eng->m->name,
                             .task = r->eng->m->tasks[r->task].id,
                             .run = r->id,
                             .seq = (int64_t)c->seq,
                             .ts = c->started_ms,
                             .provider = rt_gw_provider_name(c->provider),
                             .api = rt_gw_api_name(c->api),
                             .method = c->method,
                             .path = c->path,
                             .model = c->model,
                             .status = c->status,
                             .stream = c->stream,
                             .refused = c->refused,
                             .replayed = c->replayed,
                             .content_type = c->content_type,
                             .request = c->request_body ? c->request_body : "",
                             .request_len = c->request_len,
                             .request_truncated = c->request_truncated,
                             .response =
                                 c->response_body ? c->response_body : "",
                             .response_len = c->response_len,
                             .response_truncated = c->response_truncated,
                             .input = c->usage.input,
                             .output = c->usage.output,
                             .cache_read = c->usage.cache_read,
                             .cache_write = c->usage.cache_write,
                             .reasoning = c->usage.reasoning,
                             .usage_seen = c->usage_seen,
                             .usd = c->cost_rc == 0 ? c->usd : 0,
                             .unpriced = c->cost_rc != 0,
                             .latency_ms = c->latency_ms,
                             .ttfb_ms = c->ttfb_ms,
                             .error = c->error};

  if (store_llm_call_add(r->eng->st, &s, &err) < 0)
    log_warn("run %lld: llm call %llu not stored: %s", (long long)r->id,
             (unsigned long long)c->seq, err.msg);
}

static void engine_gw_spend(struct rt_engine *e, size_t task, int64_t tokens,
                            double usd) {
  rt_spend_add(&e->spent, tokens, usd);
  rt_spend_add(&e->spent_ticket[e->m->tasks[task].ticket], tokens, usd);
  rt_spend_add(&e->spent_task[task], tokens, usd);
}

static void engine_gw_levels(struct rt_budget_levels *l,
                             const struct rt_engine *e, size_t task) {
  size_t ticket = e->m->tasks[task].ticket;

  l->budget[RT_SCOPE_TASK] = &e->m->tasks[task].budget;
  l->budget[RT_SCOPE_TICKET] = &e->m->tickets[ticket].budget;
  l->budget[RT_SCOPE_MISSION] = &e->m->budget;
  l->spent[RT_SCOPE_TASK] = e->spent_task[task];
  l->spent[RT_SCOPE_TICKET] = e->spent_ticket[ticket];
  l->spent[RT_SCOPE_MISSION] = e->spent;
}

/* A model the pricing table lacks is said once per engine, as a warning
 * the terminal shows; its calls stay "unpriced", never priced at 0. */
static void engine_gw_unpriced(struct rt_run *r, const struct rt_gw_call *c) {
  struct rt_engine *e = r->eng;
  const char *model = c->model ? c->model : "(none)";
  char *msg;

  if (!c->usage_seen || c->cost_rc != CRL_ENOT_FOUND)
    return;
  if (e->unpriced == NULL)
    e->unpriced = json_object();
  if (json_object_get(e->unpriced, model) != NULL)
    return;
  json_object_set_new(e->unpriced, model, json_true());
  xasprintf(&msg,
            "model '%s' is not in the pricing table: its calls are recorded "
            "as unpriced (add it to $XDG_CONFIG_HOME/corral/pricing.json)",
            model);
  rt_engine_event_json(e, e->m->tasks[r->task].id, r->id, "warning",
                       json_pack("{s:s, s:s}", "message", msg, "model", model));
  free(msg);
}

static void engine_gw_on_call(const struct rt_gw_run *run,
                              const struct rt_gw_call *c, void *payload) {
  struct rt_run *r = run->payload;
  json_t *o = json_object();

  if (c->usage_seen)
    engine_gw_spend(r->eng, r->task, rt_usage_total(&c->usage),
                    c->cost_rc == 0 ? c->usd : 0);
  json_object_set_new(o, "seq", json_integer((json_int_t)c->seq));
  json_object_set_new(o, "provider",
                      json_string(rt_gw_provider_name(c->provider)));
  json_object_set_new(o, "path", json_string(c->path ? c->path : ""));
  json_object_set_new(o, "model",
                      c->model ? json_string(c->model) : json_null());
  json_object_set_new(o, "status", json_integer(c->status));
  json_object_set_new(o, "stream", json_boolean(c->stream));
  json_object_set_new(o, "refused", json_boolean(c->refused));
  if (c->error != NULL)
    json_object_set_new(o, "error", json_string(c->error));
  json_object_set_new(o, "latency_ms", json_real(c->latency_ms));
  engine_gw_usage(o, c);
  engine_gw_store(r, c);
  rt_engine_event_json(r->eng, r->eng->m->tasks[r->task].id, r->id, "llm.call",
                       o);
  engine_gw_unpriced(r, c);
  (void)payload;
}

/* The run's own caps reached, or admit refused: either way one of the
 * three levels is spent, since the calls that reached a cap were added to
 * it; turns are the task's own. */
static void engine_gw_on_budget(const struct rt_gw_run *run,
                                enum rt_gw_budget_kind what, void *payload) {
  struct rt_run *r = run->payload;
  enum rt_budget_scope scope = RT_SCOPE_TASK;
  struct rt_budget_levels l;
  enum rt_gw_budget_kind kind;
  char data[64];

  engine_gw_levels(&l, r->eng, r->task);
  if (what != RT_GW_BUDGET_TURNS && rt_budget_over(&kind, &scope, &l))
    what = kind;
  snprintf(data, sizeof(data), "{\"budget\":\"%s\",\"scope\":\"%s\"}",
           rt_gw_budget_name(what), rt_budget_scope_name(scope));
  rt_engine_event(r->eng, r->eng->m->tasks[r->task].id, r->id,
                  "budget-exceeded", data);
  rt_run_stop(r, SCHED_STOP_BUDGET);
  (void)payload;
}

static int engine_gw_admit(const struct rt_gw_run *run,
                           const struct rt_gw_call *pending, void *payload) {
  const struct rt_run *r = run->payload;
  struct rt_budget_levels l;
  enum rt_budget_scope scope;
  enum rt_gw_budget_kind kind;

  (void)pending;
  (void)payload;
  engine_gw_levels(&l, r->eng, r->task);
  return rt_budget_over(&kind, &scope, &l);
}

int rt_engine_gw_init(struct rt_engine *e, struct crl_err *err) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  int rc;

  if (!engine_gw_wanted(e->m))
    return 0;
  /* A CLI that hangs up mid-answer must not kill us: the write fails with
   * EPIPE instead (libuv writes to sockets without MSG_NOSIGNAL). */
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  e->gw_cfg = xcalloc(1, sizeof(*e->gw_cfg));
  /* Replaying answers recorded calls only: no upstream, no key. */
  if ((e->opts.llm_replay == NULL &&
       (rc = rt_gw_config_load(e->gw_cfg, getenv("CORRAL_GATEWAY_CONFIG"),
                               err)) < 0) ||
      (rc = engine_gw_prices(e, err)) < 0)
    return rc;
  rt_gw_opts_from_config(&opts, e->gw_cfg);
  opts.pricing = e->prices;
  opts.on_call = engine_gw_on_call;
  opts.on_budget = engine_gw_on_budget;
  opts.admit = engine_gw_admit;
  opts.payload = e;
  return rt_gw_new(&e->gw, e->loop, &opts, err);
}

static void engine_gw_closed(void *payload) {
  struct rt_engine *e = payload;

  e->closing--;
}

void rt_engine_gw_close(struct rt_engine *e) {
  if (e->gw == NULL)
    return;
  e->closing++;
  rt_gw_close(e->gw, engine_gw_closed, e);
  e->gw = NULL;
}

void rt_engine_gw_free(struct rt_engine *e) {
  free(e->spent_ticket);
  e->spent_ticket = NULL;
  free(e->spent_task);
  e->spent_task = NULL;
  if (e->gw_cfg != NULL)
    rt_gw_config_close(e->gw_cfg);
  free(e->gw_cfg);
  e->gw_cfg = NULL;
  rt_price_table_free(e->prices);
  e->prices = NULL;
  json_decref(e->unpriced);
  e->unpriced = NULL;
}

void rt_engine_gw_budget(const struct rt_engine *e, size_t task,
                         struct rt_gw_budget *b) {
  struct rt_budget_levels l;

  engine_gw_levels(&l, e, task);
  rt_budget_caps(b, &l);
}

void rt_engine_gw_grow(struct rt_engine *e) {
  size_t n = e->m->ntasks;

  e->spent_task = xreallocarray(e->spent_task, n, sizeof(*e->spent_task));
  memset(&e->spent_task[n - 1], 0, sizeof(*e->spent_task));
}

static int engine_gw_reload_one(const struct store_spend *s, void *payload) {
  struct rt_engine *e = payload;
  int task = s->task != NULL ? msn_task_find(e->m, s->task) : -1;

  if (task >= 0)
    engine_gw_spend(e, (size_t)task, s->tokens, s->usd);
  else
    rt_spend_add(&e->spent, s->tokens, s->usd);
  return 0;
}

int rt_engine_gw_reload(struct rt_engine *e, struct crl_err *err) {
  memset(&e->spent, 0, sizeof(e->spent));
  memset(e->spent_ticket, 0, e->m->ntickets * sizeof(*e->spent_ticket));
  memset(e->spent_task, 0, e->m->ntasks * sizeof(*e->spent_task));
  return store_spend_list(e->st, e->m->name, engine_gw_reload_one, e, err);
}
