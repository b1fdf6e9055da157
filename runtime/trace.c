/*
 * Trace files from the runtime's side: export gathers what the rows do not
 * hold (the mission file's text, each run's output.log, a git bundle of the
 * ticket branches and the base) into the trace the store writes; import
 * puts them back under a state dir. The file is written as <path>.tmp and
 * renamed once sealed, so a trace at `path` is always complete.
 */
#include "rt-int.h"
#include "rt-trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Refuses files over 1 GiB: a trace blob is one SQLite value. */
#define TRACE_FILE_MAX (1024L * 1024 * 1024)

static int trace_read_file(struct crl_buf *out, const char *path) {
  char chunk[65536];
  FILE *fp = fopen(path, "rb");
  size_t n;
  int rc = 0;

  if (fp == NULL)
    return -errno;
  while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
    rc = crl_buf_append(out, chunk, n);
  if (rc == 0 && ferror(fp))
    rc = -EIO;
  fclose(fp);
  return rc;
}

static int trace_write_file(const char *path, const void *p, size_t n) {
  FILE *fp = fopen(path, "wb");
  int rc = 0;

  if (fp == NULL)
    return -errno;
  if (n > 0 && fwrite(p, 1, n, fp) != n)
    rc = -EIO;
  if (fclose(fp) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

static int trace_put_file(struct store *tr, const char *name, const char *path,
                          struct crl_err *err) {
  struct crl_buf b;
  int rc;

  crl_buf_init(&b, TRACE_FILE_MAX);
  rc = trace_read_file(&b, path);
  if (rc == -ENOENT)
    rc = 0; /* a run that never started has no log */
  else if (rc < 0)
    crl_err_set(err, rc, "unable to read %s: %s", path, crl_strerror(rc));
  else
    rc = store_trace_blob_put(tr, name, b.data, b.len, err);
  crl_buf_close(&b);
  return rc;
}

struct trace_ctx {
  struct store *tr;
  struct crl_err *err;
  char **refs;
  size_t nrefs;
};

static int trace_put_log(const struct store_run *r, void *payload) {
  struct trace_ctx *c = payload;
  char name[64], *path;
  int rc;

  if (r->dir == NULL)
    return 0;
  snprintf(name, sizeof(name), "log/%lld", (long long)r->id);
  xasprintf(&path, "%s/output.log", r->dir);
  rc = trace_put_file(c->tr, name, path, c->err);
  free(path);
  return rc;
}

static int trace_add_ref(const struct store_ticket *t, void *payload) {
  struct trace_ctx *c = payload;

  if (t->branch == NULL)
    return 0;
  c->refs = xrealloc(c->refs, (c->nrefs + 1) * sizeof(*c->refs));
  xasprintf(&c->refs[c->nrefs++], "refs/heads/%s", t->branch);
  return 0;
}

static int trace_put_bundle(struct trace_ctx *c, struct store *st,
                            const struct store_mission *m) {
  struct crl_buf b;
  size_t n = 0;
  int rc;

  if (m->repo == NULL)
    return 0;
  if (m->base != NULL)
    xasprintf(&c->refs[c->nrefs++], "%s%s",
              strncmp(m->base, "refs/", 5) == 0 ? "" : "refs/heads/", m->base);
  if ((rc = store_ticket_list(st, m->id, trace_add_ref, c)) < 0)
    return crl_err_set(c->err, rc, "unable to list tickets");
  crl_buf_init(&b, TRACE_FILE_MAX);
  rc = rt_bundle_write(&b, m->repo, c->refs, c->nrefs, &n, c->err);
  if (rc == CRL_ENOT_FOUND) {
    /* The repository is gone: the rows still say what happened. */
    log_warn("%s; the trace has no bundle of the branches", c->err->msg);
    rc = 0;
  }
  if (rc == 0 && n > 0)
    rc = store_trace_blob_put(c->tr, "bundle", b.data, b.len, c->err);
  crl_buf_close(&b);
  return rc;
}

static int trace_put_mission(struct trace_ctx *c,
                             const struct store_mission *m) {
  const char *base;
  char *name;
  int rc;

  if (m->file == NULL)
    return 0;
  base = strrchr(m->file, '/');
  xasprintf(&name, "file/%s", base ? base + 1 : m->file);
  rc = trace_put_file(c->tr, name, m->file, c->err);
  free(name);
  return rc;
}

/* Everything but the rows, which store_trace_create copied. */
static int trace_fill(struct trace_ctx *c, struct store *st,
                      const char *mission) {
  struct store_mission m;
  char *file, *repo, *base;
  int rc;

  if ((rc = store_mission_get(st, mission, &m, c->err)) < 0)
    return rc;
  /* The getter's strings live until the next store call. */
  file = m.file ? xstrdup(m.file) : NULL;
  repo = m.repo ? xstrdup(m.repo) : NULL;
  base = m.base ? xstrdup(m.base) : NULL;
  m.file = file;
  m.repo = repo;
  m.base = base;
  m.id = mission;
  c->refs = xcalloc(1, sizeof(*c->refs));
  if ((rc = trace_put_mission(c, &m)) == 0 &&
      (rc = store_run_list(st, mission, NULL, trace_put_log, c)) == 0)
    rc = trace_put_bundle(c, st, &m);
  for (size_t i = 0; i < c->nrefs; i++)
    free(c->refs[i]);
  free(c->refs);
  free(file);
  free(repo);
  free(base);
  return rc;
}

int rt_trace_export(struct store *st, const char *mission, const char *path,
                    struct crl_err *err) {
  struct trace_ctx c = {NULL, err, NULL, 0};
  char *tmp;
  int rc;

  xasprintf(&tmp, "%s.tmp", path);
  unlink(tmp);
  if ((rc = store_trace_create(&c.tr, tmp, st, mission, err)) < 0 ||
      (rc = trace_fill(&c, st, mission)) < 0 ||
      (rc = store_trace_seal(c.tr, err)) < 0)
    goto out;
  store_close(c.tr);
  c.tr = NULL;
  if (rename(tmp, path) < 0)
    rc = crl_err_set(err, -errno, "unable to rename %s: %s", tmp,
                     strerror(errno));
out:
  store_close(c.tr);
  if (rc < 0)
    unlink(tmp);
  free(tmp);
  return rc;
}

static int trace_first_mission(const struct store_mission *m, void *payload) {
  *(char **)payload = xstrdup(m->id);
  return 1;
}

int rt_trace_mission(char **out, struct store *tr, struct crl_err *err) {
  *out = NULL;
  store_mission_list(tr, trace_first_mission, out);
  if (*out == NULL)
    return crl_err_set(err, CRL_EMISSION_NOT_FOUND,
                       "the trace holds no mission");
  return 0;
}

struct trace_logs {
  const char *dir;    /* runs/, or bundles/ */
  const char *bundle; /* bundles/<as>.bundle */
  int64_t offset;
  struct crl_err *err;
};

static int trace_get_log(const char *name, const void *data, size_t len,
                         void *payload) {
  struct trace_logs *l = payload;
  char *dir, *path;
  int rc;

  xasprintf(&dir, "%s/%lld", l->dir,
            (long long)(strtoll(name + 4, NULL, 10) + l->offset));
  xasprintf(&path, "%s/output.log", dir);
  if ((rc = rt_mkdirs(dir, 0700)) == 0)
    rc = trace_write_file(path, data, len);
  if (rc < 0)
    crl_err_set(l->err, rc, "unable to write %s: %s", path, crl_strerror(rc));
  free(dir);
  free(path);
  return rc;
}

static int trace_get_bundle(const char *name, const void *data, size_t len,
                            void *payload) {
  struct trace_logs *l = payload;
  int rc;

  (void)name;
  if ((rc = rt_mkdirs(l->dir, 0700)) == 0)
    rc = trace_write_file(l->bundle, data, len);
  if (rc < 0)
    crl_err_set(l->err, rc, "unable to write the bundle: %s", crl_strerror(rc));
  return rc;
}

/* Logs under runs/, the bundle at bundles/<as>.bundle. */
static int trace_import_files(struct store *tr, const char *state_dir,
                              const struct store_import *im,
                              struct crl_err *err) {
  struct trace_logs l = {im->runs_dir, NULL, im->run_offset, err};
  char *bdir, *bundle;
  int rc;

  if ((rc = store_trace_blob_list(tr, "log/", trace_get_log, &l)) < 0)
    return rc;
  xasprintf(&bdir, "%s/bundles", state_dir);
  xasprintf(&bundle, "%s/%s.bundle", bdir, im->as);
  l.dir = bdir;
  l.bundle = bundle;
  rc = store_trace_blob_list(tr, "bundle", trace_get_bundle, &l);
  free(bdir);
  free(bundle);
  return rc;
}

int rt_trace_import(struct store *st, const char *state_dir, const char *path,
                    const char *as, char **as_out, struct crl_err *err) {
  struct store_import im = {0};
  struct store *tr = NULL;
  char *name = NULL, *runs = NULL;
  int rc;

  if ((rc = store_trace_open(&tr, path, 1, err)) < 0 ||
      (rc = rt_trace_mission(&name, tr, err)) < 0)
    goto out;
  xasprintf(&runs, "%s/runs", state_dir);
  im.as = as != NULL ? as : name;
  im.runs_dir = runs;
  if ((rc = store_trace_import(st, path, &im, err)) < 0 ||
      (rc = trace_import_files(tr, state_dir, &im, err)) < 0)
    goto out;
  *as_out = xstrdup(im.as);
out:
  store_close(tr);
  free(name);
  free(runs);
  return rc;
}
