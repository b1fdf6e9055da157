/*
 * scheduler internals shared by the module's own files. The scheduler keeps
 * plain arrays indexed by position: tasks in file order, tickets and agents
 * in order of first mention, and one "pair" per (ticket, agent) combination
 * that holds the ready tasks of that combination. Index 0 of the ticket and
 * agent arrays is the anonymous entry used by tasks that name none; it never
 * limits anything. Nothing here is exported beyond the module.
 */
#ifndef SCHED_INT_H
#define SCHED_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crl.h"
#include "sched.h"

#define SCHED__NONE ((size_t)-1)
#define SCHED__NEVER INT64_MAX
#define SCHED__DEFAULT_WEIGHT 1000

/* A growable vector of indices; also the storage of every heap. */
struct sched__vec {
  size_t *v;
  size_t n;
  size_t cap;
};

static inline void sched__vec_push(struct sched__vec *v, size_t x) {
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 4;
    v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
  }
  v->v[v->n++] = x;
}

static inline void sched__vec_close(struct sched__vec *v) {
  free(v->v);
  v->v = NULL;
  v->n = v->cap = 0;
}

/* String -> index, open addressing. Keys are borrowed from the objects. */
struct sched__map_ent {
  const char *key;
  size_t val;
};

struct sched__map {
  struct sched__map_ent *v;
  size_t n;
  size_t cap;
};

struct sched__task {
  char *id;
  enum sched_priority priority;
  int64_t weight;
  int64_t timeout_ms;
  int64_t idle_timeout_ms;
  int review;
  struct sched_retry retry;
  size_t ticket;
  size_t agent;
  size_t pair;
  struct sched__vec deps;
  struct sched__vec dependents;
  size_t unfinished; /* deps not completed yet */
  int64_t cpath;
  enum sched_state state;
  int attempts;
  int retry_base; /* attempts that do not count against retry.max */
  int streak;     /* consecutive failures since the last backoff reset */
  enum sched_stop_reason stopping;
  int64_t started_at;
  int64_t wall_at;
  int64_t idle_at;
  int64_t retry_at;
  int64_t *fails; /* ring of the last retry.intensity failure times */
  size_t nfails;
  size_t hpos;     /* position in its pair's ready heap */
  size_t run_pos;  /* position in sched.running */
  size_t wait_pos; /* position in sched.waiting */
};

struct sched__ticket {
  char *name; /* NULL for the anonymous ticket */
  size_t running;
  struct sched__vec pairs;
};

struct sched__agent {
  char *name; /* NULL for the anonymous agent */
  int capacity;
  int declared;
  size_t running;
  struct sched__vec heap; /* pairs with ready tasks and a free ticket */
  size_t hpos;            /* position in sched.agents_ready */
};

struct sched__pair {
  size_t ticket;
  size_t agent;
  struct sched__vec heap; /* ready tasks */
  size_t hpos;            /* position in its agent's heap */
};

enum sched__phase { SCHED__BUILD, SCHED__SEALED, SCHED__LIVE };

struct sched {
  int jobs;
  int paused;
  uint64_t seed;
  enum sched__phase phase;
  int stepped;
  struct sched__task *tasks;
  size_t ntasks, tasks_cap;
  struct sched__ticket *tickets;
  size_t ntickets, tickets_cap;
  struct sched__agent *agents;
  size_t nagents, agents_cap;
  struct sched__pair *pairs;
  size_t npairs, pairs_cap;
  struct sched__map task_ids;
  struct sched__map ticket_ids;
  struct sched__map agent_ids;
  struct sched__vec agents_ready; /* agents with a startable task */
  struct sched__vec running;      /* tasks holding slots */
  struct sched__vec waiting;      /* failed tasks waiting for a retry */
  size_t by_state[SCHED_STATE_MAX];
};

/* map.c */
int sched__map_get(const struct sched__map *m, const char *key, size_t *out);
void sched__map_put(struct sched__map *m, const char *key, size_t val);
void sched__map_close(struct sched__map *m);

/* action.c */
void sched__emit_state(struct sched_actions *out, size_t task,
                       enum sched_state from, enum sched_state to, int64_t now);
void sched__emit_start(struct sched_actions *out, size_t task, int attempt,
                       int64_t now);
void sched__emit_stop(struct sched_actions *out, size_t task,
                      enum sched_stop_reason reason, int64_t now);
void sched__emit_wake(struct sched_actions *out, int64_t at);

/* dag.c */
int sched__dag_seal(struct sched *s, struct crl_err *err);
void sched__dag_free(struct sched *s);

/* ready.c */
int sched__ready_before(const struct sched *s, size_t a, size_t b);
void sched__ready_push(struct sched *s, size_t task);
/* pending -> ready, queued (sched.c). */
void sched__task_ready(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out);
void sched__ready_remove(struct sched *s, size_t task);
size_t sched__ready_pop(struct sched *s);
void sched__ready_sync_ticket(struct sched *s, size_t ticket);
void sched__ready_sync_agent(struct sched *s, size_t agent);

/* retry.c */
int64_t sched__retry_delay(const struct sched_retry *r, const char *id,
                           uint64_t seed, int n);
int64_t sched__retry_next(struct sched *s, struct sched__task *t, int64_t now);
void sched__retry_wait(struct sched *s, size_t task, int64_t at);
void sched__retry_unwait(struct sched *s, size_t task);

/* slot.c */
void sched__slot_init(struct sched *s);
void sched__slot_free_all(struct sched *s);
size_t sched__slot_ticket(struct sched *s, const char *name);
size_t sched__slot_agent(struct sched *s, const char *name);
size_t sched__slot_pair(struct sched *s, size_t ticket, size_t agent);
int sched__slot_ticket_free(const struct sched *s, size_t ticket);
int sched__slot_agent_free(const struct sched *s, size_t agent);
int sched__slot_jobs_free(const struct sched *s);
void sched__slot_take(struct sched *s, size_t task);
void sched__slot_release(struct sched *s, size_t task);

/* sched.c */
void sched__move(struct sched *s, size_t task, enum sched_event ev, int64_t now,
                 struct sched_actions *out);

#endif
