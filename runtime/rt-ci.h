/*
 * CI mode of `corral run` (ci.c) and its GitHub Actions side (github.c).
 */
#ifndef RT_CI_H
#define RT_CI_H

#include "rt-int.h"

/* Runs one engine over the mission to its end; returns its exit code. */
typedef int (*rt_ci_run_cb)(struct msn_mission *m, void *payload);

struct rt_ci_opts {
  const char *state_dir; /* resolved */
  const char *out_dir;   /* trace.corral, junit.xml, summary.md */
  rt_ci_run_cb run;
  void *payload;
};

/* Runs the mission in CI mode (see ci.c) and returns the exit code. */
int rt_ci_run(const struct rt_ci_opts *o, struct msn_mission *m);

/* The engine's on_commit hook in CI mode: with ci.review: approve, approves
 * every task waiting in pending_review on the live engine (a "review"
 * event, then its dependents go on in the same engine). */
void rt_ci_on_commit(struct rt_engine *e, void *payload);

/* 1 when GITHUB_ACTIONS is "true". */
int rt_ci_github_actions(void);
/* Annotations, $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT for the finished
 * mission, each when its variable says so. *code stays as it is unless a
 * file cannot be written (then 1 if it was 0). */
void rt_ci_github(struct store *st, const char *mission, const char *out_dir,
                  int *code);

/* cmd-review.c: approves or rejects (with feedback) a task waiting in
 * pending_review as `corral approve` / `corral reject` do: state, feedback,
 * "review" and "state" events. The mission's engine must not be running. */
int rt_review_decide(struct store *st, const char *mission, const char *task,
                     int reject, const char *feedback, struct crl_err *err);

#endif
