/*
 * The cgroup v1 fallback for a run's resource limits, for hosts that give
 * corral no cgroup v2 controllers (a hybrid host: v2 mounted at
 * /sys/fs/cgroup/unified with nothing in it, the controllers bound to v1)
 * while the caller may write the v1 hierarchies (root, or a delegated
 * subtree). Each limit gets a leaf "<mount><own cgroup>/corral/run-<pid>-<n>"
 * in its controller's hierarchy: pids.max in pids, memory.limit_in_bytes
 * (and memory.memsw.limit_in_bytes where swap is accounted) in memory, the
 * CFS quota in cpu, and, once any of those exists, a leaf in freezer too.
 * The parent writes the sandbox child's pid into every leaf before it lets
 * the child go, so init, the command and all they fork are born inside.
 * v1 has no cgroup.kill: the end of the run freezes the freezer leaf,
 * SIGKILLs the members until none is left, thaws, and removes the leaves.
 * Leaves whose owner died first are removed by the next run that makes one.
 */
#include "sbx-int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

#define CG1_ROOT "/sys/fs/cgroup"
#define CG1_PERIOD 100000 /* µs, the kernel's default CFS period */
#define CG1_ROUNDS 2000   /* kill rounds, 1 ms apart, before giving up */

enum { CG1_PIDS, CG1_MEMORY, CG1_CPU, CG1_FREEZER, CG1_N };

static const char *const cg1_names[CG1_N] = {"pids", "memory", "cpu",
                                             "freezer"};

struct sbx__cg1 {
  char name[64];     /* run-<pid>-<n>, the same in every hierarchy */
  char *leaf[CG1_N]; /* the leaves made so far, or NULL */
};

static int cg1_index(const char *ctl) {
  for (int i = 0; i < CG1_N; i++)
    if (strcmp(cg1_names[i], ctl) == 0)
      return i;
  return -1;
}

/* 1 when the comma list (a /proc/self/cgroup field) has ctl. */
static int cg1_listed(const char *list, size_t len, const char *ctl) {
  size_t n = strlen(ctl);

  for (const char *s = list, *end = list + len; s < end;) {
    size_t w = strcspn(s, ",:");

    if (w == n && strncmp(s, ctl, n) == 0)
      return 1;
    s += w + 1;
  }
  return 0;
}

/* Our own cgroup in ctl's v1 hierarchy ("N:a,b:/path"), "" for the root,
 * or NULL when ctl is not bound to v1. */
static char *cg1_self(const char *ctl) {
  char line[4096], *out = NULL, *list, *path;
  FILE *fp = fopen("/proc/self/cgroup", "re");

  while (fp != NULL && out == NULL && fgets(line, sizeof(line), fp) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if ((list = strchr(line, ':')) == NULL ||
        (path = strchr(++list, ':')) == NULL)
      continue;
    if (cg1_listed(list, (size_t)(path - list), ctl))
      out = xstrdup(strcmp(path + 1, "/") == 0 ? "" : path + 1);
  }
  if (fp != NULL)
    fclose(fp);
  return out;
}

/* "<mount><own cgroup>/corral" for ctl, made if needed, or NULL with
 * *rc set. The mount is /sys/fs/cgroup/<ctl> ("cpu" is a link to
 * "cpu,cpuacct" where the two share a hierarchy). */
static char *cg1_parent(const char *ctl, int *rc) {
  char *mnt, *self, *own = NULL, *dir = NULL;
  struct statfs sf;
  struct stat st;

  xasprintf(&mnt, CG1_ROOT "/%s", ctl);
  *rc = -ENOENT;
  if (statfs(mnt, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC &&
      (self = cg1_self(ctl)) != NULL) {
    /* Our cgroup, unless a cgroup namespace hides it under the mount. */
    xasprintf(&own, "%s%s", mnt, self);
    xasprintf(&dir, "%s/corral", stat(own, &st) == 0 ? own : mnt);
    free(own);
    free(self);
    *rc = mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
  }
  free(mnt);
  if (*rc < 0) {
    free(dir);
    dir = NULL;
  }
  return dir;
}

int sbx__cg1_usable(const char *ctl) {
  char *dir, *leaf = NULL, *procs = NULL;
  int rc, ok = 0;

  if (sbx_simulate_missing("cgroup") || sbx_simulate_missing("cgroup1") ||
      (dir = cg1_parent(ctl, &rc)) == NULL)
    return 0;
  xasprintf(&leaf, "%s/corral-probe-%ld", dir, (long)getpid());
  xasprintf(&procs, "%s/cgroup.procs", leaf);
  if (mkdir(leaf, 0755) == 0 || errno == EEXIST) {
    ok = access(procs, W_OK) == 0;
    rmdir(leaf);
  }
  free(procs);
  free(leaf);
  free(dir);
  return ok;
}

struct sbx__cg1 *sbx__cg1_new(void) {
  static unsigned seq;
  struct sbx__cg1 *cg = xcalloc(1, sizeof(*cg));

  snprintf(cg->name, sizeof(cg->name), "run-%ld-%u", (long)getpid(), seq++);
  return cg;
}

/* Removes the leaves in dir left by runs whose owner died without
 * removing them (a SIGKILLed shim). rmdir only takes an empty leaf, so a
 * live run, or a pid that was reused, costs nothing but a failed call. */
static void cg1_gc(const char *dir) {
  struct dirent *de;
  DIR *d = opendir(dir);
  char *leaf;
  long pid;
  unsigned seq;

  while (d != NULL && (de = readdir(d)) != NULL) {
    if (sscanf(de->d_name, "run-%ld-%u", &pid, &seq) != 2 || pid <= 0 ||
        pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    xasprintf(&leaf, "%s/%s", dir, de->d_name);
    if (rmdir(leaf) == 0)
      log_info("%s: removed %s, left by a dead run", __func__, leaf);
    free(leaf);
  }
  if (d != NULL)
    closedir(d);
}

/* The leaf of hierarchy i, made on first use. */
static int cg1_leaf(struct sbx__cg1 *cg, int i) {
  char *dir, *leaf;
  int rc;

  if (cg->leaf[i] != NULL)
    return 0;
  if (sbx_simulate_missing("cgroup") || sbx_simulate_missing("cgroup1"))
    return -ENOENT;
  if ((dir = cg1_parent(cg1_names[i], &rc)) == NULL)
    return rc;
  cg1_gc(dir);
  xasprintf(&leaf, "%s/%s", dir, cg->name);
  free(dir);
  if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
    rc = -errno;
    free(leaf);
    return rc;
  }
  cg->leaf[i] = leaf;
  return 0;
}

static int cg1_write_ll(const char *dir, const char *file, long long v) {
  char val[32];

  snprintf(val, sizeof(val), "%lld", v);
  return sbx__cg_write(dir, file, val);
}

/* memory.limit_in_bytes first: memsw may never be below it. */
static int cg1_memory(const char *leaf, long long bytes) {
  char *memsw;
  int rc = cg1_write_ll(leaf, "memory.limit_in_bytes", bytes);

  xasprintf(&memsw, "%s/memory.memsw.limit_in_bytes", leaf);
  if (rc == 0 && access(memsw, F_OK) == 0)
    rc = cg1_write_ll(leaf, "memory.memsw.limit_in_bytes", bytes);
  free(memsw);
  return rc;
}

int sbx__cg1_limit(struct sbx__cg1 *cg, const char *ctl, long long val) {
  int i = cg1_index(ctl), rc;

  assert(cg != NULL && i >= 0 && i != CG1_FREEZER);
  if ((rc = cg1_leaf(cg, i)) < 0)
    return rc;
  if (i == CG1_PIDS)
    return cg1_write_ll(cg->leaf[i], "pids.max", val);
  if (i == CG1_MEMORY)
    return cg1_memory(cg->leaf[i], val);
  /* cpu: val is a percentage of one CPU. */
  if ((rc = cg1_write_ll(cg->leaf[i], "cpu.cfs_period_us", CG1_PERIOD)) < 0)
    return rc;
  return cg1_write_ll(cg->leaf[i], "cpu.cfs_quota_us", val * CG1_PERIOD / 100);
}

const char *sbx__cg1_describe(const struct sbx__cg1 *cg, const char *ctl) {
  int i = cg1_index(ctl);

  return cg != NULL && i >= 0 ? cg->leaf[i] : NULL;
}

int sbx__cg1_attach(struct sbx__cg1 *cg, pid_t pid) {
  int used = 0, rc = 0;

  if (cg == NULL)
    return 0;
  for (int i = 0; i < CG1_FREEZER; i++)
    used |= cg->leaf[i] != NULL;
  if (!used)
    return 0;
  /* The freezer is only how the end of the run stops the tree: without
   * it the kill loop below does the same, more slowly. */
  (void)cg1_leaf(cg, CG1_FREEZER);
  for (int i = 0; i < CG1_N && rc == 0; i++)
    if (cg->leaf[i] != NULL)
      rc = cg1_write_ll(cg->leaf[i], "cgroup.procs", (long long)pid);
  return rc;
}

/* SIGKILLs every process listed in leaf's cgroup.procs; returns how many
 * were listed. Dead processes leave the list as soon as they exit. */
static int cg1_kill_listed(const char *leaf) {
  char *path, line[32];
  FILE *fp;
  int n = 0;

  xasprintf(&path, "%s/cgroup.procs", leaf);
  fp = fopen(path, "re");
  free(path);
  while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
    kill((pid_t)strtol(line, NULL, 10), SIGKILL);
    n++;
  }
  if (fp != NULL)
    fclose(fp);
  return n;
}

static void cg1_sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};

  nanosleep(&ts, NULL);
}

/* Freezes the freezer leaf and waits (a bounded while) for it to be so:
 * a frozen tree cannot fork between our read of its list and our kill. */
static int cg1_freeze(const char *leaf) {
  char *path, state[32] = "";
  FILE *fp;

  if (sbx__cg_write(leaf, "freezer.state", "FROZEN") < 0)
    return 0;
  xasprintf(&path, "%s/freezer.state", leaf);
  for (int i = 0; i < 200 && strncmp(state, "FROZEN", 6) != 0; i++) {
    if ((fp = fopen(path, "re")) == NULL)
      break;
    if (fgets(state, sizeof(state), fp) == NULL)
      state[0] = '\0';
    fclose(fp);
    if (strncmp(state, "FROZEN", 6) != 0)
      cg1_sleep_ms(1);
  }
  free(path);
  return 1;
}

int sbx__cg1_kill(const struct sbx__cg1 *cg) {
  const char *leaf = NULL, *fz;
  int rounds = 0;

  if (cg == NULL)
    return 0;
  for (int i = 0; i < CG1_N && leaf == NULL; i++)
    leaf = cg->leaf[i];
  if (leaf == NULL)
    return 0;
  /* Frozen, every member gets its SIGKILL before any can fork again; the
   * kills land when the leaf thaws. */
  if ((fz = cg->leaf[CG1_FREEZER]) != NULL && cg1_freeze(fz)) {
    cg1_kill_listed(fz);
    sbx__cg_write(fz, "freezer.state", "THAWED");
  }
  while (cg1_kill_listed(leaf) > 0 && ++rounds < CG1_ROUNDS)
    cg1_sleep_ms(1);
  return rounds < CG1_ROUNDS ? 0 : -EBUSY;
}

void sbx__cg1_free(struct sbx__cg1 *cg) {
  if (cg == NULL)
    return;
  if (sbx__cg1_kill(cg) < 0)
    log_warn("%s: %s: processes survive SIGKILL", __func__, cg->name);
  for (int i = 0; i < CG1_N; i++) {
    /* An rmdir right after the last exit may still see it busy. */
    for (int t = 0; cg->leaf[i] != NULL && rmdir(cg->leaf[i]) < 0 &&
                    errno == EBUSY && t < 100;
         t++)
      cg1_sleep_ms(1);
    free(cg->leaf[i]);
  }
  free(cg);
}
