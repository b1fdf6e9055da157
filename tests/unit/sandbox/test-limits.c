/*
 * Resource limits: rlimits in a forked child (no core files, plenty of
 * fds, the task cap), cgroup limits written into a fake cgroup tree (plain
 * files, so every branch runs on any host) and into a real leaf when the
 * host delegates one, and refusals that name the fix when an explicit limit
 * cannot hold.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx-int.h"

#define GIB (1024LL * 1024 * 1024)

static char base[] = "/tmp/corral-limits-XXXXXX";
static char *parent, *leaf;

static void put(const char *dir, const char *name, const char *text) {
  char *path;
  FILE *fp;

  xasprintf(&path, "%s/%s", dir, name);
  cr_assert_not_null(fp = fopen(path, "w"));
  fputs(text, fp);
  fclose(fp);
  free(path);
}

static char *get(const char *dir, const char *name) {
  static char buf[256];
  char *path;
  FILE *fp;

  xasprintf(&path, "%s/%s", dir, name);
  cr_assert_not_null(fp = fopen(path, "r"), "%s", path);
  buf[fread(buf, 1, sizeof(buf) - 1, fp)] = '\0';
  fclose(fp);
  free(path);
  return buf;
}

/* A fake parent offering ctls, with a leaf that has the limit files. */
static void fake_tree(const char *ctls) {
  put(parent, "cgroup.controllers", ctls);
  put(parent, "cgroup.subtree_control", "");
  put(leaf, "cgroup.controllers", "");
  put(leaf, "memory.max", "max\n");
  put(leaf, "pids.max", "max\n");
  put(leaf, "cpu.max", "max 100000\n");
}

static void setup(void) {
  cr_assert_not_null(mkdtemp(base));
  xasprintf(&parent, "%s/corral", base);
  xasprintf(&leaf, "%s/run-1", parent);
  cr_assert_eq(mkdir(parent, 0755), 0);
  cr_assert_eq(mkdir(leaf, 0755), 0);
}

static void teardown(void) {
  char *cmd;

  xasprintf(&cmd, "rm -rf '%s'", base);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
  free(parent);
  free(leaf);
}

TestSuite(sbx_limits, .init = setup, .fini = teardown, .timeout = 30);

/* Sets the rlimits of p in a forked child, which reports them back. */
static void child_rlimits(const struct sbx_profile *p, struct rlimit out[3]) {
  static const int res[3] = {RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_NPROC};
  int pfd[2], status;
  pid_t pid;

  cr_assert_eq(pipe(pfd), 0);
  if ((pid = fork()) == 0) {
    if (sbx__limits_rlimits(p) < 0)
      _exit(1);
    for (int i = 0; i < 3; i++)
      getrlimit(res[i], &out[i]);
    _exit(write(pfd[1], out, 3 * sizeof(*out)) == 3 * sizeof(*out) ? 0 : 1);
  }
  close(pfd[1]);
  cr_assert_eq(read(pfd[0], out, 3 * sizeof(*out)), 3 * sizeof(*out));
  close(pfd[0]);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(sbx_limits, rlimit_defaults_are_generous) {
  struct sbx_profile p = {0};
  struct rlimit lim[3], nofile, nproc;

  getrlimit(RLIMIT_NOFILE, &nofile);
  getrlimit(RLIMIT_NPROC, &nproc);
  child_rlimits(&p, lim);
  cr_assert_eq(lim[0].rlim_cur, 0);
  cr_assert_eq(lim[0].rlim_max, 0);
  cr_assert_geq(lim[1].rlim_cur,
                nofile.rlim_max < 4096 ? nofile.rlim_max : 4096);
  cr_assert_geq(lim[1].rlim_cur, nofile.rlim_cur, "never lowered");
  cr_assert_eq(lim[2].rlim_cur, nproc.rlim_max < 4096 ? nproc.rlim_max : 4096);
}

Test(sbx_limits, rlimit_nproc_follows_the_profile) {
  struct sbx_profile p = {.pids = 300};
  struct rlimit lim[3];

  child_rlimits(&p, lim);
  cr_assert_eq(lim[2].rlim_cur, 300);
  cr_assert_eq(lim[2].rlim_max, 300);
}

Test(sbx_limits, no_leaf_is_fine_for_defaults_and_pids) {
  struct sbx_profile p = {0}, pids = {.pids = 100};

  cr_assert_eq(sbx__limits_cgroup(&p, NULL, NULL, NULL), 0);
  cr_assert_eq(sbx__limits_cgroup(&pids, NULL, NULL, NULL), 0,
               "rlimit fallback");
}

Test(sbx_limits, no_leaf_refuses_an_explicit_memory_or_cpu_limit) {
  struct sbx_profile mem = {.memory = GIB}, cpu = {.cpu_percent = 50};
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(sbx__limits_cgroup(&mem, NULL, NULL, &err), CRL_ESANDBOX);
  cr_assert_not_null(strstr(err.msg, "memory"), "%s", err.msg);
  cr_assert_not_null(strstr(err.msg, "systemd-run --user --scope -p "
                                     "Delegate=yes"));
  cr_assert_eq(sbx__limits_cgroup(&cpu, NULL, NULL, &err), CRL_ESANDBOX);
  cr_assert_not_null(strstr(err.msg, "cpu"), "%s", err.msg);
}

Test(sbx_limits, writes_explicit_limits_into_the_leaf) {
  struct sbx_profile p = {.memory = GIB, .pids = 100, .cpu_percent = 150};

  fake_tree("cpuset cpu io memory pids\n");
  cr_assert_eq(sbx__limits_cgroup(&p, leaf, NULL, NULL), 0);
  cr_assert_str_eq(get(leaf, "memory.max"), "1073741824");
  cr_assert_str_eq(get(leaf, "pids.max"), "100");
  cr_assert_str_eq(get(leaf, "cpu.max"), "150000 100000");
  cr_assert_str_eq(get(parent, "cgroup.subtree_control"), "+cpu",
                   "controllers enabled in the parent");
}

Test(sbx_limits, writes_defaults_and_leaves_cpu_alone) {
  struct sbx_profile p = {0};

  fake_tree("memory pids cpu");
  cr_assert_eq(sbx__limits_cgroup(&p, leaf, NULL, NULL), 0);
  cr_assert_geq(strtoll(get(leaf, "memory.max"), NULL, 10), 4 * GIB);
  cr_assert_str_eq(get(leaf, "pids.max"), "4096");
  cr_assert_str_eq(get(leaf, "cpu.max"), "max 100000\n");
}

Test(sbx_limits, missing_controller_skips_defaults_refuses_explicit) {
  struct sbx_profile def = {0}, mem = {.memory = GIB}, pids = {.pids = 10};
  struct crl_err err = CRL_ERR_INIT;

  fake_tree("cpuset hugetlb");
  cr_assert_eq(sbx__limits_cgroup(&def, leaf, NULL, NULL), 0);
  cr_assert_str_eq(get(leaf, "memory.max"), "max\n");
  cr_assert_eq(sbx__limits_cgroup(&pids, leaf, NULL, NULL), 0,
               "rlimit fallback");
  cr_assert_eq(sbx__limits_cgroup(&mem, leaf, NULL, &err), CRL_ESANDBOX);
  cr_assert_not_null(strstr(err.msg, leaf), "%s", err.msg);
  cr_assert_not_null(strstr(err.msg, "Delegate=yes"));
}

/* The real thing, where the host delegates a cgroup v2 subtree to us. Its
 * own suite, without the fake tree: a skipped test skips .fini too. */
Test(sbx_limits_real, leaf_when_delegated, .timeout = 30) {
  struct sbx_host h;
  struct sbx_profile def = {0}, mem = {.memory = GIB};
  struct crl_err err = CRL_ERR_INIT;
  char *dir = NULL, *rleaf;
  FILE *fp = fopen("/proc/self/cgroup", "r");
  char line[4096];

  sbx_host_probe(&h);
  if (!h.cgroup_writable || fp == NULL)
    cr_skip_test("no writable cgroup v2 here");
  while (dir == NULL && fgets(line, sizeof(line), fp) != NULL)
    if (strncmp(line, "0::", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      xasprintf(&dir, "%s%s/corral",
                access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0
                    ? "/sys/fs/cgroup"
                    : "/sys/fs/cgroup/unified",
                strcmp(line + 3, "/") == 0 ? "" : line + 3);
    }
  fclose(fp);
  cr_assert_not_null(dir);
  xasprintf(&rleaf, "%s/limits-test-%ld", dir, (long)getpid());
  cr_assert_eq(mkdir(rleaf, 0755), 0, "%s: %s", rleaf, strerror(errno));
  cr_assert_eq(sbx__limits_cgroup(&def, rleaf, NULL, &err), 0, "%s", err.msg);
  if (strstr(h.controllers, "memory") != NULL) {
    cr_assert_eq(sbx__limits_cgroup(&mem, rleaf, NULL, &err), 0, "%s", err.msg);
    cr_assert_str_eq(get(rleaf, "memory.max"), "1073741824\n");
  } else {
    cr_assert_eq(sbx__limits_cgroup(&mem, rleaf, NULL, &err), CRL_ESANDBOX);
  }
  rmdir(rleaf);
  free(rleaf);
  free(dir);
}

/* The cgroup v1 fallback, where this caller may write the v1 pids and
 * memory hierarchies (root on a hybrid host): the limits land in the run's
 * own leaves, a child moved in is killed with them, and they go away. */
Test(sbx_limits_real, v1_fallback_leaves, .timeout = 30) {
  struct sbx_profile p = {.memory = GIB, .pids = 100};
  struct crl_err err = CRL_ERR_INIT;
  struct sbx__cg1 *cg;
  char *pids, *mem, *procs;
  pid_t kid;
  int st;

  if (!sbx__cg1_usable("pids") || !sbx__cg1_usable("memory"))
    cr_skip_test("no writable cgroup v1 pids and memory here");
  cg = sbx__cg1_new();
  cr_assert_eq(sbx__limits_cgroup(&p, NULL, cg, &err), 0, "%s", err.msg);
  pids = xstrdup(sbx__cg1_describe(cg, "pids"));
  mem = xstrdup(sbx__cg1_describe(cg, "memory"));
  cr_assert_str_eq(get(pids, "pids.max"), "100\n");
  cr_assert_str_eq(get(mem, "memory.limit_in_bytes"), "1073741824\n");
  if ((kid = fork()) == 0) {
    pause();
    _exit(0);
  }
  cr_assert_eq(sbx__cg1_attach(cg, kid), 0);
  xasprintf(&procs, "%ld\n", (long)kid);
  cr_assert_str_eq(get(pids, "cgroup.procs"), procs);
  cr_assert_eq(sbx__cg1_kill(cg), 0);
  cr_assert_eq(waitpid(kid, &st, 0), kid);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  sbx__cg1_free(cg);
  cr_assert_neq(access(pids, F_OK), 0, "%s removed", pids);
  cr_assert_neq(access(mem, F_OK), 0, "%s removed", mem);
  free(procs);
  free(pids);
  free(mem);
}

Test(sbx_limits, simulated_missing_v1_refuses_explicit_memory) {
  struct sbx_profile mem = {.memory = GIB};
  struct crl_err err = CRL_ERR_INIT;
  struct sbx__cg1 *cg = sbx__cg1_new();

  setenv("CORRAL_SANDBOX_SIMULATE_MISSING", "cgroup1", 1);
  cr_assert_eq(sbx__limits_cgroup(&mem, NULL, cg, &err), CRL_ESANDBOX);
  cr_assert_not_null(strstr(err.msg, "cgroup v1"), "%s", err.msg);
  cr_assert_null(sbx__cg1_describe(cg, "memory"));
  sbx__cg1_free(cg);
  unsetenv("CORRAL_SANDBOX_SIMULATE_MISSING");
}
