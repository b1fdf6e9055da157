/*
 * corral-shim: one tiny supervisor per run, outside the sandbox, in its own
 * session, so that the engine can die or restart without killing an agent or
 * losing a byte of its output (DESIGN.md §3; s6-supervise is the model).
 *
 * It locks RUNDIR/lock for its whole life (a run never runs twice: a second
 * shim, or a shim for a run that already has a status, refuses), becomes a
 * child subreaper so orphaned descendants come back to it, starts the agent
 * in a new session with an empty signal mask, stdin on /dev/null and
 * stdout+stderr appended to RUNDIR/output.log, and waits. When the agent
 * exits, whatever it left behind is killed; on SIGTERM the whole tree gets
 * SIGTERM (and SIGCONT, so a stopped tree can act on it), then SIGKILL after
 * the grace period; SIGUSR1 kills the tree at once. Finally it writes
 * RUNDIR/status atomically (temp file + rename) and exits 0.
 *
 * With --gw-fd it also holds the run's LLM gateway port, s6-fdholder
 * style: FD is a socketpair end on which the engine queues the listening
 * socket (after the sandbox made it in its network namespace, or after
 * binding it itself). The shim never reads it and keeps it open until it
 * exits, so the listener outlives an engine, and a restarted engine takes
 * it back with pidfd_getfd(2) and a peeking recvmsg. The agent never gets
 * the fd: it is close-on-exec in the agent and closed by the sandbox.
 *
 * Exit codes: 0 status written; 75 run locked or already ran; 100 usage;
 * 111 system error before a status could be written. File statics are
 * acceptable here, as in s6: this program is a single small state machine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim-int.h"

#define SHIM_EX_OK 0
#define SHIM_EX_LOCKED 75
#define SHIM_EX_USAGE 100
#define SHIM_EX_SYS 111

enum shim_end { SHIM_EXITED, SHIM_SIGNALED, SHIM_SPAWN_ERROR };

static struct {
  const char *rundir;
  const char *cwd;
  const char *cgroup_parent;
  char cgroup[4096]; /* this run's cgroup v2 leaf, or "" */
  int cgroup_join;   /* clone3 could not place the agent: it joins itself */
  struct shim_sbx sbx;
  struct sbx_plan *plan; /* the sandboxed run's plan: its cgroup v1 leaves */
  char detail[1024];     /* why the agent could not start, for the status */
  long grace_ms;
  char **argv;
  int dirfd;
  pid_t agent;
  int agent_status;
  int status_fd; /* read end of the sandbox init's status pipe, or -1 */
  int spawn_errno;
  enum shim_end end;
  int stopping;
  int killed;
  long long started_ms;
  long long ended_ms;
} shim = {.grace_ms = 10000,
          .dirfd = -1,
          .agent = -1,
          .status_fd = -1,
          .sbx = {.gw_fd = -1}};

static void shim_die(int code, const char *what) {
  int err = errno, fd = -1;

  /* The engine gave us no stderr worth keeping: say why in the run dir. */
  if (shim.dirfd >= 0)
    fd = openat(shim.dirfd, "shim.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
  dprintf(fd >= 0 ? fd : 2, "corral-shim: fatal: %s: %s\n", what,
          strerror(err));
  exit(code);
}

static long long shim_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void shim_usage(FILE *fp) {
  fputs("usage: corral-shim [--grace MS] [--cwd DIR] [--cgroup PARENT]\n"
        "         [--profile NAME [--writable P]... [--readonly P]... "
        "[--hidden P]...\n"
        "          [--net none|gateway|host] [--memory B] [--pids N] "
        "[--cpu PCT]\n"
        "          [--tmp-size B] [--home-src DIR] [--gw-port N]]\n"
        "         [--gw-fd FD] RUNDIR -- COMMAND [ARG...]\n"
        "Runs COMMAND supervised for corral; not meant to be run by hand.\n",
        fp);
}

static const struct option shim_opts[] = {
    {"grace", required_argument, 0, 'g'},
    {"cwd", required_argument, 0, 'c'},
    {"cgroup", required_argument, 0, 'C'},
    {"profile", required_argument, 0, 'P'},
    {"writable", required_argument, 0, 'W'},
    {"readonly", required_argument, 0, 'R'},
    {"hidden", required_argument, 0, 'H'},
    {"net", required_argument, 0, 'N'},
    {"memory", required_argument, 0, 'M'},
    {"pids", required_argument, 0, 'p'},
    {"cpu", required_argument, 0, 'U'},
    {"tmp-size", required_argument, 0, 'T'},
    {"home-src", required_argument, 0, 'O'},
    {"gw-fd", required_argument, 0, 'G'},
    {"gw-port", required_argument, 0, 'Q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};

static void shim_parse(int argc, char **argv) {
  int c;

  while ((c = getopt_long(argc, argv, "+g:c:C:h", shim_opts, NULL)) != -1) {
    if (c == 'g')
      shim.grace_ms = strtol(optarg, NULL, 10);
    else if (c == 'c')
      shim.cwd = optarg;
    else if (c == 'C')
      shim.cgroup_parent = optarg;
    else if (c == 'h')
      shim_usage(stdout), exit(SHIM_EX_OK);
    else if (c == '?')
      shim_usage(stderr), exit(SHIM_EX_USAGE);
    else
      shim_sbx_arg(&shim.sbx, c, optarg);
  }
  if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0)
    shim_usage(stderr), exit(SHIM_EX_USAGE);
  shim.rundir = argv[optind];
  shim.argv = &argv[optind + 2];
}

/* Takes the run's lock and records our pid in it. A held lock means a live
 * shim owns the run; an existing status means the run already happened. */
static void shim_lock(void) {
  char pid[32];
  int fd, n;

  shim.dirfd = open(shim.rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (shim.dirfd < 0)
    shim_die(SHIM_EX_SYS, shim.rundir);
  fd = openat(shim.dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    shim_die(SHIM_EX_SYS, "open lock");
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    fprintf(stderr, "corral-shim: run %s is locked by another shim\n",
            shim.rundir);
    exit(SHIM_EX_LOCKED);
  }
  if (faccessat(shim.dirfd, "status", F_OK, 0) == 0) {
    fprintf(stderr, "corral-shim: run %s already ran\n", shim.rundir);
    exit(SHIM_EX_LOCKED);
  }
  n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
    shim_die(SHIM_EX_SYS, "write lock");
}

static void shim_block_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGALRM);
  sigaddset(set, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
    shim_die(SHIM_EX_SYS, "sigprocmask");
}

/* The kernel's struct clone_args (version 2), without <linux/sched.h>,
 * whose CLONE_* macros clash with glibc's. */
struct shim_clone_args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

#define SHIM_CLONE_INTO_CGROUP 0x200000000ULL

/* fork(), but born inside the run's cgroup when there is one (clone3 with
 * CLONE_INTO_CGROUP), which spares the child a write to cgroup.procs. */
static pid_t shim_fork(void) {
  struct shim_clone_args ca;
  long pid;
  int cg;

  if (shim.cgroup[0] == '\0')
    return fork();
  if ((cg = open(shim.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return fork();
  memset(&ca, 0, sizeof(ca));
  ca.flags = SHIM_CLONE_INTO_CGROUP;
  ca.exit_signal = SIGCHLD;
  ca.cgroup = (uint64_t)cg;
  pid = syscall(SYS_clone3, &ca, sizeof(ca));
  if (pid < 0) {
    shim.cgroup_join = 1; /* older kernel: the child joins by hand */
    pid = fork();
  }
  if (pid != 0)
    close(cg);
  return (pid_t)pid;
}

/* Writes a short string to a cgroup control file. */
static int shim_cg_write(const char *file, const char *val) {
  char path[4200];
  int fd, rc = 0;

  snprintf(path, sizeof(path), "%s/%s", shim.cgroup, file);
  if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
    return -1;
  if (write(fd, val, strlen(val)) < 0)
    rc = -1;
  close(fd);
  return rc;
}

/* A cgroup v2 leaf for the agent's tree, where the engine found a parent
 * we may write to. Without one the subreaper walk alone finds the tree. */
static void shim_cg_create(void) {
  if (shim.cgroup_parent == NULL)
    return;
  snprintf(shim.cgroup, sizeof(shim.cgroup), "%s/shim-%ld", shim.cgroup_parent,
           (long)getpid());
  if (mkdir(shim.cgroup, 0755) < 0 && errno != EEXIST)
    shim.cgroup[0] = '\0';
}

static void shim_cg_remove(void) {
  if (shim.cgroup[0] != '\0')
    rmdir(shim.cgroup);
  sbx_plan_free(shim.plan);
  shim.plan = NULL;
}

/* In the agent, between fork and exec: a new session, default signal
 * dispositions, an empty mask, the standard fds, and every other fd marked
 * close-on-exec. Errors go back over errfd (libuv uv__write_errno). */
static void shim_child(int logfd, int errfd) {
  int null, err;

  setsid();
  sbx_reset_signals();
  /* Joining is best effort: the subreaper walk still finds the tree. */
  if (shim.cgroup_join)
    (void)shim_cg_write("cgroup.procs", "0");
  null = open("/dev/null", O_RDONLY);
  if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
    goto fail;
  if (shim.cwd != NULL && chdir(shim.cwd) < 0)
    goto fail;
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  execvp(shim.argv[0], shim.argv);
fail:
  err = errno;
  if (write(errfd, &err, sizeof(err)) < 0)
    _exit(127);
  _exit(127);
}

/* The agent as the command of a sandbox's init (profile given). Init
 * reports the agent's own wait status on a pipe, so that an agent killed
 * by a signal is recorded as such, not as init's exit 128+signal. */
static void shim_spawn_sandboxed(int logfd) {
  struct crl_err err = CRL_ERR_INIT;
  int sp[2], rc;
  pid_t pid;

  if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
    shim_die(SHIM_EX_SYS, "pipe2");
  shim.status_fd = sp[0];
  shim.started_ms = shim_now_ms();
  rc = shim_sbx_spawn(&pid, &shim.plan, &shim.sbx, shim.cwd, shim.cgroup, logfd,
                      sp[1], shim.argv, &err);
  close(sp[1]);
  /* shim.sbx.gw_fd stays open: we hold the gateway's port for the run. */
  close(logfd);
  if (rc == 0) {
    shim.agent = pid;
    return;
  }
  shim.end = SHIM_SPAWN_ERROR;
  shim.spawn_errno = rc > -1000 ? -rc : 0;
  snprintf(shim.detail, sizeof(shim.detail), "%s", err.msg);
  shim.detail[strcspn(shim.detail, "\n")] = '\0';
  shim.agent = 0;
}

static void shim_spawn(void) {
  int logfd, pfd[2], err;
  ssize_t n;

  logfd = openat(shim.dirfd, "output.log",
                 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logfd < 0)
    shim_die(SHIM_EX_SYS, "open output.log");
  if (shim.sbx.profile != NULL) {
    shim_spawn_sandboxed(logfd);
    return;
  }
  if (pipe2(pfd, O_CLOEXEC) < 0)
    shim_die(SHIM_EX_SYS, "pipe2");
  shim.started_ms = shim_now_ms();
  shim.agent = shim_fork();
  if (shim.agent < 0)
    shim_die(SHIM_EX_SYS, "fork");
  if (shim.agent == 0)
    shim_child(logfd, pfd[1]);
  close(pfd[1]);
  close(logfd);
  do
    n = read(pfd[0], &err, sizeof(err));
  while (n < 0 && errno == EINTR);
  close(pfd[0]);
  if (n == sizeof(err)) {
    shim.end = SHIM_SPAWN_ERROR;
    shim.spawn_errno = err;
  }
}

/* Reads the parent pid of `pid` from /proc, or -1. */
static pid_t shim_ppid(const char *pid) {
  char path[64], buf[512], *p;
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "/proc/%s/stat", pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -1;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name may hold spaces and parentheses: skip to the last ')'. */
  if ((p = strrchr(buf, ')')) == NULL)
    return -1;
  return (pid_t)strtol(p + 4, NULL, 10);
}

struct shim_proc {
  pid_t pid;
  pid_t ppid;
  int mark;
};

static size_t shim_scan(struct shim_proc **out) {
  struct shim_proc *v = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  DIR *d;

  if ((d = opendir("/proc")) == NULL)
    return 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    if (n == cap &&
        (v = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v))) == NULL)
      shim_die(SHIM_EX_SYS, "realloc");
    v[n].pid = (pid_t)strtol(de->d_name, NULL, 10);
    v[n].ppid = shim_ppid(de->d_name);
    v[n++].mark = 0;
  }
  closedir(d);
  *out = v;
  return n;
}

/* Signals every descendant of the shim. Marks spread from our pid down the
 * parent links until nothing changes; the process table is small, so the
 * quadratic walk costs less than being clever. Returns how many were hit. */
static int shim_signal_tree(int sig) {
  struct shim_proc *v = NULL;
  size_t n = shim_scan(&v);
  pid_t self = getpid();
  int changed = 1, hit = 0;

  while (changed) {
    changed = 0;
    for (size_t i = 0; i < n; i++) {
      if (v[i].mark)
        continue;
      for (size_t j = 0; j < n && !v[i].mark; j++)
        if (v[i].ppid == self || (v[j].mark && v[j].pid == v[i].ppid))
          v[i].mark = changed = 1;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (v[i].mark && kill(v[i].pid, sig) == 0)
      hit++;
  free(v);
  return hit;
}

static void shim_signal_all(int sig) {
  /* cgroup.kill reaches every member at once, however fast it forks. */
  if (sig == SIGKILL && shim.cgroup[0] != '\0')
    shim_cg_write("cgroup.kill", "1");
  /* v1 has no cgroup.kill: the plan's leaves are emptied by hand. */
  if (sig == SIGKILL)
    sbx_plan_kill(shim.plan);
  if (shim.agent > 0 && shim.end != SHIM_SPAWN_ERROR)
    kill(-shim.agent, sig);
  shim_signal_tree(sig);
}

static void shim_stop(void) {
  struct itimerval it = {{0, 0}, {0, 0}};

  if (shim.stopping)
    return;
  shim.stopping = 1;
  shim_signal_all(SIGTERM);
  shim_signal_all(SIGCONT);
  it.it_value.tv_sec = shim.grace_ms / 1000;
  it.it_value.tv_usec = (shim.grace_ms % 1000) * 1000;
  if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
    it.it_value.tv_usec = 1;
  setitimer(ITIMER_REAL, &it, NULL);
}

static void shim_kill(void) {
  shim.killed = 1;
  shim_signal_all(SIGKILL);
}

/* The agent's wait status given init's (or the plain agent's) st: what a
 * sandbox's init reported, when it did. Init writes before it exits, and
 * holds the pipe's only other end, so the read never waits. */
static int shim_agent_status(int st) {
  int reported;

  if (shim.status_fd < 0)
    return st;
  if (read(shim.status_fd, &reported, sizeof(reported)) == sizeof(reported))
    st = reported;
  close(shim.status_fd);
  shim.status_fd = -1;
  return st;
}

/* Reaps every exited child. Returns -1 once no child is left. */
static int shim_reap(void) {
  int st;
  pid_t pid;

  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    if (pid != shim.agent)
      continue;
    st = shim_agent_status(st);
    shim.agent_status = st;
    shim.ended_ms = shim_now_ms();
    if (shim.end != SHIM_SPAWN_ERROR)
      shim.end = WIFSIGNALED(st) ? SHIM_SIGNALED : SHIM_EXITED;
    shim.agent = 0;
  }
  return pid < 0 && errno == ECHILD ? -1 : 0;
}

static void shim_on_signal(int sig) {
  if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
    shim_stop();
  else if (sig == SIGALRM || sig == SIGUSR1)
    shim_kill();
}

/* Waits for the agent; then kills and reaps whatever it left behind. The
 * subreaper guarantee makes "no child left" mean "no descendant left". */
static void shim_wait(const sigset_t *set) {
  struct timespec tick = {0, 50 * 1000000};
  siginfo_t si;
  int sig;

  for (;;) {
    if (shim_reap() < 0)
      return;
    if (shim.agent == 0) {
      shim_signal_all(SIGKILL);
      sig = sigtimedwait(set, &si, &tick);
    } else {
      sig = sigwaitinfo(set, &si);
    }
    if (sig > 0)
      shim_on_signal(sig);
  }
}

static void shim_write_status(void) {
  FILE *fp;
  int fd, code = 0, sig = 0;

  if (shim.end == SHIM_EXITED)
    code = WEXITSTATUS(shim.agent_status);
  else if (shim.end == SHIM_SIGNALED)
    sig = WTERMSIG(shim.agent_status);
  fd = openat(shim.dirfd, "status.tmp",
              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || (fp = fdopen(fd, "w")) == NULL)
    shim_die(SHIM_EX_SYS, "open status.tmp");
  fprintf(fp,
          "end=%s\ncode=%d\nsignal=%d\nerrno=%d\nstopped=%d\nkilled=%d\n"
          "started=%lld\nended=%lld\ndetail=%s\n",
          shim.end == SHIM_EXITED     ? "exited"
          : shim.end == SHIM_SIGNALED ? "signaled"
                                      : "spawn_error",
          code, sig, shim.spawn_errno, shim.stopping, shim.killed,
          shim.started_ms, shim.ended_ms, shim.detail);
  /* No fsync: the rename is atomic against a crash of any process, which
   * is what corral promises; the store makes the same trade (WAL, NORMAL). */
  if (fflush(fp) != 0 || fclose(fp) != 0)
    shim_die(SHIM_EX_SYS, "write status.tmp");
  if (renameat(shim.dirfd, "status.tmp", shim.dirfd, "status") < 0)
    shim_die(SHIM_EX_SYS, "rename status");
}

int main(int argc, char **argv) {
  sigset_t set;

  shim_parse(argc, argv);
  shim_lock();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    shim_die(SHIM_EX_SYS, "PR_SET_CHILD_SUBREAPER");
  shim_block_signals(&set);
  shim_cg_create();
  shim_spawn();
  shim_wait(&set);
  shim_cg_remove();
  shim_write_status();
  return SHIM_EX_OK;
}
