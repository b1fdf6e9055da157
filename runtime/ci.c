/*
 * CI mode (`corral run --ci --out DIR FILE`): runs the mission to its end
 * without ever waiting for a human, then writes DIR/trace.corral,
 * DIR/junit.xml and DIR/summary.md, and speaks GitHub Actions when it runs
 * there: the summary is appended to $GITHUB_STEP_SUMMARY, key=value outputs
 * to $GITHUB_OUTPUT, and with GITHUB_ACTIONS=true the run's output is one
 * ::group:: and each failed task an ::error:: annotation.
 *
 * A review gate follows the mission's `ci: { review: approve | fail }`
 * (fail when absent). Approve: the engine's commit hook approves each task
 * as it reaches pending_review, on the live engine (as the daemon's
 * approve does), so its dependents run in the same engine. Fail: once the
 * engine stops, each task left in pending_review fails with a "review"
 * event of decision "fail" beside the state change, the tasks that needed
 * it are skipped, and the mission ends failed. Either way the trace
 * records the decisions, so it replays.
 */
#include "rt-ci.h"
#include "rt-json.h"
#include "rt-trace.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* An engine per pending review round at most: a mission whose tasks keep
 * asking for reviews cannot loop forever. */
#define CI_ROUNDS_MAX 100

void rt_ci_on_commit(struct rt_engine *e, void *payload) {
  struct crl_err err = CRL_ERR_INIT;
  struct sched_counts c;

  (void)payload;
  if (e->m->ci.review != MSN_CI_REVIEW_APPROVE)
    return;
  sched_counts(e->sched, &c);
  if (c.by_state[SCHED_PENDING_REVIEW] == 0)
    return;
  for (size_t i = 0; i < e->m->ntasks; i++) {
    if (sched_task_state(e->sched, i) != SCHED_PENDING_REVIEW)
      continue;
    if (rt_engine_approve(e, i, &err) < 0)
      rt_errorf("ci: unable to approve %s: %s", e->m->tasks[i].id, err.msg);
    else
      printf("corral: ci: approved %s (ci.review: approve)\n",
             e->m->tasks[i].id);
  }
}

struct ci_pending {
  char **ids;
  size_t n;
};

static int ci_pending_cb(const struct store_task *t, void *payload) {
  struct ci_pending *p = payload;

  if (strcmp(t->state, "pending_review") != 0)
    return 0;
  p->ids = xreallocarray(p->ids, p->n + 1, sizeof(*p->ids));
  p->ids[p->n++] = xstrdup(t->id);
  return 0;
}

static int ci_fail_review(struct store *st, const char *mission,
                          const char *task, struct crl_err *err) {
  static const char reason[] = "review required (ci.review: fail)";
  struct store_task t;
  int rc;

  if ((rc = store_task_get(st, mission, task, &t, err)) < 0 ||
      (rc = store_task_set_state(st, mission, task, "failed", t.attempts,
                                 reason, -1, crl_time_wall_ms(), err)) < 0)
    return rc;
  rt_store_event(st, mission, task, "review",
                 json_pack("{s:s}", "decision", "fail"));
  rt_store_event(st, mission, task, "state",
                 json_pack("{s:s, s:s, s:i, s:s}", "from", "pending_review",
                           "to", "failed", "attempt", t.attempts, "reason",
                           reason));
  return store_commit(st, err);
}

struct ci_states {
  const struct msn_mission *m;
  char **state; /* per mission task */
};

static int ci_state_cb(const struct store_task *t, void *payload) {
  struct ci_states *c = payload;
  int i = msn_task_find(c->m, t->id);

  if (i >= 0) {
    free(c->state[i]);
    c->state[i] = xstrdup(t->state);
  }
  return 0;
}

static int ci_blocked(const struct ci_states *c, size_t i) {
  const struct msn_task *t = &c->m->tasks[i];
  int j;

  for (size_t k = 0; k < t->nneeds; k++)
    if ((j = msn_task_find(c->m, t->needs[k])) >= 0 && c->state[j] != NULL &&
        (strcmp(c->state[j], "failed") == 0 ||
         strcmp(c->state[j], "skipped") == 0))
      return 1;
  return 0;
}

/* After a failed review, what waited for it is skipped, as the scheduler
 * skips the dependents of a failed task. */
static int ci_skip_dependents(struct store *st, const struct msn_mission *m,
                              struct crl_err *err) {
  static const char reason[] = "dependency did not complete";
  struct ci_states c = {m, xcalloc(m->ntasks + 1, sizeof(char *))};
  int rc = store_task_list(st, m->name, ci_state_cb, &c), more = 1;

  while (rc == 0 && more) {
    more = 0;
    for (size_t i = 0; i < m->ntasks && rc == 0; i++) {
      if (c.state[i] == NULL || strcmp(c.state[i], "pending") != 0 ||
          !ci_blocked(&c, i))
        continue;
      free(c.state[i]);
      c.state[i] = xstrdup("skipped");
      more = 1;
      rc = store_task_set_state(st, m->name, m->tasks[i].id, "skipped", 0,
                                reason, -1, crl_time_wall_ms(), err);
      rt_store_event(st, m->name, m->tasks[i].id, "state",
                     json_pack("{s:s, s:s, s:i, s:s}", "from", "pending", "to",
                               "skipped", "attempt", 0, "reason", reason));
    }
  }
  for (size_t i = 0; i < m->ntasks; i++)
    free(c.state[i]);
  free(c.state);
  return rc < 0 ? rc : store_commit(st, err);
}

/* Decides every pending review; *again is 1 when the engine must go on. */
static int ci_decide(struct store *st, const struct msn_mission *m, int *again,
                     struct crl_err *err) {
  struct ci_pending p = {NULL, 0};
  int rc = 0;

  *again = 0;
  store_task_list(st, m->name, ci_pending_cb, &p);
  for (size_t i = 0; i < p.n && rc == 0; i++) {
    if (m->ci.review == MSN_CI_REVIEW_APPROVE) {
      rc = rt_review_decide(st, m->name, p.ids[i], 0, NULL, err);
      *again = 1;
      printf("corral: ci: approved %s (ci.review: approve)\n", p.ids[i]);
    } else {
      rc = ci_fail_review(st, m->name, p.ids[i], err);
    }
  }
  if (rc == 0 && p.n > 0 && m->ci.review != MSN_CI_REVIEW_APPROVE)
    rc = ci_skip_dependents(st, m, err);
  if (rc == 0 && p.n > 0 && m->ci.review != MSN_CI_REVIEW_APPROVE)
    rc =
        store_mission_set_state(st, m->name, "failed", crl_time_wall_ms(), err);
  for (size_t i = 0; i < p.n; i++)
    free(p.ids[i]);
  free(p.ids);
  return rc;
}

static int ci_report(struct store *st, const char *mission, const char *dir,
                     const char *name,
                     int (*fn)(FILE *, struct store *, const char *,
                               struct crl_err *),
                     struct crl_err *err) {
  char *path;
  FILE *fp;
  int rc;

  xasprintf(&path, "%s/%s", dir, name);
  if ((fp = fopen(path, "w")) == NULL) {
    rc = crl_err_set(err, -errno, "unable to create %s: %s", path,
                     strerror(errno));
    free(path);
    return rc;
  }
  rc = fn(fp, st, mission, err);
  if (fclose(fp) != 0 && rc == 0)
    rc = crl_err_set(err, -errno, "unable to write %s", path);
  free(path);
  return rc;
}

static int ci_write(struct store *st, const char *mission, const char *dir,
                    struct crl_err *err) {
  char *trace;
  int rc;

  if ((rc = rt_mkdirs(dir, 0755)) < 0)
    return crl_err_set(err, rc, "unable to create %s: %s", dir,
                       crl_strerror(rc));
  xasprintf(&trace, "%s/trace.corral", dir);
  rc = rt_trace_export(st, mission, trace, err);
  free(trace);
  if (rc == 0)
    rc = ci_report(st, mission, dir, "junit.xml", rt_report_junit, err);
  if (rc == 0)
    rc = ci_report(st, mission, dir, "summary.md", rt_report_md, err);
  return rc;
}

static int ci_rounds(const struct rt_ci_opts *o, struct msn_mission *m,
                     struct store **st, int *code, struct crl_err *err) {
  int again = 1, rc = 0;

  for (int round = 0; again && round < CI_ROUNDS_MAX; round++) {
    *code = o->run(m, o->payload);
    if (*code == RT_EXIT_USAGE)
      return 0;
    if ((rc = rt_store_open(st, o->state_dir, err)) < 0 ||
        (rc = ci_decide(*st, m, &again, err)) < 0)
      return rc;
    if (again) {
      store_close(*st);
      *st = NULL;
    }
  }
  return rc;
}

int rt_ci_run(const struct rt_ci_opts *o, struct msn_mission *m) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *st = NULL;
  int code = RT_EXIT_FAILED, gha = rt_ci_github_actions();

  if (gha)
    printf("::group::corral run %s\n", m->name);
  fflush(stdout);
  if (ci_rounds(o, m, &st, &code, &err) < 0 || st == NULL ||
      ci_write(st, m->name, o->out_dir, &err) < 0) {
    if (err.code != 0)
      rt_errorf("fatal: ci: %s", err.msg);
    if (code == RT_EXIT_OK)
      code = RT_EXIT_FAILED;
  }
  if (gha)
    printf("::endgroup::\n");
  if (st != NULL)
    rt_ci_github(st, m->name, o->out_dir, &code);
  store_close(st);
  return code;
}
