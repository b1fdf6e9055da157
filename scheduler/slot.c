/*
 * Slots: what limits how many runs go at once. Three limits hold together:
 * the global `jobs` count, each agent's capacity (0 or undeclared means
 * unlimited) and one run per ticket. This file interns tickets, agents and
 * their (ticket, agent) pairs, and takes and releases a task's slots. A task
 * holds its slots while it is running or blocked, from START until
 * sched_run_ended. Taking or releasing tells the ready queue, whose heaps
 * only hold what could start.
 */
#include <assert.h>
#include <string.h>

#include "sched-int.h"

void sched__slot_init(struct sched *s) {
  /* Index 0 of each pool is the anonymous entry, which never limits. */
  s->tickets = xcalloc(1, sizeof(*s->tickets));
  s->ntickets = s->tickets_cap = 1;
  s->agents = xcalloc(1, sizeof(*s->agents));
  s->agents[0].hpos = SCHED__NONE;
  s->nagents = s->agents_cap = 1;
}

void sched__slot_free_all(struct sched *s) {
  for (size_t i = 0; i < s->ntickets; i++) {
    free(s->tickets[i].name);
    sched__vec_close(&s->tickets[i].pairs);
  }
  for (size_t i = 0; i < s->nagents; i++) {
    free(s->agents[i].name);
    sched__vec_close(&s->agents[i].heap);
  }
  for (size_t i = 0; i < s->npairs; i++)
    sched__vec_close(&s->pairs[i].heap);
  free(s->tickets);
  free(s->agents);
  free(s->pairs);
  sched__map_close(&s->ticket_ids);
  sched__map_close(&s->agent_ids);
  sched__vec_close(&s->running);
}

size_t sched__slot_ticket(struct sched *s, const char *name) {
  size_t ix;

  if (name == NULL)
    return 0;
  if (sched__map_get(&s->ticket_ids, name, &ix) == 0)
    return ix;
  if (s->ntickets == s->tickets_cap) {
    s->tickets_cap *= 2;
    s->tickets = xreallocarray(s->tickets, s->tickets_cap, sizeof(*s->tickets));
  }
  ix = s->ntickets++;
  memset(&s->tickets[ix], 0, sizeof(s->tickets[ix]));
  s->tickets[ix].name = xstrdup(name);
  sched__map_put(&s->ticket_ids, s->tickets[ix].name, ix);
  return ix;
}

size_t sched__slot_agent(struct sched *s, const char *name) {
  size_t ix;

  if (name == NULL)
    return 0;
  if (sched__map_get(&s->agent_ids, name, &ix) == 0)
    return ix;
  if (s->nagents == s->agents_cap) {
    s->agents_cap *= 2;
    s->agents = xreallocarray(s->agents, s->agents_cap, sizeof(*s->agents));
  }
  ix = s->nagents++;
  memset(&s->agents[ix], 0, sizeof(s->agents[ix]));
  s->agents[ix].name = xstrdup(name);
  s->agents[ix].hpos = SCHED__NONE;
  sched__map_put(&s->agent_ids, s->agents[ix].name, ix);
  return ix;
}

size_t sched__slot_pair(struct sched *s, size_t ticket, size_t agent) {
  struct sched__vec *pairs = &s->tickets[ticket].pairs;
  size_t ix;

  /* A ticket rarely uses more than a few agents: a scan is enough. */
  for (size_t i = 0; i < pairs->n; i++)
    if (s->pairs[pairs->v[i]].agent == agent)
      return pairs->v[i];
  if (s->npairs == s->pairs_cap) {
    s->pairs_cap = s->pairs_cap ? s->pairs_cap * 2 : 8;
    s->pairs = xreallocarray(s->pairs, s->pairs_cap, sizeof(*s->pairs));
  }
  ix = s->npairs++;
  memset(&s->pairs[ix], 0, sizeof(s->pairs[ix]));
  s->pairs[ix].ticket = ticket;
  s->pairs[ix].agent = agent;
  s->pairs[ix].hpos = SCHED__NONE;
  sched__vec_push(pairs, ix);
  return ix;
}

int sched_agent_add(struct sched *s, const char *name, int capacity) {
  size_t ix;

  if (s->phase != SCHED__BUILD)
    return CRL_EINVALID_TRANSITION;
  if (name == NULL || capacity < 0)
    return CRL_EVALIDATION_FAILED;
  ix = sched__slot_agent(s, name);
  if (s->agents[ix].declared)
    return CRL_EDUPLICATE;
  s->agents[ix].declared = 1;
  s->agents[ix].capacity = capacity;
  return 0;
}

int sched__slot_ticket_free(const struct sched *s, size_t ticket) {
  return ticket == 0 || s->tickets[ticket].running == 0;
}

int sched__slot_agent_free(const struct sched *s, size_t agent) {
  const struct sched__agent *a = &s->agents[agent];

  return a->capacity == 0 || a->running < (size_t)a->capacity;
}

int sched__slot_jobs_free(const struct sched *s) {
  return s->jobs == 0 || s->running.n < (size_t)s->jobs;
}

void sched__slot_take(struct sched *s, size_t task) {
  struct sched__task *t = &s->tasks[task];

  assert(t->run_pos == SCHED__NONE);
  s->tickets[t->ticket].running++;
  s->agents[t->agent].running++;
  t->run_pos = s->running.n;
  sched__vec_push(&s->running, task);
  sched__ready_sync_ticket(s, t->ticket);
  sched__ready_sync_agent(s, t->agent);
}

void sched__slot_release(struct sched *s, size_t task) {
  struct sched__task *t = &s->tasks[task];
  size_t last = s->running.v[--s->running.n];

  assert(t->run_pos != SCHED__NONE);
  s->running.v[t->run_pos] = last;
  s->tasks[last].run_pos = t->run_pos;
  t->run_pos = SCHED__NONE;
  s->tickets[t->ticket].running--;
  s->agents[t->agent].running--;
  sched__ready_sync_ticket(s, t->ticket);
  sched__ready_sync_agent(s, t->agent);
}
