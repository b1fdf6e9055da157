/*
 * sbx_spawn: one command started inside a plan's sandbox. The parent clones
 * the child into new namespaces, writes its uid/gid maps, lets it go, and
 * reads its verdict from a close-on-exec error pipe: end of file once the
 * command reached execve, or {step, errno} from whichever step failed first
 * (libuv's uv__write_errno), which becomes a message naming the step. The
 * child, pid 1 of its pid namespace, applies the plan in the commented order
 * below and becomes the sandbox's init (init.c), which vforks the command;
 * the command takes its last restrictions, seccomp last, and execs. The
 * children never allocate: the caller may have threads, and one of them may
 * have held malloc's lock when we cloned. The "none" profile forks and
 * execs with no sandbox at all.
 */
#include "sbx-int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct spawn_ctx {
  const struct sbx_plan *plan;
  char *const *argv;
  char *const *envp;
  int sync[2]; /* a socketpair: the parent's "maps written" byte */
  int errp[2]; /* the error pipe, close-on-exec */
  char *title; /* our argv strings, which init overwrites (argv is then a
                  copy), or NULL */
  size_t title_len;
};

static const char *const spawn_steps[] = {
    [SBX__STEP_MAPS] = "wait for the uid/gid maps",
    [SBX__STEP_PDEATHSIG] = "prctl PR_SET_PDEATHSIG",
    [SBX__STEP_PRIVATE] = "make the mounts private",
    [SBX__STEP_BASE] = "mount the base tmpfs",
    [SBX__STEP_ROOT_RO] = "remount / read-only",
    [SBX__STEP_PIVOT] = "pivot_root",
    [SBX__STEP_DETACH] = "detach the host's root",
    [SBX__STEP_LO] = "bring lo up",
    [SBX__STEP_HOSTNAME] = "sethostname",
    [SBX__STEP_GATEWAY] = "pass the gateway's listening socket out",
    [SBX__STEP_RLIMITS] = "setrlimit",
    [SBX__STEP_CLOSE_FDS] = "close_range",
    [SBX__STEP_CHDIR] = "chdir",
    [SBX__STEP_NO_NEW_PRIVS] = "prctl PR_SET_NO_NEW_PRIVS",
    [SBX__STEP_LANDLOCK] = "landlock",
    [SBX__STEP_FORK] = "fork the command",
    [SBX__STEP_SETSID] = "setsid",
    [SBX__STEP_CAPS] = "drop capabilities",
    [SBX__STEP_KEEP_FDS] = "keep fds",
    [SBX__STEP_SECCOMP] = "seccomp",
    [SBX__STEP_EXEC] = "execve",
};

void sbx__child_fail(int errfd, int step, int err) {
  struct sbx__errmsg m = {step, err};

  if (write(errfd, &m, sizeof(m)) < 0)
    _exit(127);
  _exit(127);
}

void sbx__step_describe(char *out, size_t outlen, const struct sbx_plan *plan,
                        int step, const char *argv0) {
  static const char *const subs[] = {"mkdir", "mount", "remount"};
  size_t i = (size_t)(step - SBX__STEP_OP) / SBX__SUB_N;
  int sub = (step - SBX__STEP_OP) % SBX__SUB_N;

  if (step >= SBX__STEP_OP && i < plan->nops)
    snprintf(out, outlen, "%s %s",
             plan->ops[i].kind == SBX__OP_SYMLINK && sub == SBX__SUB_MOUNT
                 ? "symlink"
                 : subs[sub],
             plan->ops[i].path);
  else if (step == SBX__STEP_CHDIR)
    snprintf(out, outlen, "chdir %s", plan->workdir);
  else if (step == SBX__STEP_EXEC)
    snprintf(out, outlen, "execve %s", argv0);
  else if (step > 0 && step < (int)CRL_ARRAY_SIZE(spawn_steps) &&
           spawn_steps[step] != NULL)
    snprintf(out, outlen, "%s", spawn_steps[step]);
  else
    snprintf(out, outlen, "sandbox step %d", step);
}

/* Default dispositions for every signal and an empty mask. The raw syscall
 * also resets glibc's internal signals, which signal() refuses to touch. */
void sbx_reset_signals(void) {
  /* The kernel's layout of struct sigaction, not glibc's. */
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
  } sa = {SIG_DFL, 0, NULL, 0};
  sigset_t none;

  for (int sig = 1; sig < _NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask));
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Inserts fd into the sorted array keep of *n fds, unless it is there. */
static void spawn_keep_insert(int *keep, size_t *n, int fd) {
  size_t i = *n;

  if (fd < 0)
    return;
  for (size_t j = 0; j < *n; j++)
    if (keep[j] == fd)
      return;
  for (; i > 0 && keep[i - 1] > fd; i--)
    keep[i] = keep[i - 1];
  keep[i] = fd;
  (*n)++;
}

/* Closes every fd above 2 but the kept ones, errfd and init's status fd
 * (both close-on-exec). */
static int spawn_close_fds(const struct sbx_plan *plan, int errfd) {
  unsigned int lo = 3;
  int keep[SBX__KEEP_FDS_MAX + 2];
  size_t n = 0, i;

  for (i = 0; i < plan->nkeep_fds; i++)
    keep[n++] = plan->keep_fds[i];
  spawn_keep_insert(keep, &n, errfd);
  spawn_keep_insert(keep, &n, plan->status_fd);
  for (i = 0; i < n; i++) {
    if ((unsigned int)keep[i] > lo &&
        close_range(lo, (unsigned int)keep[i] - 1, 0) < 0)
      return -errno;
    lo = (unsigned int)keep[i] + 1;
  }
  return close_range(lo, ~0U, 0) < 0 ? -errno : 0;
}

/* The kept fds survive execve. */
static int spawn_keep_fds(const struct sbx_plan *plan) {
  for (size_t i = 0; i < plan->nkeep_fds; i++)
    if (fcntl(plan->keep_fds[i], F_SETFD, 0) < 0)
      return -errno;
  return 0;
}

/* execvpe with envp's PATH: execvp searches the PATH of environ. */
static void spawn_exec(const struct spawn_ctx *c) {
  environ = (char **)c->envp;
  execvp(c->argv[0], c->argv);
  sbx__child_fail(c->errp[1], SBX__STEP_EXEC, errno);
}

/* No capabilities in any set: a root caller stays uid 0 inside, and must
 * not keep CAP_SYS_ADMIN over the sandbox's own namespaces. */
static int command_drop_caps(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return -errno;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
      errno != EINVAL)
    return -errno;
  memset(d, 0, sizeof(d));
  return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* The command, forked by init: its own session (no controlling terminal
 * to push input into with TIOCSTI), default signals and an empty mask, no
 * capabilities, the kept fds, then seccomp last, right before execve. */
static void command_main(const void *arg) {
  const struct spawn_ctx *c = arg;
  int fd = c->errp[1], rc;

  if (c->plan->status_fd >= 0)
    close(c->plan->status_fd);
  if (setsid() < 0)
    sbx__child_fail(fd, SBX__STEP_SETSID, errno);
  sbx_reset_signals();
  if ((rc = command_drop_caps()) < 0)
    sbx__child_fail(fd, SBX__STEP_CAPS, -rc);
  if ((rc = spawn_keep_fds(c->plan)) < 0)
    sbx__child_fail(fd, SBX__STEP_KEEP_FDS, -rc);
  if ((rc = sbx__seccomp_install(&c->plan->bpf)) < 0)
    sbx__child_fail(fd, SBX__STEP_SECCOMP, -rc);
  spawn_exec(c);
}

/* Steps 1-2: clone made us pid 1 of new namespaces; we die with the parent,
 * and go on once it has written our uid/gid maps. */
static int child_identity(const struct spawn_ctx *c, int *step) {
  ssize_t n;
  char b;

  *step = SBX__STEP_PDEATHSIG;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    return -errno;
  *step = SBX__STEP_MAPS;
  while ((n = read(c->sync[0], &b, 1)) < 0 && errno == EINTR)
    ;
  if (n != 1)
    return n < 0 ? -errno : -EPIPE;
  close(c->sync[0]);
  return 0;
}

/* Steps 4-5: lo up in our own network namespace, and our own hostname. */
static int child_host(const struct spawn_ctx *c, int *step) {
  int rc;

  *step = SBX__STEP_LO;
  if (c->plan->profile.net != SBX_NET_HOST && (rc = sbx__net_lo_up()) < 0)
    return rc;
  *step = SBX__STEP_HOSTNAME;
  if (sethostname("corral", strlen("corral")) < 0)
    return -errno;
  *step = SBX__STEP_GATEWAY;
  if (c->plan->gw_fd >= 0 && c->plan->profile.net != SBX_NET_HOST)
    return sbx__net_gw_send(c->plan->gw_fd, c->plan->gw_port);
  return 0;
}

/* Steps 6-7: resource limits, and no fd of the caller's but those kept. */
static int child_limits(const struct spawn_ctx *c, int *step) {
  int rc;

  *step = SBX__STEP_RLIMITS;
  if ((rc = sbx__limits_rlimits(&c->plan->profile)) < 0)
    return rc;
  *step = SBX__STEP_CLOSE_FDS;
  return spawn_close_fds(c->plan, c->errp[1]);
}

/* Steps 8-10: the workdir, no_new_privs (which Landlock and seccomp need),
 * then Landlock, which init and the command share. */
static int child_confine(const struct spawn_ctx *c, int *step) {
  *step = SBX__STEP_CHDIR;
  if (chdir(c->plan->workdir) < 0)
    return -errno;
  *step = SBX__STEP_NO_NEW_PRIVS;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return -errno;
  *step = SBX__STEP_LANDLOCK;
  return sbx__landlock_apply(&c->plan->landlock);
}

/* The sandbox child, in order. Never returns. */
__attribute__((noreturn)) static void spawn_child(const struct spawn_ctx *c) {
  int step = 0, rc;

  close(c->sync[1]);
  close(c->errp[0]);
  if ((rc = child_identity(c, &step)) < 0 ||         /* 1-2 */
      (rc = sbx__mount_apply(c->plan, &step)) < 0 || /* 3 */
      (rc = child_host(c, &step)) < 0 ||             /* 4-5 */
      (rc = child_limits(c, &step)) < 0 ||           /* 6-7 */
      (rc = child_confine(c, &step)) < 0)            /* 8-10 */
    sbx__child_fail(c->errp[1], step, -rc);
  sbx__init_run(&(struct sbx__init){command_main, c, c->errp[1], /* 11 */
                                    c->plan->status_fd, c->title,
                                    c->title_len});
}

/* The child's verdict: end of file once the command reached execve. */
static int spawn_verdict(const struct spawn_ctx *c, struct crl_err *err) {
  char what[PATH_MAX + 64];
  struct sbx__errmsg m;
  ssize_t n;

  while ((n = read(c->errp[0], &m, sizeof(m))) < 0 && errno == EINTR)
    ;
  if (n == 0)
    return 0;
  if (n != (ssize_t)sizeof(m) || m.err <= 0)
    return crl_err_set(err, CRL_EINTERNAL, "sandbox child: bad error report");
  sbx__step_describe(what, sizeof(what), c->plan, m.step, c->argv[0]);
  return crl_err_set(err, -m.err, "%s: %s", what, strerror(m.err));
}

static void spawn_close(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void spawn_close_all(struct spawn_ctx *c) {
  for (int i = 0; i < 2; i++) {
    spawn_close(&c->sync[i]);
    spawn_close(&c->errp[i]);
  }
}

/* A child that failed before execve is killed and reaped here: the
 * caller never learns its pid. */
static void spawn_reap(pid_t pid) {
  if (pid <= 0)
    return;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

/* The run's cgroup gets its limits, and an fd for clone3. */
static int spawn_cgroup(const struct sbx_plan *plan, int *cgfd,
                        struct crl_err *err) {
  int rc;

  /* Without a leaf this still refuses a profile whose explicit limits would
   * otherwise go unenforced (fail closed). */
  rc = sbx__limits_cgroup(&plan->profile, plan->cgroup, plan->cg1, err);
  if (rc < 0 || plan->cgroup == NULL)
    return rc;
  if ((*cgfd = open(plan->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return crl_err_set(err, -errno, "cgroup %s: %s", plan->cgroup,
                       strerror(errno));
  return 0;
}

/* Releases the child once its maps are written and it is in the run's
 * cgroup v1 leaves, if any: it waits for this byte before anything else,
 * so init and the command are born inside. A socket, so a child that died
 * already costs an EPIPE, not a SIGPIPE. */
static int spawn_release(struct spawn_ctx *c, pid_t pid, struct crl_err *err) {
  int rc;

  if ((rc = sbx__ns_map(pid, err)) < 0)
    return rc;
  /* Fail closed: a limit written on a leaf the child is not in holds
   * nothing. */
  if ((rc = sbx__cg1_attach(c->plan->cg1, pid)) < 0)
    return crl_err_set(err, rc,
                       "move the sandbox into its cgroup v1 "
                       "leaves: %s",
                       strerror(-rc));
  if (send(c->sync[1], "1", 1, MSG_NOSIGNAL) != 1)
    return crl_err_set(err, -errno, "release the sandbox child: %s",
                       strerror(errno));
  spawn_close(&c->sync[1]);
  return 0;
}

/* Where our argv strings lie (fields 48 and 49 of /proc/self/stat), for
 * init to write over; left unset when that cannot be read or does not look
 * like argv: above our stack frame, at most 1 MiB, ending in a NUL. */
static void spawn_title(struct spawn_ctx *c) {
  char buf[1024], *p;
  unsigned long lo, hi;
  ssize_t n;
  int fd, i;

  if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) < 0)
    return;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0 || (buf[n] = '\0', p = strrchr(buf, ')')) == NULL)
    return;
  /* p is at the ')' that ends field 2; each space starts the next field. */
  for (i = 2; i < 48 && p != NULL; i++)
    p = strchr(p + 1, ' ');
  if (p != NULL && sscanf(p, " %lu %lu", &lo, &hi) == 2 && hi > lo &&
      lo > (unsigned long)buf && hi - lo <= (1UL << 20) &&
      ((char *)hi)[-1] == '\0') {
    c->title = (char *)lo;
    c->title_len = hi - lo;
  }
}

/* A heap copy of argv in one block, pointers then strings, so that the
 * command's arguments do not live in our argv strings, which init writes
 * over before it starts the command. */
static char **spawn_argv_dup(char *const *argv) {
  size_t n = 0, size = 0;
  char **v, *s;

  for (; argv[n] != NULL; n++)
    size += strlen(argv[n]) + 1;
  v = xmalloc((n + 1) * sizeof(*v) + size);
  s = (char *)(v + n + 1);
  for (size_t i = 0; i < n; i++) {
    v[i] = s;
    s = stpcpy(s, argv[i]) + 1;
  }
  v[n] = NULL;
  return v;
}

static int spawn_sandboxed(pid_t *out, struct spawn_ctx *c,
                           struct crl_err *err) {
  char **argv = NULL;
  pid_t pid = -1, r;
  int cgfd = -1, rc;

  spawn_title(c);
  if (c->title != NULL)
    c->argv = argv = spawn_argv_dup(c->argv);
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->sync) < 0 ||
      pipe2(c->errp, O_CLOEXEC) < 0) {
    rc = crl_err_set(err, -errno, "pipe: %s", strerror(errno));
    goto out;
  }
  if ((rc = spawn_cgroup(c->plan, &cgfd, err)) < 0)
    goto out;
  if ((r = sbx__ns_clone(c->plan, cgfd)) < 0) {
    rc = sbx__ns_refuse(err, r, "clone");
    goto out;
  }
  if (r == 0)
    spawn_child(c);
  pid = r;
  spawn_close(&c->sync[0]);
  spawn_close(&c->errp[1]);
  if ((rc = spawn_release(c, pid, err)) < 0 || (rc = spawn_verdict(c, err)) < 0)
    goto out;
  *out = pid;
  pid = -1;
out:
  spawn_reap(pid);
  spawn_close(&cgfd);
  spawn_close_all(c);
  free(argv);
  return rc;
}

/* The "none" profile: a plain child in the workdir, no sandbox. */
__attribute__((noreturn)) static void plain_child(const struct spawn_ctx *c) {
  int fd = c->errp[1], rc;

  close(c->errp[0]);
  sbx_reset_signals();
  if (chdir(c->plan->workdir) < 0)
    sbx__child_fail(fd, SBX__STEP_CHDIR, errno);
  if ((rc = spawn_close_fds(c->plan, fd)) < 0)
    sbx__child_fail(fd, SBX__STEP_CLOSE_FDS, -rc);
  /* No init here: the caller waits for the command itself. */
  if (c->plan->status_fd >= 0)
    close(c->plan->status_fd);
  if ((rc = spawn_keep_fds(c->plan)) < 0)
    sbx__child_fail(fd, SBX__STEP_KEEP_FDS, -rc);
  spawn_exec(c);
  _exit(127);
}

static int spawn_plain(pid_t *out, struct spawn_ctx *c, struct crl_err *err) {
  pid_t pid = -1;
  int rc;

  if (pipe2(c->errp, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
    rc = crl_err_set(err, -errno, "fork: %s", strerror(errno));
    goto out;
  }
  if (pid == 0)
    plain_child(c);
  spawn_close(&c->errp[1]);
  if ((rc = spawn_verdict(c, err)) < 0)
    goto out;
  *out = pid;
  pid = -1;
out:
  spawn_reap(pid);
  spawn_close_all(c);
  return rc;
}

int sbx_spawn(pid_t *out, const struct sbx_plan *plan, char *const argv[],
              char *const envp[], struct crl_err *err) {
  struct spawn_ctx c = {plan, argv, envp, {-1, -1}, {-1, -1}, NULL, 0};

  assert(out != NULL && plan != NULL && argv != NULL && argv[0] != NULL);
  assert(envp != NULL);
  *out = -1;
  if (!plan->profile.enabled)
    return spawn_plain(out, &c, err);
  return spawn_sandboxed(out, &c, err);
}
