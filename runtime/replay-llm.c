/*
 * The recorded LLM answers of a trace, per run, for the gateway's replay
 * mode: agents-mode replay runs each task's attempt again with its
 * gateway port answering from the calls the trace recorded for the same
 * task and attempt (gateway.h, struct rt_gw_replay). Each entry keeps the
 * recorded method, path and request body, so the gateway matches a request
 * to its answer even when a CLI's side requests interleave differently. A
 * response the gateway cut at record_body_max cannot be served: loading
 * refuses the trace with the run, the call and the size.
 */
#include "gateway.h"
#include "rt-int.h"
#include "rt-trace.h"

#include <stdlib.h>
#include <string.h>

struct llm_run {
  int64_t id;
  char *task;
  int attempt;
  struct rt_gw_replay *calls;
  size_t n;
};

struct rt_llm_replay {
  struct llm_run *runs;
  size_t n;
};

static int llm_run_cb(const struct store_run *r, void *payload) {
  struct rt_llm_replay *lr = payload;
  struct llm_run *run;

  lr->runs = xreallocarray(lr->runs, lr->n + 1, sizeof(*lr->runs));
  run = &lr->runs[lr->n++];
  memset(run, 0, sizeof(*run));
  run->id = r->id;
  run->task = xstrdup(r->task);
  run->attempt = r->attempt;
  return 0;
}

static struct llm_run *llm_run_of(struct rt_llm_replay *lr, int64_t id) {
  for (size_t i = 0; i < lr->n; i++)
    if (lr->runs[i].id == id)
      return &lr->runs[i];
  return NULL;
}

static char *llm_dup(const void *p, size_t n) {
  return p ? xstrndup(p, n) : NULL;
}

struct llm_load {
  struct rt_llm_replay *lr;
  struct crl_err *err;
};

static int llm_call_cb(const struct store_llm_call *c, void *payload) {
  struct llm_load *ld = payload;
  struct llm_run *run = llm_run_of(ld->lr, c->run);
  struct rt_gw_replay *e;

  if (run == NULL)
    return 0;
  if (c->response_truncated)
    return crl_err_set(ld->err, CRL_EPARSE,
                       "run %lld call %lld: response truncated at %zu bytes; "
                       "raise record_body_max in gateway.json and record the "
                       "mission again",
                       (long long)c->run, (long long)c->seq, c->response_len);
  run->calls = xreallocarray(run->calls, run->n + 1, sizeof(*run->calls));
  e = &run->calls[run->n++];
  memset(e, 0, sizeof(*e));
  e->status = c->status;
  e->content_type = llm_dup(c->content_type, SIZE_MAX);
  e->body = llm_dup(c->response ? c->response : "", c->response_len);
  e->len = c->response_len;
  e->method = llm_dup(c->method, SIZE_MAX);
  e->path = llm_dup(c->path, SIZE_MAX);
  e->request = llm_dup(c->request, c->request_len);
  e->request_len = c->request ? c->request_len : 0;
  return 0;
}

int rt_llm_replay_load(struct rt_llm_replay **out, struct store *tr,
                       const char *mission, struct crl_err *err) {
  struct rt_llm_replay *lr = xcalloc(1, sizeof(*lr));
  struct llm_load ld = {lr, err};
  int rc;

  *out = NULL;
  if ((rc = store_run_list(tr, mission, NULL, llm_run_cb, lr)) < 0 ||
      (rc = store_llm_call_list(tr, mission, 0, llm_call_cb, &ld)) < 0) {
    if (err->code == 0)
      crl_err_set(err, rc, "unable to read the trace's LLM calls");
    rt_llm_replay_free(lr);
    return rc;
  }
  *out = lr;
  return 0;
}

void rt_llm_replay_free(struct rt_llm_replay *lr) {
  if (lr == NULL)
    return;
  for (size_t i = 0; i < lr->n; i++) {
    struct llm_run *run = &lr->runs[i];

    for (size_t k = 0; k < run->n; k++) {
      free((char *)run->calls[k].content_type);
      free((char *)run->calls[k].body);
      free((char *)run->calls[k].method);
      free((char *)run->calls[k].path);
      free((char *)run->calls[k].request);
    }
    free(run->calls);
    free(run->task);
  }
  free(lr->runs);
  free(lr);
}

void rt_llm_replay_find(const struct rt_llm_replay *lr, const char *task,
                        int attempt, const struct rt_gw_replay **list,
                        size_t *n) {
  /* Not NULL even when empty: NULL would mean "forward". */
  static const struct rt_gw_replay none;

  *list = &none;
  *n = 0;
  for (size_t i = 0; i < lr->n; i++)
    if (lr->runs[i].attempt == attempt && strcmp(lr->runs[i].task, task) == 0) {
      *list = lr->runs[i].calls ? lr->runs[i].calls : &none;
      *n = lr->runs[i].n;
      return;
    }
}
