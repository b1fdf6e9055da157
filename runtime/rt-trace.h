/*
 * Traces in the runtime (issue 7): the git bundle of a mission's ticket
 * branches, export of a mission to a trace file and import back, events-mode
 * and agents-mode replay, the report formats (OpenTelemetry, ATIF, JUnit,
 * Markdown) and CI mode. The trace file's SQL lives in store/trace.c and
 * store/import.c; this side adds the files (mission text, run logs, bundle).
 */
#ifndef RT_TRACE_H
#define RT_TRACE_H

#include <git2.h>
#include <stdio.h>

#include "crl.h"
#include "store.h"

extern const struct rt_cmd rt_cmd_export;
extern const struct rt_cmd rt_cmd_import;
extern const struct rt_cmd rt_cmd_replay;

/*
 * Writes a git bundle (v2) of `refs` (full ref names, e.g.
 * refs/heads/corral/m/T) of the repository at repo_path into out: the
 * header lists each ref with its commit, then a pack of everything they
 * reach (no prerequisites: the bundle stands alone). Refs that do not exist
 * are left out; *nrefs_out says how many went in.
 */
int rt_bundle_write(struct crl_buf *out, const char *repo_path,
                    char *const *refs, size_t nrefs, size_t *nrefs_out,
                    struct crl_err *err);

/*
 * Reads a bundle from rt_bundle_write into repo: its pack into the object
 * store, each branch refs/heads/X as `prefix`X (e.g. "refs/recorded/").
 * CRL_EPARSE for anything but a self-contained v2 bundle of branches.
 */
int rt_bundle_read(git_repository *repo, const char *data, size_t len,
                   const char *prefix, struct crl_err *err);

/* Exports `mission` of st to a new trace file at path (refused when it
 * exists). */
int rt_trace_export(struct store *st, const char *mission, const char *path,
                    struct crl_err *err);

/* Imports the trace at path into the state dir (its store st) as `as` (NULL:
 * the recorded name): rows, run logs into runs/<id>/output.log, and the
 * bundle to bundles/<as>.bundle. *as_out gets the name used (heap). */
int rt_trace_import(struct store *st, const char *state_dir, const char *path,
                    const char *as, char **as_out, struct crl_err *err);

/* The mission id a trace holds (heap). */
int rt_trace_mission(char **out, struct store *tr, struct crl_err *err);

/* The mission file a trace recorded, loaded (relative paths against the
 * directory it was run from). */
int rt_replay_mission(struct msn_mission **out, struct store *tr,
                      const char *id, struct crl_err *err);

/* Events-mode replay of a trace: see replay.c. */
struct rt_replay_opts {
  int jobs;  /* 0: inferred from the recorded concurrency */
  int quiet; /* no progress lines */
};

struct rt_replay_result {
  int identical;
  int64_t seq; /* the first divergent event, 0 at the end of the trace */
  char expected[512];
  char got[512];
  size_t events;    /* recorded events read */
  size_t decisions; /* state changes and starts compared */
  int jobs;         /* the slot count used */
};

int rt_replay_events(struct rt_replay_result *out, struct store *tr,
                     const struct rt_replay_opts *o, struct crl_err *err);

/* Agents-mode replay (replay-agents.c): re-runs the agents in a fresh
 * repository from the bundle (under work_dir, or a temporary directory
 * removed afterwards), LLM CLIs against the recorded LLM answers, and
 * compares trees per ticket, printing to fp. Returns 0 identical, 1
 * diverged, or < 0 when it cannot replay (no repo, no bundle, a truncated
 * recorded answer) with the reason in err. */
int rt_replay_agents(struct store *tr, const char *work_dir, FILE *fp,
                     struct crl_err *err);

/* The recorded LLM answers of a trace's runs (replay-llm.c). */
struct rt_llm_replay;
struct rt_gw_replay;
/* Loads every recorded call of `mission` in tr. CRL_EPARSE when a response
 * was truncated at record; *out is the caller's (rt_llm_replay_free). */
int rt_llm_replay_load(struct rt_llm_replay **out, struct store *tr,
                       const char *mission, struct crl_err *err);
void rt_llm_replay_free(struct rt_llm_replay *lr);
/* The answers recorded for task's run of that attempt (borrowed; an empty
 * list, never NULL, when the trace has no such run). */
void rt_llm_replay_find(const struct rt_llm_replay *lr, const char *task,
                        int attempt, const struct rt_gw_replay **list,
                        size_t *n);

/* Reports (report-*.c): each writes one format for `mission` of st. */
int rt_report_junit(FILE *fp, struct store *st, const char *mission,
                    struct crl_err *err);
int rt_report_md(FILE *fp, struct store *st, const char *mission,
                 struct crl_err *err);
int rt_report_otel(FILE *fp, struct store *st, const char *mission,
                   struct crl_err *err);
int rt_report_atif(FILE *fp, struct store *st, const char *mission,
                   struct crl_err *err);

/* The last `max` bytes of a run's output.log (heap, NUL-terminated) or
 * NULL. */
char *rt_report_log_tail(const char *run_dir, size_t max);

#endif
