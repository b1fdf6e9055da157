/*
 * corral replay FILE: re-drives a trace. Events mode (the default) replays
 * the scheduler against the recorded inputs with no agents and reports
 * "identical" or the first divergence; --agents runs the agents again in
 * fresh worktrees (LLM CLIs against the recorded LLM answers) and compares
 * the commit trees per ticket.
 */
#include "rt-int.h"
#include "rt-trace.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void replay_usage(FILE *fp) {
  fputs("usage: corral replay [--agents [--work-dir DIR]] [--jobs N]\n"
        "                     [--replay-llm] [--no-verify] [--json] FILE\n\n"
        "Events mode (default): re-drives the scheduler from the trace's\n"
        "recorded inputs (mission file, run outcomes and their times, review\n"
        "decisions, cancellations) on a virtual clock, with no agents, and\n"
        "prints `identical` or the first divergence.\n"
        "  --jobs N     global slots (default: inferred from the trace)\n"
        "  --agents     run the agents again in fresh worktrees from the\n"
        "               recorded base and compare the trees per ticket\n"
        "  --work-dir D where --agents puts its repository (default: a\n"
        "               temporary directory, removed afterwards)\n"
        "  --replay-llm LLM CLIs get the recorded LLM answers, nothing\n"
        "               reaches the network (always so with --agents)\n"
        "  --no-verify  skip the checksum: replay a trace edited by hand\n"
        "               (what if this run had failed?)\n"
        "Exit status: 0 identical, 1 diverged, 2 usage or unreadable trace.\n",
        fp);
}

struct replay_args {
  const char *file, *work_dir;
  int agents, llm, json, jobs, no_verify;
};

static int replay_parse(struct replay_args *a, int argc, char **argv) {
  static const struct option opts[] = {{"agents", no_argument, 0, 'a'},
                                       {"jobs", required_argument, 0, 'j'},
                                       {"work-dir", required_argument, 0, 'w'},
                                       {"replay-llm", no_argument, 0, 'L'},
                                       {"json", no_argument, 0, 'J'},
                                       {"no-verify", no_argument, 0, 'N'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  while ((c = getopt_long(argc, argv, "aj:w:h", opts, NULL)) != -1) {
    if (c == 'a')
      a->agents = 1;
    else if (c == 'j' && (a->jobs = atoi(optarg)) < 1)
      return rt_errorf("--jobs needs a positive integer"), -1;
    else if (c == 'w')
      a->work_dir = optarg;
    else if (c == 'L')
      a->llm = 1;
    else if (c == 'J')
      a->json = 1;
    else if (c == 'N')
      a->no_verify = 1;
    else if (c != 'j')
      return replay_usage(c == 'h' ? stdout : stderr), c == 'h' ? 1 : -1;
  }
  if (argc - optind != 1)
    return replay_usage(stderr), -1;
  a->file = argv[optind];
  return 0;
}

static double replay_secs(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void replay_print(const struct rt_replay_result *r, double secs,
                         int json) {
  if (json) {
    printf("{\"identical\":%s,\"seq\":%lld,\"expected\":\"%s\",\"got\":"
           "\"%s\",\"events\":%zu,\"decisions\":%zu,\"jobs\":%d,"
           "\"seconds\":%.6f}\n",
           r->identical ? "true" : "false", (long long)r->seq, r->expected,
           r->got, r->events, r->decisions, r->jobs, secs);
    return;
  }
  if (r->identical)
    printf("identical\n");
  else if (r->seq > 0)
    printf("divergence at event %lld: expected %s, got %s\n", (long long)r->seq,
           r->expected, r->got);
  else
    printf("divergence at the end of the trace: expected %s, got %s\n",
           r->expected, r->got);
  fprintf(stderr,
          "corral: replayed %zu events (%zu decisions compared, %d slots) in "
          "%.3f s\n",
          r->events, r->decisions, r->jobs, secs);
}

static int replay_events_mode(const struct replay_args *a, struct store *tr,
                              struct crl_err *err) {
  struct rt_replay_opts o = {a->jobs, 0};
  struct rt_replay_result res;
  double t0 = replay_secs();
  int rc;

  if ((rc = rt_replay_events(&res, tr, &o, err)) < 0)
    return rc;
  replay_print(&res, replay_secs() - t0, a->json);
  return res.identical ? RT_EXIT_OK : RT_EXIT_FAILED;
}

static int replay_exec(int argc, char **argv) {
  struct crl_err err = CRL_ERR_INIT;
  struct replay_args a = {0};
  struct store *tr = NULL;
  int rc;

  if ((rc = replay_parse(&a, argc, argv)) != 0)
    return rc > 0 ? RT_EXIT_OK : RT_EXIT_USAGE;
  if ((rc = store_trace_open(&tr, a.file, !a.no_verify, &err)) == 0) {
    if (a.agents)
      rc = rt_replay_agents(tr, a.work_dir, stdout, &err);
    else
      rc = replay_events_mode(&a, tr, &err);
  }
  if (rc < 0)
    rt_errorf("fatal: %s", err.msg[0] ? err.msg : crl_strerror(rc));
  store_close(tr);
  return rc < 0 ? RT_EXIT_USAGE : rc;
}

const struct rt_cmd rt_cmd_replay = {"replay", "replay [--agents] FILE",
                                     "re-drive a trace and compare",
                                     replay_exec};
