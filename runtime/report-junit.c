/*
 * JUnit XML: the mission is one <testsuite>, each task a <testcase> (class
 * name mission.ticket), a failed or rejected task a <failure> whose message
 * is its end reason and whose text is the tail of its last run's log, and a
 * task that never completed for another reason (skipped, cancelled, waiting
 * for a review) a <skipped>. Jenkins, GitLab and the GitHub test-report
 * actions read this shape; tests/data/junit.xsd checks it.
 */
#include "report-int.h"

#include <stdlib.h>
#include <string.h>

#define JUNIT_TAIL_MAX 4096

static double junit_secs(int64_t from, int64_t to) {
  return from > 0 && to >= from ? (double)(to - from) / 1000.0 : 0.0;
}

static void junit_failure(FILE *fp, struct rt_report *r,
                          const struct rt_report_task *k) {
  char *tail = NULL;

  if (k->nruns > 0)
    tail = rt_report_run_log_tail(r, k->runs[k->nruns - 1].id, JUNIT_TAIL_MAX);
  fputs("      <failure message=\"", fp);
  rt_report_xml(fp, k->reason ? k->reason : k->state);
  fprintf(fp, "\" type=\"%s\">", k->state);
  rt_report_xml(fp, tail ? tail : "");
  fputs("</failure>\n", fp);
  free(tail);
}

static void junit_case(FILE *fp, struct rt_report *r,
                       const struct rt_report_task *k) {
  fputs("    <testcase name=\"", fp);
  rt_report_xml(fp, k->id);
  fputs("\" classname=\"", fp);
  rt_report_xml(fp, r->mission);
  fputc('.', fp);
  rt_report_xml(fp, k->ticket);
  fprintf(fp, "\" time=\"%.3f\">\n", junit_secs(k->started_at, k->ended_at));
  if (strcmp(k->state, "failed") == 0 || strcmp(k->state, "rejected") == 0)
    junit_failure(fp, r, k);
  else if (strcmp(k->state, "completed") != 0) {
    fputs("      <skipped message=\"", fp);
    rt_report_xml(fp, k->state);
    if (k->reason != NULL) {
      fputs(": ", fp);
      rt_report_xml(fp, k->reason);
    }
    fputs("\"/>\n", fp);
  }
  fprintf(fp, "      <system-out>attempts=%d agent=", k->attempts);
  rt_report_xml(fp, k->agent);
  fputs("</system-out>\n    </testcase>\n", fp);
}

static void junit_write(FILE *fp, struct rt_report *r) {
  size_t ok, failed, skipped;
  double secs = junit_secs(r->created_at, r->updated_at);

  rt_report_counts(r, &ok, &failed, &skipped);
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
  fputs("<testsuites name=\"corral\"", fp);
  fprintf(fp, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\"",
          r->ntasks, failed, skipped);
  fprintf(fp, " time=\"%.3f\">\n  <testsuite name=\"", secs);
  rt_report_xml(fp, r->mission);
  fprintf(fp,
          "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\""
          " time=\"%.3f\">\n",
          r->ntasks, failed, skipped, secs);
  for (size_t i = 0; i < r->ntasks; i++)
    junit_case(fp, r, &r->tasks[i]);
  fputs("  </testsuite>\n</testsuites>\n", fp);
}

int rt_report_junit(FILE *fp, struct store *st, const char *mission,
                    struct crl_err *err) {
  struct rt_report r;
  int rc;

  if ((rc = rt_report_load(&r, st, mission, err)) == 0)
    junit_write(fp, &r);
  rt_report_close(&r);
  return rc;
}
