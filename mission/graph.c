/*
 * graph.c: the checks that need every task at once. Task ids must be unique
 * across the mission and ticket ids across tickets; each `needs:` entry must
 * name another existing task, once. Lookups go through a sorted index, so a
 * large mission stays O(n log n). The resolved edges are then searched for
 * dependency cycles with an iterative depth-first search (no recursion, so a
 * long chain cannot exhaust the stack); each cycle is reported at the
 * `needs:` entry that closes it.
 */
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

/* Suggest among at most this many task ids, to bound the work per typo. */
#define GRAPH_SUGGEST_MAX 256
/* Longest cycle description, in bytes. */
#define GRAPH_CYCLE_MAX 512

struct graph_id {
  const char *id;
  size_t idx;
};

/* The sorted id index, and per task 1 + the index of the last task that
 * needed it, to catch repeated needs in O(1). */
struct graph {
  struct graph_id *index;
  size_t n;
  size_t *seen;
};

static int graph_id_cmp(const void *a, const void *b) {
  const struct graph_id *x = a, *y = b;
  int c = strcmp(x->id, y->id);

  if (c != 0)
    return c;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int graph_key_cmp(const void *key, const void *elem) {
  return strcmp(key, ((const struct graph_id *)elem)->id);
}

void msn__dups(struct msn__ctx *c, const struct msn__node *const *ids, size_t n,
               const char *what) {
  struct graph_id *v = xreallocarray(NULL, n + 1, sizeof(*v));
  size_t k = 0;

  for (size_t i = 0; i < n; i++)
    if (ids[i] != NULL)
      v[k++] = (struct graph_id){ids[i]->str, i};
  qsort(v, k, sizeof(*v), graph_id_cmp);
  for (size_t i = 1, first = 0; i < k; i++) {
    const struct msn__node *a = ids[v[first].idx], *b = ids[v[i].idx];

    if (strcmp(v[i].id, v[first].id) != 0) {
      first = i;
      continue;
    }
    msn__err(c, b, "duplicate %s id '%s' (first defined at %d:%d)", what,
             b->str, a->line, a->col);
  }
  free(v);
}

static const char *graph_name(const struct msn__taskdef *td) {
  return td->t.id != NULL ? td->t.id : "?";
}

static void graph_unknown(struct msn__ctx *c, const struct msn__taskdef *td,
                          const struct msn__node *item) {
  const char *cands[GRAPH_SUGGEST_MAX], *near = NULL;
  char q[64];
  size_t n = 0;

  for (size_t i = 0; i < c->ntasks && c->ntasks <= GRAPH_SUGGEST_MAX; i++)
    if (c->tasks[i].t.id != NULL)
      cands[n++] = c->tasks[i].t.id;
  near = msn__suggest(item->str, cands, n);
  msn__quote(q, sizeof(q), item->str);
  if (near != NULL)
    msn__err(c, item, "task '%s' needs unknown task '%s' (did you mean '%s'?)",
             graph_name(td), q, near);
  else
    msn__err(c, item, "task '%s' needs unknown task '%s'", graph_name(td), q);
}

/* Resolves one need; returns 0 and *out, or -1 after a diagnostic. */
static int graph_need(struct msn__ctx *c, struct graph *g, size_t self,
                      const struct msn__node *item, size_t *out) {
  const struct msn__taskdef *td = &c->tasks[self];
  const struct graph_id *hit;

  if (td->t.id != NULL && strcmp(item->str, td->t.id) == 0) {
    msn__err(c, item, "task '%s' needs itself", td->t.id);
    return -1;
  }
  hit = bsearch(item->str, g->index, g->n, sizeof(*hit), graph_key_cmp);
  if (hit == NULL) {
    graph_unknown(c, td, item);
    return -1;
  }
  if (g->seen[hit->idx] == self + 1) {
    msn__err(c, item, "task '%s' needs '%s' more than once", graph_name(td),
             item->str);
    return -1;
  }
  g->seen[hit->idx] = self + 1;
  *out = hit->idx;
  return 0;
}

static void graph_needs(struct msn__ctx *c, struct graph *g, size_t self) {
  struct msn__taskdef *td = &c->tasks[self];
  const struct msn__node *nd = td->needs;
  const struct msn__node *const *items = &td->needs;
  size_t n = 0, k = 0;

  if (nd != NULL) {
    n = nd->type == MSN__SEQ ? nd->n : 1;
    items = nd->type == MSN__SEQ ? (const struct msn__node *const *)nd->v
                                 : &td->needs;
  }
  td->t.needs = xcalloc(n + 1, sizeof(*td->t.needs));
  td->need_idx = xcalloc(n + 1, sizeof(*td->need_idx));
  td->need_nodes = xcalloc(n + 1, sizeof(*td->need_nodes));
  for (size_t i = 0; i < n; i++) {
    if (graph_need(c, g, self, items[i], &td->need_idx[k]) < 0)
      continue;
    td->need_nodes[k] = items[i];
    td->t.needs[k++] = xstrdup(items[i]->str);
  }
  td->t.nneeds = k;
}

/* "a -> b -> c -> a" (each needs the next); a long cycle is cut after about
 * GRAPH_CYCLE_MAX bytes and says how many tasks it holds. */
static void graph_cycle(struct msn__ctx *c, const size_t *stack, size_t from,
                        size_t top, const struct msn__node *at) {
  struct crl_buf b;
  size_t i;

  crl_buf_init(&b, 0);
  for (i = from; i <= top && b.len < GRAPH_CYCLE_MAX; i++)
    crl_buf_printf(&b, "%s -> ", graph_name(&c->tasks[stack[i]]));
  if (i <= top)
    crl_buf_printf(&b, "... (%zu tasks)", top - from + 1);
  else
    crl_buf_printf(&b, "%s", graph_name(&c->tasks[stack[from]]));
  msn__err(c, at, "dependency cycle: %s", b.data);
  crl_buf_close(&b);
}

/* Iterative DFS: 0 white, 1 on the stack, 2 done. */
static void graph_cycles(struct msn__ctx *c) {
  size_t n = c->ntasks;
  size_t *stack = xcalloc(n + 1, sizeof(*stack));
  size_t *pos = xcalloc(n + 1, sizeof(*pos));
  size_t *next = xcalloc(n + 1, sizeof(*next));
  char *color = xcalloc(n + 1, 1);

  for (size_t s = 0; s < n; s++) {
    size_t top = 0;

    if (color[s] != 0)
      continue;
    stack[0] = s;
    color[s] = 1;
    for (;;) {
      size_t u = stack[top], v;

      if (next[u] == c->tasks[u].t.nneeds) {
        color[u] = 2;
        if (top-- == 0)
          break;
        continue;
      }
      v = c->tasks[u].need_idx[next[u]++];
      if (color[v] == 1)
        graph_cycle(c, stack, pos[v], top, c->tasks[u].need_nodes[next[u] - 1]);
      if (color[v] != 0)
        continue;
      color[v] = 1;
      stack[++top] = v;
      pos[v] = top;
    }
  }
  free(stack);
  free(pos);
  free(next);
  free(color);
}

void msn__graph_check(struct msn__ctx *c) {
  const struct msn__node **ids = xcalloc(c->ntasks + 1, sizeof(*ids));
  struct graph g = {0};

  g.index = xcalloc(c->ntasks + 1, sizeof(*g.index));
  g.seen = xcalloc(c->ntasks + 1, sizeof(*g.seen));
  for (size_t i = 0; i < c->ntasks; i++) {
    ids[i] = c->tasks[i].id;
    if (c->tasks[i].t.id != NULL)
      g.index[g.n++] = (struct graph_id){c->tasks[i].t.id, i};
  }
  msn__dups(c, c->ticket_ids, c->m.ntickets, "ticket");
  msn__dups(c, ids, c->ntasks, "task");
  qsort(g.index, g.n, sizeof(*g.index), graph_id_cmp);
  for (size_t i = 0; i < c->ntasks; i++)
    graph_needs(c, &g, i);
  graph_cycles(c);
  free(ids);
  free(g.index);
  free(g.seen);
}
