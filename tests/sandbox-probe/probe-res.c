/*
 * Resource probes (issue group 16) and what the process is given (groups
 * 15, 20): a bounded fork bomb, a memory hog, a disk filler, fd exhaustion,
 * the environment, the argv and cwd it received. The resource probes escape
 * when they reach their goal; inside a sandbox they must hit a limit first
 * (fail, or be killed), and they undo what they made before exiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define MIB (1024L * 1024L)

static int env_has(int argc, char **argv) {
  if (getenv(argv[0]) == NULL) {
    errno = ENOENT;
    return probe_blocked("%s is not set", argv[0]);
  }
  return probe_escaped("%s is set", argv[0]);
}

static void reap_all(const pid_t *kids, long n) {
  for (long i = 0; i < n; i++)
    kill(kids[i], SIGKILL);
  for (long i = 0; i < n; i++)
    waitpid(kids[i], NULL, 0);
}

/* Forks sleeping children until fork fails or CAP are alive. */
static int fork_bomb(int argc, char **argv) {
  long cap = argc > 0 ? probe_num(argv[0]) : 100000, n = 0;
  pid_t *kids, pid;
  int err = 0;

  if (cap <= 0 || (kids = calloc((size_t)cap, sizeof(*kids))) == NULL)
    return PROBE_USAGE;
  while (n < cap) {
    if ((pid = fork()) == 0) {
      pause();
      _exit(0);
    }
    if (pid < 0) {
      err = errno;
      break;
    }
    kids[n++] = pid;
  }
  reap_all(kids, n);
  free(kids);
  if (n == cap)
    return probe_escaped("%ld processes alive at once", n);
  errno = err;
  return probe_blocked("fork failed after %ld processes", n);
}

/* Touches MB mebibytes, one page at a time. */
static int mem_hog(int argc, char **argv) {
  long mb = probe_num(argv[0]);
  long page = sysconf(_SC_PAGESIZE);
  char *p;

  if (mb <= 0)
    return PROBE_USAGE;
  p = mmap(NULL, (size_t)(mb * MIB), PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return probe_blocked("mmap %ld MiB", mb);
  for (long off = 0; off < mb * MIB; off += page) {
    p[off] = 1;
    if (off % (256 * MIB) == 0)
      probe_note("%ld MiB touched", off / MIB);
  }
  munmap(p, (size_t)(mb * MIB));
  return probe_escaped("touched %ld MiB", mb);
}

/* Writes MB mebibytes to DIR/fill, then removes it. DIR "~" is $HOME, as
 * the probe sees it (the test cannot know the sandbox's $HOME). */
static int disk_fill(int argc, char **argv) {
  static char chunk[1 << 20];
  long mb = probe_num(argv[1]), done = 0;
  char path[PATH_MAX];
  int fd, err = 0;

  if (mb <= 0)
    return PROBE_USAGE;
  if (strcmp(argv[0], "~") == 0 && getenv("HOME") != NULL)
    argv[0] = getenv("HOME");
  signal(SIGXFSZ, SIG_IGN);
  memset(chunk, 'x', sizeof(chunk));
  snprintf(path, sizeof(path), "%s/fill", argv[0]);
  if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
    return probe_blocked("create %s", path);
  while (done < mb && write(fd, chunk, sizeof(chunk)) == sizeof(chunk))
    done++;
  err = errno;
  close(fd);
  unlink(path);
  if (done == mb)
    return probe_escaped("wrote %ld MiB to %s", mb, argv[0]);
  errno = err;
  return probe_blocked("stopped after %ld MiB in %s", done, argv[0]);
}

/* Raises the soft fd limit to the hard one and opens fds until failure or
 * CAP. EMFILE is the per-process limit (contained); ENFILE would be the
 * system's table, an escape. */
static int fd_exhaust(int argc, char **argv) {
  long cap = argc > 0 ? probe_num(argv[0]) : 1L << 21, n = 0;
  struct rlimit rl;
  int err = 0;

  if (cap <= 0)
    return PROBE_USAGE;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    probe_note("RLIMIT_NOFILE soft %ld hard %ld", (long)rl.rlim_cur,
               (long)rl.rlim_max);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  while (n < cap && open("/dev/null", O_RDONLY) >= 0)
    n++;
  err = errno;
  if (n == cap)
    return probe_escaped("%ld fds open", n);
  errno = err;
  if (err == ENFILE)
    return probe_escaped("system file table full after %ld fds", n);
  return probe_blocked("after %ld fds", n);
}

/* Helpers for the launcher tests: what argv and cwd arrived. */
static int echo_args(int argc, char **argv) {
  size_t bytes = 0;

  for (int i = 0; i < argc; i++)
    bytes += strlen(argv[i]);
  printf("args %d bytes %zu\n", argc, bytes);
  for (int i = 0; i < argc && i < 8; i++)
    printf("arg[%d]=%.200s\n", i, argv[i]);
  return 0;
}

static int pwd(int argc, char **argv) {
  char buf[PATH_MAX];

  if (getcwd(buf, sizeof(buf)) == NULL)
    return probe_blocked("getcwd");
  printf("%s\n", buf);
  return 0;
}

const struct probe probe_res[] = {
    {"env-has", 1, 1, env_has, "NAME  NAME is in the environment (group 15)"},
    {"fork-bomb", 0, 1, fork_bomb,
     "[CAP]  fork until failure or CAP (100000) alive (group 16)"},
    {"mem-hog", 1, 1, mem_hog, "MB  touch MB MiB of memory (group 16)"},
    {"disk-fill", 2, 2, disk_fill,
     "DIR|~ MB  write MB MiB to DIR or $HOME (group 16)"},
    {"fd-exhaust", 0, 1, fd_exhaust,
     "[CAP]  open fds until EMFILE/ENFILE or CAP (group 16)"},
    {"echo-args", 0, INT_MAX, echo_args, "ARGS...  (helper) print argv"},
    {"pwd", 0, 0, pwd, " (helper) print the working directory"},
    {NULL, 0, 0, NULL, NULL},
};
