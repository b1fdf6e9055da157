/*
 * The name map: string -> index with open addressing and linear probing,
 * used for task ids, tickets and agents so that lookups stay O(1) on graphs
 * of tens of thousands of tasks. Keys are borrowed from the objects that own
 * the strings; the map never frees them. The table doubles at half load.
 */
#include <string.h>

#include "sched-int.h"

static size_t map_slot(const struct sched__map *m, const char *key) {
  size_t i = crl_hash64(key, strlen(key), 0) & (m->cap - 1);

  while (m->v[i].key != NULL && strcmp(m->v[i].key, key) != 0)
    i = (i + 1) & (m->cap - 1);
  return i;
}

static void map_grow(struct sched__map *m) {
  struct sched__map old = *m;

  m->cap = old.cap ? old.cap * 2 : 16;
  m->v = xcalloc(m->cap, sizeof(*m->v));
  for (size_t i = 0; i < old.cap; i++)
    if (old.v[i].key != NULL)
      m->v[map_slot(m, old.v[i].key)] = old.v[i];
  free(old.v);
}

int sched__map_get(const struct sched__map *m, const char *key, size_t *out) {
  size_t i;

  if (m->cap == 0 || key == NULL)
    return CRL_ENOT_FOUND;
  i = map_slot(m, key);
  if (m->v[i].key == NULL)
    return CRL_ENOT_FOUND;
  *out = m->v[i].val;
  return 0;
}

void sched__map_put(struct sched__map *m, const char *key, size_t val) {
  size_t i;

  if (2 * (m->n + 1) > m->cap)
    map_grow(m);
  i = map_slot(m, key);
  if (m->v[i].key == NULL)
    m->n++;
  m->v[i].key = key;
  m->v[i].val = val;
}

void sched__map_close(struct sched__map *m) {
  free(m->v);
  memset(m, 0, sizeof(*m));
}
