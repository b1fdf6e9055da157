/*
 * The engine's LLM gateway (gateway.h): one per engine, made when a task's
 * agent is an LLM CLI. Upstreams and keys come from the gateway config
 * ($CORRAL_GATEWAY_CONFIG, else $XDG_CONFIG_HOME/corral/gateway.json), the
 * prices from the shipped pricing file ($CORRAL_PRICING, else the source
 * tree's data/pricing.json) with $XDG_CONFIG_HOME/corral/pricing.json on
 * top. An engine that replays recorded answers (opts.llm_replay) reads no
 * gateway config: no upstream, no key. Each call becomes an "llm.call"
 * event of its run and a row of the store's llm_calls with its bodies; a
 * cap reached stops the run with reason budget-exceeded. The mission's budget
 * spans its runs: each run is capped at what is left when it starts, and admit
 * refuses any call once the runs together have spent it.
 */
#include "gateway.h"
#include "rt-int.h"
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

static void engine_gw_on_call(const struct rt_gw_run *run,
                              const struct rt_gw_call *c, void *payload) {
  struct rt_run *r = run->payload;
  json_t *o = json_object();

  if (c->usage_seen)
    r->eng->spent_tokens += rt_usage_total(&c->usage);
  if (c->usage_seen && c->cost_rc == 0)
    r->eng->spent_usd += c->usd;
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
  (void)payload;
}

static void engine_gw_on_budget(const struct rt_gw_run *run,
                                enum rt_gw_budget_kind what, void *payload) {
  struct rt_run *r = run->payload;
  char data[64];

  snprintf(data, sizeof(data), "{\"budget\":\"%s\"}", rt_gw_budget_name(what));
  rt_engine_event(r->eng, r->eng->m->tasks[r->task].id, r->id,
                  "budget-exceeded", data);
  rt_run_stop(r, SCHED_STOP_BUDGET);
  (void)payload;
}

static int engine_gw_admit(const struct rt_gw_run *run,
                           const struct rt_gw_call *pending, void *payload) {
  const struct rt_engine *e = payload;
  const struct msn_budget *b = &e->m->budget;

  (void)run;
  (void)pending;
  return (b->tokens > 0 && e->spent_tokens >= b->tokens) ||
         (b->usd > 0 && e->spent_usd >= b->usd);
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
  if (e->gw_cfg != NULL)
    rt_gw_config_close(e->gw_cfg);
  free(e->gw_cfg);
  e->gw_cfg = NULL;
  rt_price_table_free(e->prices);
  e->prices = NULL;
}

/* A run's caps: what is left of the mission's budget (at least a token
 * or a cent's hundredth, since 0 means no cap; admit refuses the rest). */
void rt_engine_gw_budget(const struct rt_engine *e, struct rt_gw_budget *b) {
  const struct msn_budget *mb = &e->m->budget;

  memset(b, 0, sizeof(*b));
  if (mb->tokens > 0)
    b->max_tokens =
        mb->tokens > e->spent_tokens ? mb->tokens - e->spent_tokens : 1;
  if (mb->usd > 0)
    b->max_usd = mb->usd > e->spent_usd ? mb->usd - e->spent_usd : 1e-4;
}
