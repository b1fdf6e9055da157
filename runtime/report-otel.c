/*
 * OpenTelemetry JSON (OTLP/JSON, one resourceSpans document): one trace per
 * mission, a root span for the mission, a span per task, a span per run
 * (an agent invocation: gen_ai.operation.name "invoke_agent") and a span
 * per tool call the run recorded ("execute_tool", ended by its result).
 * Attribute names follow the OpenTelemetry GenAI semantic conventions where
 * one exists (gen_ai.*, listed in tests/data/otel-genai-attributes.txt) and
 * corral.* otherwise. Each model call the LLM gateway recorded for a run is
 * a "chat {model}" span under it, from the call's start to its end
 * (start + latency), with its provider, models, tokens and cost; side
 * requests (token counts, model lists, probes) get no span. Ids are hashes of
 * the mission, task, run and event, so exporting twice gives the same ids.
 */
#include "report-int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct otel {
  struct rt_report *r;
  char trace_id[33];
  json_t *spans;
};

static void otel_id(char out[17], const char *kind, const char *name,
                    int64_t n) {
  uint64_t h = crl_hash64(kind, strlen(kind), 0);

  h = crl_hash64(name, strlen(name), h);
  h = crl_hash64(&n, sizeof(n), h);
  snprintf(out, 17, "%016" PRIx64, h ? h : 1);
}

static json_t *otel_str(const char *k, const char *v) {
  return json_pack("{s:s, s:{s:s}}", "key", k, "value", "stringValue",
                   v ? v : "");
}

static json_t *otel_int(const char *k, int64_t v) {
  char s[32];

  /* OTLP/JSON carries 64-bit integers as strings. */
  snprintf(s, sizeof(s), "%lld", (long long)v);
  return json_pack("{s:s, s:{s:s}}", "key", k, "value", "intValue", s);
}

static json_t *otel_real(const char *k, double v) {
  return json_pack("{s:s, s:{s:f}}", "key", k, "value", "doubleValue", v);
}

static json_t *otel_nanos(int64_t ms) {
  char s[32];

  snprintf(s, sizeof(s), "%lld000000", (long long)(ms > 0 ? ms : 0));
  return json_string(s);
}

static json_t *otel_span(struct otel *o, const char *id, const char *parent,
                         const char *name, int64_t from, int64_t to) {
  json_t *s = json_pack(
      "{s:s, s:s, s:s, s:i, s:o, s:o, s:[]}", "traceId", o->trace_id, "spanId",
      id, "name", name, "kind", 1, "startTimeUnixNano", otel_nanos(from),
      "endTimeUnixNano", otel_nanos(to >= from ? to : from), "attributes");

  if (parent != NULL)
    json_object_set_new(s, "parentSpanId", json_string(parent));
  json_array_append_new(o->spans, s);
  return json_object_get(s, "attributes");
}

static void otel_status(json_t *span_attrs, json_t *span, int ok,
                        const char *msg) {
  (void)span_attrs;
  json_object_set_new(
      span, "status",
      json_pack("{s:i, s:s?}", "code", ok ? 1 : 2, "message", ok ? NULL : msg));
}

static void otel_usage(json_t *a, const struct rt_usage *u) {
  json_array_append_new(a, otel_int("gen_ai.usage.input_tokens",
                                    u->input + u->cache_read + u->cache_write));
  json_array_append_new(a, otel_int("gen_ai.usage.output_tokens", u->output));
  json_array_append_new(
      a, otel_int("gen_ai.usage.cache_read.input_tokens", u->cache_read));
  json_array_append_new(
      a, otel_int("gen_ai.usage.cache_creation.input_tokens", u->cache_write));
  if (u->has_cost)
    json_array_append_new(a, otel_real("corral.cost_usd", u->cost_usd));
}

/* The tool_result with the same id, else the call's own time. */
static int64_t otel_tool_end(json_t *events, size_t from, const char *id,
                             int64_t ts) {
  json_t *e, *d;

  for (size_t i = from + 1; id != NULL && i < json_array_size(events); i++) {
    e = json_array_get(events, i);
    if (strcmp(json_string_value(json_object_get(e, "kind")), "tool_result"))
      continue;
    d = json_loads(
        json_string_value(json_object_get(json_object_get(e, "data"), "text"))
            ?: "",
        0, NULL);
    if (d != NULL &&
        strcmp(json_string_value(json_object_get(d, "id")) ?: "", id) == 0) {
      json_decref(d);
      return json_integer_value(json_object_get(e, "ts"));
    }
    json_decref(d);
  }
  return ts;
}

static void otel_tool(struct otel *o, const char *run_id, json_t *events,
                      size_t i, const char *agent) {
  json_t *e = json_array_get(events, i), *call, *a;
  const char *text =
      json_string_value(json_object_get(json_object_get(e, "data"), "text"));
  const char *name, *id;
  int64_t ts = json_integer_value(json_object_get(e, "ts"));
  char sid[17], span_name[256];

  call = json_loads(text ? text : "", 0, NULL);
  name = json_string_value(json_object_get(call, "name"));
  id = json_string_value(json_object_get(call, "id"));
  otel_id(sid, "tool", run_id, json_integer_value(json_object_get(e, "seq")));
  snprintf(span_name, sizeof(span_name), "execute_tool %s",
           name ? name : "tool");
  a = otel_span(o, sid, run_id, span_name, ts,
                otel_tool_end(events, i, id, ts));
  json_array_append_new(a, otel_str("gen_ai.operation.name", "execute_tool"));
  json_array_append_new(a, otel_str("gen_ai.tool.name", name));
  if (id != NULL)
    json_array_append_new(a, otel_str("gen_ai.tool.call.id", id));
  json_array_append_new(a, otel_str("gen_ai.agent.name", agent));
  json_decref(call);
}

static void otel_chat(struct otel *o, const char *run_id, json_t *c) {
  const char *model = json_string_value(json_object_get(c, "model"));
  const char *rmodel = json_string_value(json_object_get(c, "response_model"));
  int64_t ts = json_integer_value(json_object_get(c, "ts"));
  double lat = json_number_value(json_object_get(c, "latency_ms"));
  struct rt_usage u = {0};
  char sid[17], name[256];
  json_t *a, *usd = json_object_get(c, "usd");

  otel_id(sid, "chat", run_id, json_integer_value(json_object_get(c, "seq")));
  snprintf(name, sizeof(name), "chat %s", model ? model : "");
  a = otel_span(o, sid, run_id, name, ts, ts + (int64_t)(lat + 0.5));
  json_array_append_new(a, otel_str("gen_ai.operation.name", "chat"));
  json_array_append_new(
      a, otel_str("gen_ai.provider.name",
                  json_string_value(json_object_get(c, "provider"))));
  json_array_append_new(a, otel_str("gen_ai.request.model", model));
  if (rmodel != NULL)
    json_array_append_new(a, otel_str("gen_ai.response.model", rmodel));
  u.input = json_integer_value(json_object_get(c, "input"));
  u.output = json_integer_value(json_object_get(c, "output"));
  u.cache_read = json_integer_value(json_object_get(c, "cache_read"));
  u.cache_write = json_integer_value(json_object_get(c, "cache_write"));
  u.has_cost = usd != NULL;
  u.cost_usd = json_number_value(usd);
  otel_usage(a, &u);
  json_array_append_new(
      a, otel_int("corral.llm.status",
                  json_integer_value(json_object_get(c, "status"))));
  json_array_append_new(a, otel_real("corral.llm.latency_ms", lat));
}

static void otel_run(struct otel *o, const char *task_id,
                     const struct rt_report_task *k,
                     const struct rt_report_run *x) {
  char sid[17], name[256];
  json_t *a, *e;
  size_t i;

  otel_id(sid, "run", o->r->mission, x->id);
  snprintf(name, sizeof(name), "invoke_agent %s", k->agent);
  a = otel_span(o, sid, task_id, name, x->started_at, x->ended_at);
  json_array_append_new(a, otel_str("gen_ai.operation.name", "invoke_agent"));
  json_array_append_new(a, otel_str("gen_ai.agent.name", k->agent));
  json_array_append_new(a, otel_int("corral.run.id", x->id));
  json_array_append_new(a, otel_int("corral.run.attempt", x->attempt));
  json_array_append_new(a, otel_str("corral.run.reason", x->reason));
  otel_usage(a, &x->usage);
  otel_status(a, json_array_get(o->spans, json_array_size(o->spans) - 1),
              x->reason != NULL && strcmp(x->reason, "exit 0") == 0, x->reason);
  json_array_foreach(x->llm, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "api")) ?: "side",
               "side") != 0)
      otel_chat(o, sid, e);
  }
  json_array_foreach(x->events, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "kind")), "tool_call") == 0)
      otel_tool(o, sid, x->events, i, k->agent);
  }
}

static void otel_task(struct otel *o, const char *root,
                      const struct rt_report_task *k) {
  char sid[17], name[256];
  json_t *a;

  otel_id(sid, "task", o->r->mission, (int64_t)(k - o->r->tasks));
  snprintf(name, sizeof(name), "task %s", k->id);
  a = otel_span(o, sid, root, name, k->started_at, k->ended_at);
  json_array_append_new(a, otel_str("corral.task.id", k->id));
  json_array_append_new(a, otel_str("corral.ticket.id", k->ticket));
  json_array_append_new(a, otel_str("corral.task.state", k->state));
  json_array_append_new(a, otel_int("corral.task.attempts", k->attempts));
  json_array_append_new(a, otel_str("gen_ai.agent.name", k->agent));
  otel_usage(a, &k->usage);
  otel_status(a, json_array_get(o->spans, json_array_size(o->spans) - 1),
              strcmp(k->state, "completed") == 0, k->reason);
  for (size_t j = 0; j < k->nruns; j++)
    otel_run(o, sid, k, &k->runs[j]);
}

static json_t *otel_doc(struct otel *o) {
  char root[17], name[256];
  json_t *a;

  otel_id(root, "mission", o->r->mission, 0);
  snprintf(o->trace_id, sizeof(o->trace_id), "%s", root);
  otel_id(o->trace_id + 16, "trace", o->r->mission, 0);
  snprintf(name, sizeof(name), "mission %s", o->r->mission);
  a = otel_span(o, root, NULL, name, o->r->created_at, o->r->updated_at);
  json_array_append_new(a, otel_str("corral.mission", o->r->mission));
  json_array_append_new(a, otel_str("corral.mission.state", o->r->state));
  for (size_t i = 0; i < o->r->ntasks; i++)
    otel_task(o, root, &o->r->tasks[i]);
  return json_pack(
      "{s:[{s:{s:[o, o]}, s:[{s:{s:s, s:s}, s:O}]}]}", "resourceSpans",
      "resource", "attributes", otel_str("service.name", "corral"),
      otel_str("corral.mission", o->r->mission), "scopeSpans", "scope", "name",
      "corral", "version", CRL_VERSION, "spans", o->spans);
}

int rt_report_otel(FILE *fp, struct store *st, const char *mission,
                   struct crl_err *err) {
  struct rt_report r;
  struct otel o = {&r, {0}, json_array()};
  json_t *doc;
  int rc;

  if ((rc = rt_report_load(&r, st, mission, err)) == 0) {
    doc = otel_doc(&o);
    json_dumpf(doc, fp, JSON_INDENT(1));
    fputc('\n', fp);
    json_decref(doc);
  }
  json_decref(o.spans);
  rt_report_close(&r);
  return rc;
}
