/*
 * ATIF (Agent Trajectory Interchange Format, v1.2): one trajectory per run.
 * The run's prompt is the first step (source "user" when the adapter
 * recorded it, else "system" with the task id), each agent message a step
 * with source "agent", a tool call joins the agent step before it (or opens
 * one) and its result becomes that step's observation, and a usage event
 * sets the metrics of the step it follows. final_metrics sum the run.
 * Output: {"mission": …, "trajectories": [ … ]}.
 */
#include "report-int.h"

#include <string.h>
#include <time.h>

static json_t *atif_time(int64_t ms) {
  char buf[40];
  time_t s = (time_t)(ms / 1000);
  struct tm tm;

  gmtime_r(&s, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
           (int)(ms % 1000));
  return json_string(buf);
}

static json_t *atif_step(json_t *steps, const char *source, int64_t ts,
                         const char *message) {
  json_t *s = json_pack("{s:I, s:o, s:s, s:s}", "step_id",
                        (json_int_t)json_array_size(steps) + 1, "timestamp",
                        atif_time(ts), "source", source, "message",
                        message ? message : "");

  json_array_append_new(steps, s);
  return s;
}

static json_t *atif_text_json(json_t *e) {
  const char *t =
      json_string_value(json_object_get(json_object_get(e, "data"), "text"));

  return json_loads(t ? t : "", 0, NULL);
}

static void atif_tool_call(json_t *steps, json_t **cur, json_t *e, int64_t ts) {
  json_t *call = atif_text_json(e), *calls;

  if (*cur == NULL)
    *cur = atif_step(steps, "agent", ts, "");
  if ((calls = json_object_get(*cur, "tool_calls")) == NULL)
    json_object_set_new(*cur, "tool_calls", calls = json_array());
  json_array_append_new(
      calls,
      json_pack("{s:s?, s:s?, s:O?}", "tool_call_id",
                json_string_value(json_object_get(call, "id")), "function_name",
                json_string_value(json_object_get(call, "name")), "arguments",
                json_object_get(call, "input")));
  json_decref(call);
}

static void atif_tool_result(json_t *cur, json_t *e) {
  json_t *res = atif_text_json(e), *obs, *out;

  if (cur == NULL)
    goto out;
  if ((obs = json_object_get(cur, "observation")) == NULL)
    json_object_set_new(cur, "observation",
                        obs = json_pack("{s:[]}", "results"));
  out = json_object_get(res, "output");
  json_array_append_new(
      json_object_get(obs, "results"),
      json_pack("{s:s?, s:o}", "source_call_id",
                json_string_value(json_object_get(res, "id")), "content",
                json_is_string(out) ? json_incref(out)
                                    : json_string(json_dumps(out, 0) ?: "")));
out:
  json_decref(res);
}

static void atif_event(json_t *steps, json_t **cur, json_t *e) {
  const char *kind = json_string_value(json_object_get(e, "kind"));
  int64_t ts = json_integer_value(json_object_get(e, "ts"));
  const char *text =
      json_string_value(json_object_get(json_object_get(e, "data"), "text"));
  json_t *u;

  if (strcmp(kind, "message") == 0)
    *cur = atif_step(steps, "agent", ts, text);
  else if (strcmp(kind, "tool_call") == 0)
    atif_tool_call(steps, cur, e, ts);
  else if (strcmp(kind, "tool_result") == 0)
    atif_tool_result(*cur, e);
  else if (strcmp(kind, "usage") == 0 && *cur != NULL &&
           (u = atif_text_json(e)) != NULL) {
    json_object_set_new(
        *cur, "metrics",
        json_pack("{s:I, s:I, s:I}", "prompt_tokens",
                  json_integer_value(json_object_get(u, "input")),
                  "completion_tokens",
                  json_integer_value(json_object_get(u, "output")),
                  "cached_tokens",
                  json_integer_value(json_object_get(u, "cache_read"))));
    json_decref(u);
  }
}

static json_t *atif_run(const struct rt_report *r,
                        const struct rt_report_task *k,
                        const struct rt_report_run *x) {
  json_t *steps = json_array(), *cur = NULL, *e, *fm;
  char session[128];
  size_t i;

  snprintf(session, sizeof(session), "%s/%s/run-%lld", r->mission, k->id,
           (long long)x->id);
  atif_step(steps, "system", x->started_at, k->id);
  json_array_foreach(x->events, i, e) atif_event(steps, &cur, e);
  fm = json_pack(
      "{s:I, s:I, s:I, s:I}", "total_prompt_tokens",
      (json_int_t)(x->usage.input + x->usage.cache_read + x->usage.cache_write),
      "total_completion_tokens", (json_int_t)x->usage.output,
      "total_cached_tokens", (json_int_t)x->usage.cache_read, "total_steps",
      (json_int_t)json_array_size(steps));
  if (x->usage.has_cost)
    json_object_set_new(fm, "total_cost_usd", json_real(x->usage.cost_usd));
  return json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:{s:s, s:I, s:s?}}",
                   "schema_version", "ATIF-v1.2", "session_id", session,
                   "agent", "name", k->agent, "version", CRL_VERSION, "steps",
                   steps, "final_metrics", fm, "extra", "task", k->id,
                   "attempt", (json_int_t)x->attempt, "end_reason", x->reason);
}

int rt_report_atif(FILE *fp, struct store *st, const char *mission,
                   struct crl_err *err) {
  struct rt_report r;
  json_t *all, *doc;
  int rc;

  if ((rc = rt_report_load(&r, st, mission, err)) < 0)
    goto out;
  all = json_array();
  for (size_t i = 0; i < r.ntasks; i++)
    for (size_t j = 0; j < r.tasks[i].nruns; j++)
      json_array_append_new(all,
                            atif_run(&r, &r.tasks[i], &r.tasks[i].runs[j]));
  doc = json_pack("{s:s, s:o}", "mission", mission, "trajectories", all);
  json_dumpf(doc, fp, JSON_INDENT(1));
  fputc('\n', fp);
  json_decref(doc);
out:
  rt_report_close(&r);
  return rc;
}
