/*
 * The Markdown summary: the mission's outcome, one table row per task
 * (ticket, state, attempts, duration, tokens, cost, end reason) and the
 * commits on ticket branches. It is what CI mode appends to
 * $GITHUB_STEP_SUMMARY. Cost shows "-" until the LLM gateway records it.
 */
#include "report-int.h"

#include <string.h>

/* Table cells: a '|' or a newline would break the row. */
static void md_cell(FILE *fp, const char *s) {
  for (; s != NULL && *s; s++)
    if (*s == '|')
      fputs("\\|", fp);
    else
      fputc(*s == '\n' || *s == '\r' ? ' ' : *s, fp);
}

static void md_duration(FILE *fp, int64_t from, int64_t to) {
  if (from <= 0 || to < from)
    fputs("-", fp);
  else
    fprintf(fp, "%.1fs", (double)(to - from) / 1000.0);
}

static void md_cost(FILE *fp, const struct rt_usage *u) {
  if (u->has_cost)
    fprintf(fp, "$%.4f", u->cost_usd);
  else
    fputs("-", fp);
}

static void md_task(FILE *fp, const struct rt_report_task *k) {
  fputs("| ", fp);
  md_cell(fp, k->id);
  fputs(" | ", fp);
  md_cell(fp, k->ticket);
  fprintf(fp, " | %s | %d | ", k->state, k->attempts);
  md_duration(fp, k->started_at, k->ended_at);
  fprintf(fp, " | %lld | ",
          (long long)(k->usage.input + k->usage.output + k->usage.cache_read +
                      k->usage.cache_write));
  md_cost(fp, &k->usage);
  fputs(" | ", fp);
  md_cell(fp, k->reason);
  fputs(" |\n", fp);
}

static void md_commits(FILE *fp, const struct rt_report *r) {
  size_t i;
  json_t *c;

  if (json_array_size(r->commits) == 0)
    return;
  fputs("\n### Commits\n\n| ticket | task | commit | files | + | - |\n"
        "|---|---|---|---:|---:|---:|\n",
        fp);
  json_array_foreach(r->commits, i, c) {
    fputs("| ", fp);
    md_cell(fp, json_string_value(json_object_get(c, "ticket")));
    fputs(" | ", fp);
    md_cell(fp, json_string_value(json_object_get(c, "task")));
    fprintf(fp, " | `%.12s` | %lld | %lld | %lld |\n",
            json_string_value(json_object_get(c, "sha")),
            (long long)json_integer_value(json_object_get(c, "files")),
            (long long)json_integer_value(json_object_get(c, "insertions")),
            (long long)json_integer_value(json_object_get(c, "deletions")));
  }
}

static void md_write(FILE *fp, const struct rt_report *r) {
  size_t ok, failed, skipped;
  struct rt_usage total = {0};

  rt_report_counts(r, &ok, &failed, &skipped);
  for (size_t i = 0; i < r->ntasks; i++) {
    total.input += r->tasks[i].usage.input + r->tasks[i].usage.cache_read +
                   r->tasks[i].usage.cache_write;
    total.output += r->tasks[i].usage.output;
    total.cost_usd += r->tasks[i].usage.cost_usd;
    total.has_cost |= r->tasks[i].usage.has_cost;
  }
  fprintf(fp, "## corral mission `%s`: %s\n\n", r->mission, r->state);
  fprintf(fp,
          "%zu tasks: %zu completed, %zu failed, %zu not completed; "
          "tokens %lld in, %lld out; ",
          r->ntasks, ok, failed, skipped, (long long)total.input,
          (long long)total.output);
  if (total.has_cost)
    fprintf(fp, "cost $%.4f; ", total.cost_usd);
  fputs("wall ", fp);
  md_duration(fp, r->created_at, r->updated_at);
  fputs("\n\n| task | ticket | state | attempts | duration | tokens | cost "
        "| reason |\n|---|---|---|---:|---:|---:|---:|---|\n",
        fp);
  for (size_t i = 0; i < r->ntasks; i++)
    md_task(fp, &r->tasks[i]);
  md_commits(fp, r);
}

int rt_report_md(FILE *fp, struct store *st, const char *mission,
                 struct crl_err *err) {
  struct rt_report r;
  int rc;

  if ((rc = rt_report_load(&r, st, mission, err)) == 0)
    md_write(fp, &r);
  rt_report_close(&r);
  return rc;
}
