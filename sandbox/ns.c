/*
 * Namespaces, from the parent's side. The sandbox child is cloned into new
 * user, mount, pid, ipc, uts and cgroup namespaces (and a network one unless
 * the profile shares the host's), fork-like, without a new stack, so the
 * sanitizers and libc see an ordinary child. The parent then writes the
 * child's uid and gid maps: the caller's ids map to themselves, so a root
 * caller is root inside and anyone else keeps their uid; an unprivileged
 * caller must first deny setgroups. The child waits on a pipe until the
 * maps are written. When the host forbids user namespaces, the refusal names
 * the sysctl (or AppArmor setting) to change: corral never runs weaker.
 */
#include "sbx-int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NS_FLAGS                                                              \
  (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | \
   CLONE_NEWCGROUP)

/* A sysctl that, at a given value, keeps user namespaces from a caller. */
struct ns_gate {
  const char *path;
  long bad;
  int unprivileged_only;
  const char *reason;
  const char *fix;
};

static const struct ns_gate ns_gates[] = {
    {"/proc/sys/user/max_user_namespaces", 0, 0,
     "user namespaces are disabled (user.max_user_namespaces is 0)",
     "sysctl -w user.max_user_namespaces=15000"},
    {"/proc/sys/kernel/unprivileged_userns_clone", 0, 1,
     "unprivileged user namespaces are disabled "
     "(kernel.unprivileged_userns_clone is 0)",
     "sysctl -w kernel.unprivileged_userns_clone=1"},
    {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", 1, 1,
     "AppArmor restricts unprivileged user namespaces "
     "(kernel.apparmor_restrict_unprivileged_userns is 1)",
     "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an "
     "AppArmor profile for corral that allows 'userns,'"},
};

/* Reads the start of a small /proc file into buf; -errno. */
static int ns_read(const char *path, char *buf, size_t len) {
  ssize_t n;
  int fd;

  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -errno;
  n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0)
    return -errno;
  buf[n] = '\0';
  return 0;
}

/* An AppArmor profile (not "unconfined") may grant user namespaces even
 * where the sysctl restricts them for everyone else. */
static int ns_apparmor_confined(void) {
  char label[128];

  if (ns_read("/proc/self/attr/apparmor/current", label, sizeof(label)) < 0 &&
      ns_read("/proc/self/attr/current", label, sizeof(label)) < 0)
    return 0;
  return strncmp(label, "unconfined", 10) != 0;
}

/* The gate that stands in this caller's way, or NULL. */
static const struct ns_gate *ns_gate_closed(void) {
  char buf[32];

  for (size_t i = 0; i < CRL_ARRAY_SIZE(ns_gates); i++) {
    const struct ns_gate *g = &ns_gates[i];

    if (g->unprivileged_only && geteuid() == 0)
      continue;
    if (ns_read(g->path, buf, sizeof(buf)) < 0 ||
        strtol(buf, NULL, 10) != g->bad)
      continue;
    if (g->bad == 1 && ns_apparmor_confined())
      continue;
    return g;
  }
  return NULL;
}

int sbx__ns_check(struct crl_err *err) {
  const struct ns_gate *g = ns_gate_closed();

  if (g == NULL)
    return 0;
  return crl_err_set(err, CRL_ESANDBOX, "%s; fix: %s", g->reason, g->fix);
}

/* The fix for a failure no sysctl explains. */
static const char *ns_fix_generic(int code) {
  if (code == -ENOSPC || code == -EUSERS)
    return "raise the namespace limits (sysctl -w "
           "user.max_user_namespaces=15000)";
  if (code == -EINVAL || code == -ENOSYS)
    return "use a kernel with user, pid and network namespaces "
           "(CONFIG_USER_NS, CONFIG_PID_NS, CONFIG_NET_NS)";
  return "run corral where it may create user namespaces (in a container: "
         "a seccomp profile that allows them, or --privileged)";
}

int sbx__ns_refuse(struct crl_err *err, int code, const char *what) {
  const struct ns_gate *g = ns_gate_closed();

  return crl_err_set(err, CRL_ESANDBOX,
                     "cannot create the sandbox's namespaces (%s: %s); fix: %s",
                     what, strerror(-code),
                     g != NULL ? g->fix : ns_fix_generic(code));
}

/* Old kernels (or container seccomp profiles) lack clone3: the parent then
 * moves the child into the cgroup itself, before it runs anything. */
static pid_t ns_clone_old(uint64_t flags, int cgfd) {
  char pid[32];
  long rc;
  int fd;

  rc = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL,
               NULL);
  if (rc <= 0 || cgfd < 0)
    return rc < 0 ? -errno : 0;
  snprintf(pid, sizeof(pid), "%ld", rc);
  fd = openat(cgfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (write(fd, pid, strlen(pid)) < 0)
      log_warn("%s: cannot join the run's cgroup: %s", __func__,
               strerror(errno));
    close(fd);
  }
  return (pid_t)rc;
}

pid_t sbx__ns_clone(const struct sbx_plan *plan, int cgfd) {
  uint64_t flags = NS_FLAGS;
  struct clone_args ca;
  long rc;

  if (plan->profile.net != SBX_NET_HOST)
    flags |= CLONE_NEWNET;
  memset(&ca, 0, sizeof(ca));
  ca.flags = flags | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0);
  ca.exit_signal = SIGCHLD;
  ca.cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0;
  rc = syscall(SYS_clone3, &ca, sizeof(ca));
  if (rc < 0 && errno == ENOSYS)
    return ns_clone_old(flags, cgfd);
  return rc < 0 ? -errno : (pid_t)rc;
}

static int ns_write(pid_t pid, const char *file, const char *text) {
  char path[64];
  int fd, rc = 0;

  snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
  if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
    return -errno;
  if (write(fd, text, strlen(text)) < 0)
    rc = -errno;
  close(fd);
  return rc;
}

int sbx__ns_map(pid_t pid, struct crl_err *err) {
  unsigned long uid = geteuid(), gid = getegid();
  char line[64];
  int rc;

  assert(pid > 0);
  /* Without CAP_SETGID outside, the kernel only takes a gid map once
   * setgroups is denied, so a member cannot drop a group that denies it
   * access. */
  if (uid != 0 && (rc = ns_write(pid, "setgroups", "deny")) < 0 &&
      rc != -ENOENT)
    return sbx__ns_refuse(err, rc, "write setgroups");
  snprintf(line, sizeof(line), "%lu %lu 1\n", uid, uid);
  if ((rc = ns_write(pid, "uid_map", line)) < 0)
    return sbx__ns_refuse(err, rc, "write uid_map");
  snprintf(line, sizeof(line), "%lu %lu 1\n", gid, gid);
  if ((rc = ns_write(pid, "gid_map", line)) < 0)
    return sbx__ns_refuse(err, rc, "write gid_map");
  return 0;
}
