/*
 * fake-agent: a misbehaving agent for supervision tests. It runs a list of
 * ops, given as arguments (`fake-agent print hi sleep 100 exit 3`) or one per
 * line in a script (`fake-agent --script FILE`, '#' starts a comment line,
 * the last argument of an op takes the rest of its line). Every op is parsed
 * before the first one runs, so a typo exits 2 without side effects. The ops
 * cover what a supervisor must survive: output floods, children that outlive
 * their parent or escape into their own session, ignored SIGTERM, stopped
 * processes, and probes of the inherited fds and signal state. The file
 * links only libc and is built without sanitizers, so what it reports about
 * its own process is what an agent would see. Ops that fail on I/O say so on
 * stderr and exit 1.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FA_MAX_ARGS 2

typedef void (*fa_op_fn)(char **args);

/* `args` spells one letter per argument: 't' text, 'n' a non-negative
 * number, 's' a signal; all are checked before the first op runs. */
struct fa_op {
  const char *name;
  const char *args;
  fa_op_fn fn;
  const char *synopsis;
  const char *help;
};

struct fa_step {
  const struct fa_op *op;
  char *args[FA_MAX_ARGS];
};

struct fa_plan {
  struct fa_step *v;
  size_t n, cap;
};

/* ---- helpers ---------------------------------------------------------- */

static void fa_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void fa_die(int code, const char *fmt, ...) {
  va_list ap;

  fflush(stdout);
  fputs("fake-agent: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(code);
}

static void fa_die_errno(const char *what, const char *path) {
  fa_die(1, "%s %s: %s", what, path, strerror(errno));
}

static long fa_number(const char *s) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0)
    fa_die(2, "not a non-negative number: '%s'", s);
  return v;
}

static void fa_write_all(int fd, const char *p, size_t n) {
  ssize_t w;

  while (n > 0) {
    w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      fa_die(1, "write: %s", strerror(errno));
    p += w;
    n -= (size_t)w;
  }
}

static void fa_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static long fa_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Writes "<pid>\n" to path through path.tmp and a rename, so a reader never
 * sees a half-written file. */
static void fa_write_pidfile(const char *path, pid_t pid) {
  char tmp[PATH_MAX], line[32];
  int fd, n;

  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fa_die_errno("open", tmp);
  n = snprintf(line, sizeof(line), "%ld\n", (long)pid);
  fa_write_all(fd, line, (size_t)n);
  close(fd);
  if (rename(tmp, path) < 0)
    fa_die_errno("rename", tmp);
}

/* Points stdin, stdout and stderr at /dev/null, so a lingering child does
 * not hold the run's output open. */
static void fa_detach_stdio(void) {
  int fd = open("/dev/null", O_RDWR);

  if (fd < 0)
    _exit(1);
  dup2(fd, 0);
  dup2(fd, 1);
  dup2(fd, 2);
  if (fd > 2)
    close(fd);
}

/* Blocks until the child that holds the other end of the pipe has written
 * its pidfile (one byte) or died. */
static void fa_sync_wait(int fds[2]) {
  char c;

  close(fds[1]);
  while (read(fds[0], &c, 1) < 0 && errno == EINTR)
    ;
  close(fds[0]);
}

static void fa_sync_post(int fds[2]) {
  close(fds[0]);
  fa_write_all(fds[1], "", 1);
  close(fds[1]);
}

static pid_t fa_fork(int fds[2]) {
  pid_t pid;

  fflush(NULL);
  if (pipe(fds) < 0)
    fa_die(1, "pipe: %s", strerror(errno));
  pid = fork();
  if (pid < 0)
    fa_die(1, "fork: %s", strerror(errno));
  return pid;
}

/* ---- ops: output ------------------------------------------------------ */

static void op_print(char **a) {
  printf("%s\n", a[0]);
  fflush(stdout);
}

static void op_stderr(char **a) {
  fprintf(stderr, "%s\n", a[0]);
}

static void fa_json_string(const char *s) {
  const unsigned char *p;

  putchar('"');
  for (p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

static void op_json(char **a) {
  fputs("{\"type\":", stdout);
  fa_json_string(a[0]);
  fputs(",\"text\":", stdout);
  fa_json_string(a[1]);
  fputs("}\n", stdout);
  fflush(stdout);
}

static void op_flood(char **a) {
  static char buf[101 * 640];
  long left = fa_number(a[0]);
  size_t i, n;

  for (i = 0; i < sizeof(buf); i++)
    buf[i] = i % 101 == 100 ? '\n' : 'x';
  fflush(stdout);
  while (left > 0) {
    n = (size_t)left < sizeof(buf) ? (size_t)left : sizeof(buf);
    fa_write_all(1, buf, n);
    left -= (long)n;
  }
}

static void op_numbered(char **a) {
  long i, n = fa_number(a[0]);
  char line[32];
  int len;

  fflush(stdout);
  for (i = 1; i <= n; i++) {
    len = snprintf(line, sizeof(line), "line %ld\n", i);
    fa_write_all(1, line, (size_t)len);
  }
}

/* ---- ops: time and exit ----------------------------------------------- */

static void op_sleep(char **a) {
  fa_sleep_ms(fa_number(a[0]));
}

static void op_busy(char **a) {
  long end = fa_now_ms() + fa_number(a[0]);
  volatile unsigned long spin = 0;

  while (fa_now_ms() < end)
    spin++;
}

static void op_exit(char **a) {
  exit((int)fa_number(a[0]));
}

/* ---- ops: signals ----------------------------------------------------- */

static const struct {
  const char *name;
  int sig;
} fa_signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"SYS", SIGSYS},
};

static int fa_signal_number(const char *s) {
  size_t i;

  if (isdigit((unsigned char)s[0]))
    return (int)fa_number(s);
  if (strncmp(s, "SIG", 3) == 0)
    s += 3;
  for (i = 0; i < sizeof(fa_signals) / sizeof(fa_signals[0]); i++)
    if (strcmp(fa_signals[i].name, s) == 0)
      return fa_signals[i].sig;
  fa_die(2, "unknown signal '%s'", s);
}

/* Raises the signal with its default action unless the agent chose to
 * ignore it: an inherited handler (a sanitizer's, say) must not turn a
 * SIGSEGV into an ordinary exit. A blocked signal is unblocked first. */
static void op_signal(char **a) {
  int sig = fa_signal_number(a[0]);
  struct sigaction sa;
  sigset_t set;

  fflush(stdout);
  if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
    signal(sig, SIG_DFL);
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
}

static void op_ignore_term(char **a) {
  signal(SIGTERM, SIG_IGN);
}

static void op_stop_self(char **a) {
  fflush(stdout);
  raise(SIGSTOP);
}

/* ---- ops: files ------------------------------------------------------- */

static void op_pidfile(char **a) {
  fa_write_pidfile(a[0], getpid());
}

static void op_count(char **a) {
  char line[32];
  int fd, n;

  fd = open(a[0], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    fa_die_errno("open", a[0]);
  n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
  fa_write_all(fd, line, (size_t)n);
  close(fd);
}

static void op_touch(char **a) {
  int fd = open(a[0], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

  if (fd < 0)
    fa_die_errno("open", a[0]);
  close(fd);
}

/* Watches the directory with inotify when it can, and polls every 10 ms
 * anyway, so a missed event only costs a little latency. */
static void op_wait_file(char **a) {
  char dir[PATH_MAX], *slash, evbuf[4096];
  struct pollfd pfd = {.events = POLLIN};

  snprintf(dir, sizeof(dir), "%s", a[0]);
  slash = strrchr(dir, '/');
  if (slash == NULL)
    snprintf(dir, sizeof(dir), ".");
  else
    slash[slash == dir ? 1 : 0] = '\0';
  pfd.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (pfd.fd >= 0)
    inotify_add_watch(pfd.fd, dir, IN_CREATE | IN_MOVED_TO);
  while (access(a[0], F_OK) < 0) {
    if (pfd.fd < 0 || poll(&pfd, 1, 10) < 0)
      fa_sleep_ms(10);
    else if (pfd.revents & POLLIN)
      while (read(pfd.fd, evbuf, sizeof(evbuf)) > 0)
        ;
  }
  if (pfd.fd >= 0)
    close(pfd.fd);
}

/* ---- ops: processes --------------------------------------------------- */

static void op_fork_sleep(char **a) {
  long ms = fa_number(a[0]);
  int fds[2];

  if (fa_fork(fds) == 0) {
    fa_detach_stdio();
    fa_write_pidfile(a[1], getpid());
    fa_sync_post(fds);
    fa_sleep_ms(ms);
    _exit(0);
  }
  fa_sync_wait(fds);
}

/* The intermediate child exits at once, so the grandchild is reparented and
 * sits in a session of its own: out of reach of a process-group kill. */
static void op_setsid_sleep(char **a) {
  long ms = fa_number(a[0]);
  int fds[2];
  pid_t mid;

  mid = fa_fork(fds);
  if (mid == 0) {
    if (fork() != 0)
      _exit(0);
    setsid();
    fa_detach_stdio();
    fa_write_pidfile(a[1], getpid());
    fa_sync_post(fds);
    fa_sleep_ms(ms);
    _exit(0);
  }
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
    ;
  fa_sync_wait(fds);
}

static void op_hold_stdout(char **a) {
  long ms = fa_number(a[0]);
  int fds[2];

  if (fa_fork(fds) == 0) {
    fa_write_pidfile(a[1], getpid());
    fa_sync_post(fds);
    fa_sleep_ms(ms);
    _exit(0);
  }
  fa_sync_wait(fds);
}

/* ---- ops: probes ------------------------------------------------------ */

static int fa_int_cmp(const void *x, const void *y) {
  return *(const int *)x - *(const int *)y;
}

static void op_fds(char **a) {
  int fds[1024], n = 0, i;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;

  if (d == NULL)
    fa_die_errno("opendir", "/proc/self/fd");
  while ((de = readdir(d)) != NULL && n < 1024)
    if (isdigit((unsigned char)de->d_name[0]) && atoi(de->d_name) != dirfd(d))
      fds[n++] = atoi(de->d_name);
  closedir(d);
  qsort(fds, (size_t)n, sizeof(int), fa_int_cmp);
  fputs("fds:", stdout);
  for (i = 0; i < n; i++)
    printf(" %d", fds[i]);
  putchar('\n');
  fflush(stdout);
}

static void op_sigmask(char **a) {
  FILE *f = fopen("/proc/self/status", "re");
  char line[256], blk[64] = "?", ign[64] = "?";

  if (f == NULL)
    fa_die_errno("open", "/proc/self/status");
  while (fgets(line, sizeof(line), f) != NULL) {
    sscanf(line, "SigBlk: %63s", blk);
    sscanf(line, "SigIgn: %63s", ign);
  }
  fclose(f);
  printf("sigblk: %s\nsigign: %s\n", blk, ign);
  fflush(stdout);
}

static void op_env(char **a) {
  const char *v = getenv(a[0]);

  if (v != NULL)
    printf("%s=%s\n", a[0], v);
  else
    printf("%s unset\n", a[0]);
  fflush(stdout);
}

static void op_cwd(char **a) {
  char buf[PATH_MAX];

  if (getcwd(buf, sizeof(buf)) == NULL)
    fa_die(1, "getcwd: %s", strerror(errno));
  printf("cwd: %s\n", buf);
  fflush(stdout);
}

/* ---- the op table and the plan ---------------------------------------- */

static const struct fa_op fa_ops[] = {
    {"print", "t", op_print, "TEXT", "line to stdout"},
    {"stderr", "t", op_stderr, "TEXT", "line to stderr"},
    {"json", "tt", op_json, "KIND TEXT",
     "{\"type\":KIND,\"text\":TEXT} to stdout"},
    {"sleep", "n", op_sleep, "MS", "sleep MS milliseconds"},
    {"exit", "n", op_exit, "N", "exit with status N now"},
    {"signal", "s", op_signal, "SIG", "raise SIG (number or name: TERM, KILL)"},
    {"ignore-term", "", op_ignore_term, "", "ignore SIGTERM from now on"},
    {"stop-self", "", op_stop_self, "", "raise SIGSTOP"},
    {"pidfile", "t", op_pidfile, "PATH",
     "write own pid to PATH (tmp + rename)"},
    {"count", "t", op_count, "PATH", "append own pid to PATH (O_APPEND)"},
    {"fork-sleep", "nt", op_fork_sleep, "MS PATH",
     "child writes pid, sleeps MS"},
    {"setsid-sleep", "nt", op_setsid_sleep, "MS PATH",
     "grandchild in its own session writes pid, sleeps MS"},
    {"hold-stdout", "nt", op_hold_stdout, "MS PATH",
     "child keeps stdout/stderr open, writes pid, sleeps MS"},
    {"flood", "n", op_flood, "BYTES", "write BYTES bytes of 100-x lines"},
    {"numbered", "n", op_numbered, "N",
     "lines \"line 1\"..\"line N\", one write each"},
    {"fds", "", op_fds, "", "print \"fds: 0 1 2 ...\""},
    {"sigmask", "", op_sigmask, "", "print SigBlk and SigIgn in hex"},
    {"wait-file", "t", op_wait_file, "PATH", "block until PATH exists"},
    {"touch", "t", op_touch, "PATH", "create PATH"},
    {"env", "t", op_env, "NAME", "print NAME=value or \"NAME unset\""},
    {"cwd", "", op_cwd, "", "print \"cwd: DIR\""},
    {"busy", "n", op_busy, "MS", "spin the CPU for MS milliseconds"},
};

static const struct fa_op *fa_op_find(const char *name) {
  size_t i;

  for (i = 0; i < sizeof(fa_ops) / sizeof(fa_ops[0]); i++)
    if (strcmp(fa_ops[i].name, name) == 0)
      return &fa_ops[i];
  fa_die(2, "unknown op '%s' (try --help)", name);
}

static struct fa_step *fa_plan_add(struct fa_plan *p, const char *name) {
  if (p->n == p->cap) {
    p->cap = p->cap == 0 ? 16 : p->cap * 2;
    p->v = realloc(p->v, p->cap * sizeof(*p->v));
    if (p->v == NULL)
      fa_die(1, "out of memory");
  }
  memset(&p->v[p->n], 0, sizeof(p->v[0]));
  p->v[p->n].op = fa_op_find(name);
  return &p->v[p->n++];
}

static char *fa_skip_space(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

/* Dies with status 2 unless every argument of the step is there and
 * well formed. `where` prefixes the message ("FILE:LINE: " or ""). */
static void fa_step_check(const struct fa_step *st, const char *where) {
  size_t i;

  for (i = 0; st->op->args[i] != '\0'; i++) {
    if (st->args[i] == NULL)
      fa_die(2, "%s%s needs %s", where, st->op->name, st->op->synopsis);
    if (st->op->args[i] == 'n')
      fa_number(st->args[i]);
    else if (st->op->args[i] == 's')
      fa_signal_number(st->args[i]);
  }
}

/* Splits one script line in place: a word per argument, except that the
 * last argument takes the rest of the line. The line lives until exit. */
static void fa_parse_line(struct fa_plan *p, char *line, const char *where) {
  char *name = fa_skip_space(line), *s;
  struct fa_step *st;
  size_t i, n;

  if (*name == '\0' || *name == '#')
    return;
  s = name + strcspn(name, " \t");
  if (*s != '\0')
    *s++ = '\0';
  st = fa_plan_add(p, name);
  n = strlen(st->op->args);
  for (i = 0; i < n && *(s = fa_skip_space(s)) != '\0'; i++) {
    st->args[i] = s;
    if (i + 1 < n && *(s += strcspn(s, " \t")) != '\0')
      *s++ = '\0';
  }
  fa_step_check(st, where);
}

static void fa_parse_script(struct fa_plan *p, const char *path) {
  FILE *f = fopen(path, "re");
  char *line = NULL, *where;
  size_t cap = 0;
  ssize_t n;
  int lineno = 0;

  if (f == NULL)
    fa_die(2, "open %s: %s", path, strerror(errno));
  while ((n = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    if (asprintf(&where, "%s:%d: ", path, lineno) < 0)
      fa_die(1, "out of memory");
    fa_parse_line(p, strdup(line), where);
    free(where);
  }
  free(line);
  fclose(f);
}

static void fa_usage(void) {
  size_t i;

  puts("usage: fake-agent OP [ARGS]... | fake-agent --script FILE\n"
       "Runs the ops in order; in a script, one op per line, '#' comments.");
  for (i = 0; i < sizeof(fa_ops) / sizeof(fa_ops[0]); i++)
    printf("  %-12s %-10s %s\n", fa_ops[i].name, fa_ops[i].synopsis,
           fa_ops[i].help);
}

static void fa_parse_argv(struct fa_plan *p, int argc, char **argv) {
  struct fa_step *st;
  int i = 1, j, n;

  while (i < argc) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fa_usage();
      exit(0);
    }
    if (strcmp(argv[i], "--script") == 0) {
      if (i + 1 >= argc)
        fa_die(2, "--script needs a FILE");
      fa_parse_script(p, argv[i + 1]);
      i += 2;
      continue;
    }
    st = fa_plan_add(p, argv[i]);
    n = (int)strlen(st->op->args);
    for (j = 0; j < n && i + 1 + j < argc; j++)
      st->args[j] = argv[i + 1 + j];
    fa_step_check(st, "");
    i += 1 + n;
  }
}

int main(int argc, char **argv) {
  struct fa_plan plan = {0};
  size_t i;

  fa_parse_argv(&plan, argc, argv);
  for (i = 0; i < plan.n; i++)
    plan.v[i].op->fn(plan.v[i].args);
  fflush(stdout);
  return 0;
}
