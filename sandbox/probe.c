/*
 * What this host can give the sandbox, found by trying rather than by
 * reading version numbers: a forked child makes a user namespace and a
 * mount namespace inside it (an AppArmor policy may allow the first and
 * strip its capabilities, which only the second reveals), another forked
 * child installs an allow-all seccomp filter, Landlock reports its ABI, and
 * a cgroup leaf is created and removed where the runtime would put runs,
 * in the v2 hierarchy and in each v1 one the fallback would use.
 * For each thing missing the probe writes the exact fix, from the sysctls
 * that explain it. `corral doctor` prints this; the plan uses it to refuse.
 */
#include "sbx-int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Runs fn in a forked child: 0 when it worked, else the errno it failed
 * with. The child may be left in a state (namespaces, filters) the caller
 * must not share. */
static int probe_in_child(int (*fn)(void)) {
  int status;
  pid_t pid = fork();

  if (pid == 0)
    _exit(fn() == 0 ? 0 : errno > 0 && errno < 256 ? errno : EIO);
  if (pid < 0)
    return errno;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static int probe_userns_child(void) {
  if (unshare(CLONE_NEWUSER) < 0 || unshare(CLONE_NEWNS) < 0)
    return -1;
  return 0;
}

static int probe_seccomp_child(void) {
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* The integer in a /proc file ("Seccomp:" lines too), or -1. */
static long probe_read_long(const char *path, const char *key) {
  char buf[256];
  FILE *fp = fopen(path, "re");
  long v = -1;

  while (fp != NULL && v < 0 && fgets(buf, sizeof(buf), fp) != NULL)
    if (strncmp(buf, key, strlen(key)) == 0)
      v = strtol(buf + strlen(key), NULL, 10);
  if (fp != NULL)
    fclose(fp);
  return v;
}

/* What can stop a user namespace, as the value that gives it away. */
static const struct probe_cause {
  const char *path, *key;
  long value;
  const char *why, *fix;
} probe_userns_causes[] = {
    {"/proc/sys/user/max_user_namespaces", "", 0,
     "user namespaces are off (user.max_user_namespaces=0)",
     "sysctl -w user.max_user_namespaces=15000"},
    {"/proc/sys/kernel/unprivileged_userns_clone", "", 0,
     "unprivileged user namespaces are off",
     "sysctl -w kernel.unprivileged_userns_clone=1"},
    {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "", 1,
     "AppArmor strips capabilities from new user namespaces",
     "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
    {"/proc/self/status", "Seccomp:", 2,
     "a seccomp filter on this process (a container or sandbox) forbids it",
     "run corral outside it, or let it allow unshare(CLONE_NEWUSER)"},
};

/* Why unshare(CLONE_NEWUSER) failed with err, and the fix. */
static void probe_userns_fix(char *out, size_t outlen, int err) {
  const char *why = "the kernel refuses user namespaces to this user";
  const char *fix = "a kernel with CONFIG_USER_NS=y and no LSM policy that "
                    "forbids unshare(CLONE_NEWUSER)";

  for (size_t i = 0; i < CRL_ARRAY_SIZE(probe_userns_causes); i++) {
    const struct probe_cause *c = &probe_userns_causes[i];

    if (probe_read_long(c->path, c->key) == c->value) {
      why = c->why;
      fix = c->fix;
      break;
    }
  }
  snprintf(out, outlen, "%s (%s); fix: %s", why, strerror(err), fix);
}

static const char *probe_cgroup_mount(void) {
  static const char *const cands[] = {"/sys/fs/cgroup",
                                      "/sys/fs/cgroup/unified"};
  struct statfs sf;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(cands); i++)
    if (statfs(cands[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
      return cands[i];
  return NULL;
}

/* mnt + our own v2 cgroup ("0::/a/b" in /proc/self/cgroup), or NULL. */
static char *probe_cgroup_self(const char *mnt) {
  char line[4096], *out = NULL;
  FILE *fp = fopen("/proc/self/cgroup", "re");

  if (fp == NULL)
    return NULL;
  while (out == NULL && fgets(line, sizeof(line), fp) != NULL)
    if (strncmp(line, "0::", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      xasprintf(&out, "%s%s", mnt, strcmp(line + 3, "/") == 0 ? "" : line + 3);
    }
  fclose(fp);
  return out;
}

/* 1 when a leaf can be made (and removed again) under dir. */
static int probe_cgroup_leaf(const char *dir) {
  char *leaf, *procs;
  int ok;

  xasprintf(&leaf, "%s/corral-probe-%ld", dir, (long)getpid());
  xasprintf(&procs, "%s/cgroup.procs", leaf);
  ok = mkdir(leaf, 0755) == 0;
  if (ok) {
    ok = access(procs, W_OK) == 0;
    rmdir(leaf);
  }
  free(procs);
  free(leaf);
  return ok;
}

static void probe_controllers(struct sbx_host *out, const char *dir) {
  char *path;
  FILE *fp;

  xasprintf(&path, "%s/cgroup.controllers", dir);
  if ((fp = fopen(path, "re")) != NULL) {
    if (fgets(out->controllers, sizeof(out->controllers), fp) == NULL)
      out->controllers[0] = '\0';
    out->controllers[strcspn(out->controllers, "\n")] = '\0';
    fclose(fp);
  }
  free(path);
}

/* 1 when the space-separated list has word. */
static int probe_listed(const char *list, const char *word) {
  size_t n = strlen(word);

  for (const char *s = list; (s = strstr(s, word)) != NULL; s += n)
    if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
      return 1;
  return 0;
}

static void probe_cgroup_fix(struct sbx_host *out, const char *dir) {
  if (!out->cgroup2)
    snprintf(out->cgroup_fix, sizeof(out->cgroup_fix),
             "no cgroup v2 hierarchy is mounted; fix: boot with "
             "systemd.unified_cgroup_hierarchy=1");
  else if (!out->cgroup_writable)
    snprintf(out->cgroup_fix, sizeof(out->cgroup_fix),
             "%s is not writable; fix: run corral under `systemd-run --user "
             "--scope -p Delegate=yes corral ...`",
             dir);
  else if (!probe_listed(out->controllers, "memory") ||
           !probe_listed(out->controllers, "pids") ||
           !probe_listed(out->controllers, "cpu"))
    snprintf(out->cgroup_fix, sizeof(out->cgroup_fix),
             "%s lacks memory, pids or cpu (they are bound to cgroup v1 "
             "here or not delegated); fix: boot with "
             "systemd.unified_cgroup_hierarchy=1 and run corral under "
             "`systemd-run --user --scope -p Delegate=yes corral ...`",
             dir);
}

/* Runs go in leaves under "<own cgroup>/corral" (runtime/cgroup.c), or
 * under our own cgroup when that child cannot be made. */
static void probe_cgroup(struct sbx_host *out) {
  const char *mnt = probe_cgroup_mount();
  char *self = mnt != NULL ? probe_cgroup_self(mnt) : NULL, *corral = NULL;
  const char *dir = self != NULL ? self : "/sys/fs/cgroup";

  out->cgroup2 = mnt != NULL;
  if (self != NULL) {
    xasprintf(&corral, "%s/corral", self);
    if (mkdir(corral, 0755) == 0 || errno == EEXIST)
      dir = corral;
    out->cgroup_writable = probe_cgroup_leaf(dir);
    probe_controllers(out, dir);
  }
  probe_cgroup_fix(out, dir);
  free(corral);
  free(self);
}

/* The v1 hierarchies where a run could get a leaf (cgroup1.c). */
static void probe_cgroup1(struct sbx_host *out) {
  static const char *const ctls[] = {"pids", "memory", "cpu", "freezer"};
  size_t len = 0;

  out->cgroup1[0] = '\0';
  for (size_t i = 0; i < CRL_ARRAY_SIZE(ctls); i++)
    if (sbx__cg1_usable(ctls[i]))
      len += (size_t)snprintf(out->cgroup1 + len, sizeof(out->cgroup1) - len,
                              "%s%s", len > 0 ? " " : "", ctls[i]);
}

const char *sbx_host_limit_mechanism(const struct sbx_host *h,
                                     const char *ctl) {
  if (h->cgroup_writable && probe_listed(h->controllers, ctl))
    return "cgroup v2";
  if (probe_listed(h->cgroup1, ctl))
    return "cgroup v1";
  return strcmp(ctl, "pids") == 0 ? "RLIMIT_NPROC" : "none";
}

int sbx_simulate_missing(const char *feature) {
  const char *v = getenv("CORRAL_SANDBOX_SIMULATE_MISSING");
  size_t n = strlen(feature);

  for (const char *p = v; p != NULL && *p != '\0'; p += strcspn(p, ",")) {
    p += *p == ',';
    if (strncmp(p, feature, n) == 0 && (p[n] == ',' || p[n] == '\0'))
      return 1;
  }
  return 0;
}

/* Applies CORRAL_SANDBOX_SIMULATE_MISSING to what the probes found. */
static void probe_simulate(struct sbx_host *out) {
  if (sbx_simulate_missing("userns") && out->userns) {
    out->userns = 0;
    snprintf(out->userns_fix, sizeof(out->userns_fix),
             "user namespaces are disabled (simulated); fix: sysctl -w "
             "kernel.unprivileged_userns_clone=1");
  }
  if (sbx_simulate_missing("landlock") && out->landlock_abi > 0) {
    out->landlock_abi = 0;
    sbx__landlock_fix(out->landlock_fix, sizeof(out->landlock_fix));
  }
  if (sbx_simulate_missing("seccomp"))
    out->seccomp = 0;
  if (sbx_simulate_missing("cgroup")) {
    out->cgroup2 = 0;
    out->cgroup_writable = 0;
    out->controllers[0] = '\0';
    snprintf(out->cgroup_fix, sizeof(out->cgroup_fix),
             "no cgroup v2 hierarchy (simulated); fix: mount cgroup2 and "
             "run corral under systemd-run --user --scope -p Delegate=yes");
  }
}

int sbx_host_probe(struct sbx_host *out) {
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = probe_in_child(probe_userns_child)) != 0)
    probe_userns_fix(out->userns_fix, sizeof(out->userns_fix), rc);
  out->userns = rc == 0;
  if ((out->landlock_abi = sbx__landlock_abi()) == 0)
    sbx__landlock_fix(out->landlock_fix, sizeof(out->landlock_fix));
  out->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
                 probe_in_child(probe_seccomp_child) == 0;
  probe_cgroup(out);
  probe_cgroup1(out);
  probe_simulate(out);
  return 0;
}
