/*
 * corral run FILE: runs a mission in the foreground until every task is
 * done, with a live view on a terminal, plain lines otherwise, or JSON
 * Lines with --json. Running the same file on the same state dir resumes.
 * --replay-llm TRACE answers the LLM CLIs from a trace's recorded calls
 * (replay-llm.c), as agents-mode replay does.
 */
#include "rt-ci.h"
#include "rt-trace.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_usage(FILE *fp) {
  fputs("usage: corral run [--state-dir DIR] [--jobs N] [--json]\n"
        "                  [--ci --out DIR] [--replay-llm TRACE] FILE\n\n"
        "Runs the mission in FILE in the foreground. Running the same file\n"
        "on the same state dir again resumes it: completed tasks are kept\n"
        "and live runs are re-attached.\n\n"
        "  --state-dir DIR  where the store and run logs live\n"
        "                   (default $XDG_STATE_HOME/corral)\n"
        "  -j, --jobs N     run at most N tasks at once (default: cores)\n"
        "  --json           print events as JSON Lines on stdout\n"
        "  -q, --quiet      print nothing but errors\n"
        "  --ci             never wait for a human (review gates follow the\n"
        "                   mission's ci: { review: approve|fail }, default\n"
        "                   fail); write --out DIR/trace.corral, junit.xml,\n"
        "                   summary.md; use $GITHUB_STEP_SUMMARY,\n"
        "                   $GITHUB_OUTPUT and, with GITHUB_ACTIONS=true,\n"
        "                   ::group:: and ::error:: annotations\n"
        "  --replay-llm TRACE  LLM CLIs get the answers TRACE recorded for\n"
        "                   the same task and attempt; nothing reaches the\n"
        "                   network\n\n"
        "Exit status: 0 all tasks completed, 1 a task failed or was skipped,\n"
        "2 usage or validation error, 4 a limit was exceeded, 5 cancelled.\n",
        fp);
}

char *rt_shim_path(void) {
  char self[PATH_MAX], *slash, *out;
  const char *env = getenv("CORRAL_SHIM");
  ssize_t n;

  if (env != NULL && env[0] != '\0')
    return xstrdup(env);
  n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return xstrdup("corral-shim");
  self[n] = '\0';
  slash = strrchr(self, '/');
  *slash = '\0';
  xasprintf(&out, "%s/corral-shim", self);
  return out;
}

struct run_args {
  const char *state_dir;
  const char *file;
  const char *out;        /* --out, with --ci */
  const char *replay_llm; /* --replay-llm TRACE */
  int ci;
  void (*on_commit)(struct rt_engine *e, void *payload); /* --ci */
  int jobs;
  enum rt_view_mode view;
};

static int run_parse(struct run_args *a, int argc, char **argv) {
  static const struct option opts[] = {
      {"state-dir", required_argument, 0, 's'},
      {"jobs", required_argument, 0, 'j'},
      {"json", no_argument, 0, 'J'},
      {"quiet", no_argument, 0, 'q'},
      {"ci", no_argument, 0, 'C'},
      {"out", required_argument, 0, 'o'},
      {"replay-llm", required_argument, 0, 'L'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  char *end;
  int c;

  a->jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
  a->view = isatty(STDOUT_FILENO) ? RT_VIEW_TTY : RT_VIEW_PLAIN;
  while ((c = getopt_long(argc, argv, "s:j:qh", opts, NULL)) != -1) {
    if (c == 's')
      a->state_dir = optarg;
    else if (c == 'j' &&
             ((a->jobs = (int)strtol(optarg, &end, 10)) < 1 || *end))
      return rt_errorf("--jobs needs a positive integer, got '%s'", optarg), -1;
    else if (c == 'J')
      a->view = RT_VIEW_JSON;
    else if (c == 'q')
      a->view = RT_VIEW_QUIET;
    else if (c == 'C')
      a->ci = 1;
    else if (c == 'o')
      a->out = optarg;
    else if (c == 'L')
      a->replay_llm = optarg;
    else if (c == 'h')
      return run_usage(stdout), 1;
    else if (c != 'j')
      return run_usage(stderr), -1;
  }
  if (optind != argc - 1)
    return run_usage(stderr), -1;
  if (a->ci != (a->out != NULL))
    return rt_errorf("--ci and --out DIR go together"), -1;
  a->file = argv[optind];
  return 0;
}

/* --replay-llm: the recorded answers of the trace's mission. */
static int run_llm_replay(struct rt_llm_replay **out, const char *path,
                          struct crl_err *err) {
  struct store *tr = NULL;
  char *id = NULL;
  int rc;

  *out = NULL;
  if (path == NULL)
    return 0;
  if ((rc = store_trace_open(&tr, path, 1, err)) == 0 &&
      (rc = rt_trace_mission(&id, tr, err)) == 0)
    rc = rt_llm_replay_load(out, tr, id, err);
  free(id);
  store_close(tr);
  return rc;
}

static int run_mission(const struct run_args *a, struct msn_mission *m) {
  struct rt_engine_opts o = {0};
  struct crl_err err = CRL_ERR_INIT;
  struct rt_llm_replay *lr = NULL;
  struct rt_engine e;
  char *dir = NULL, *shim = rt_shim_path();
  uv_loop_t loop;
  int code = RT_EXIT_USAGE;

  uv_loop_init(&loop);
  if (rt_statedir(&dir, a->state_dir, &err) < 0 ||
      run_llm_replay(&lr, a->replay_llm, &err) < 0)
    goto out;
  o.llm_replay = lr;
  o.state_dir = dir;
  o.shim_path = shim;
  o.jobs = a->jobs;
  o.view = a->view;
  o.on_commit = a->on_commit;
  if (rt_engine_init(&e, &loop, &o, m, &err) < 0) {
    code = err.code == CRL_EVALIDATION_FAILED || err.code == CRL_ECYCLE
               ? RT_EXIT_USAGE
               : RT_EXIT_FAILED;
    rt_engine_abort(&e);
  } else {
    code = rt_engine_run(&e);
    rt_engine_close(&e);
  }
out:
  if (uv_loop_close(&loop) != 0)
    log_warn("loop closed with live handles");
  if (err.code != 0)
    rt_errorf("fatal: %s", err.msg);
  rt_llm_replay_free(lr);
  free(dir);
  free(shim);
  return code;
}

static int run_once(struct msn_mission *m, void *payload) {
  return run_mission(payload, m);
}

/* --ci: the state dir is resolved once, for the engine and the reports. */
static int run_ci(struct run_args *a, struct msn_mission *m) {
  struct rt_ci_opts o = {NULL, a->out, run_once, a};
  struct crl_err err = CRL_ERR_INIT;
  char *dir = NULL;
  int code;

  if (rt_statedir(&dir, a->state_dir, &err) < 0) {
    rt_errorf("fatal: %s", err.msg);
    return RT_EXIT_USAGE;
  }
  a->state_dir = o.state_dir = dir;
  a->on_commit = rt_ci_on_commit;
  code = rt_ci_run(&o, m);
  free(dir);
  return code;
}

/* Loads the mission file, printing its diagnostics on failure. */
static int run_load(struct msn_mission **m, const char *file) {
  struct msn_diags d;
  int rc;

  msn_diags_init(&d);
  if ((rc = msn_load_file(m, file, &d)) < 0) {
    msn_diags_print(&d, stderr);
    if (d.n == 0)
      rt_errorf("fatal: unable to load %s", file);
  }
  msn_diags_close(&d);
  return rc;
}

int rt_run_file(const char *state_dir, const char *file,
                enum rt_view_mode view) {
  struct run_args a = {.state_dir = state_dir, .file = file, .view = view};
  struct msn_mission *m = NULL;
  int rc;

  a.jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (run_load(&m, file) < 0)
    return RT_EXIT_USAGE;
  rc = run_mission(&a, m);
  msn_mission_free(m);
  return rc;
}

static int run_exec(int argc, char **argv) {
  struct msn_mission *m = NULL;
  struct run_args a = {0};
  int rc;

  if ((rc = run_parse(&a, argc, argv)) != 0)
    return rc > 0 ? RT_EXIT_OK : RT_EXIT_USAGE;
  if (run_load(&m, a.file) < 0)
    return RT_EXIT_USAGE;
  rc = a.ci ? run_ci(&a, m) : run_mission(&a, m);
  msn_mission_free(m);
  return rc;
}

const struct rt_cmd rt_cmd_run = {"run", "run [OPTIONS] FILE",
                                  "run a mission in the foreground", run_exec};
