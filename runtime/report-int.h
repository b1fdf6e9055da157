/*
 * The model every report format reads (report.c): a mission's tasks with
 * their runs, the events each run recorded (messages, tool calls) and the
 * LLM calls its gateway port answered, loaded once from a store or a trace.
 * A run's token usage and cost are the sums of its LLM calls when the
 * gateway recorded any, else of its "usage" events (no cost then).
 */
#ifndef REPORT_INT_H
#define REPORT_INT_H

#include <jansson.h>

#include "rt-int.h"
#include "rt-trace.h"

struct rt_usage {
  int64_t input, output, cache_read, cache_write;
  double cost_usd; /* only when the usage or the gateway said so */
  int has_cost;
};

struct rt_report_run {
  int64_t id;
  int attempt;
  char *reason;
  int exit_code;
  int64_t started_at, ended_at;
  struct rt_usage usage;
  json_t *events; /* array of {seq, ts, kind, data (parsed or string)} */
  /* The gateway's records: array of {seq, ts, provider, api, model,
   * response_model (or absent), status, stream, latency_ms, input, output,
   * cache_read, cache_write, usd (priced calls only)}, and their sums. */
  json_t *llm;
  struct rt_usage llm_usage;
};

struct rt_report_task {
  char *id, *ticket, *agent, *state, *reason;
  int attempts;
  int64_t started_at, ended_at;
  struct rt_usage usage;
  struct rt_report_run *runs;
  size_t nruns;
};

struct rt_report {
  char *mission, *state;
  int64_t created_at, updated_at;
  struct rt_report_task *tasks;
  size_t ntasks;
  json_t *commits; /* array of {ticket, task, run, sha, files, ins, del} */
  struct store *st;
  size_t hint; /* the task found last */
};

int rt_report_load(struct rt_report *out, struct store *st, const char *mission,
                   struct crl_err *err);
void rt_report_close(struct rt_report *r);
/* The last `max` bytes of a run's log, from its directory or the trace
 * (heap, NUL-terminated), or NULL. */
char *rt_report_run_log_tail(struct rt_report *r, int64_t run, size_t max);
/* Counts per outcome: completed, failed (incl. rejected), skipped (skipped,
 * cancelled and anything not finished). */
void rt_report_counts(const struct rt_report *r, size_t *ok, size_t *failed,
                      size_t *skipped);
/* Writes s as XML character data / attribute text: escapes &<>"' and
 * drops bytes XML 1.0 forbids or that are not UTF-8. */
void rt_report_xml(FILE *fp, const char *s);

#endif
