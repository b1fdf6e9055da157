/*
 * Internals of events-mode replay shared by replay.c (the driver) and
 * replay-discover.c (tasks discovered at run time).
 */
#ifndef REPLAY_INT_H
#define REPLAY_INT_H

#include <jansson.h>

#include "rt-int.h"
#include "rt-trace.h"

enum replay_kind {
  RP_OTHER,
  RP_STATE,
  RP_START,
  RP_END,
  RP_REVIEW,
  RP_CANCEL,
  RP_PAUSE,
  RP_RESUME,
  RP_MISSION_END,
  RP_DISCOVER,
  RP_TASK_CANCEL, /* one task cancelled through the daemon */
  RP_TASK_RETRY,  /* a task failed for good retried through the daemon */
  RP_ENGINE_START /* an engine began: the one before may have died */
};

/* One recorded event, parsed. */
struct replay_ev {
  int64_t seq, ts, run;
  enum replay_kind kind;
  int task; /* -1 when none */
  int from, to, attempt;
  int success;   /* run.end */
  int cancelled; /* run.end with reason "cancelled…" */
  int decision;  /* review: 0 approve, 1 reject, 2 approve-plan, 3 fail */
  json_t *data;  /* discover: the event's data (owned) */
};

/* One decision, recorded or produced. */
struct replay_dec {
  enum replay_kind kind; /* RP_STATE or RP_START */
  int task, from, to, attempt;
};

struct replay_run {
  int64_t id, ended_at;
};

struct replay {
  struct msn_mission *m;
  struct sched *s;
  struct sched_actions acts;
  struct replay_ev *ev;
  size_t nev;
  struct replay_run *runs;
  size_t nruns;
  struct replay_dec *q; /* produced, not yet matched */
  size_t qhead, qn, qcap;
  int64_t clock, wake_at;
  int live, cancelled, jobs;
  int offline;  /* a human decided between engines: state changes follow */
  int *next_to; /* per event, see replay_index_next */
  enum sched_state *stored; /* per task, for the next engine's restore */
  int *attempts;
  enum sched_state *logged; /* per task, as the log last put it */
  int *logged_attempts;
  struct rt_replay_result *res;
  /* Tasks discovered at run time (replay-discover.c), in discovery order:
   * task index m->ntasks + k, as the engine appends them. */
  char **disc;
  size_t ndisc;
  size_t live_disc; /* how many the current scheduler holds */
};

/* replay.c: turns the scheduler's actions into produced decisions. */
void rt__replay_collect(struct replay *r);

/* replay-discover.c */
/* The index of task `id`: a mission task, a discovered one (by the order
 * the log discovered it), or -1. */
int rt__replay_task(struct replay *r, const char *id);
/* At load: a "discover" event names a new task. */
void rt__replay_discover_note(struct replay *r, struct replay_ev *e);
/* A recorded discovery: the task joins the graph, as the engine added it. */
void rt__replay_discover(struct replay *r, const struct replay_ev *e);
/* A new engine re-adds what was discovered before it restores states. */
int rt__replay_rediscover(struct replay *r, struct crl_err *err);
void rt__replay_discover_free(struct replay *r);

#endif
