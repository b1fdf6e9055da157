/*
 * The plan: turns a validated mission into the scheduler's graph. Agents
 * become slot pools, tickets give priorities, and each task's resolved
 * timeouts and restart policy become scheduler options.
 */
#include "rt-int.h"

#include <string.h>

static void plan_retry(struct sched_retry *out, const struct msn_retries *r) {
  out->max = r->max;
  out->floor_ms = r->floor_ms;
  out->factor = r->factor;
  out->cap_ms = r->cap_ms;
  out->reset_after_ms = r->reset_after_ms;
  out->intensity = r->intensity;
  out->intensity_window_ms = r->intensity_window_ms;
}

void rt_plan_task_opts(struct sched_task_opts *o, const struct msn_mission *m,
                       const struct msn_task *t) {
  const struct msn_ticket *k = &m->tickets[t->ticket];

  *o = (struct sched_task_opts)SCHED_TASK_OPTS_INIT;
  o->id = t->id;
  o->ticket = k->id;
  o->agent = m->agents[t->agent].name;
  o->priority = (enum sched_priority)k->priority;
  o->estimate_ms = t->estimate_ms;
  o->timeout_ms = t->timeout_ms;
  o->idle_timeout_ms = t->idle_timeout_ms;
  o->review = t->review;
  plan_retry(&o->retry, &t->retries);
}

static int plan_task(struct sched *s, const struct msn_mission *m,
                     const struct msn_task *t, struct crl_err *err) {
  struct sched_task_opts o;

  rt_plan_task_opts(&o, m, t);
  return sched_task_add(s, &o, err);
}

int rt_plan_build(struct sched **out, const struct msn_mission *m, int jobs,
                  struct crl_err *err) {
  struct sched_opts so = SCHED_OPTS_INIT;
  struct sched *s;
  int rc = 0;

  so.jobs = jobs;
  so.seed = crl_hash64(m->name, strlen(m->name), 0);
  s = sched_new(&so);
  for (size_t i = 0; i < m->nagents; i++)
    if ((rc = sched_agent_add(s, m->agents[i].name, m->agents[i].capacity)) < 0)
      goto out;
  for (size_t i = 0; i < m->ntasks; i++)
    if ((rc = plan_task(s, m, &m->tasks[i], err)) < 0)
      goto out;
  for (size_t i = 0; i < m->ntasks; i++)
    for (size_t j = 0; j < m->tasks[i].nneeds; j++)
      if ((rc = sched_dep_add(s, m->tasks[i].id, m->tasks[i].needs[j], err)) <
          0)
        goto out;
  if ((rc = sched_seal(s, err)) < 0)
    goto out;
  *out = s;
  s = NULL;
out:
  sched_free(s);
  return rc < 0 ? rc : 0;
}
