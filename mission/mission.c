/*
 * mission.c: loading a mission and owning the result. A load reads the file
 * (bounded in size), builds the document tree with the YAML or JSON front
 * end, walks it against the schema, checks the task graph, flattens the
 * sandbox profiles, resolves defaults and the working directory, then sorts
 * the diagnostics into document order. Any diagnostic fails the load;
 * otherwise the resolved mission moves out of the load context into one heap
 * object the caller frees with msn_mission_free.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mission-int.h"

void msn__retries_default(struct msn_retries *r) {
  memset(r, 0, sizeof(*r));
  r->floor_ms = 1000;
  r->cap_ms = 5 * 60 * 1000;
  r->factor = 2.0;
}

void msn__opts_init(struct msn__opts *o) {
  memset(o, 0, sizeof(*o));
  o->timeout_ms = -1;
  o->idle_timeout_ms = -1;
  o->grace_ms = -1;
}

void msn__opts_close(struct msn__opts *o) {
  msn__argv_free(o->command);
  msn__argv_free(o->env);
  memset(o, 0, sizeof(*o));
}

size_t msn__argv_len(char *const *v) {
  size_t n = 0;

  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

char **msn__argv_dup(char *const *v) {
  size_t n = msn__argv_len(v);
  char **out;

  if (v == NULL)
    return NULL;
  out = xcalloc(n + 1, sizeof(*out));
  for (size_t i = 0; i < n; i++)
    out[i] = xstrdup(v[i]);
  return out;
}

void msn__argv_free(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

void msn__task_clear(struct msn_task *t) {
  free(t->id);
  free(t->prompt);
  msn__argv_free(t->needs);
  msn__argv_free(t->command);
  msn__argv_free(t->env);
  msn__argv_free(t->plan_command);
  free(t->sandbox);
  memset(t, 0, sizeof(*t));
}

void msn__mission_clear(struct msn_mission *m) {
  for (size_t i = 0; i < m->nagents; i++) {
    free(m->agents[i].name);
    free(m->agents[i].adapter);
    msn__argv_free(m->agents[i].command);
    msn__argv_free(m->agents[i].env);
    free(m->agents[i].model);
  }
  for (size_t i = 0; i < m->ntickets; i++) {
    free(m->tickets[i].id);
    free(m->tickets[i].title);
  }
  for (size_t i = 0; i < m->ntasks; i++)
    msn__task_clear(&m->tasks[i]);
  for (size_t i = 0; i < m->nsandboxes; i++)
    msn__sandbox_clear(&m->sandboxes[i]);
  free(m->sandboxes);
  msn__policies_clear(m);
  free(m->agents);
  free(m->tickets);
  free(m->tasks);
  free(m->name);
  free(m->file);
  free(m->dir);
  free(m->workdir);
  free(m->repo);
  free(m->base);
  memset(m, 0, sizeof(*m));
}

void msn_mission_free(struct msn_mission *m) {
  if (m == NULL)
    return;
  msn__mission_clear(m);
  free(m);
}

int msn_task_find(const struct msn_mission *m, const char *id) {
  for (size_t i = 0; i < m->ntasks; i++)
    if (strcmp(m->tasks[i].id, id) == 0)
      return (int)i;
  return -1;
}

static void mission_ctx_close(struct msn__ctx *c) {
  for (size_t i = 0; i < c->ntasks; i++) {
    msn__task_clear(&c->tasks[i].t);
    msn__opts_close(&c->tasks[i].o);
    free(c->tasks[i].need_idx);
    free(c->tasks[i].need_nodes);
  }
  free(c->tasks);
  for (size_t i = 0; i < c->nsbx; i++)
    msn__sandbox_clear(&c->sbx[i].s);
  free(c->sbx);
  free(c->sbx_index);
  free(c->ticket_ids);
  msn__opts_close(&c->defaults);
  msn__mission_clear(&c->m);
}

/* Moves the resolved mission out of the context. */
static struct msn_mission *mission_take(struct msn__ctx *c) {
  struct msn_mission *m = xmalloc(sizeof(*m));

  *m = c->m;
  memset(&c->m, 0, sizeof(c->m));
  m->tasks = xcalloc(c->ntasks + 1, sizeof(*m->tasks));
  for (size_t i = 0; i < c->ntasks; i++) {
    m->tasks[i] = c->tasks[i].t;
    memset(&c->tasks[i].t, 0, sizeof(c->tasks[i].t));
  }
  m->ntasks = c->ntasks;
  m->sandboxes = xcalloc(c->nsbx + 1, sizeof(*m->sandboxes));
  for (size_t i = 0; i < c->nsbx; i++) {
    m->sandboxes[i] = c->sbx[i].s;
    memset(&c->sbx[i].s, 0, sizeof(c->sbx[i].s));
  }
  m->nsandboxes = c->nsbx;
  return m;
}

static void mission_check(struct msn__ctx *c, const struct msn__node *root) {
  msn__schema_mission(c, root);
  msn__graph_check(c);
  msn__sandbox_resolve(c);
  msn__resolve(c);
  msn__resolve_workdir(c);
}

static int mission_load(struct msn_mission **out, const char *name,
                        const char *file, const char *dir, const char *buf,
                        size_t len, int is_json, struct msn_diags *d) {
  struct msn__ctx c = {.file = name, .d = d};
  struct msn__node *root = NULL;
  size_t first = d->n;
  int rc;

  msn__opts_init(&c.defaults);
  c.m.file = xstrdup(file);
  c.m.dir = xstrdup(dir);
  if (is_json)
    rc = msn__json_parse(&root, name, buf, len, d);
  else
    rc = msn__node_parse(&root, name, buf, len, d);
  if (rc == 0)
    mission_check(&c, root);
  msn__diags_sort(d, first);
  if (d->n > first) {
    rc = CRL_EVALIDATION_FAILED;
    goto out;
  }
  *out = mission_take(&c);
out:
  mission_ctx_close(&c);
  msn__node_free(root);
  return rc;
}

int msn_load_buffer(struct msn_mission **out, const char *name, const char *dir,
                    const char *buf, size_t len, int is_json,
                    struct msn_diags *diags) {
  char *real = realpath(dir != NULL ? dir : ".", NULL);
  int rc;

  assert(out != NULL && name != NULL && diags != NULL);
  *out = NULL;
  rc = mission_load(out, name, name,
                    real  ? real
                    : dir ? dir
                          : ".",
                    buf, len, is_json, diags);
  free(real);
  return rc;
}

/* Reads the whole file into *out (NUL-terminated); returns 0 or -errno. */
static int mission_read(char **out, size_t *outlen, const char *path) {
  struct stat st;
  char *buf = NULL;
  size_t len = 0;
  ssize_t r;
  int fd, rc = 0;

  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -errno;
  if (fstat(fd, &st) < 0) {
    rc = -errno;
    goto out;
  }
  if (st.st_size > MSN__MAX_FILE) {
    rc = -EFBIG;
    goto out;
  }
  buf = xmalloc((size_t)st.st_size + 1);
  while (len < (size_t)st.st_size &&
         (r = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      rc = -errno;
      goto out;
    }
    len += (size_t)r;
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  buf = NULL;
out:
  free(buf);
  close(fd);
  return rc;
}

static int mission_is_json(const char *path) {
  size_t n = strlen(path);

  return n >= 5 && strcasecmp(path + n - 5, ".json") == 0;
}

int msn_load_file(struct msn_mission **out, const char *path,
                  struct msn_diags *diags) {
  char *buf = NULL, *file = NULL, *dir = NULL;
  size_t len = 0;
  int rc;

  assert(out != NULL && path != NULL && diags != NULL);
  *out = NULL;
  if ((rc = mission_read(&buf, &len, path)) < 0 ||
      (file = realpath(path, NULL)) == NULL) {
    rc = rc < 0 ? rc : -errno;
    msn_diags_add(diags, path, 0, 0, "cannot read the mission file: %s",
                  strerror(-rc));
    goto out;
  }
  dir = xstrdup(file);
  rc = mission_load(out, path, file, dirname(dir), buf, len,
                    mission_is_json(path), diags);
out:
  free(buf);
  free(file);
  free(dir);
  return rc;
}
