/*
 * Missions and tickets over the socket: submit (YAML or JSON, validated
 * with line:col messages), list with a cursor, show, pause, resume, cancel,
 * and each ticket's branch, merge state and commits.
 */
#include "api.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *api_diags_json(const struct msn_diags *dg) {
  json_t *v = json_array();

  for (size_t i = 0; i < dg->n; i++)
    json_array_append_new(v,
                          json_pack("{s:s, s:i, s:i, s:s}", "file",
                                    dg->v[i].file, "line", dg->v[i].line, "col",
                                    dg->v[i].col, "message", dg->v[i].msg));
  return v;
}

static int api_is_json(const struct rt_http_req *req) {
  return req->content_type != NULL &&
         strncmp(req->content_type, "application/json", 16) == 0;
}

API_HANDLER(api_missions_post) {
  struct rt_daemon *d = payload;
  struct crl_err err = CRL_ERR_INIT;
  const char *dir = rt_http_req_query(req, "dir");
  char cwd[PATH_MAX];
  struct msn_diags dg;
  struct rt_dmission *x;

  if (dir != NULL && dir[0] != '/') {
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "dir must be an absolute path, got '%s'", dir);
    return;
  }
  if (dir == NULL)
    dir = getcwd(cwd, sizeof(cwd)) ? cwd : "/";
  msn_diags_init(&dg);
  if (rt_daemon_submit(d, req->body, req->body_len, api_is_json(req), dir,
                       rt_http_req_query(req, "file"), &dg, &x, &err) < 0)
    rt_http_reply_error(req, err.code,
                        dg.n ? json_pack("{s:o}", "errors", api_diags_json(&dg))
                             : NULL,
                        "%s", err.msg);
  else
    rt_http_reply_json(
        req, 201, json_pack("{s:s, s:s}", "id", x->id, "state", "running"));
  msn_diags_close(&dg);
}

static json_t *api_mission_json(struct rt_daemon *d,
                                const struct store_mission *m) {
  struct rt_dmission *x = rt_daemon_mission(d, m->id);
  int live = x != NULL && !x->done;

  return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:I, s:I, s:b, s:b, s:o}",
                   "id", m->id, "state", m->state, "file", m->file, "repo",
                   m->repo, "base", m->base, "created_at",
                   (json_int_t)m->created_at, "updated_at",
                   (json_int_t)m->updated_at, "live", live, "paused",
                   live && sched_paused(x->eng.sched), "tasks",
                   api_task_counts(d->st, m->id));
}

struct api_page {
  struct rt_daemon *d;
  json_t *v;
  int64_t skip, limit, seen;
};

static int api_mission_one(const struct store_mission *m, void *payload) {
  struct api_page *p = payload;

  if (p->seen++ < p->skip)
    return 0;
  if ((int64_t)json_array_size(p->v) == p->limit)
    return 1; /* one more exists: there is a next page */
  json_array_append_new(p->v, api_mission_json(p->d, m));
  return 0;
}

API_HANDLER(api_missions_list) {
  struct api_page p = {payload, json_array(), 0, 0, 0};
  char next[32];
  int more;

  if (api_query_int(req, "cursor", 0, &p.skip) < 0 ||
      api_query_int(req, "limit", 50, &p.limit) < 0) {
    json_decref(p.v);
    return;
  }
  if (p.limit == 0 || p.limit > 1000)
    p.limit = p.limit == 0 ? 50 : 1000;
  more = store_mission_list(p.d->st, api_mission_one, &p) == 1;
  snprintf(next, sizeof(next), "%lld", (long long)(p.skip + p.limit));
  rt_http_reply_json(req, 200,
                     json_pack("{s:o, s:s?}", "missions", p.v, "next_cursor",
                               more ? next : NULL));
}

/* The stored mission named by {id}; 404 answered when absent. */
static int api_mission_find(struct rt_daemon *d, struct rt_http_req *req,
                            struct store_mission *m) {
  struct crl_err err = CRL_ERR_INIT;

  if (store_mission_get(d->st, rt_http_req_param(req, "id"), m, &err) == 0)
    return 0;
  rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
  return -1;
}

API_HANDLER(api_mission_get) {
  struct rt_daemon *d = payload;
  struct store_mission m;

  if (api_mission_find(d, req, &m) == 0)
    rt_http_reply_json(req, 200, api_mission_json(d, &m));
}

/* The live engine of {id}, or NULL after a 404 or 409 reply. */
static struct rt_engine *api_engine(struct rt_daemon *d,
                                    struct rt_http_req *req) {
  const char *id = rt_http_req_param(req, "id");
  struct rt_dmission *x = rt_daemon_mission(d, id);
  struct store_mission m;

  if (x != NULL && !x->done)
    return &x->eng;
  if (api_mission_find(d, req, &m) == 0)
    rt_http_reply_error(req, CRL_EINVALID_TRANSITION, NULL,
                        "mission %s is not running (it is %s)", id, m.state);
  return NULL;
}

static void api_mission_ctl(struct rt_http_req *req, void *payload, int op) {
  struct rt_engine *e = api_engine(payload, req);
  struct crl_err err = CRL_ERR_INIT;
  int rc;

  if (e == NULL)
    return;
  rc = op == 2 ? rt_engine_cancel(e, &err) : rt_engine_pause(e, op, &err);
  if (rc < 0)
    rt_http_reply_error(req, rc, NULL, "%s", err.msg);
  else
    rt_http_reply_json(req, 200,
                       json_pack("{s:s, s:s}", "id", e->m->name, "state",
                                 op == 2 ? "cancelling"
                                 : op    ? "paused"
                                         : "running"));
}

API_HANDLER(api_mission_pause) {
  api_mission_ctl(req, payload, 1);
}

API_HANDLER(api_mission_resume) {
  api_mission_ctl(req, payload, 0);
}

API_HANDLER(api_mission_cancel) {
  api_mission_ctl(req, payload, 2);
}

static int api_ticket_one(const struct store_ticket *t, void *payload) {
  json_t *detail = t->detail ? json_loads(t->detail, 0, NULL) : NULL;

  json_array_append_new(
      payload, json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:o?}",
                         "mission", t->mission, "id", t->id, "title", t->title,
                         "state", t->state, "branch", t->branch, "head",
                         t->head, "merged", t->merged, "detail", detail));
  return 0;
}

API_HANDLER(api_mission_tickets) {
  struct rt_daemon *d = payload;
  struct store_mission m;
  json_t *v;

  if (api_mission_find(d, req, &m) < 0)
    return;
  v = json_array();
  store_ticket_list(d->st, rt_http_req_param(req, "id"), api_ticket_one, v);
  rt_http_reply_json(req, 200, json_pack("{s:o}", "tickets", v));
}

struct api_commits {
  const char *ticket;
  json_t *v;
};

static int api_commit_one(const struct store_commit *c, void *payload) {
  struct api_commits *a = payload;

  if (c->ticket == NULL || strcmp(c->ticket, a->ticket) != 0)
    return 0;
  json_array_append_new(a->v,
                        json_pack("{s:s, s:s?, s:s?, s:I, s:s?, s:I, s:I, s:I}",
                                  "sha", c->sha, "parent", c->parent, "task",
                                  c->task, "run", (json_int_t)c->run, "agent",
                                  c->agent, "files", (json_int_t)c->files,
                                  "insertions", (json_int_t)c->insertions,
                                  "deletions", (json_int_t)c->deletions));
  return 0;
}

API_HANDLER(api_ticket_get) {
  struct rt_daemon *d = payload;
  const char *mission = rt_http_req_query(req, "mission");
  const char *id = rt_http_req_param(req, "id");
  struct api_commits a = {id, NULL};
  struct store_ticket t;
  struct crl_err err = CRL_ERR_INIT;
  json_t *v = json_array(), *doc;

  if (mission == NULL) {
    json_decref(v);
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "ticket ids are per mission: add ?mission=NAME");
    return;
  }
  if (store_ticket_get(d->st, mission, id, &t, &err) < 0) {
    json_decref(v);
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
    return;
  }
  api_ticket_one(&t, v);
  doc = json_incref(json_array_get(v, 0));
  json_decref(v);
  a.v = json_array();
  store_commit_list(d->st, mission, api_commit_one, &a);
  json_object_set_new(doc, "commits", a.v);
  rt_http_reply_json(req, 200, doc);
}
