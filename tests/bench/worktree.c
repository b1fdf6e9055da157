/*
 * worktree: corral's git layer against the git CLI on ticket worktrees.
 *
 * Builds one seed repository (SEED_FILES files under src/, one commit on
 * main) and two byte-identical copies of it, one per side. For each of
 * --tickets tickets it then, on both sides in turn (the side that goes first
 * alternates so that machine noise falls on both), creates the ticket's
 * branch `corral/bench/<ticket>` from main with its worktree, writes the same
 * --files-file change into it (four fifths modified seed files, one fifth
 * new files) and commits it with corral's trailers and diff stats. corral's
 * side calls the runtime's own functions (rt_worktree_ensure, rt_commit_run)
 * on one repository opened once, as the daemon does; git's side spawns
 * `git worktree add -q -b B DIR main`, `git add -A`, `git commit -q` (subject
 * and trailer paragraph as two -m) and `git diff --shortstat HEAD~1 HEAD`
 * with posix_spawn and no shell. Each ticket's stats are checked against
 * git's shortstat. It prints per-phase median, p90, mean and total per side
 * and, as its last line,
 *
 *   RESULT worktree corral_ms=<median> git_ms=<median> ratio=<corral/git>
 *
 * where a ticket's time is create + commit (writing the files is the same
 * code on both sides and is shown, not counted). It is a benchmark, not a
 * test: it exits non-zero only when an operation fails or stats disagree.
 */
#include "rt-git.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SEED_DIRS 25
#define SEED_PER_DIR 20
#define SEED_FILES (SEED_DIRS * SEED_PER_DIR)
#define SEED_LINES 40
#define NEW_LINES 30

enum side { CORRAL, GIT, NSIDE };
static const char *const side_name[NSIDE] = {"corral", "git"};

/* Phases timed per ticket; the last three are git's parts of PH_COMMIT. */
enum phase { PH_CREATE, PH_WRITE, PH_COMMIT, PH_ADD, PH_GCOMMIT, PH_DIFF, NPH };
static const char *const phase_name[NPH] = {
    "create worktree", "write files",  "commit+stats",
    "  git add -A",    "  git commit", "  git diff --shortstat"};

struct shortstat {
  size_t files, ins, del;
};

struct bench {
  int tickets, files, keep;
  const char *tmpdir;
  char *root, *repo[NSIDE], *wtdir[NSIDE];
  struct rt_repo *rt;
  double *ms[NSIDE][NPH];
  double *cpu[NSIDE]; /* create + commit, user + system */
  struct shortstat got[NSIDE];
  int mismatches;
};

static const struct rt_commit_meta bench_meta = {
    .mission = "bench", .task = "impl", .run = "r1", .agent = "bench"};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...) {
  va_list ap;

  fputs("worktree: fatal: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static double ts_ms(clockid_t clock) {
  struct timespec ts;

  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void) {
  return ts_ms(CLOCK_MONOTONIC);
}

/* This process's CPU time (user + system), children not included. */
static double cpu_ms(void) {
  return ts_ms(CLOCK_PROCESS_CPUTIME_ID);
}

/* ---- spawning git ------------------------------------------------------ */

/* Reads fd to EOF into out (NUL-terminated, truncated to n - 1 bytes; the
 * rest is read and dropped so that the writer never blocks). */
static void read_all(int fd, char *out, size_t n) {
  char sink[4096];
  size_t len = 0;
  ssize_t got;
  int room;

  for (;;) {
    room = len + 1 < n;
    got = room ? read(fd, out + len, n - 1 - len) : read(fd, sink, 4096);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    if (room)
      len += (size_t)got;
  }
  out[len] = '\0';
}

/* stdin on /dev/null; stdout on /dev/null, or on a new pipe p when
 * capturing. */
static void spawn_actions(posix_spawn_file_actions_t *fa, int capture,
                          int p[2]) {
  posix_spawn_file_actions_init(fa);
  posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
  if (!capture)
    posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
  else if (pipe2(p, O_CLOEXEC) < 0)
    die("pipe: %s", strerror(errno));
  else
    posix_spawn_file_actions_adddup2(fa, p[1], 1);
}

/* Runs argv (argv[0] looked up in PATH, no shell) with stdout on /dev/null,
 * or captured into out when out != NULL; stderr is inherited. Dies unless
 * it exits 0. Returns the CPU time (user + system) of the process and of
 * the processes it waited for (git worktree add runs three more: branch,
 * symbolic-ref and reset --hard). */
static double run(char *const argv[], char *out, size_t n) {
  posix_spawn_file_actions_t fa;
  int p[2] = {-1, -1}, status, rc;
  struct rusage ru;
  pid_t pid;

  spawn_actions(&fa, out != NULL, p);
  rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    die("cannot run %s: %s", argv[0], strerror(rc));
  if (out != NULL) {
    close(p[1]);
    read_all(p[0], out, n);
    close(p[0]);
  }
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR)
      die("wait4: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("%s %s %s ... failed (status %d)", argv[0], argv[1],
        argv[2] ? argv[2] : "", status);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* ---- the files --------------------------------------------------------- */

static void mkdir_or_die(const char *path) {
  if (mkdir(path, 0755) < 0 && errno != EEXIST)
    die("mkdir %s: %s", path, strerror(errno));
}

static void write_or_die(const char *path, const struct crl_buf *b) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0)
    die("open %s: %s", path, strerror(errno));
  if (write(fd, b->data, b->len) != (ssize_t)b->len)
    die("write %s: %s", path, strerror(errno));
  close(fd);
}

/* Seed file `file` as of ticket `ticket` (-1: the seed itself). A ticket
 * rewrites every eighth line and appends two, so each modified file counts
 * 7 insertions and 5 deletions. */
static void seed_text(struct crl_buf *b, int file, int ticket) {
  int l;

  crl_buf_reset(b);
  crl_buf_printf(b, "/* src/d%02d/f%02d.c */\n", file / SEED_PER_DIR,
                 file % SEED_PER_DIR);
  for (l = 1; l < SEED_LINES; l++) {
    if (ticket >= 0 && l % 8 == ticket % 8)
      crl_buf_printf(b, "  x%d = t%d_f%d(%d); /* ticket */\n", l, ticket, file,
                     l);
    else
      crl_buf_printf(b, "  x%d = f%03d(%d, x%d);\n", l, file, l * 7, l - 1);
  }
  if (ticket >= 0)
    crl_buf_printf(b, "/* ticket %d */\nint t%d_f%d_done;\n", ticket, ticket,
                   file);
}

static void seed_path(char *out, size_t n, const char *root, int file) {
  snprintf(out, n, "%s/src/d%02d/f%02d.c", root, file / SEED_PER_DIR,
           file % SEED_PER_DIR);
}

static void seed_write(const char *root) {
  struct crl_buf b;
  char path[PATH_MAX];
  int d, f;

  crl_buf_init(&b, 1 << 20);
  snprintf(path, sizeof(path), "%s/src", root);
  mkdir_or_die(path);
  for (d = 0; d < SEED_DIRS; d++) {
    snprintf(path, sizeof(path), "%s/src/d%02d", root, d);
    mkdir_or_die(path);
    for (f = 0; f < SEED_PER_DIR; f++) {
      seed_text(&b, d * SEED_PER_DIR + f, -1);
      seed_path(path, sizeof(path), root, d * SEED_PER_DIR + f);
      write_or_die(path, &b);
    }
  }
  crl_buf_printf(&b, "*.o\n");
  snprintf(path, sizeof(path), "%s/.gitignore", root);
  write_or_die(path, &b);
  crl_buf_close(&b);
}

static int nmodified(int files) {
  return files - files / 5;
}

static void new_files_write(struct crl_buf *b, const char *wt, int ticket,
                            int n) {
  char path[PATH_MAX];
  int i, l;

  snprintf(path, sizeof(path), "%s/src/t%03d", wt, ticket);
  mkdir_or_die(path);
  for (i = 0; i < n; i++) {
    crl_buf_reset(b);
    for (l = 0; l < NEW_LINES; l++)
      crl_buf_printf(b, "int t%d_n%d_%d = %d;\n", ticket, i, l, l * ticket);
    snprintf(path, sizeof(path), "%s/src/t%03d/n%02d.c", wt, ticket, i);
    write_or_die(path, b);
  }
}

/* The agent's work: the same change for a ticket on either side. Modified
 * files are spread over the seed (step 13 is prime to SEED_FILES, so they
 * are distinct). */
static void change_write(const char *wt, int ticket, int files) {
  struct crl_buf b;
  char path[PATH_MAX];
  int k, file;

  crl_buf_init(&b, 1 << 20);
  for (k = 0; k < nmodified(files); k++) {
    file = (ticket * 37 + k * 13) % SEED_FILES;
    seed_text(&b, file, ticket);
    seed_path(path, sizeof(path), wt, file);
    write_or_die(path, &b);
  }
  if (files > nmodified(files))
    new_files_write(&b, wt, ticket, files - nmodified(files));
  crl_buf_close(&b);
}

/* ---- setup ------------------------------------------------------------- */

/* Fixed identity and config for every git process, and for libgit2, which
 * reads HOME at init: no user or system config, auto-gc and maintenance off
 * (libgit2 never runs them, and a detached gc would land in the timings). */
static void env_setup(struct bench *b) {
  char *home;

  xasprintf(&home, "%s/home", b->root);
  mkdir_or_die(home);
  setenv("HOME", home, 1);
  setenv("XDG_CONFIG_HOME", home, 1);
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  setenv("GIT_AUTHOR_NAME", "corral (bench)", 1);
  setenv("GIT_AUTHOR_EMAIL", "corral@localhost", 1);
  setenv("GIT_COMMITTER_NAME", "corral (bench)", 1);
  setenv("GIT_COMMITTER_EMAIL", "corral@localhost", 1);
  setenv("LC_ALL", "C", 1);
  unsetenv("GIT_DIR");
  unsetenv("GIT_WORK_TREE");
  unsetenv("GIT_INDEX_FILE");
  free(home);
}

static void seed_repo(const char *seed) {
  char *init[] = {"git", "init", "-q", "-b", "main", (char *)seed, NULL};
  char *gc[] = {"git", "-C", (char *)seed, "config", "gc.auto", "0", NULL};
  char *mt[] = {"git",   "-C", (char *)seed, "config", "maintenance.auto",
                "false", NULL};
  char *add[] = {"git", "-C", (char *)seed, "add", "-A", NULL};
  char *ci[] = {"git", "-C", (char *)seed, "commit", "-q", "-m", "seed", NULL};

  mkdir_or_die(seed);
  seed_write(seed);
  run(init, NULL, 0);
  run(gc, NULL, 0);
  run(mt, NULL, 0);
  run(add, NULL, 0);
  run(ci, NULL, 0);
}

static void setup(struct bench *b) {
  char *seed, *cp[] = {"cp", "-a", NULL, NULL, NULL};
  struct crl_err err = CRL_ERR_INIT;
  int s;

  env_setup(b);
  xasprintf(&seed, "%s/seed", b->root);
  seed_repo(seed);
  cp[2] = seed;
  for (s = 0; s < NSIDE; s++) {
    xasprintf(&b->repo[s], "%s/%s-repo", b->root, side_name[s]);
    xasprintf(&b->wtdir[s], "%s/%s-wt", b->root, side_name[s]);
    cp[3] = b->repo[s];
    run(cp, NULL, 0);
  }
  free(seed);
  if (rt_repo_open(&b->rt, b->repo[CORRAL], &err) < 0)
    die("%s", err.msg);
}

/* ---- one ticket, each side --------------------------------------------- */

static void corral_ticket(struct bench *b, int i, const char *ticket,
                          const char *wt) {
  struct rt_commit_meta m = bench_meta;
  struct crl_err err = CRL_ERR_INIT;
  struct rt_commit_stat st;
  char *path;
  double c0 = cpu_ms(), t0 = now_ms(), t1, t2, c1, c2;

  if (rt_worktree_ensure(&path, b->rt, "bench", ticket, "main", wt, &err) < 0)
    die("rt_worktree_ensure %s: %s", ticket, err.msg);
  t1 = now_ms();
  c1 = cpu_ms();
  change_write(wt, i, b->files);
  c2 = cpu_ms();
  t2 = now_ms();
  m.ticket = ticket;
  if (rt_commit_run(&st, b->rt, wt, &m, &err) < 0)
    die("rt_commit_run %s: %s", ticket, err.msg);
  if (!st.changed)
    die("rt_commit_run %s: no change committed", ticket);
  b->ms[CORRAL][PH_COMMIT][i] = now_ms() - t2;
  b->cpu[CORRAL][i] = cpu_ms() - c2 + c1 - c0;
  b->ms[CORRAL][PH_CREATE][i] = t1 - t0;
  b->ms[CORRAL][PH_WRITE][i] = t2 - t1;
  b->got[CORRAL] = (struct shortstat){st.files, st.insertions, st.deletions};
  rt_commit_stat_close(&st);
  free(path);
}

/* " 50 files changed, 290 insertions(+), 200 deletions(-)"; either count
 * may be missing. */
static struct shortstat shortstat_parse(const char *s) {
  struct shortstat st = {0};
  size_t v;
  char *end;

  while (*s != '\0') {
    v = strtoul(s, &end, 10);
    if (end == s) {
      s++;
      continue;
    }
    s = end + strspn(end, " ");
    if (strncmp(s, "file", 4) == 0)
      st.files = v;
    else if (strncmp(s, "insertion", 9) == 0)
      st.ins = v;
    else if (strncmp(s, "deletion", 8) == 0)
      st.del = v;
  }
  return st;
}

static double git_commit_spawn(const char *wt, const char *ticket) {
  char *trailers;
  double cpu;
  char *argv[] = {"git", "-C",           (char *)wt, "commit", "-q",
                  "-m",  "impl: run r1", "-m",       NULL,     NULL};

  xasprintf(&trailers,
            "Corral-Mission: bench\nCorral-Ticket: %s\nCorral-Task: impl\n"
            "Corral-Run: r1\nCorral-Agent: bench",
            ticket);
  argv[8] = trailers;
  cpu = run(argv, NULL, 0);
  free(trailers);
  return cpu;
}

static void git_ticket(struct bench *b, int i, const char *ticket,
                       const char *wt) {
  char *branch, out[512];
  char *add_wt[] = {"git", "-C", b->repo[GIT], "worktree", "add", "-q",
                    "-b",  NULL, (char *)wt,   "main",     NULL};
  char *add[] = {"git", "-C", (char *)wt, "add", "-A", NULL};
  char *diff[] = {"git",         "-C",     (char *)wt, "diff",
                  "--shortstat", "HEAD~1", "HEAD",     NULL};
  double t[6], cpu;

  xasprintf(&branch, "corral/bench/%s", ticket);
  add_wt[7] = branch;
  t[0] = now_ms();
  cpu = run(add_wt, NULL, 0);
  t[1] = now_ms();
  change_write(wt, i, b->files);
  t[2] = now_ms();
  cpu += run(add, NULL, 0);
  t[3] = now_ms();
  cpu += git_commit_spawn(wt, ticket);
  t[4] = now_ms();
  cpu += run(diff, out, sizeof(out));
  t[5] = now_ms();
  b->cpu[GIT][i] = cpu;
  b->got[GIT] = shortstat_parse(out);
  b->ms[GIT][PH_CREATE][i] = t[1] - t[0];
  b->ms[GIT][PH_WRITE][i] = t[2] - t[1];
  b->ms[GIT][PH_ADD][i] = t[3] - t[2];
  b->ms[GIT][PH_GCOMMIT][i] = t[4] - t[3];
  b->ms[GIT][PH_DIFF][i] = t[5] - t[4];
  b->ms[GIT][PH_COMMIT][i] = t[5] - t[2];
  free(branch);
}

static void ticket_run(struct bench *b, int i, enum side s) {
  char ticket[32], *wt;

  snprintf(ticket, sizeof(ticket), "T-%03d", i);
  xasprintf(&wt, "%s/%s", b->wtdir[s], ticket);
  if (s == CORRAL)
    corral_ticket(b, i, ticket, wt);
  else
    git_ticket(b, i, ticket, wt);
  free(wt);
}

/* Both sides, the first one alternating; then their stats must agree. */
static void tickets_run(struct bench *b) {
  const struct shortstat *c = &b->got[CORRAL], *g = &b->got[GIT];
  int i;

  for (i = 0; i < b->tickets; i++) {
    ticket_run(b, i, i % 2 ? GIT : CORRAL);
    ticket_run(b, i, i % 2 ? CORRAL : GIT);
    if (c->files != g->files || c->ins != g->ins || c->del != g->del) {
      fprintf(stderr,
              "worktree: T-%03d: corral %zu/%zu/%zu, git %zu/%zu/%zu "
              "(files/insertions/deletions)\n",
              i, c->files, c->ins, c->del, g->files, g->ins, g->del);
      b->mismatches++;
    }
  }
}

/* ---- figures ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

struct summary {
  double median, p90, mean, total;
};

static struct summary summarize(const double *v, int n) {
  double *s = xmalloc((size_t)n * sizeof(*s));
  struct summary r = {0};
  int i;

  memcpy(s, v, (size_t)n * sizeof(*s));
  qsort(s, (size_t)n, sizeof(*s), cmp_double);
  for (i = 0; i < n; i++)
    r.total += s[i];
  r.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  r.p90 = s[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1];
  r.mean = r.total / n;
  free(s);
  return r;
}

static void phase_print(struct bench *b, enum phase p, enum side s) {
  struct summary r = summarize(b->ms[s][p], b->tickets);

  printf("%-24s %-6s %8.2f %8.2f %8.2f %9.2f\n", phase_name[p], side_name[s],
         r.median, r.p90, r.mean, r.total / 1e3);
}

/* Median of a phase over tickets [from, to): does it grow with the number
 * of worktrees and branches? */
static double median_range(struct bench *b, enum side s, enum phase p, int from,
                           int to) {
  return summarize(b->ms[s][p] + from, to - from).median;
}

static void trend_print(struct bench *b) {
  int q = b->tickets / 10 > 0 ? b->tickets / 10 : 1;
  enum phase ph[] = {PH_CREATE, PH_COMMIT};
  size_t k;
  int s;

  if (b->tickets < 2 * q)
    return;
  printf("first/last %d tickets (median ms):", q);
  for (k = 0; k < CRL_ARRAY_SIZE(ph); k++)
    for (s = 0; s < NSIDE; s++)
      printf(" %s %s %.2f/%.2f;", side_name[s],
             ph[k] == PH_CREATE ? "create" : "commit",
             median_range(b, s, ph[k], 0, q),
             median_range(b, s, ph[k], b->tickets - q, b->tickets));
  printf("\n");
}

/* Median over tickets of create + commit+stats, wall clock. */
static double ticket_median(struct bench *b, enum side s) {
  double *tot = xmalloc((size_t)b->tickets * sizeof(double)), med;
  int i;

  for (i = 0; i < b->tickets; i++)
    tot[i] = b->ms[s][PH_CREATE][i] + b->ms[s][PH_COMMIT][i];
  med = summarize(tot, b->tickets).median;
  free(tot);
  return med;
}

/* CPU time moves far less than wall time when the machine is busy. */
static void cpu_print(struct bench *b) {
  double c = summarize(b->cpu[CORRAL], b->tickets).median;
  double g = summarize(b->cpu[GIT], b->tickets).median;

  printf("cpu per ticket (create + commit+stats, user + system, median ms): "
         "corral %.2f git %.2f ratio %.2f\n",
         c, g, c / g);
}

static void report(struct bench *b) {
  double c = ticket_median(b, CORRAL), g = ticket_median(b, GIT);
  enum phase p;
  int s;

  printf("%-24s %-6s %8s %8s %8s %9s\n", "phase (ms per ticket)", "side",
         "median", "p90", "mean", "total_s");
  for (p = 0; p < NPH; p++)
    for (s = 0; s < NSIDE; s++)
      if (p < PH_ADD || s == GIT)
        phase_print(b, p, s);
  trend_print(b);
  cpu_print(b);
  printf("stats: %d of %d tickets agree with git diff --shortstat\n",
         b->tickets - b->mismatches, b->tickets);
  printf("RESULT worktree corral_ms=%.2f git_ms=%.2f ratio=%.2f\n", c, g,
         c / g);
}

/* ---- main -------------------------------------------------------------- */

static const char *fs_name(const char *path) {
  struct statfs sf;

  if (statfs(path, &sf) < 0)
    return "?";
  switch ((unsigned long)sf.f_type) {
  case 0xef53UL:
    return "ext4";
  case 0x01021994UL:
    return "tmpfs";
  case 0x794c7630UL:
    return "overlay";
  case 0x58465342UL:
    return "xfs";
  case 0x9123683eUL:
    return "btrfs";
  default:
    return "other";
  }
}

static void header_print(struct bench *b) {
  char out[128];
  char *ver[] = {"git", "--version", NULL};
  int maj, min, rev;

  run(ver, out, sizeof(out));
  out[strcspn(out, "\n")] = '\0';
  git_libgit2_version(&maj, &min, &rev);
  printf("worktree: %d tickets, %d-file change (%d modified, %d new) on a "
         "%d-file repo; %s, libgit2 %d.%d.%d; %s (%s)\n",
         b->tickets, b->files, nmodified(b->files),
         b->files - nmodified(b->files), SEED_FILES, out, maj, min, rev,
         b->root, fs_name(b->root));
  fflush(stdout);
}

static void usage(void) {
  fprintf(stderr, "usage: worktree [--tickets N] [--files N] [--tmpdir DIR] "
                  "[--keep]\n");
  exit(2);
}

static int int_arg(const char *s, int lo, int hi) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s ? s : "", &end, 10);
  if (errno != 0 || s == NULL || *end != '\0' || v < lo || v > hi)
    usage();
  return (int)v;
}

static void args_parse(struct bench *b, int argc, char **argv) {
  int i;

  b->tickets = 200;
  b->files = 50;
  b->tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tickets") == 0)
      b->tickets = int_arg(argv[++i], 1, 100000);
    else if (strcmp(argv[i], "--files") == 0)
      b->files = int_arg(argv[++i], 1, SEED_FILES);
    else if (strcmp(argv[i], "--tmpdir") == 0 && i + 1 < argc)
      b->tmpdir = argv[++i];
    else if (strcmp(argv[i], "--keep") == 0)
      b->keep = 1;
    else
      usage();
  }
}

static void bench_alloc(struct bench *b) {
  int s, p;

  xasprintf(&b->root, "%s/corral-bench-wt-XXXXXX", b->tmpdir);
  if (mkdtemp(b->root) == NULL)
    die("mkdtemp %s: %s", b->root, strerror(errno));
  for (s = 0; s < NSIDE; s++) {
    b->cpu[s] = xcalloc((size_t)b->tickets, sizeof(double));
    for (p = 0; p < NPH; p++)
      b->ms[s][p] = xcalloc((size_t)b->tickets, sizeof(double));
  }
}

static void bench_free(struct bench *b) {
  char *rm[] = {"rm", "-rf", b->root, NULL};
  int s, p;

  rt_repo_free(b->rt);
  if (b->keep)
    printf("kept %s\n", b->root);
  else
    run(rm, NULL, 0);
  for (s = 0; s < NSIDE; s++) {
    for (p = 0; p < NPH; p++)
      free(b->ms[s][p]);
    free(b->cpu[s]);
    free(b->repo[s]);
    free(b->wtdir[s]);
  }
  free(b->root);
}

int main(int argc, char **argv) {
  struct bench b = {0};
  int mismatches;

  args_parse(&b, argc, argv);
  bench_alloc(&b);
  setup(&b);
  git_libgit2_init();
  header_print(&b);
  tickets_run(&b);
  report(&b);
  mismatches = b.mismatches;
  bench_free(&b);
  git_libgit2_shutdown();
  return mismatches ? 1 : 0;
}
