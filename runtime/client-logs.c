/*
 * corral logs through the daemon. The argument names a task (its runs come
 * from GET /v1/tasks/{id}) or, when no task has that id and it is a
 * number, a run. A run's output is read with GET /v1/runs/{id}/output from
 * an offset until nothing more comes; -f follows the last run with
 * ?follow=1, waiting first for the task's first run to start, and picks
 * the stream up again at the bytes already printed if the connection drops
 * before the run has ended (a daemon restart).
 */
#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt-int.h"

/* How often a follower looks again, and how long it waits for a daemon
 * that went away. */
#define LOGS_POLL_US (200 * 1000)
#define LOGS_RETRY_MS 30000

struct logs_run {
  struct rt_client *c;
  long long id;
  long long offset; /* bytes printed so far */
};

static int logs_write(const char *data, size_t len, void *payload) {
  struct logs_run *r = payload;

  if (fwrite(data, 1, len, stdout) != len)
    return -1;
  fflush(stdout);
  r->offset += (long long)len;
  return 0;
}

/* The task's document. When no task has the id and it is a number,
 * *as_run is set and nothing is printed: it may be a run's id. */
static int logs_task(struct rt_client *c, const char *mission, const char *id,
                     json_t **out, int *as_run) {
  char *t = rt_client_escape(id), *m = mission ? rt_client_escape(mission) : 0;
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply r;
  char *path;
  int rc;

  xasprintf(&path, "/v1/tasks/%s%s%s", t, m ? "?mission=" : "", m ? m : "");
  rc = rt_client_request(c, "GET", path, NULL, NULL, 0, &r, &err);
  if (rc < 0)
    rc = rt_client_fail(c, rc, &err);
  else if (r.status == 200 &&
           (*out = json_loadb(r.body.data, r.body.len, 0, NULL)) != NULL)
    rc = RT_EXIT_OK;
  else if (r.status == 404 && id[strspn(id, "0123456789")] == '\0')
    rc = RT_EXIT_FAILED, *as_run = 1;
  else
    rc = rt_client_fail_reply(&r, NULL);
  rt_client_reply_close(&r);
  free(path);
  free(t);
  free(m);
  return rc;
}

/* The run's output from r->offset until the daemon has no more. */
static int logs_cat(struct logs_run *r) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply rep;
  char *path;
  int rc;

  for (;;) {
    xasprintf(&path, "/v1/runs/%lld/output?offset=%lld", r->id, r->offset);
    rc = rt_client_request(r->c, "GET", path, NULL, NULL, 0, &rep, &err);
    free(path);
    if (rc < 0 || rep.status != 200) {
      rc = rc < 0 ? rt_client_fail(r->c, rc, &err)
                  : rt_client_fail_reply(&rep, NULL);
      rt_client_reply_close(&rep);
      return rc;
    }
    if (rep.body.len == 0 || logs_write(rep.body.data, rep.body.len, r) < 0)
      break;
    rt_client_reply_close(&rep);
  }
  rt_client_reply_close(&rep);
  return RT_EXIT_OK;
}

/* 1 when GET /v1/runs/{id} says the run has ended, else 0 (a failure
 * shows again on the next stream). */
static int logs_ended(struct logs_run *r) {
  struct rt_client_reply rep;
  json_t *doc = NULL;
  char *path;
  int ended = 0;

  xasprintf(&path, "/v1/runs/%lld", r->id);
  if (rt_client_request(r->c, "GET", path, NULL, NULL, 0, &rep, NULL) == 0 &&
      rep.status == 200 &&
      (doc = json_loadb(rep.body.data, rep.body.len, 0, NULL)) != NULL)
    ended = strcmp(json_string_value(json_object_get(doc, "state")) ?: "",
                   "ended") == 0;
  json_decref(doc);
  rt_client_reply_close(&rep);
  free(path);
  return ended;
}

/* Follows the run's output until the run has ended and all of it is out. */
static int logs_follow(struct logs_run *r) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply rep;
  int64_t down = 0;
  char *path;
  int rc;

  for (;;) {
    xasprintf(&path, "/v1/runs/%lld/output?follow=1&offset=%lld", r->id,
              r->offset);
    rc = rt_client_stream(r->c, path, NULL, 0, logs_write, r, &rep, &err);
    free(path);
    if (rc >= 0 && rep.status != 200) {
      rc = rt_client_fail_reply(&rep, NULL);
      break;
    }
    rt_client_reply_close(&rep);
    down = rc < 0 ? (down ? down : crl_time_mono_ms()) : 0;
    if (rc < 0 && crl_time_mono_ms() - down > LOGS_RETRY_MS)
      return rt_client_fail(r->c, rc, &err);
    if (rc == 1)
      return RT_EXIT_FAILED; /* stdout is gone */
    if (rc == 0 && logs_ended(r) == 1)
      return logs_cat(r); /* anything written after the stream ended */
    usleep(LOGS_POLL_US);
  }
  rt_client_reply_close(&rep);
  return rc;
}

/* The task's runs, waiting with follow until it has one (or cannot). */
static int logs_runs(struct rt_client *c, const char *mission, const char *id,
                     int follow, json_t **runs, int *as_run) {
  json_t *t = NULL;
  const char *st;
  int rc;

  for (;;) {
    if ((rc = logs_task(c, mission, id, &t, as_run)) != RT_EXIT_OK)
      return rc;
    *runs = json_incref(json_object_get(t, "runs"));
    st = json_string_value(json_object_get(t, "state")) ?: "";
    if (json_array_size(*runs) > 0 || !follow ||
        (strcmp(st, "pending") != 0 && strcmp(st, "ready") != 0)) {
      json_decref(t);
      return RT_EXIT_OK;
    }
    json_decref(*runs);
    json_decref(t);
    usleep(LOGS_POLL_US);
  }
}

static int logs_print(struct rt_client *c, json_t *runs, int follow, int all) {
  size_t n = json_array_size(runs), i = all || n == 0 ? 0 : n - 1;
  struct logs_run r = {c, 0, 0};
  int rc = RT_EXIT_OK;

  for (; i < n && rc == RT_EXIT_OK; i++) {
    r.id = json_integer_value(json_object_get(json_array_get(runs, i), "id"));
    r.offset = 0;
    rc = follow && i == n - 1 ? logs_follow(&r) : logs_cat(&r);
  }
  return rc;
}

int rt_client_logs(const char *socket, const char *mission, const char *id,
                   int follow, int all) {
  struct rt_client c;
  json_t *runs = NULL;
  int rc, as_run = 0;

  rt_client_init(&c, socket);
  rc = logs_runs(&c, mission, id, follow, &runs, &as_run);
  if (as_run) {
    runs = json_pack("[{s:I}]", "id", (json_int_t)strtoll(id, NULL, 10));
    rc = logs_print(&c, runs, follow, 0);
  } else if (rc == RT_EXIT_OK)
    rc = logs_print(&c, runs, follow, all);
  json_decref(runs);
  rt_client_close(&c);
  return rc;
}
