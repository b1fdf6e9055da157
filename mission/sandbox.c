/*
 * sandbox.c: the sandbox profiles of a mission file. A profile under
 * `sandboxes:` says what an agent may see and use (writable, read-only and
 * hidden paths, network, memory, pids, cpu, size of /tmp) on top of the
 * profile it extends: a built-in (agent, strict, network, none) or another
 * profile of the file, "agent" when unsaid. This file converts the values
 * only profiles take, follows each `extends:` chain without recursion (so a
 * long chain cannot exhaust the stack) to the built-in it ends at, reporting
 * unknown names and cycles, merges each profile with its parent (the
 * parent's paths first, its own scalars over inherited ones), and checks the
 * profile names tasks and `defaults:` give. Relative paths resolve lexically
 * against the mission file's directory; `~` is refused because inside a
 * sandbox it could mean the user's home or the agent's empty one.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mission-int.h"

/* Suggest among at most this many profile names. */
#define SANDBOX_SUGGEST_MAX 64
/* Longest cycle description, in bytes. */
#define SANDBOX_CYCLE_MAX 512

const char *const msn__sandbox_builtins[] = {"agent", "strict", "network",
                                             "none"};
const size_t msn__nsandbox_builtins = CRL_ARRAY_SIZE(msn__sandbox_builtins);

static const char *const sandbox_networks[] = {"none", "gateway", "host"};

int msn__sandbox_builtin(const char *name) {
  for (size_t i = 0; i < msn__nsandbox_builtins; i++)
    if (strcmp(name, msn__sandbox_builtins[i]) == 0)
      return 1;
  return 0;
}

void msn__sandbox_clear(struct msn_sandbox *s) {
  free(s->name);
  free(s->extends);
  msn__argv_free(s->writable);
  msn__argv_free(s->readonly);
  msn__argv_free(s->hidden);
  memset(s, 0, sizeof(*s));
}

const struct msn_sandbox *msn_sandbox_find(const struct msn_mission *m,
                                           const char *name) {
  assert(m != NULL && name != NULL);
  for (size_t i = 0; i < m->nsandboxes; i++)
    if (strcmp(m->sandboxes[i].name, name) == 0)
      return &m->sandboxes[i];
  return NULL;
}

/* Adds component comp (n bytes) to the clean absolute path out[0..*len):
 * "." and empty components add nothing, ".." drops the last component. */
static void sandbox_component(char *out, size_t *len, const char *comp,
                              size_t n) {
  if (n == 0 || (n == 1 && comp[0] == '.'))
    return;
  if (n == 2 && comp[0] == '.' && comp[1] == '.') {
    while (*len > 0 && out[--*len] != '/')
      ;
    return;
  }
  out[(*len)++] = '/';
  memcpy(out + *len, comp, n);
  *len += n;
}

/* path, or dir/path when relative, without ".", "..", "//" or a trailing
 * slash. Lexical, like Go's filepath.Clean: the sandbox resolves symlinks
 * when it mounts. The caller frees. */
static char *sandbox_path_clean(const char *dir, const char *path) {
  char *joined = NULL, *out;
  size_t len = 0;

  if (path[0] == '/')
    joined = xstrdup(path);
  else
    xasprintf(&joined, "%s/%s", dir, path);
  out = xmalloc(strlen(joined) + 2);
  for (const char *p = joined; *p != '\0'; p += strspn(p, "/")) {
    size_t n = strcspn(p, "/");

    sandbox_component(out, &len, p, n);
    p += n;
  }
  if (len == 0)
    out[len++] = '/';
  out[len] = '\0';
  free(joined);
  return out;
}

static int sandbox_path_ok(struct msn__ctx *c, const struct msn__field *f,
                           const struct msn__node *n) {
  char q[64];

  if (n->type != MSN__SCALAR) {
    msn__type_error(c, n, "a path", f->key);
    return 0;
  }
  if (n->str[0] == '\0') {
    msn__err(c, n,
             "empty path in '%s' (expected an absolute path or one relative "
             "to the mission file)",
             f->key);
    return 0;
  }
  if (n->str[0] != '~')
    return 1;
  msn__err(c, n,
           "path '%s' in '%s' starts with '~' (write it absolute or relative "
           "to the mission file: inside a sandbox '~' is ambiguous)",
           msn__quote(q, sizeof(q), n->str), f->key);
  return 0;
}

void msn__conv_paths(struct msn__ctx *c, const struct msn__field *f,
                     const struct msn__node *n, void *dst) {
  char ***out = dst, **v;
  size_t k = 0;

  if (n->type != MSN__SEQ) {
    msn__type_error(c, n, "a list of paths", f->key);
    return;
  }
  v = xcalloc(n->n + 1, sizeof(*v));
  for (size_t i = 0; i < n->n; i++)
    if (sandbox_path_ok(c, f, n->v[i]))
      v[k++] = sandbox_path_clean(c->m.dir, n->v[i]->str);
  msn__argv_free(*out);
  *out = v;
}

void msn__conv_network(struct msn__ctx *c, const struct msn__field *f,
                       const struct msn__node *n, void *dst) {
  if (n->type != MSN__SCALAR) {
    msn__type_error(c, n, "none, gateway or host", f->key);
    return;
  }
  for (size_t i = 0; i < CRL_ARRAY_SIZE(sandbox_networks); i++) {
    if (strcmp(n->str, sandbox_networks[i]) == 0) {
      *(int *)dst = (int)i;
      return;
    }
  }
  msn__enum_error(c, n, f->key, "none, gateway or host", sandbox_networks,
                  CRL_ARRAY_SIZE(sandbox_networks));
}

/* More than 100% per CPU of this host could never be granted. */
void msn__conv_cpu(struct msn__ctx *c, const struct msn__field *f,
                   const struct msn__node *n, void *dst) {
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  long long max = 100LL * (ncpu > 0 ? ncpu : 1);
  int v = 0;

  assert(f->min >= 1);
  msn__conv_int(c, f, n, &v);
  if (v == 0)
    return;
  if (v > max) {
    msn__err(c, n,
             "invalid value %d for '%s' (expected a percentage from 1 to "
             "%lld, 100 per CPU of this host)",
             v, f->key, max);
    return;
  }
  *(int *)dst = v;
}

static int sandbox_name_cmp(const void *a, const void *b) {
  return strcmp(((const struct msn__sbxname *)a)->name,
                ((const struct msn__sbxname *)b)->name);
}

static int sandbox_key_cmp(const void *key, const void *elem) {
  return strcmp(key, ((const struct msn__sbxname *)elem)->name);
}

/* Sorts the names once, so a file with many profiles is not quadratic. */
static void sandbox_index_build(struct msn__ctx *c) {
  c->sbx_index = xcalloc(c->nsbx + 1, sizeof(*c->sbx_index));
  for (size_t i = 0; i < c->nsbx; i++) {
    c->sbx_index[i].name = c->sbx[i].s.name;
    c->sbx_index[i].idx = i;
  }
  qsort(c->sbx_index, c->nsbx, sizeof(*c->sbx_index), sandbox_name_cmp);
}

/* Index of the profile named `name`, or -1. Names are unique: the document
 * builder drops repeated keys. */
static long sandbox_index(const struct msn__ctx *c, const char *name) {
  const struct msn__sbxname *e;

  if (c->sbx_index == NULL)
    return -1;
  e = bsearch(name, c->sbx_index, c->nsbx, sizeof(*e), sandbox_key_cmp);
  return e != NULL ? (long)e->idx : -1;
}

static void sandbox_unknown(struct msn__ctx *c, const struct msn__node *n) {
  const char *cands[SANDBOX_SUGGEST_MAX], *near;
  size_t k = 0;
  char q[64];

  for (size_t i = 0; i < msn__nsandbox_builtins; i++)
    cands[k++] = msn__sandbox_builtins[i];
  for (size_t i = 0; i < c->nsbx && k < SANDBOX_SUGGEST_MAX; i++)
    cands[k++] = c->sbx[i].s.name;
  near = msn__suggest(n->str, cands, k);
  msn__quote(q, sizeof(q), n->str);
  if (near != NULL)
    msn__err(c, n, "unknown sandbox profile '%s' (did you mean '%s'?)", q,
             near);
  else
    msn__err(c, n,
             "unknown sandbox profile '%s' (expected agent, strict, network, "
             "none or a profile under 'sandboxes')",
             q);
}

int msn__sandbox_ref(struct msn__ctx *c, const struct msn__node *n) {
  if (msn__sandbox_builtin(n->str) || sandbox_index(c, n->str) >= 0)
    return 0;
  sandbox_unknown(c, n);
  return -1;
}

/* Where d's chain goes next: the parent's index, -1 at a built-in, or -2 at
 * an unknown name (reported). */
static long sandbox_parent(struct msn__ctx *c, const struct msn__sbxdef *d) {
  const char *name = d->extends != NULL ? d->extends->str : "agent";
  long i;

  if (msn__sandbox_builtin(name))
    return -1;
  if ((i = sandbox_index(c, name)) >= 0)
    return i;
  sandbox_unknown(c, d->extends);
  return -2;
}

/* "a -> b -> a", from chain[from] (the profile met twice) to the end, at
 * the `extends:` that closes the cycle; a long one is cut and counted. */
static void sandbox_cycle(struct msn__ctx *c, const size_t *chain, size_t from,
                          size_t n) {
  struct crl_buf b;
  size_t i;

  crl_buf_init(&b, 0);
  for (i = from; i < n && b.len < SANDBOX_CYCLE_MAX; i++)
    crl_buf_printf(&b, "%s -> ", c->sbx[chain[i]].s.name);
  if (i < n)
    crl_buf_printf(&b, "... (%zu profiles)", n - from);
  else
    crl_buf_printf(&b, "%s", c->sbx[chain[from]].s.name);
  msn__err(c, c->sbx[chain[n - 1]].extends, "extends cycle: %s", b.data);
  crl_buf_close(&b);
}

/* parent's paths, then own ones not already there; consumes own. */
static char **sandbox_merge(char *const *parent, char **own) {
  size_t np = msn__argv_len(parent), no = msn__argv_len(own), k = 0;
  char **v = xcalloc(np + no + 1, sizeof(*v));

  for (size_t i = 0; i < np; i++)
    v[k++] = xstrdup(parent[i]);
  for (size_t i = 0; i < no; i++) {
    size_t j = 0;

    while (j < k && strcmp(v[j], own[i]) != 0)
      j++;
    if (j == k)
      v[k++] = xstrdup(own[i]);
  }
  msn__argv_free(own);
  return v;
}

/* Flattens d onto its resolved parent p, or onto its built-in when NULL. */
static void sandbox_inherit(struct msn__sbxdef *d,
                            const struct msn_sandbox *p) {
  struct msn_sandbox *s = &d->s;

  s->extends = xstrdup(p != NULL            ? p->extends
                       : d->extends != NULL ? d->extends->str
                                            : "agent");
  s->writable = sandbox_merge(p ? p->writable : NULL, s->writable);
  s->readonly = sandbox_merge(p ? p->readonly : NULL, s->readonly);
  s->hidden = sandbox_merge(p ? p->hidden : NULL, s->hidden);
  d->state = MSN__SBX_DONE;
  if (p == NULL)
    return;
  s->network = s->network >= 0 ? s->network : p->network;
  s->memory = s->memory ? s->memory : p->memory;
  s->pids = s->pids ? s->pids : p->pids;
  s->cpu_percent = s->cpu_percent ? s->cpu_percent : p->cpu_percent;
  s->tmp_size = s->tmp_size ? s->tmp_size : p->tmp_size;
}

/*
 * Walks from profile `start` along `extends:` while profiles are new, then
 * resolves the walk from its far end back. A walk that meets itself is a
 * cycle; one that ends at an unknown name, a cycle or a broken profile
 * leaves every profile on it broken, reported once. chain has room for
 * every profile.
 */
static void sandbox_walk(struct msn__ctx *c, size_t start, size_t *chain) {
  long p = (long)start;
  size_t n = 0;
  int broken;

  while (p >= 0 && c->sbx[p].state == MSN__SBX_NEW) {
    c->sbx[p].state = MSN__SBX_WALK;
    chain[n++] = (size_t)p;
    p = sandbox_parent(c, &c->sbx[p]);
  }
  if (p >= 0 && c->sbx[p].state == MSN__SBX_WALK) {
    size_t from = 0;

    while (chain[from] != (size_t)p)
      from++;
    sandbox_cycle(c, chain, from, n);
  }
  broken = p == -2 || (p >= 0 && c->sbx[p].state != MSN__SBX_DONE);
  while (n-- > 0) {
    struct msn__sbxdef *d = &c->sbx[chain[n]];

    if (broken)
      d->state = MSN__SBX_BROKEN;
    else
      sandbox_inherit(d, p >= 0 ? &c->sbx[p].s : NULL);
    p = (long)chain[n];
  }
}

void msn__sandbox_resolve(struct msn__ctx *c) {
  size_t *chain = xcalloc(c->nsbx + 1, sizeof(*chain));

  sandbox_index_build(c);
  for (size_t i = 0; i < c->nsbx; i++)
    if (c->sbx[i].state == MSN__SBX_NEW)
      sandbox_walk(c, i, chain);
  free(chain);
}
