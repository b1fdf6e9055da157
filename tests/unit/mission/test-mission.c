/*
 * test-mission.c: whole loads. The YAML and JSON spellings of one mission
 * resolve to the same structure; every bad-NN-<what> fixture in
 * tests/data/missions fails with exactly the diagnostics in its .err file.
 * Fixtures load by a path relative to the data directory, so FILE in the
 * expected output is the bare file name, as a user who ran `corral run
 * bad-03-unknown-key.yaml` there would see it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mission.h"

static struct msn_diags diags;

static void setup(void) {
  msn_diags_init(&diags);
  cr_assert_eq(chdir(DATA_DIR), 0);
}

static void teardown(void) {
  msn_diags_close(&diags);
}

TestSuite(msn_mission, .init = setup, .fini = teardown);

static char *slurp(const char *path) {
  char *s = NULL;
  size_t n = 0;
  FILE *fp = fopen(path, "r");

  cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
  cr_assert_eq(getdelim(&s, &n, '\0', fp) >= 0 || feof(fp), 1);
  fclose(fp);
  return s != NULL ? s : strdup("");
}

static char *printed(const struct msn_diags *d) {
  char *s = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&s, &n);

  msn_diags_print(d, fp);
  fclose(fp);
  return s;
}

static void dump_argv(FILE *fp, const char *what, char **v) {
  fprintf(fp, " %s=", what);
  if (v == NULL) {
    fprintf(fp, "NULL");
    return;
  }
  for (size_t i = 0; v[i] != NULL; i++)
    fprintf(fp, "[%s]", v[i]);
}

static void dump_task(FILE *fp, const struct msn_mission *m,
                      const struct msn_task *t) {
  const struct msn_retries *r = &t->retries;

  fprintf(fp, "task %s ticket=%s agent=%s prompt=%s nneeds=%zu", t->id,
          m->tickets[t->ticket].id, m->agents[t->agent].name,
          t->prompt ? t->prompt : "NULL", t->nneeds);
  dump_argv(fp, "needs", t->needs);
  dump_argv(fp, "command", t->command);
  dump_argv(fp, "env", t->env);
  fprintf(fp,
          " sandbox=%s est=%lld to=%lld idle=%lld grace=%lld review=%d"
          " retries=%d/%lld/%lld/%g/%lld/%d/%lld\n",
          t->sandbox, (long long)t->estimate_ms, (long long)t->timeout_ms,
          (long long)t->idle_timeout_ms, (long long)t->grace_ms, t->review,
          r->max, (long long)r->floor_ms, (long long)r->cap_ms, r->factor,
          (long long)r->reset_after_ms, r->intensity,
          (long long)r->intensity_window_ms);
}

static void dump_sandbox(FILE *fp, const struct msn_sandbox *s) {
  fprintf(fp, "sandbox %s extends=%s", s->name, s->extends);
  dump_argv(fp, "writable", s->writable);
  dump_argv(fp, "readonly", s->readonly);
  dump_argv(fp, "hidden", s->hidden);
  fprintf(fp, " network=%d memory=%lld pids=%lld cpu=%d tmp=%lld\n", s->network,
          (long long)s->memory, (long long)s->pids, s->cpu_percent,
          (long long)s->tmp_size);
}

/* Everything but the file name and positions, one line per object. */
static char *dump(const struct msn_mission *m) {
  char *s = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&s, &n);

  fprintf(fp, "mission %s dir=%s workdir=%s repo=%s base=%s\n", m->name, m->dir,
          m->workdir, m->repo, m->base);
  fprintf(fp, "budget %g %lld %lld\n", m->budget.usd,
          (long long)m->budget.tokens, (long long)m->budget.wall_ms);
  for (size_t i = 0; i < m->nagents; i++) {
    const struct msn_agent *a = &m->agents[i];

    fprintf(fp, "agent %s adapter=%s model=%s capacity=%d", a->name, a->adapter,
            a->model ? a->model : "NULL", a->capacity);
    dump_argv(fp, "command", a->command);
    dump_argv(fp, "env", a->env);
    fprintf(fp, "\n");
  }
  for (size_t i = 0; i < m->ntickets; i++)
    fprintf(fp, "ticket %s title=%s priority=%d\n", m->tickets[i].id,
            m->tickets[i].title ? m->tickets[i].title : "NULL",
            m->tickets[i].priority);
  for (size_t i = 0; i < m->ntasks; i++)
    dump_task(fp, m, &m->tasks[i]);
  for (size_t i = 0; i < m->nsandboxes; i++)
    dump_sandbox(fp, &m->sandboxes[i]);
  fclose(fp);
  return s;
}

static struct msn_mission *load_ok(const char *path) {
  struct msn_mission *m = NULL;
  int rc = msn_load_file(&m, path, &diags);
  char *out = printed(&diags);

  cr_assert_eq(rc, 0, "%s failed:\n%s", path, out);
  cr_assert_not_null(m);
  free(out);
  return m;
}

Test(msn_mission, yaml_and_json_resolve_identically) {
  struct msn_mission *y = load_ok("good.yaml"), *j = load_ok("good.json");
  char *dy = dump(y), *dj = dump(j);

  cr_assert_str_eq(dy, dj);
  free(dy);
  free(dj);
  msn_mission_free(y);
  msn_mission_free(j);
}

Test(msn_mission, good_yaml_resolved) {
  struct msn_mission *m = load_ok("good.yaml");
  char real[PATH_MAX], *got = dump(m);
  const char *want_fmt =
      "mission add-rate-limiter dir=%s workdir=%s repo=. base=main\n"
      "budget 5 2000000 7200000\n"
      "agent claude adapter=claude-code model=claude-sonnet-4-5 capacity=2"
      " command=NULL env=[MODE=fast][LEVEL=1]\n"
      "agent check adapter=exec model=NULL capacity=0 command=[make][test]"
      " env=[FOO=bar]\n"
      "agent exec adapter=exec model=NULL capacity=0 command=NULL env=NULL\n"
      "ticket RL-1 title=Token-bucket rate limiter priority=2\n"
      "ticket RL-2 title=NULL priority=0\n"
      "task design ticket=RL-1 agent=claude prompt=Write docs/rate-limit.md"
      " nneeds=0 needs= command=NULL env=[MODE=fast][LEVEL=1] sandbox=agent"
      " est=1200000 to=1800000 idle=300000 grace=10000 review=1"
      " retries=2/10000/300000/2/0/0/0\n"
      "task impl ticket=RL-1 agent=claude prompt=Implement src/ratelimit.c"
      " with tests nneeds=1 needs=[design] command=NULL"
      " env=[MODE=fast][LEVEL=2][EXTRA=x] sandbox=agent est=0 to=1800000"
      " idle=300000 grace=10000 review=0 retries=2/10000/300000/2/0/0/0\n"
      "task test ticket=RL-1 agent=check prompt=NULL nneeds=1 needs=[impl]"
      " command=[make][test] env=[FOO=bar][X=1] sandbox=agent est=0"
      " to=300000 idle=60000 grace=2000 review=0"
      " retries=1/2000/2000/1.5/600000/3/3600000\n"
      "task lint ticket=RL-2 agent=exec prompt=NULL nneeds=2"
      " needs=[test][impl] command=[sh][-c][make lint] env= sandbox=none"
      " est=0 to=1800000 idle=300000 grace=10000 review=0"
      " retries=2/10000/300000/2/0/0/0\n"
      "task fmt ticket=RL-2 agent=exec prompt=NULL nneeds=0 needs="
      " command=[clang-format][-i][main.c] env= sandbox=builder est=0"
      " to=1800000 idle=300000 grace=10000 review=0"
      " retries=2/10000/300000/2/0/0/0\n"
      "sandbox offline extends=strict writable= readonly=[%s/docs]"
      "[/usr/share/doc] hidden= network=0 memory=2147483648 pids=0 cpu=0"
      " tmp=0\n"
      "sandbox builder extends=strict writable=[%s/build]"
      " readonly=[%s/docs][/usr/share/doc] hidden= network=0"
      " memory=2147483648 pids=512 cpu=100 tmp=536870912\n";
  char *want = NULL;

  cr_assert_not_null(realpath(DATA_DIR, real));
  cr_assert(asprintf(&want, want_fmt, real, real, real, real, real) > 0);
  cr_assert_str_eq(got, want);
  cr_assert_eq(strncmp(m->file, real, strlen(real)), 0);
  cr_assert_str_eq(m->file + strlen(real), "/good.yaml");
  cr_assert_eq(m->tasks[0].line, 25);
  cr_assert_eq(m->tasks[0].col, 9);
  cr_assert_eq(msn_task_find(m, "lint"), 3);
  cr_assert_eq(msn_task_find(m, "nope"), -1);
  cr_assert_eq(msn_sandbox_find(m, "builder"), &m->sandboxes[1]);
  cr_assert_null(msn_sandbox_find(m, "agent"));
  free(got);
  free(want);
  msn_mission_free(m);
}

static int is_bad_fixture(const char *name) {
  size_t n = strlen(name);

  if (strncmp(name, "bad-", 4) != 0)
    return 0;
  return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
         (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

/* Loads one fixture; returns 1 when its diagnostics match its .err file. */
static int check_fixture(const char *name) {
  struct msn_mission *m = NULL;
  struct msn_diags d;
  char *err_path = NULL, *want, *got;
  int rc, ok;

  msn_diags_init(&d);
  rc = msn_load_file(&m, name, &d);
  cr_expect_eq(rc, CRL_EVALIDATION_FAILED, "%s: rc %d", name, rc);
  cr_expect_null(m, "%s loaded", name);
  cr_assert(asprintf(&err_path, "%.*s.err", (int)(strlen(name) - 5), name) > 0);
  want = slurp(err_path);
  got = printed(&d);
  ok = strcmp(got, want) == 0;
  cr_expect_str_eq(got, want, "%s: diagnostics differ", name);
  msn_mission_free(m);
  msn_diags_close(&d);
  free(err_path);
  free(want);
  free(got);
  return ok;
}

Test(msn_mission, bad_fixtures_report_exact_diagnostics) {
  DIR *dir = opendir(".");
  struct dirent *e;
  int count = 0, passed = 0;

  cr_assert_not_null(dir);
  while ((e = readdir(dir)) != NULL) {
    if (!is_bad_fixture(e->d_name))
      continue;
    count++;
    passed += check_fixture(e->d_name);
  }
  closedir(dir);
  cr_assert_geq(count, 10, "only %d fixtures", count);
  cr_assert_eq(passed, count);
}

Test(msn_mission, multiple_errors_are_all_reported) {
  struct msn_mission *m = NULL;

  cr_assert_eq(msn_load_file(&m, "bad-10-multiple.yaml", &diags),
               CRL_EVALIDATION_FAILED);
  cr_assert_geq(diags.n, 3);
  for (size_t i = 1; i < diags.n; i++)
    cr_assert(diags.v[i - 1].line < diags.v[i].line ||
              (diags.v[i - 1].line == diags.v[i].line &&
               diags.v[i - 1].col <= diags.v[i].col));
}

Test(msn_mission, missing_file) {
  struct msn_mission *m = (void *)1;
  char *out;

  cr_assert_eq(msn_load_file(&m, "no-such-mission.yaml", &diags), -ENOENT);
  cr_assert_null(m);
  out = printed(&diags);
  cr_assert_str_eq(out, "no-such-mission.yaml: error: cannot read the mission "
                        "file: No such file or directory\n");
  free(out);
}

Test(msn_mission, load_buffer_uses_name_and_dir) {
  static const char text[] = "{\"mission\": \"m\", \"workdir\": \"..\","
                             " \"tickets\": []}";
  struct msn_mission *m = NULL;
  char real[PATH_MAX], parent[PATH_MAX + 4], up[PATH_MAX];

  cr_assert_eq(
      msn_load_buffer(&m, "inline", DATA_DIR, text, strlen(text), 1, &diags),
      0);
  cr_assert_not_null(realpath(DATA_DIR, real));
  snprintf(parent, sizeof(parent), "%s/..", real);
  cr_assert_not_null(realpath(parent, up));
  cr_assert_str_eq(m->file, "inline");
  cr_assert_str_eq(m->dir, real);
  cr_assert_str_eq(m->workdir, up);
  cr_assert_eq(m->ntasks, 0);
  cr_assert_eq(m->nagents, 0);
  msn_mission_free(m);
}

Test(msn_mission, diags_accumulate_across_loads) {
  struct msn_mission *m = NULL;

  msn_load_file(&m, "bad-12-self-dependency.yaml", &diags);
  msn_load_file(&m, "bad-11-bad-priority.yaml", &diags);
  cr_assert_eq(diags.n, 5);
  cr_assert_str_eq(diags.v[0].file, "bad-12-self-dependency.yaml");
  cr_assert_str_eq(diags.v[4].file, "bad-11-bad-priority.yaml");
  msn_diags_close(&diags);
  msn_diags_close(&diags);
  msn_diags_close(NULL);
}

Test(msn_mission, policies_are_kept_with_their_actions) {
  struct msn_mission *m = load_ok("good.yaml");
  const struct msn_policy *fp, *pr, *md;

  cr_assert_eq(m->npolicies, 3);
  fp = msn_policy_find(m, MSN_POLICY_FORCE_PUSH);
  pr = msn_policy_find(m, MSN_POLICY_PROTECT);
  md = msn_policy_find(m, MSN_POLICY_MAX_DIFF);
  cr_assert(fp != NULL && pr != NULL && md != NULL);
  cr_assert_str_eq(pr->protect[0], ".github/**");
  cr_assert_null(pr->protect[1]);
  cr_assert_eq(md->max_diff_lines, 2000);
  cr_assert_eq(fp->action, MSN_ACTION_FAILED);
  cr_assert_eq(pr->action, MSN_ACTION_FAILED);
  cr_assert_str_eq(msn_policy_name(md), "max_diff_lines");
  cr_assert_eq(fp->line, 54);
  msn_mission_free(m);
}
