/*
 * Process probes (issue groups 6-10, 17, 18): what /proc shows of the host,
 * signals and ptrace across the sandbox's pid namespace, terminal input
 * injection, new or foreign namespaces, a daemon that tries to outlive the
 * run, and setuid binaries. Two helpers (sleep, euid) are not probes: the
 * tests use them as host-side sleepers and as the setuid program.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

/* Reads up to len-1 bytes of a /proc file, NULs turned into spaces. */
static ssize_t slurp(const char *path, char *buf, size_t len) {
  ssize_t n, got = 0;
  int fd;

  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -1;
  while ((size_t)got < len - 1 &&
         (n = read(fd, buf + got, len - 1 - (size_t)got)) > 0)
    got += n;
  close(fd);
  for (ssize_t i = 0; i < got; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[got] = '\0';
  return got;
}

/* Escaped when /proc/PID/FILE can be read and holds TOKEN. */
static int proc_file_has(const char *pid, const char *file, const char *token) {
  char path[64], buf[65536];

  snprintf(path, sizeof(path), "/proc/%s/%s", pid, file);
  if (slurp(path, buf, sizeof(buf)) < 0)
    return probe_blocked("read %s", path);
  if (strstr(buf, token) == NULL) {
    errno = ENOENT;
    return probe_blocked("%s lacks %s", path, token);
  }
  return probe_escaped("%s holds %s", path, token);
}

static int proc_pid(int argc, char **argv) {
  return proc_file_has(argv[0], "cmdline", argv[1]);
}

/* Escaped when /proc lists at least MIN processes (the host's count, less
 * some slack: a sandbox shows its own few). */
static int proc_count(int argc, char **argv) {
  long min = probe_num(argv[0]), n = 0;
  struct dirent *e;
  DIR *d;

  if (min < 0)
    return PROBE_USAGE;
  if ((d = opendir("/proc")) == NULL)
    return probe_blocked("opendir /proc");
  while ((e = readdir(d)) != NULL)
    n += probe_num(e->d_name) > 0;
  closedir(d);
  if (n < min) {
    errno = ESRCH;
    return probe_blocked("%ld processes in /proc, fewer than %ld", n, min);
  }
  return probe_escaped("%ld processes in /proc", n);
}

/* Escaped when /proc/PID/exe is PATH. Unlike the command line, it cannot
 * hold the probe's own arguments (pid 1 inside is forked from corral, whose
 * command line has them). */
static int proc_exe(int argc, char **argv) {
  char link[64], target[4096];
  ssize_t n;

  snprintf(link, sizeof(link), "/proc/%s/exe", argv[0]);
  if ((n = readlink(link, target, sizeof(target) - 1)) < 0)
    return probe_blocked("readlink %s", link);
  target[n] = '\0';
  if (strcmp(target, argv[1]) != 0) {
    errno = ENOENT;
    return probe_blocked("%s is %s", link, target);
  }
  return probe_escaped("%s is %s", link, target);
}

static int proc_environ(int argc, char **argv) {
  return proc_file_has(argv[0], "environ", argv[1]);
}

/* Writes a sysctl's own value back: harmless on the host, and proof that a
 * write would have taken. */
static int proc_sys_write(int argc, char **argv) {
  char val[4096];
  ssize_t n;
  int fd;

  if ((n = slurp(argv[0], val, sizeof(val))) < 0)
    return probe_blocked("read %s", argv[0]);
  if ((fd = open(argv[0], O_WRONLY | O_CLOEXEC)) < 0)
    return probe_blocked("open %s for writing", argv[0]);
  if (write(fd, val, (size_t)n) < 0) {
    close(fd);
    return probe_blocked("write %s", argv[0]);
  }
  close(fd);
  return probe_escaped("wrote %s", argv[0]);
}

/* 1 when we are in the pid namespace named host ("pid:[N]", as
 * readlink(/proc/self/ns/pid) gives it on the host), or cannot tell. */
static int in_host_pidns(const char *host) {
  char ns[64];
  ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);

  if (n <= 0)
    return 1;
  ns[n] = '\0';
  return strcmp(ns, host) == 0;
}

/* kill(-1, SIGKILL) after starting a child of our own. Escaped when the host
 * pid PID, visible before, is gone after; the tests check the host side.
 * Run outside a sandbox, kill(-1) would kill every process of the user (of
 * the whole machine, as root), so it refuses unless its pid namespace
 * differs from HOSTNS, the host's. */
static int kill_all(int argc, char **argv) {
  long pid = probe_num(argv[0]);
  int visible, rc, st;
  pid_t child;

  if (pid <= 0)
    return PROBE_USAGE;
  if (in_host_pidns(argv[1])) {
    fprintf(stderr,
            "sandbox-probe: kill-all: refusing to run in the host's "
            "pid namespace %s\n",
            argv[1]);
    return PROBE_USAGE;
  }
  visible = kill((pid_t)pid, 0) == 0 || errno == EPERM;
  if ((child = fork()) == 0) {
    pause();
    _exit(0);
  }
  rc = kill(-1, SIGKILL);
  probe_note("kill(-1, SIGKILL): %s", rc == 0 ? "0" : probe_errname(errno));
  if (child > 0 && waitpid(child, &st, 0) == child)
    probe_note("own child: %s", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL
                                    ? "killed"
                                    : "survived");
  if (!visible) {
    errno = ESRCH;
    return probe_blocked("pid %ld not visible", pid);
  }
  if (kill((pid_t)pid, 0) == 0 || errno == EPERM) {
    errno = EPERM;
    return probe_blocked("pid %ld survived", pid);
  }
  return probe_escaped("pid %ld killed", pid);
}

static int ptrace_probe(int argc, char **argv) {
  long pid = probe_num(argv[0]);

  if (pid <= 0)
    return PROBE_USAGE;
  if (ptrace(PTRACE_SEIZE, (pid_t)pid, NULL, NULL) < 0)
    return probe_blocked("PTRACE_SEIZE %ld", pid);
  /* The tracee is detached when we exit; SEIZE does not stop it. */
  return probe_escaped("seized pid %ld", pid);
}

/* The first mapped address of pid, or a guess when its maps are hidden: an
 * EFAULT still proves the permission check passed. */
static unsigned long first_mapping(long pid) {
  char path[64], buf[256];
  unsigned long addr = 0x400000;

  snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
  if (slurp(path, buf, sizeof(buf)) > 0)
    sscanf(buf, "%lx-", &addr);
  return addr;
}

static int vm_read(int argc, char **argv) {
  long pid = probe_num(argv[0]);
  char buf[16];
  struct iovec local = {buf, sizeof(buf)}, remote;
  ssize_t n;

  if (pid <= 0)
    return PROBE_USAGE;
  remote.iov_base = (void *)first_mapping(pid);
  remote.iov_len = sizeof(buf);
  n = process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);
  if (n > 0)
    return probe_escaped("read %zd bytes of pid %ld", n, pid);
  if (errno == EFAULT)
    return probe_escaped("pid %ld is readable (EFAULT at %p)", pid,
                         remote.iov_base);
  return probe_blocked("process_vm_readv of pid %ld", pid);
}

static int tiocsti(int argc, char **argv) {
  static const char text[] = "#corral-tiocsti\n";
  int took = 0;

  if (!isatty(0)) {
    errno = ENOTTY;
    return probe_blocked("fd 0 is not a terminal");
  }
  for (size_t i = 0; i < sizeof(text) - 1; i++)
    if (ioctl(0, TIOCSTI, &text[i]) == 0)
      took++;
    else if (took == 0)
      return probe_blocked("ioctl(0, TIOCSTI)");
  return probe_escaped("injected %d bytes", took);
}

/* unshare(CLONE_NEWUSER), and the same through clone(2) flags, which a
 * filter on unshare alone would miss. */
static int userns(int argc, char **argv) {
  long child;
  int st, took = 0;

  child = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (child == 0)
    _exit(0);
  if (child < 0)
    probe_note("clone(CLONE_NEWUSER): %s", probe_errname(errno));
  else
    took += waitpid((pid_t)child, &st, 0) == child;
  if (unshare(CLONE_NEWUSER) < 0)
    probe_note("unshare(CLONE_NEWUSER): %s", probe_errname(errno));
  else
    took++;
  if (took > 0)
    return probe_escaped("%d of 2 new user namespaces made", took);
  return probe_blocked("no new user namespace");
}

/* setns PATH, or fd:N for an inherited namespace fd. */
static int setns_probe(int argc, char **argv) {
  int fd;

  if (strncmp(argv[0], "fd:", 3) == 0)
    fd = (int)probe_num(argv[0] + 3);
  else
    fd = open(argv[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return probe_blocked("open %s", argv[0]);
  if (setns(fd, 0) < 0)
    return probe_blocked("setns %s", argv[0]);
  return probe_escaped("joined %s", argv[0]);
}

/* A daemon keeps no stdio: a caller reading our output must see EOF. */
static void detach_stdio(void) {
  int fd = open("/dev/null", O_RDWR);

  for (int i = 0; fd >= 0 && i < 3; i++)
    dup2(fd, i);
  if (fd > 2)
    close(fd);
}

static void write_pidfile(const char *path) {
  FILE *f = fopen(path, "w");

  if (f == NULL)
    return;
  fprintf(f, "%ld\n", (long)getpid());
  fclose(f);
}

/* Double fork + setsid; the grandchild writes its pid (as it sees it) to
 * PIDFILE and becomes `sandbox-probe sleep TOKEN 600`, so the host can find
 * it by TOKEN. Escaped means started: whether it outlives the run is for the
 * test to see. */
static int daemon_probe(int argc, char **argv) {
  int p[2], st;
  pid_t mid;
  char c;

  if (pipe2(p, O_CLOEXEC) < 0)
    return probe_blocked("pipe");
  if ((mid = fork()) == 0) {
    setsid();
    if (fork() == 0) {
      detach_stdio();
      write_pidfile(argv[0]);
      execl(probe_self(), "sandbox-probe", "sleep", argv[1], "600",
            (char *)NULL);
      _exit(127);
    }
    _exit(0);
  }
  close(p[1]);
  if (mid < 0)
    return probe_blocked("fork");
  waitpid(mid, &st, 0);
  /* EOF once the grandchild has exec'd (or died). */
  while (read(p[0], &c, 1) < 0 && errno == EINTR)
    ;
  return probe_escaped("daemon %s started", argv[1]);
}

static int sleep_helper(int argc, char **argv) {
  long secs = probe_num(argv[1]);

  if (secs < 0)
    return PROBE_USAGE;
  while (secs > 0)
    secs = (long)sleep((unsigned)secs);
  return 0;
}

static int euid_helper(int argc, char **argv) {
  printf("%ld\n", (long)geteuid());
  return 0;
}

/* Runs PATH (a setuid copy of this program) as `PATH euid`; escaped when it
 * reports an effective uid other than ours. */
static int setuid_exec(int argc, char **argv) {
  int p[2], st;
  char buf[32] = "";
  long euid;
  pid_t pid;

  if (pipe(p) < 0)
    return probe_blocked("pipe");
  if ((pid = fork()) == 0) {
    dup2(p[1], 1);
    execl(argv[0], argv[0], "euid", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  if (read(p[0], buf, sizeof(buf) - 1) < 0)
    buf[0] = '\0';
  waitpid(pid, &st, 0);
  if (sscanf(buf, "%ld", &euid) != 1) {
    errno = ENOEXEC;
    return probe_blocked("%s did not report its euid", argv[0]);
  }
  if (euid == (long)geteuid()) {
    errno = EPERM;
    return probe_blocked("%s ran with our euid %ld", argv[0], euid);
  }
  return probe_escaped("%s ran with euid %ld (ours %ld)", argv[0], euid,
                       (long)geteuid());
}

const struct probe probe_proc[] = {
    {"proc-pid", 2, 2, proc_pid,
     "PID TOKEN  /proc/PID/cmdline holds TOKEN (group 6)"},
    {"proc-count", 1, 1, proc_count,
     "MIN  /proc lists at least MIN processes (group 6)"},
    {"proc-exe", 2, 2, proc_exe, "PID PATH  /proc/PID/exe is PATH (group 6)"},
    {"proc-environ", 2, 2, proc_environ,
     "PID TOKEN  /proc/PID/environ holds TOKEN (group 6)"},
    {"proc-sys-write", 1, 1, proc_sys_write,
     "PATH  write a sysctl's value back (group 6)"},
    {"kill-all", 2, 2, kill_all,
     "PID HOSTNS  kill(-1, SIGKILL) unless in pid namespace HOSTNS; "
     "escaped if host PID died (group 7)"},
    {"ptrace", 1, 1, ptrace_probe, "PID  PTRACE_SEIZE PID (group 8)"},
    {"vm-read", 1, 1, vm_read, "PID  process_vm_readv of PID (group 8)"},
    {"tiocsti", 0, 0, tiocsti, " TIOCSTI on fd 0 (group 9)"},
    {"userns", 0, 0, userns,
     " unshare and clone with CLONE_NEWUSER (group 10)"},
    {"setns", 1, 1, setns_probe, "PATH|fd:N  setns into it (group 10)"},
    {"daemon", 2, 2, daemon_probe,
     "PIDFILE TOKEN  double-fork setsid sleeper (group 17)"},
    {"setuid-exec", 1, 1, setuid_exec,
     "PATH  run a setuid copy, compare euids (group 18)"},
    {"sleep", 2, 2, sleep_helper, "TOKEN SECS  (helper) sleep"},
    {"euid", 0, 0, euid_helper, " (helper) print the effective uid"},
    {NULL, 0, 0, NULL, NULL},
};
