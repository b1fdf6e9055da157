/*
 * The /v1/ resources of the control socket (docs/protocol.md), one handler
 * per route: api.c (health, info, stats, metrics, costs, audit, questions,
 * approvals, and the route table), api-mission.c (missions and tickets),
 * api-task.c (tasks, runs, output, events). Handlers read the store, act on
 * the mission's live engine, and answer in the one error format.
 */
#ifndef RT_API_H
#define RT_API_H

#include <jansson.h>

#include "daemon.h"

#define API_HANDLER(name) void name(struct rt_http_req *req, void *payload)

API_HANDLER(api_health);
API_HANDLER(api_info);
API_HANDLER(api_stats);
API_HANDLER(api_metrics);
API_HANDLER(api_costs);
API_HANDLER(api_audit);
API_HANDLER(api_questions);
API_HANDLER(api_question_answer);
API_HANDLER(api_approvals);
API_HANDLER(api_approval_decide);

API_HANDLER(api_missions_post);
API_HANDLER(api_missions_list);
API_HANDLER(api_mission_get);
API_HANDLER(api_mission_pause);
API_HANDLER(api_mission_resume);
API_HANDLER(api_mission_cancel);
API_HANDLER(api_mission_tickets);
API_HANDLER(api_ticket_get);

API_HANDLER(api_tasks_list);
API_HANDLER(api_task_get);
API_HANDLER(api_task_approve);
API_HANDLER(api_task_reject);
API_HANDLER(api_task_retry);
API_HANDLER(api_task_resume);
API_HANDLER(api_task_cancel);
API_HANDLER(api_run_get);
API_HANDLER(api_run_output);
API_HANDLER(api_events);

/* Helpers shared by the api files. */
/* A query integer: def when absent; -1 (after a 400 reply) when bad. */
int api_query_int(struct rt_http_req *req, const char *name, int64_t def,
                  int64_t *out);
/* The mission a request names (?mission=), or the one holding task id
 * (NULL when none or several: *err says which). Heap. */
char *api_task_mission(struct rt_daemon *d, struct rt_http_req *req,
                       const char *task, struct crl_err *err);
json_t *api_task_json(const struct store_task *t);
json_t *api_run_json(const struct store_run *r);
json_t *api_event_json(const struct store_event *ev);
/* Counts of tasks per state, {"pending": 2, ...}. */
json_t *api_task_counts(struct store *st, const char *mission);

#endif
