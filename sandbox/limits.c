/*
 * Resource limits of one run. The parent writes memory.max, pids.max and
 * cpu.max into the run's cgroup v2 leaf, enabling the controllers in the
 * leaf's parent first when the parent has them; a limit whose v2 controller
 * is not there (a hybrid host binds them all to v1) goes on a cgroup v1 leaf
 * of the run instead, when the caller may make one (cgroup1.c: root, or a
 * delegated v1 subtree); the child sets rlimits just before it drops its
 * privileges. A profile value of 0 means the default, and the defaults are
 * generous so that node, git, compilers and test suites never notice them:
 * memory max(4 GiB, half the RAM), 4096 tasks, no CPU cap, no core files,
 * at least 4096 open files, and no file-size limit. A default that the host
 * cannot enforce is skipped; a limit the profile asks for explicitly is
 * refused with the fix, never silently dropped. Without a cgroup of either
 * version the task count falls back to RLIMIT_NPROC, which in the run's own
 * user namespace counts only the run's tasks (but never binds root); memory
 * and CPU have no honest fallback (RLIMIT_AS breaks every JIT and
 * sanitizer), so they refuse.
 */
#include "sbx-int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define LIMITS_GIB (1024LL * 1024 * 1024)
#define LIMITS_PIDS 4096
#define LIMITS_NOFILE 65536
#define LIMITS_CPU_PERIOD 100000 /* µs, the kernel's default cpu.max period */

#define LIMITS_FIX                                                        \
  "fix: run corral under `systemd-run --user --scope -p Delegate=yes "    \
  "corral ...` so it gets a delegated cgroup v2 subtree (on a cgroup v1 " \
  "or hybrid host, boot with systemd.unified_cgroup_hierarchy=1 first, "  \
  "or run corral as root, which uses the v1 controllers)"

/* One limit to write: controller, file in the leaf, value, and whether the
 * profile asked for it (then it must hold). */
struct limits_one {
  const char *ctl;
  const char *file;
  char val[64];
  long long num; /* the value for the v1 fallback (cgroup1.c's units) */
  int explicit;
  int has_fallback;
};

static int64_t limits_default_memory(void) {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  int64_t half = pages > 0 && size > 0 ? (int64_t)pages * size / 2 : 0;

  return half > 4 * LIMITS_GIB ? half : 4 * LIMITS_GIB;
}

/* 1 when the whitespace-separated list in file has word, else 0. */
static int limits_listed(const char *dir, const char *file, const char *word) {
  char *path, buf[1024], *tok, *save;
  ssize_t n = -1;
  int fd, found = 0;

  xasprintf(&path, "%s/%s", dir, file);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
  }
  free(path);
  buf[n > 0 ? n : 0] = '\0';
  for (tok = strtok_r(buf, " \n", &save); tok != NULL && !found;
       tok = strtok_r(NULL, " \n", &save))
    found = strcmp(tok, word) == 0;
  return found;
}

int sbx__cg_write(const char *dir, const char *file, const char *val) {
  char *path;
  ssize_t len = (ssize_t)strlen(val), n = -1;
  int fd, rc = 0;

  xasprintf(&path, "%s/%s", dir, file);
  if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0 ||
      (n = write(fd, val, len)) != len)
    rc = n >= 0 ? -EIO : -errno;
  if (fd >= 0)
    close(fd);
  free(path);
  return rc;
}

/* Makes controller ctl available in leaf: the parent must offer it (its
 * cgroup.controllers) and enable it for its children (subtree_control). */
static int limits_enable(const char *leaf, const char *ctl) {
  char *parent, *slash, *req;
  int rc = -ENOTSUP;

  if (limits_listed(leaf, "cgroup.controllers", ctl))
    return 0;
  parent = xstrdup(leaf);
  if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
    *slash = '\0';
    if (limits_listed(parent, "cgroup.controllers", ctl)) {
      xasprintf(&req, "+%s", ctl);
      rc = sbx__cg_write(parent, "cgroup.subtree_control", req);
      free(req);
    }
  }
  free(parent);
  return rc;
}

/* The limit on the v2 leaf: 0, or why not. */
static int limits_v2(const char *leaf, const struct limits_one *l) {
  int rc;

  if (leaf == NULL)
    return -ENOENT;
  if ((rc = limits_enable(leaf, l->ctl)) < 0)
    return rc;
  return sbx__cg_write(leaf, l->file, l->val);
}

static int limits_apply(const char *leaf, struct sbx__cg1 *cg1,
                        const struct limits_one *l, struct crl_err *err) {
  int rc = limits_v2(leaf, l), rc1 = -ENOENT;

  if (rc == 0)
    return 0;
  if (cg1 != NULL && (rc1 = sbx__cg1_limit(cg1, l->ctl, l->num)) == 0) {
    log_debug("%s: %s=%s on cgroup v1 leaf %s", __func__, l->ctl, l->val,
              sbx__cg1_describe(cg1, l->ctl));
    return 0;
  }
  if (!l->explicit || l->has_fallback) {
    log_info("%s: %s=%s not set (cgroup v2 %s: %s; v1: %s): %s", __func__,
             l->ctl, l->val, leaf != NULL ? leaf : "no leaf", crl_strerror(rc),
             crl_strerror(rc1),
             l->has_fallback ? "rlimit fallback" : "default skipped");
    return 0;
  }
  if (leaf == NULL)
    return crl_err_set(err, CRL_ESANDBOX,
                       "the profile limits %s but this host gives corral no "
                       "cgroup v2 leaf for the run and no writable cgroup v1 "
                       "%s hierarchy (%s); " LIMITS_FIX,
                       l->ctl, l->ctl, crl_strerror(rc1));
  return crl_err_set(err, CRL_ESANDBOX,
                     "the profile limits %s but the cgroup v2 %s controller "
                     "cannot be used in %s (%s) and no cgroup v1 %s "
                     "hierarchy is writable (%s); " LIMITS_FIX,
                     l->ctl, l->ctl, leaf, crl_strerror(rc), l->ctl,
                     crl_strerror(rc1));
}

/* The limits of p, defaults filled in; returns how many were set. */
static size_t limits_list(struct limits_one *out, const struct sbx_profile *p) {
  size_t n = 0;
  long long mem = p->memory > 0 ? p->memory : limits_default_memory();
  long long pids = p->pids > 0 ? p->pids : LIMITS_PIDS;

  out[n] =
      (struct limits_one){"memory", "memory.max", "", mem, p->memory > 0, 0};
  snprintf(out[n++].val, sizeof(out->val), "%lld", mem);
  out[n] = (struct limits_one){"pids", "pids.max", "", pids, p->pids > 0, 1};
  snprintf(out[n++].val, sizeof(out->val), "%lld", pids);
  if (p->cpu_percent > 0) {
    out[n] = (struct limits_one){"cpu", "cpu.max", "", p->cpu_percent, 1, 0};
    snprintf(out[n++].val, sizeof(out->val), "%lld %d",
             (long long)p->cpu_percent * LIMITS_CPU_PERIOD / 100,
             LIMITS_CPU_PERIOD);
  }
  return n;
}

int sbx__limits_cgroup(const struct sbx_profile *p, const char *cgroup,
                       struct sbx__cg1 *cg1, struct crl_err *err) {
  struct limits_one lim[3];
  size_t n;
  int rc = 0;

  assert(p != NULL);
  n = limits_list(lim, p);
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = limits_apply(cgroup, cg1, &lim[i], err);
  return rc;
}

/* Raises the soft limit on open files to min(hard, 65536); never lowers. */
static int limits_nofile(void) {
  struct rlimit r;
  rlim_t want;

  if (getrlimit(RLIMIT_NOFILE, &r) < 0)
    return -errno;
  want = r.rlim_max < LIMITS_NOFILE ? r.rlim_max : LIMITS_NOFILE;
  if (r.rlim_cur >= want)
    return 0;
  r.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &r) < 0 ? -errno : 0;
}

/* Child side, no allocation. RLIMIT_NPROC is set whether or not pids.max
 * holds: with it the two agree, without it this is the limit. */
int sbx__limits_rlimits(const struct sbx_profile *p) {
  struct rlimit core = {0, 0}, nproc;
  rlim_t want = p != NULL && p->pids > 0 ? (rlim_t)p->pids : LIMITS_PIDS;
  int rc;

  if (setrlimit(RLIMIT_CORE, &core) < 0)
    return -errno;
  if ((rc = limits_nofile()) < 0)
    return rc;
  if (getrlimit(RLIMIT_NPROC, &nproc) < 0)
    return -errno;
  if (nproc.rlim_max < want)
    want = nproc.rlim_max;
  nproc.rlim_cur = nproc.rlim_max = want;
  return setrlimit(RLIMIT_NPROC, &nproc) < 0 ? -errno : 0;
}
