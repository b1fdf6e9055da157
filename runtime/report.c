/*
 * The report model: one pass over a mission's tasks, runs, events, LLM
 * calls and commits in a store (a state dir's or a trace's) into plain
 * structs every report format walks. A run's token usage and cost are the
 * sums of the LLM calls the gateway recorded for it; a run without any
 * (an exec agent, or a store from before the gateway) falls back to the sum
 * of its "usage" events, which the adapters ({"text": "{…}"}) and the agent
 * channel ({"usage": {…}}) record, with no cost. A task's usage is the sum
 * of its runs'.
 */
#include "report-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int report_task_cb(const struct store_task *t, void *payload) {
  struct rt_report *r = payload;
  struct rt_report_task *k;

  r->tasks = xreallocarray(r->tasks, r->ntasks + 1, sizeof(*r->tasks));
  k = &r->tasks[r->ntasks++];
  memset(k, 0, sizeof(*k));
  k->id = xstrdup(t->id);
  k->ticket = xstrdup(t->ticket ? t->ticket : "");
  k->agent = xstrdup(t->agent ? t->agent : "");
  k->state = xstrdup(t->state);
  k->reason = t->reason ? xstrdup(t->reason) : NULL;
  k->attempts = t->attempts;
  k->started_at = t->started_at;
  k->ended_at = t->ended_at;
  return 0;
}

/* Events and runs come in clusters per task: the last hit goes first. */
static struct rt_report_task *report_task(struct rt_report *r, const char *id) {
  if (id == NULL)
    return NULL;
  if (r->hint < r->ntasks && strcmp(r->tasks[r->hint].id, id) == 0)
    return &r->tasks[r->hint];
  for (size_t i = 0; i < r->ntasks; i++)
    if (strcmp(r->tasks[i].id, id) == 0)
      return &r->tasks[r->hint = i];
  return NULL;
}

static struct rt_report_run *report_run(struct rt_report *r, const char *task,
                                        int64_t run) {
  struct rt_report_task *k = report_task(r, task);

  for (size_t i = 0; k != NULL && i < k->nruns; i++)
    if (k->runs[i].id == run)
      return &k->runs[i];
  return NULL;
}

static int report_run_cb(const struct store_run *run, void *payload) {
  struct rt_report *r = payload;
  struct rt_report_task *k = report_task(r, run->task);
  struct rt_report_run *x;

  if (k == NULL)
    return 0;
  k->runs = xreallocarray(k->runs, k->nruns + 1, sizeof(*k->runs));
  x = &k->runs[k->nruns++];
  memset(x, 0, sizeof(*x));
  x->id = run->id;
  x->attempt = run->attempt;
  x->reason = run->reason ? xstrdup(run->reason) : NULL;
  x->exit_code = run->exit_code;
  x->started_at = run->started_at;
  x->ended_at = run->ended_at;
  x->events = json_array();
  x->llm = json_array();
  return 0;
}

static void report_usage_add(struct rt_usage *u, json_t *o) {
  json_t *c = json_object_get(o, "cost_usd");

  u->input += json_integer_value(json_object_get(o, "input"));
  u->output += json_integer_value(json_object_get(o, "output"));
  u->cache_read += json_integer_value(json_object_get(o, "cache_read"));
  u->cache_write += json_integer_value(json_object_get(o, "cache_write"));
  if (json_is_number(c)) {
    u->cost_usd += json_number_value(c);
    u->has_cost = 1;
  }
}

/* {"usage": {…}} from the channel, {"text": "{…}"} from an adapter. */
static void report_usage(struct rt_report_run *x, json_t *data) {
  json_t *u = json_object_get(data, "usage"), *parsed = NULL;
  const char *text = json_string_value(json_object_get(data, "text"));

  if (u == NULL && text != NULL)
    u = parsed = json_loads(text, 0, NULL);
  if (json_is_object(u))
    report_usage_add(&x->usage, u);
  json_decref(parsed);
}

static int report_event_cb(const struct store_event *ev, void *payload) {
  struct rt_report *r = payload;
  struct rt_report_run *x = report_run(r, ev->task, ev->run);
  json_t *data;

  if (x == NULL || ev->run == 0)
    return 0;
  data = ev->data ? json_loads(ev->data, 0, NULL) : NULL;
  if (data == NULL)
    data = ev->data ? json_string(ev->data) : json_null();
  if (strcmp(ev->kind, "usage") == 0)
    report_usage(x, data);
  json_array_append_new(x->events,
                        json_pack("{s:I, s:I, s:s, s:o}", "seq",
                                  (json_int_t)ev->seq, "ts", (json_int_t)ev->ts,
                                  "kind", ev->kind, "data", data));
  return 0;
}

/* The model the answer names ("model": "…" in its JSON or first SSE
 * event), or NULL. Heap. */
static char *report_response_model(const char *p, size_t n) {
  const char *k = p ? memmem(p, n, "\"model\"", 7) : NULL, *end = p + n, *q;

  if (k == NULL)
    return NULL;
  for (k += 7; k < end && (*k == ' ' || *k == ':'); k++)
    ;
  if (k >= end || *k != '"' || (q = memchr(k + 1, '"', end - k - 1)) == NULL)
    return NULL;
  return xstrndup(k + 1, (size_t)(q - k - 1));
}

static int report_llm_cb(const struct store_llm_call *c, void *payload) {
  struct rt_report *r = payload;
  struct rt_report_run *x = report_run(r, c->task, c->run);
  char *rm;
  json_t *o;

  if (x == NULL)
    return 0;
  rm = report_response_model(c->response, c->response_len);
  o = json_pack("{s:I, s:I, s:s?, s:s?, s:s?, s:s?, s:i, s:b, s:f, s:I, s:I, "
                "s:I, s:I}",
                "seq", (json_int_t)c->seq, "ts", (json_int_t)c->ts, "provider",
                c->provider, "api", c->api, "model", c->model, "response_model",
                rm, "status", c->status, "stream", c->stream, "latency_ms",
                c->latency_ms, "input", (json_int_t)c->input, "output",
                (json_int_t)c->output, "cache_read", (json_int_t)c->cache_read,
                "cache_write", (json_int_t)c->cache_write);
  x->llm_usage.input += c->input;
  x->llm_usage.output += c->output;
  x->llm_usage.cache_read += c->cache_read;
  x->llm_usage.cache_write += c->cache_write;
  if (c->usage_seen && !c->unpriced) {
    json_object_set_new(o, "usd", json_real(c->usd));
    x->llm_usage.cost_usd += c->usd;
    x->llm_usage.has_cost = 1;
  }
  json_array_append_new(x->llm, o);
  free(rm);
  return 0;
}

static void report_usage_sum(struct rt_usage *to, const struct rt_usage *u) {
  to->input += u->input;
  to->output += u->output;
  to->cache_read += u->cache_read;
  to->cache_write += u->cache_write;
  to->cost_usd += u->cost_usd;
  to->has_cost |= u->has_cost;
}

/* Runs the gateway served take its sums; tasks add their runs up. */
static void report_usage_settle(struct rt_report *r) {
  for (size_t i = 0; i < r->ntasks; i++) {
    struct rt_report_task *k = &r->tasks[i];

    for (size_t j = 0; j < k->nruns; j++) {
      struct rt_report_run *x = &k->runs[j];

      if (json_array_size(x->llm) > 0)
        x->usage = x->llm_usage;
      report_usage_sum(&k->usage, &x->usage);
    }
  }
}

static int report_commit_cb(const struct store_commit *c, void *payload) {
  struct rt_report *r = payload;

  json_array_append_new(r->commits,
                        json_pack("{s:s?, s:s?, s:I, s:s, s:I, s:I, s:I}",
                                  "ticket", c->ticket, "task", c->task, "run",
                                  (json_int_t)c->run, "sha", c->sha, "files",
                                  (json_int_t)c->files, "insertions",
                                  (json_int_t)c->insertions, "deletions",
                                  (json_int_t)c->deletions));
  return 0;
}

int rt_report_load(struct rt_report *out, struct store *st, const char *mission,
                   struct crl_err *err) {
  struct store_mission m;
  int rc;

  memset(out, 0, sizeof(*out));
  out->st = st;
  out->commits = json_array();
  if ((rc = store_mission_get(st, mission, &m, err)) < 0)
    return rc;
  out->mission = xstrdup(m.id);
  out->state = xstrdup(m.state);
  out->created_at = m.created_at;
  out->updated_at = m.updated_at;
  if ((rc = store_task_list(st, mission, report_task_cb, out)) < 0 ||
      (rc = store_run_list(st, mission, NULL, report_run_cb, out)) < 0 ||
      (rc = store_event_list(st, mission, NULL, 0, report_event_cb, out)) < 0 ||
      (rc = store_llm_call_list(st, mission, 0, report_llm_cb, out)) < 0 ||
      (rc = store_commit_list(st, mission, report_commit_cb, out)) < 0)
    return crl_err_set(err, rc, "unable to read mission %s", mission);
  report_usage_settle(out);
  return 0;
}

static void report_task_free(struct rt_report_task *k) {
  for (size_t j = 0; j < k->nruns; j++) {
    free(k->runs[j].reason);
    json_decref(k->runs[j].events);
    json_decref(k->runs[j].llm);
  }
  free(k->runs);
  free(k->id);
  free(k->ticket);
  free(k->agent);
  free(k->state);
  free(k->reason);
}

void rt_report_close(struct rt_report *r) {
  for (size_t i = 0; i < r->ntasks; i++)
    report_task_free(&r->tasks[i]);
  free(r->tasks);
  free(r->mission);
  free(r->state);
  json_decref(r->commits);
}

void rt_report_counts(const struct rt_report *r, size_t *ok, size_t *failed,
                      size_t *skipped) {
  *ok = *failed = *skipped = 0;
  for (size_t i = 0; i < r->ntasks; i++) {
    const char *s = r->tasks[i].state;

    if (strcmp(s, "completed") == 0)
      (*ok)++;
    else if (strcmp(s, "failed") == 0 || strcmp(s, "rejected") == 0)
      (*failed)++;
    else
      (*skipped)++;
  }
}

static char *report_tail_of(const char *p, size_t n, size_t max) {
  char *out;

  if (n > max) {
    p += n - max;
    n = max;
  }
  out = xmalloc(n + 1);
  memcpy(out, p, n);
  out[n] = '\0';
  return out;
}

static char *report_tail_file(const char *path, size_t max) {
  FILE *fp = fopen(path, "rb");
  char *out;
  long size;
  size_t n;

  if (fp == NULL)
    return NULL;
  fseek(fp, 0, SEEK_END);
  size = ftell(fp);
  if (size > (long)max)
    fseek(fp, size - (long)max, SEEK_SET);
  else
    rewind(fp);
  out = xmalloc(max + 1);
  n = fread(out, 1, max, fp);
  out[n] = '\0';
  fclose(fp);
  return out;
}

struct report_tail {
  size_t max;
  char *out;
};

static int report_tail_blob(const char *name, const void *data, size_t len,
                            void *payload) {
  struct report_tail *t = payload;

  (void)name;
  t->out = report_tail_of(data, len, t->max);
  return 1;
}

char *rt_report_run_log_tail(struct rt_report *r, int64_t run, size_t max) {
  struct report_tail t = {max, NULL};
  struct store_run row;
  char name[64], *path;

  if (store_run_get(r->st, run, &row, NULL) == 0 && row.dir != NULL) {
    xasprintf(&path, "%s/output.log", row.dir);
    t.out = report_tail_file(path, max);
    free(path);
    if (t.out != NULL)
      return t.out;
  }
  /* In a trace the log is a blob; a state dir's store has no such table,
   * and the lookup then finds nothing. */
  snprintf(name, sizeof(name), "log/%lld", (long long)run);
  store_trace_blob_list(r->st, name, report_tail_blob, &t);
  return t.out;
}

/* Length of the UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t report_utf8_len(const unsigned char *p, size_t n) {
  size_t len = p[0] >= 0xf0 && p[0] < 0xf5   ? 4
               : p[0] >= 0xe0                ? 3
               : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
                                             : 0;

  if (len == 0 || len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return len;
}

void rt_report_xml(FILE *fp, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = s ? strlen(s) : 0, len;

  for (size_t i = 0; i < n; i += len) {
    len = 1;
    if (p[i] == '&')
      fputs("&amp;", fp);
    else if (p[i] == '<')
      fputs("&lt;", fp);
    else if (p[i] == '>')
      fputs("&gt;", fp);
    else if (p[i] == '"')
      fputs("&quot;", fp);
    else if (p[i] == '\'')
      fputs("&apos;", fp);
    else if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
      fputc('?', fp);
    else if (p[i] < 0x80)
      fputc(p[i], fp);
    else if ((len = report_utf8_len(p + i, n - i)) > 0)
      fwrite(p + i, 1, len, fp);
    else {
      len = 1;
      fputc('?', fp);
    }
  }
}
