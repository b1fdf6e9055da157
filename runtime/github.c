/*
 * GitHub Actions, for CI mode: workflow commands on stdout (::error:: per
 * failed task, ::warning:: per task that did not run, when GITHUB_ACTIONS
 * is "true"), the Markdown summary appended to $GITHUB_STEP_SUMMARY, and
 * key=value lines appended to $GITHUB_OUTPUT (exit-code, state, tasks,
 * completed, failed, trace, junit, summary). Values and messages are
 * escaped as the workflow-command syntax requires (%, CR, LF; also : and ,
 * in properties).
 */
#include "rt-ci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rt_ci_github_actions(void) {
  const char *v = getenv("GITHUB_ACTIONS");

  return v != NULL && strcmp(v, "true") == 0;
}

static void gh_escape(FILE *fp, const char *s, int property) {
  for (; s != NULL && *s; s++) {
    if (*s == '%')
      fputs("%25", fp);
    else if (*s == '\r')
      fputs("%0D", fp);
    else if (*s == '\n')
      fputs("%0A", fp);
    else if (property && *s == ':')
      fputs("%3A", fp);
    else if (property && *s == ',')
      fputs("%2C", fp);
    else
      fputc(*s, fp);
  }
}

struct gh_counts {
  size_t tasks, completed, failed;
  int annotate;
};

static int gh_task(const struct store_task *t, void *payload) {
  struct gh_counts *c = payload;
  int failed =
      strcmp(t->state, "failed") == 0 || strcmp(t->state, "rejected") == 0;
  char title[300];

  c->tasks++;
  c->completed += strcmp(t->state, "completed") == 0;
  c->failed += failed;
  if (!c->annotate || strcmp(t->state, "completed") == 0)
    return 0;
  snprintf(title, sizeof(title), "corral: task %s %s", t->id, t->state);
  fputs(failed ? "::error title=" : "::warning title=", stdout);
  gh_escape(stdout, title, 1);
  fputs("::", stdout);
  gh_escape(stdout, t->reason ? t->reason : t->state, 0);
  fputc('\n', stdout);
  return 0;
}

static int gh_append_file(const char *to, const char *from) {
  FILE *in = fopen(from, "rb"), *out;
  char buf[8192];
  size_t n;
  int rc = 0;

  if (in == NULL)
    return -errno;
  if ((out = fopen(to, "a")) == NULL) {
    rc = -errno;
    fclose(in);
    return rc;
  }
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      rc = -EIO;
  fclose(in);
  if (fclose(out) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

static int gh_outputs(const char *path, const char *state, const char *dir,
                      const struct gh_counts *c, int code) {
  FILE *fp = fopen(path, "a");

  if (fp == NULL)
    return -errno;
  fprintf(fp, "exit-code=%d\nstate=%s\n", code, state);
  fprintf(fp, "tasks=%zu\ncompleted=%zu\nfailed=%zu\n", c->tasks, c->completed,
          c->failed);
  fprintf(fp, "trace=%s/trace.corral\njunit=%s/junit.xml\n", dir, dir);
  fprintf(fp, "summary=%s/summary.md\n", dir);
  return fclose(fp) != 0 ? -errno : 0;
}

static void gh_env_file(const char *var, int rc, int *code) {
  if (rc == 0)
    return;
  rt_errorf("ci: unable to write $%s: %s", var, crl_strerror(rc));
  if (*code == RT_EXIT_OK)
    *code = RT_EXIT_FAILED;
}

void rt_ci_github(struct store *st, const char *mission, const char *out_dir,
                  int *code) {
  struct gh_counts c = {0, 0, 0, rt_ci_github_actions()};
  const char *sum = getenv("GITHUB_STEP_SUMMARY");
  const char *out = getenv("GITHUB_OUTPUT");
  struct store_mission m;
  char *md;

  store_task_list(st, mission, gh_task, &c);
  fflush(stdout);
  if (sum != NULL && sum[0] != '\0') {
    xasprintf(&md, "%s/summary.md", out_dir);
    gh_env_file("GITHUB_STEP_SUMMARY", gh_append_file(sum, md), code);
    free(md);
  }
  if (out != NULL && out[0] != '\0' &&
      store_mission_get(st, mission, &m, NULL) == 0)
    gh_env_file("GITHUB_OUTPUT", gh_outputs(out, m.state, out_dir, &c, *code),
                code);
}
