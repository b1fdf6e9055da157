/*
 * The ready queue. Ready tasks are ordered by critical path (longest first),
 * then ticket priority (most urgent first), then file order. A single heap
 * would make the dispatcher pop and set aside every task whose ticket is
 * busy or whose agent is full, which turns quadratic on large graphs, so the
 * queue is three levels of indexed binary heaps that only ever hold what
 * could start: each (ticket, agent) pair keeps a heap of its ready tasks;
 * each agent keeps a heap of its pairs whose ticket is free; and the
 * scheduler keeps a heap of agents with spare capacity. Every level is keyed
 * by the best task below it, so the top of the top heap is the best task
 * that can start now, and the order is exactly that of one heap scanned with
 * the busy tasks set aside. Slots call the sync functions when a ticket or an
 * agent changes, and each update costs O(log n).
 */
#include "sched-int.h"

struct heap_kind {
  int (*before)(const struct sched *s, size_t a, size_t b);
  size_t *(*pos)(struct sched *s, size_t x);
};

int sched__ready_before(const struct sched *s, size_t a, size_t b) {
  const struct sched__task *ta = &s->tasks[a], *tb = &s->tasks[b];

  if (ta->cpath != tb->cpath)
    return ta->cpath > tb->cpath;
  if (ta->priority != tb->priority)
    return ta->priority > tb->priority;
  return a < b;
}

static int pair_before(const struct sched *s, size_t p, size_t q) {
  return sched__ready_before(s, s->pairs[p].heap.v[0], s->pairs[q].heap.v[0]);
}

static int agent_before(const struct sched *s, size_t x, size_t y) {
  return pair_before(s, s->agents[x].heap.v[0], s->agents[y].heap.v[0]);
}

static size_t *task_pos(struct sched *s, size_t x) {
  return &s->tasks[x].hpos;
}

static size_t *pair_pos(struct sched *s, size_t x) {
  return &s->pairs[x].hpos;
}

static size_t *agent_pos(struct sched *s, size_t x) {
  return &s->agents[x].hpos;
}

static const struct heap_kind task_kind = {sched__ready_before, task_pos};
static const struct heap_kind pair_kind = {pair_before, pair_pos};
static const struct heap_kind agent_kind = {agent_before, agent_pos};

static void heap_set(struct sched *s, const struct heap_kind *k,
                     struct sched__vec *h, size_t i, size_t x) {
  h->v[i] = x;
  *k->pos(s, x) = i;
}

static void heap_up(struct sched *s, const struct heap_kind *k,
                    struct sched__vec *h, size_t i) {
  size_t x = h->v[i];

  while (i > 0) {
    size_t p = (i - 1) / 2;

    if (!k->before(s, x, h->v[p]))
      break;
    heap_set(s, k, h, i, h->v[p]);
    i = p;
  }
  heap_set(s, k, h, i, x);
}

static void heap_down(struct sched *s, const struct heap_kind *k,
                      struct sched__vec *h, size_t i) {
  size_t x = h->v[i];

  for (;;) {
    size_t c = 2 * i + 1;

    if (c >= h->n)
      break;
    if (c + 1 < h->n && k->before(s, h->v[c + 1], h->v[c]))
      c++;
    if (!k->before(s, h->v[c], x))
      break;
    heap_set(s, k, h, i, h->v[c]);
    i = c;
  }
  heap_set(s, k, h, i, x);
}

static void heap_insert(struct sched *s, const struct heap_kind *k,
                        struct sched__vec *h, size_t x) {
  sched__vec_push(h, x);
  heap_up(s, k, h, h->n - 1);
}

/* Restores the order around x after its key changed. */
static void heap_fix(struct sched *s, const struct heap_kind *k,
                     struct sched__vec *h, size_t x) {
  heap_up(s, k, h, *k->pos(s, x));
  heap_down(s, k, h, *k->pos(s, x));
}

static void heap_delete(struct sched *s, const struct heap_kind *k,
                        struct sched__vec *h, size_t x) {
  size_t i = *k->pos(s, x);
  size_t last = h->v[--h->n];

  *k->pos(s, x) = SCHED__NONE;
  if (i == h->n)
    return;
  heap_set(s, k, h, i, last);
  heap_fix(s, k, h, last);
}

/* Puts x in h, fixes it, or takes it out, so that membership is `want`. */
static void heap_sync(struct sched *s, const struct heap_kind *k,
                      struct sched__vec *h, size_t x, int want) {
  int in = *k->pos(s, x) != SCHED__NONE;

  if (in && want)
    heap_fix(s, k, h, x);
  else if (in)
    heap_delete(s, k, h, x);
  else if (want)
    heap_insert(s, k, h, x);
}

void sched__ready_sync_agent(struct sched *s, size_t agent) {
  struct sched__agent *a = &s->agents[agent];
  int want = a->heap.n > 0 && sched__slot_agent_free(s, agent);

  heap_sync(s, &agent_kind, &s->agents_ready, agent, want);
}

static void ready_sync_pair(struct sched *s, size_t pair) {
  struct sched__pair *p = &s->pairs[pair];
  int want = p->heap.n > 0 && sched__slot_ticket_free(s, p->ticket);

  heap_sync(s, &pair_kind, &s->agents[p->agent].heap, pair, want);
  sched__ready_sync_agent(s, p->agent);
}

void sched__ready_sync_ticket(struct sched *s, size_t ticket) {
  const struct sched__vec *pairs = &s->tickets[ticket].pairs;

  for (size_t i = 0; i < pairs->n; i++)
    ready_sync_pair(s, pairs->v[i]);
}

void sched__ready_push(struct sched *s, size_t task) {
  size_t pair = s->tasks[task].pair;

  heap_insert(s, &task_kind, &s->pairs[pair].heap, task);
  ready_sync_pair(s, pair);
}

void sched__ready_remove(struct sched *s, size_t task) {
  size_t pair = s->tasks[task].pair;

  if (s->tasks[task].hpos == SCHED__NONE)
    return;
  heap_delete(s, &task_kind, &s->pairs[pair].heap, task);
  ready_sync_pair(s, pair);
}

/* Returns the best task that could start now and takes it out of the queue,
 * or SCHED__NONE. The global `jobs` limit is the caller's business. */
size_t sched__ready_pop(struct sched *s) {
  size_t agent, pair, task;

  if (s->agents_ready.n == 0)
    return SCHED__NONE;
  agent = s->agents_ready.v[0];
  pair = s->agents[agent].heap.v[0];
  task = s->pairs[pair].heap.v[0];
  sched__ready_remove(s, task);
  return task;
}
