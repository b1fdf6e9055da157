/*
 * The gates an agent raises through its channel, on the engine side.
 * heartbeat, progress and usage are recorded and answered at once. ask and
 * request-approval become a row in the store's questions and an event; the
 * task goes running -> blocked (its wall deadline runs on, its idle one
 * waits) until a human answers (rt_engine_answer, from the socket) or the
 * question's deadline passes, when its default answers it and it is marked
 * expired. The agent's connection gets the answer; an agent that lost its
 * connection (a daemon restart) asks again with `wait` and its id.
 */
#include "rt-chan.h"
#include "rt-json.h"

#include <stdlib.h>
#include <string.h>

struct rt_question {
  struct rt_engine *e;
  int64_t id;
  size_t task;
  int approval;
  char *def;
  struct rt_chan_conn *waiter;
  uv_timer_t timer;
  int has_timer;
  struct rt_question *next;
};

static void gate_event(struct rt_engine *e, size_t task, int64_t run,
                       const char *kind, json_t *data) {
  rt_engine_event_json(e, e->m->tasks[task].id, run, kind, data);
}

static struct rt_question *gate_find(struct rt_engine *e, int64_t id) {
  for (struct rt_question *q = e->questions; q != NULL; q = q->next)
    if (q->id == id)
      return q;
  return NULL;
}

static int gate_task_open(struct rt_engine *e, size_t task) {
  for (struct rt_question *q = e->questions; q != NULL; q = q->next)
    if (q->task == task)
      return 1;
  return 0;
}

static void gate_timer_closed(uv_handle_t *h) {
  struct rt_question *q = h->data;
  struct rt_engine *e = q->e;

  free(q->def);
  free(q);
  e->closing--;
}

static void gate_forget(struct rt_question *q) {
  struct rt_question **p = &q->e->questions;

  while (*p != q)
    p = &(*p)->next;
  *p = q->next;
  if (!q->has_timer) {
    free(q->def);
    free(q);
    return;
  }
  q->e->closing++;
  q->timer.data = q;
  uv_close((uv_handle_t *)&q->timer, gate_timer_closed);
}

static json_t *gate_reply(const struct rt_question *q, const char *answer,
                          int expired) {
  if (q->approval)
    return json_pack("{s:b, s:I, s:b, s:b}", "ok", 1, "id", (json_int_t)q->id,
                     "approved", answer && strcmp(answer, "approve") == 0,
                     "expired", expired);
  return json_pack("{s:b, s:I, s:s?, s:b}", "ok", 1, "id", (json_int_t)q->id,
                   "answer", answer, "expired", expired);
}

/* Answers q: the store, an event, the waiting agent, the task's state. */
static int gate_settle(struct rt_question *q, const char *answer, int expired,
                       struct crl_err *err) {
  struct rt_engine *e = q->e;
  size_t task = q->task;
  int rc;

  if ((rc =
           store_question_answer(e->st, q->id, expired ? "expired" : "answered",
                                 answer, rt_engine_now(e), err)) < 0)
    return rc;
  gate_event(e, q->task, 0, "answer",
             json_pack("{s:I, s:s?, s:b}", "id", (json_int_t)q->id, "answer",
                       answer, "expired", expired));
  if (q->waiter != NULL)
    rt_chan_reply(q->waiter, gate_reply(q, answer, expired));
  gate_forget(q); /* q is gone */
  if (!gate_task_open(e, task) &&
      sched_task_state(e->sched, task) == SCHED_BLOCKED) {
    sched_task_unblock(e->sched, task, rt_engine_now(e), &e->acts);
    rt_engine_dispatch(e);
  }
  e->need_step = 1;
  return 0;
}

static void gate_on_deadline(uv_timer_t *h) {
  struct rt_question *q = crl_container_of(h, struct rt_question, timer);
  struct crl_err err = CRL_ERR_INIT;
  char *def = q->def ? xstrdup(q->def) : NULL;

  if (gate_settle(q, def, 1, &err) < 0)
    log_error("question %lld: %s", (long long)q->id, err.msg);
  free(def);
}

int rt_engine_answer(struct rt_engine *e, int64_t id, const char *answer,
                     struct crl_err *err) {
  struct rt_question *q = gate_find(e, id);

  if (q == NULL)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "question %lld is not open", (long long)id);
  if (q->approval && strcmp(answer, "approve") != 0 &&
      strcmp(answer, "deny") != 0)
    return crl_err_set(err, CRL_EBAD_REQUEST,
                       "an approval is answered approve or deny");
  return gate_settle(q, answer, 0, err);
}

static struct rt_question *gate_track(struct rt_engine *e, int64_t id,
                                      size_t task, int approval,
                                      const char *def, int64_t deadline) {
  struct rt_question *q = xcalloc(1, sizeof(*q));
  int64_t wait = deadline - rt_engine_now(e);

  q->e = e;
  q->id = id;
  q->task = task;
  q->approval = approval;
  q->def = def ? xstrdup(def) : NULL;
  q->next = e->questions;
  e->questions = q;
  if (deadline > 0) {
    uv_timer_init(e->loop, &q->timer);
    q->has_timer = 1;
    uv_timer_start(&q->timer, gate_on_deadline, wait > 0 ? (uint64_t)wait : 0,
                   0);
  }
  return q;
}

static void gate_block(struct rt_engine *e, size_t task) {
  if (sched_task_state(e->sched, task) != SCHED_RUNNING)
    return;
  sched_task_block(e->sched, task, rt_engine_now(e), &e->acts);
  rt_engine_dispatch(e);
}

/* ask / request-approval: {"text", "timeout_ms"?, "default"?}. */
static void gate_ask(struct rt_run *r, struct rt_chan_conn *c, json_t *msg,
                     int approval) {
  struct rt_engine *e = r->eng;
  const char *text = json_string_value(json_object_get(msg, "text"));
  const char *def = json_string_value(json_object_get(msg, "default"));
  json_int_t timeout = json_integer_value(json_object_get(msg, "timeout_ms"));
  struct store_question sq = {0};
  struct crl_err err = CRL_ERR_INIT;

  if (text == NULL || text[0] == '\0' || timeout < 0) {
    rt_chan_error(c, CRL_EBAD_REQUEST, "expected a text (and timeout_ms >= 0)");
    return;
  }
  if (approval)
    def = def != NULL && strcmp(def, "approve") == 0 ? "approve" : "deny";
  sq = (struct store_question){0,
                               e->m->name,
                               e->m->tasks[r->task].id,
                               r->id,
                               approval ? "approval" : "question",
                               text,
                               NULL,
                               NULL,
                               def,
                               timeout ? rt_engine_now(e) + timeout : 0,
                               rt_engine_now(e),
                               0};
  if (store_question_add(e->st, &sq, &err) < 0) {
    rt_chan_error(c, err.code, err.msg);
    return;
  }
  gate_event(e, r->task, r->id, approval ? "approval" : "question",
             json_pack("{s:I, s:s, s:s?, s:I}", "id", (json_int_t)sq.id, "text",
                       text, "default", def, "deadline",
                       (json_int_t)sq.deadline));
  gate_track(e, sq.id, r->task, approval, def, sq.deadline)->waiter = c;
  /* The id first: an agent that loses its connection asks again by it. */
  rt_chan_reply(c, json_pack("{s:b, s:I, s:b}", "ok", 1, "id",
                             (json_int_t)sq.id, "pending", 1));
  gate_block(e, r->task);
}

/* wait: {"id"}: an agent that lost its connection asks again. */
static void gate_wait(struct rt_run *r, struct rt_chan_conn *c, json_t *msg) {
  int64_t id = json_integer_value(json_object_get(msg, "id"));
  struct rt_question *q = gate_find(r->eng, id), tmp = {0};
  struct store_question sq;

  if (q != NULL) {
    q->waiter = c;
    return;
  }
  if (store_question_get(r->eng->st, id, &sq, NULL) < 0 ||
      strcmp(sq.task, r->eng->m->tasks[r->task].id) != 0) {
    rt_chan_error(c, CRL_ENOT_FOUND, "no such question for this task");
    return;
  }
  tmp.id = id;
  tmp.approval = strcmp(sq.kind, "approval") == 0;
  rt_chan_reply(c,
                gate_reply(&tmp, sq.answer, strcmp(sq.state, "expired") == 0));
}

static void gate_note(struct rt_run *r, struct rt_chan_conn *c, json_t *msg,
                      const char *kind) {
  json_t *data =
      strcmp(kind, "usage") == 0
          ? json_pack("{s:O?}", "usage", json_object_get(msg, "usage"))
          : json_pack("{s:O?}", "text", json_object_get(msg, "text"));

  gate_event(r->eng, r->task, r->id, kind, data);
  sched_task_activity(r->eng->sched, r->task, rt_engine_now(r->eng));
  rt_chan_reply(c, json_pack("{s:b}", "ok", 1));
}

void rt_engine_chan_message(struct rt_run *r, struct rt_chan_conn *c,
                            json_t *msg) {
  const char *op = json_string_value(json_object_get(msg, "op"));

  if (op == NULL)
    rt_chan_error(c, CRL_EBAD_REQUEST, "expected {\"op\": …}");
  else if (strcmp(op, "heartbeat") == 0) {
    rt_run_heartbeat(r);
    rt_chan_reply(c, json_pack("{s:b}", "ok", 1));
  } else if (strcmp(op, "progress") == 0 || strcmp(op, "usage") == 0)
    gate_note(r, c, msg, op);
  else if (strcmp(op, "ask") == 0 || strcmp(op, "request-approval") == 0)
    gate_ask(r, c, msg, op[0] == 'r');
  else if (strcmp(op, "wait") == 0)
    gate_wait(r, c, msg);
  else if (strcmp(op, "discover") == 0)
    rt_engine_discover(r, c, msg);
  else
    rt_chan_error(c, CRL_EBAD_REQUEST, "unknown op");
}

void rt_engine_chan_gone(struct rt_run *r, struct rt_chan_conn *c) {
  for (struct rt_question *q = r->eng->questions; q != NULL; q = q->next)
    if (q->waiter == c)
      q->waiter = NULL;
}

/* The run ended: questions it left open are closed unanswered. */
void rt_gate_run_ended(struct rt_engine *e, size_t task) {
  struct rt_question *q, *next;

  for (q = e->questions; q != NULL; q = next) {
    next = q->next;
    if (q->task != task)
      continue;
    store_question_answer(e->st, q->id, "cancelled", NULL, rt_engine_now(e),
                          NULL);
    gate_forget(q);
  }
}

void rt_gate_close_all(struct rt_engine *e) {
  while (e->questions != NULL)
    gate_forget(e->questions);
}

static int gate_resume_one(const struct store_question *sq, void *payload) {
  struct rt_engine *e = payload;
  int task = msn_task_find(e->m, sq->task);

  if (task < 0 || e->runs[task] == NULL) {
    store_question_answer(e->st, sq->id, "cancelled", NULL, rt_engine_now(e),
                          NULL);
    return 0;
  }
  gate_track(e, sq->id, (size_t)task, strcmp(sq->kind, "approval") == 0,
             sq->default_answer, sq->deadline);
  return 0;
}

/* After a restart: the open questions of runs that are still alive wait
 * again (their tasks blocked), the others are closed. */
void rt_gate_resume(struct rt_engine *e) {
  store_question_list(e->st, e->m->name, "open", NULL, gate_resume_one, e);
  for (struct rt_question *q = e->questions; q != NULL; q = q->next)
    gate_block(e, q->task);
}
