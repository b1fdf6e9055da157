/*
 * The control socket's route table, and the resources that are about the
 * daemon itself: health, info, stats, Prometheus metrics, costs, audit, and
 * and the question and approval gates agents raise through their channel
 * (answered here through the mission's live engine).
 */
#include "api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct rt_http_route rt_api_routes[] = {
    {"GET", "/v1/health", api_health},
    {"GET", "/v1/info", api_info},
    {"GET", "/v1/stats", api_stats},
    {"GET", "/v1/metrics", api_metrics},
    {"POST", "/v1/missions", api_missions_post},
    {"GET", "/v1/missions", api_missions_list},
    {"GET", "/v1/missions/{id}", api_mission_get},
    {"POST", "/v1/missions/{id}/pause", api_mission_pause},
    {"POST", "/v1/missions/{id}/resume", api_mission_resume},
    {"POST", "/v1/missions/{id}/cancel", api_mission_cancel},
    {"GET", "/v1/missions/{id}/tickets", api_mission_tickets},
    {"GET", "/v1/tickets/{id}", api_ticket_get},
    {"GET", "/v1/tasks", api_tasks_list},
    {"GET", "/v1/tasks/{id}", api_task_get},
    {"POST", "/v1/tasks/{id}/approve", api_task_approve},
    {"POST", "/v1/tasks/{id}/reject", api_task_reject},
    {"POST", "/v1/tasks/{id}/retry", api_task_retry},
    {"POST", "/v1/tasks/{id}/resume", api_task_resume},
    {"POST", "/v1/tasks/{id}/cancel", api_task_cancel},
    {"GET", "/v1/runs/{id}", api_run_get},
    {"GET", "/v1/runs/{id}/output", api_run_output},
    {"GET", "/v1/events", api_events},
    {"GET", "/v1/costs", api_costs},
    {"GET", "/v1/audit", api_audit},
    {"GET", "/v1/questions", api_questions},
    {"POST", "/v1/questions/{id}/answer", api_question_answer},
    {"GET", "/v1/approvals", api_approvals},
    {"POST", "/v1/approvals/{id}/approve", api_approval_decide},
    {"POST", "/v1/approvals/{id}/deny", api_approval_decide},
};

const size_t rt_api_nroutes = CRL_ARRAY_SIZE(rt_api_routes);

int api_query_int(struct rt_http_req *req, const char *name, int64_t def,
                  int64_t *out) {
  const char *v = rt_http_req_query(req, name);
  char *end;

  *out = def;
  if (v == NULL)
    return 0;
  errno = 0;
  *out = strtoll(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno != 0 || *out < 0) {
    rt_http_reply_error(req, CRL_EBAD_REQUEST,
                        json_pack("{s:s, s:s}", "parameter", name, "value", v),
                        "'%s' must be a non-negative integer", name);
    return -1;
  }
  return 0;
}

API_HANDLER(api_health) {
  rt_http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static json_int_t api_uptime(const struct rt_daemon *d) {
  return (json_int_t)((crl_time_wall_ms() - d->started_ms) / 1000);
}

static size_t api_live(const struct rt_daemon *d, size_t *runs) {
  size_t n = 0;

  *runs = 0;
  for (const struct rt_dmission *x = d->missions; x != NULL; x = x->next)
    if (!x->done) {
      n++;
      *runs += x->eng.live;
    }
  return n;
}

API_HANDLER(api_info) {
  struct rt_daemon *d = payload;

  rt_http_reply_json(
      req, 200,
      json_pack("{s:s, s:I, s:i, s:s, s:[s,s,s,s,s,s]}", "version", CRL_VERSION,
                "uptime_s", api_uptime(d), "pid", (int)getpid(), "state_dir",
                d->state_dir, "capabilities", "missions", "tickets", "tasks",
                "events-sse", "review", "worktrees"));
}

API_HANDLER(api_stats) {
  struct rt_daemon *d = payload;
  size_t runs, missions = api_live(d, &runs);

  rt_http_reply_json(
      req, 200,
      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "uptime_s",
                api_uptime(d), "missions_running", (json_int_t)missions,
                "runs_live", (json_int_t)runs, "connections",
                (json_int_t)rt_http_server_conns(d->http), "subscribers",
                (json_int_t)rt_daemon_feed_count(d), "subscribers_dropped",
                (json_int_t)d->feeds_dropped, "events_sent",
                (json_int_t)d->events_sent, "requests",
                (json_int_t)rt_http_server_requests(d->http)));
}

API_HANDLER(api_metrics) {
  struct rt_daemon *d = payload;
  size_t runs, missions = api_live(d, &runs);
  struct crl_buf b;

  crl_buf_init(&b, 0);
  crl_buf_printf(&b,
                 "# HELP corral_up The daemon is up.\n# TYPE corral_up gauge\n"
                 "corral_up 1\n"
                 "# TYPE corral_uptime_seconds gauge\n"
                 "corral_uptime_seconds %lld\n"
                 "# TYPE corral_missions_running gauge\n"
                 "corral_missions_running %zu\n"
                 "# TYPE corral_runs_live gauge\ncorral_runs_live %zu\n"
                 "# TYPE corral_subscribers gauge\ncorral_subscribers %zu\n"
                 "# TYPE corral_events_sent_total counter\n"
                 "corral_events_sent_total %llu\n"
                 "# TYPE corral_requests_total counter\n"
                 "corral_requests_total %llu\n",
                 (long long)api_uptime(d), missions, runs,
                 rt_daemon_feed_count(d), (unsigned long long)d->events_sent,
                 (unsigned long long)rt_http_server_requests(d->http));
  rt_http_reply_text(req, 200, "text/plain; version=0.0.4", b.data, b.len);
  crl_buf_close(&b);
}

/* Usage and dollars from the gateway's llm.call events, per group
 * (costs.c). */
API_HANDLER(api_costs) {
  const char *by = rt_http_req_query(req, "group_by");

  if (by != NULL && !rt_costs_group_ok(by)) {
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "group_by must be mission, ticket, task, run or agent");
    return;
  }
  rt_http_reply_json(req, 200,
                     rt_costs(((struct rt_daemon *)payload)->st,
                              rt_http_req_query(req, "mission"),
                              by ? by : "mission"));
}

static const char *const api_audit_kinds[] = {
    "review",        "policy",         "merge",          "gc",
    "mission.pause", "mission.resume", "mission.cancel", "warning",
    "resume",        "task.cancel",    "task.retry"};

struct api_list {
  json_t *v;
  int64_t limit;
};

static int api_audit_one(const struct store_event *ev, void *payload) {
  struct api_list *l = payload;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(api_audit_kinds); i++)
    if (strcmp(ev->kind, api_audit_kinds[i]) == 0) {
      json_array_append_new(l->v, api_event_json(ev));
      break;
    }
  return (int64_t)json_array_size(l->v) >= l->limit;
}

API_HANDLER(api_audit) {
  struct rt_daemon *d = payload;
  struct api_list l = {json_array(), 0};
  int64_t after;

  if (api_query_int(req, "after", 0, &after) < 0 ||
      api_query_int(req, "limit", 1000, &l.limit) < 0) {
    json_decref(l.v);
    return;
  }
  store_event_list(d->st, rt_http_req_query(req, "mission"), NULL, after,
                   api_audit_one, &l);
  rt_http_reply_json(req, 200, json_pack("{s:o}", "events", l.v));
}

static int api_question_one(const struct store_question *q, void *payload) {
  json_array_append_new(
      payload,
      json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, "
                "s:I}",
                "id", (json_int_t)q->id, "mission", q->mission, "task", q->task,
                "run", (json_int_t)q->run, "kind", q->kind, "text", q->text,
                "state", q->state, "answer", q->answer, "default",
                q->default_answer, "deadline", (json_int_t)q->deadline,
                "created_at", (json_int_t)q->created_at, "answered_at",
                (json_int_t)q->answered_at));
  return 0;
}

static void api_gate_list(struct rt_http_req *req, struct rt_daemon *d,
                          const char *kind, const char *key) {
  const char *state = rt_http_req_query(req, "state");
  json_t *v = json_array();

  store_question_list(d->st, rt_http_req_query(req, "mission"),
                      state && strcmp(state, "all") == 0 ? NULL : state, kind,
                      api_question_one, v);
  rt_http_reply_json(req, 200, json_pack("{s:o}", key, v));
}

API_HANDLER(api_questions) {
  api_gate_list(req, payload, "question", "questions");
}

API_HANDLER(api_approvals) {
  api_gate_list(req, payload, "approval", "approvals");
}

/* Answers gate {id} of `kind` through its mission's live engine. */
static void api_gate_answer(struct rt_http_req *req, struct rt_daemon *d,
                            const char *kind, const char *answer) {
  const char *id = rt_http_req_param(req, "id");
  struct crl_err err = CRL_ERR_INIT;
  struct store_question q;
  struct rt_dmission *x;
  long long n = strtoll(id, NULL, 10);

  if (n <= 0 || store_question_get(d->st, n, &q, &err) < 0 ||
      strcmp(q.kind, kind) != 0) {
    rt_http_reply_error(req, CRL_ENOT_FOUND, NULL, "no %s %s", kind, id);
    return;
  }
  x = rt_daemon_mission(d, q.mission);
  if (x == NULL || x->done)
    rt_http_reply_error(req, CRL_EINVALID_TRANSITION, NULL,
                        "%s %s is %s and its mission is not running", kind, id,
                        q.state);
  else if (rt_engine_answer(&x->eng, n, answer, &err) < 0)
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
  else
    rt_http_reply_json(req, 200,
                       json_pack("{s:I, s:s, s:s}", "id", (json_int_t)n,
                                 "state", "answered", "answer", answer));
}

API_HANDLER(api_question_answer) {
  struct crl_err err = CRL_ERR_INIT;
  json_t *body = NULL;
  const char *answer;

  if (rt_http_req_json(&body, req, &err) < 0) {
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
    return;
  }
  answer = json_string_value(json_object_get(body, "answer"));
  if (answer == NULL)
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "expected {\"answer\": \"…\"}");
  else
    api_gate_answer(req, payload, "question", answer);
  json_decref(body);
}

API_HANDLER(api_approval_decide) {
  const char *path = req->path;
  size_t n = strlen(path);

  api_gate_answer(req, payload, "approval",
                  n > 5 && strcmp(path + n - 5, "/deny") == 0 ? "deny"
                                                              : "approve");
}
