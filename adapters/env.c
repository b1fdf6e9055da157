/*
 * struct adapter_env: the environment an adapter builds for one run, kept as
 * the NULL-terminated "KEY=VALUE" vector execve wants. Setting a key that is
 * already present replaces it in place, so the order of first appearance is
 * kept and a later layer (task over agent over defaults) wins.
 */
#include "adapter.h"

#include <assert.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

void adapter_env_init(struct adapter_env *e) {
  e->cap = 8;
  e->n = 0;
  e->v = xcalloc(e->cap, sizeof(*e->v));
}

void adapter_env_close(struct adapter_env *e) {
  size_t i;

  if (e->v != NULL) {
    for (i = 0; i < e->n; i++)
      free(e->v[i]);
    free(e->v);
  }
  e->v = NULL;
  e->n = 0;
  e->cap = 0;
}

static ssize_t env_index(const struct adapter_env *e, const char *key,
                         size_t klen) {
  size_t i;

  for (i = 0; i < e->n; i++)
    if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=')
      return (ssize_t)i;
  return -1;
}

/* Takes ownership of kv, whose key is its first klen bytes. */
static void env_take(struct adapter_env *e, char *kv, size_t klen) {
  ssize_t i = env_index(e, kv, klen);

  if (i >= 0) {
    free(e->v[i]);
    e->v[i] = kv;
    return;
  }
  if (e->n + 1 >= e->cap) {
    e->cap = e->cap == 0 ? 8 : e->cap * 2;
    e->v = xreallocarray(e->v, e->cap, sizeof(*e->v));
  }
  e->v[e->n++] = kv;
  e->v[e->n] = NULL;
}

/* Copies key and val; key must be non-empty and free of '='. */
void adapter_env_set(struct adapter_env *e, const char *key, const char *val) {
  char *kv;

  assert(key != NULL && key[0] != '\0' && strchr(key, '=') == NULL);
  assert(val != NULL);
  xasprintf(&kv, "%s=%s", key, val);
  env_take(e, kv, strlen(key));
}

int adapter_env_put(struct adapter_env *e, const char *kv) {
  const char *eq = strchr(kv, '=');

  if (eq == NULL || eq == kv)
    return CRL_EPARSE;
  env_take(e, xstrdup(kv), (size_t)(eq - kv));
  return 0;
}

/* Returns the value of key, borrowed from e until the next set, or NULL. */
const char *adapter_env_get(const struct adapter_env *e, const char *key) {
  size_t klen = strlen(key);
  ssize_t i = env_index(e, key, klen);

  return i < 0 ? NULL : e->v[i] + klen + 1;
}
