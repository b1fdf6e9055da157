/*
 * Agents-mode replay: runs the mission's agents again and compares what they
 * built. A fresh repository under the work dir receives the trace's bundle
 * (recorded branches under refs/recorded/), its base branch is set to the
 * recorded base (the parent of the mission's first commit), and the
 * recorded mission file runs there in an engine of its own, with the
 * recorded review decisions applied in order whenever it stops for one.
 * Each ticket's branch tree is then compared with the recorded one:
 * identical, or diverged with a diff stat, the paths and the patch
 * (recorded -> replayed).
 *
 * exec agents replay now. LLM CLI agents need the LLM gateway to serve the
 * responses recorded in the trace (--replay-llm); the gateway is not merged
 * yet, so a mission with one is refused with that reason, before anything
 * runs.
 */
#include "rt-ci.h"
#include "rt-git.h"
#include "rt-trace.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AGENTS_ROUNDS_MAX 100

struct agents {
  struct store *tr;
  struct msn_mission *m;
  char *id, *dir, *repo_dir, *state_dir;
  git_repository *repo;
  json_t *decisions;         /* per task: array of {decision, feedback} */
  struct rt_llm_replay *llm; /* recorded LLM answers, per run */
  int jobs;
  FILE *fp;
};

static int agents_check(const struct agents *a, struct crl_err *err) {
  if (a->m->repo == NULL)
    return crl_err_set(err, CRL_ENOT_FOUND,
                       "replay --agents: mission %s has no repo: there are no "
                       "commit trees to compare",
                       a->id);
  return 0;
}

static int agents_review_cb(const struct store_event *ev, void *payload) {
  struct agents *a = payload;
  json_t *d, *list;

  if (strcmp(ev->kind, "review") != 0 || ev->task == NULL ||
      (d = json_loads(ev->data ? ev->data : "", 0, NULL)) == NULL)
    return 0;
  if ((list = json_object_get(a->decisions, ev->task)) == NULL)
    json_object_set_new(a->decisions, ev->task, list = json_array());
  json_array_append_new(list, d);
  return 0;
}

struct agents_blob {
  struct agents *a;
  struct crl_err *err;
  int found;
};

static int agents_bundle_cb(const char *name, const void *data, size_t len,
                            void *payload) {
  struct agents_blob *b = payload;

  (void)name;
  b->found = 1;
  return rt_bundle_read(b->a->repo, data, len, "refs/recorded/", b->err) < 0
             ? -1
             : 1;
}

static int agents_first_commit(const struct store_commit *c, void *payload) {
  git_oid *base = payload;

  if (c->parent == NULL)
    return 0;
  return git_oid_fromstr(base, c->parent) == 0 ? 1 : 0;
}

/* The base as the mission found it: the parent of its first commit, else
 * the recorded base branch. Becomes refs/heads/<base>, checked out. */
static int agents_base(struct agents *a, struct crl_err *err) {
  git_checkout_options co;
  git_object *obj = NULL;
  git_reference *ref = NULL;
  git_oid base = {{0}};
  char *name = NULL, *recorded;
  int rc;

  xasprintf(&recorded, "refs/recorded/%s", a->m->base);
  if (store_commit_list(a->tr, a->id, agents_first_commit, &base) <= 0 &&
      git_reference_name_to_id(&base, a->repo, recorded) < 0) {
    rc = crl_err_set(err, CRL_ENOT_FOUND, "the trace records no base commit");
    goto out;
  }
  xasprintf(&name, "refs/heads/%s", a->m->base);
  git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
  co.checkout_strategy = GIT_CHECKOUT_FORCE;
  if ((rc = git_reference_create(&ref, a->repo, name, &base, 1, "replay")) <
          0 ||
      (rc = git_repository_set_head(a->repo, name)) < 0 ||
      (rc = git_object_lookup(&obj, a->repo, &base, GIT_OBJECT_COMMIT)) < 0 ||
      (rc = git_checkout_tree(a->repo, obj, &co)) < 0)
    rc = crl_err_set(err, CRL_EINTERNAL, "unable to set up the base: %s",
                     git_error_last() ? git_error_last()->message : "?");
out:
  git_object_free(obj);
  git_reference_free(ref);
  free(recorded);
  free(name);
  return rc;
}

static int agents_repo(struct agents *a, struct crl_err *err) {
  struct agents_blob b = {a, err, 0};
  int rc;

  if (git_repository_init(&a->repo, a->repo_dir, 0) < 0)
    return crl_err_set(err, CRL_EINTERNAL, "unable to create %s: %s",
                       a->repo_dir,
                       git_error_last() ? git_error_last()->message : "?");
  rc = store_trace_blob_list(a->tr, "bundle", agents_bundle_cb, &b);
  if (rc < 0)
    return CRL_EPARSE;
  if (!b.found)
    return crl_err_set(err, CRL_ENOT_FOUND, "the trace holds no git bundle");
  return agents_base(a, err);
}

/* One engine, to its end. */
static int agents_engine(struct agents *a, struct crl_err *err) {
  struct rt_engine_opts o = {0};
  char *shim = rt_shim_path();
  struct rt_engine e;
  uv_loop_t loop;
  int code;

  uv_loop_init(&loop);
  o.state_dir = a->state_dir;
  o.shim_path = shim;
  o.jobs = a->jobs;
  o.view = RT_VIEW_QUIET;
  o.llm_replay = a->llm;
  if (rt_engine_init(&e, &loop, &o, a->m, err) < 0) {
    rt_engine_abort(&e);
    code = -1;
  } else {
    code = rt_engine_run(&e);
    rt_engine_close(&e);
  }
  if (uv_loop_close(&loop) != 0)
    log_warn("loop closed with live handles");
  free(shim);
  return code;
}

struct agents_pending {
  struct agents *a;
  struct store *st;
  struct crl_err *err;
  int decided;
};

/* The task's next recorded decision, applied offline as a human did. */
static int agents_decide_cb(const struct store_task *t, void *payload) {
  struct agents_pending *p = payload;
  json_t *list = json_object_get(p->a->decisions, t->id), *d;
  const char *what;

  if (strcmp(t->state, "pending_review") != 0 || json_array_size(list) == 0)
    return 0;
  d = json_incref(json_array_get(list, 0));
  json_array_remove(list, 0);
  what = json_string_value(json_object_get(d, "decision"));
  fprintf(p->a->fp, "corral: replay: %s %s, as recorded\n", what, t->id);
  if (rt_review_decide(p->st, p->a->m->name, t->id,
                       what != NULL && strcmp(what, "reject") == 0,
                       json_string_value(json_object_get(d, "feedback")),
                       p->err) == 0)
    p->decided = 1;
  json_decref(d);
  return 0;
}

/* Engines until no recorded decision is left to apply. */
static int agents_run(struct agents *a, struct crl_err *err) {
  struct agents_pending p = {a, NULL, err, 1};
  int rc = 0;

  for (int round = 0; p.decided && round < AGENTS_ROUNDS_MAX; round++) {
    if (agents_engine(a, err) < 0)
      return err->code ? err->code : CRL_EINTERNAL;
    if ((rc = rt_store_open(&p.st, a->state_dir, err)) < 0)
      return rc;
    p.decided = 0;
    rc = store_task_list(p.st, a->m->name, agents_decide_cb, &p);
    store_close(p.st);
    p.st = NULL;
  }
  return rc;
}

static int agents_tree(git_tree **out, git_repository *repo, const char *ref) {
  git_commit *c = NULL;
  git_oid oid;
  int rc;

  *out = NULL;
  if ((rc = git_reference_name_to_id(&oid, repo, ref)) < 0 ||
      (rc = git_commit_lookup(&c, repo, &oid)) < 0)
    return rc;
  rc = git_commit_tree(out, c);
  git_commit_free(c);
  return rc;
}

/* The patch of a diverged ticket, recorded -> replayed, bounded. */
#define AGENTS_PATCH_LINES 200

struct agents_patch {
  FILE *fp;
  size_t lines;
};

static int agents_patch_line(const git_diff_delta *d, const git_diff_hunk *h,
                             const git_diff_line *l, void *payload) {
  struct agents_patch *p = payload;

  (void)d;
  (void)h;
  if (p->lines++ >= AGENTS_PATCH_LINES)
    return 0;
  if (l->origin == GIT_DIFF_LINE_CONTEXT ||
      l->origin == GIT_DIFF_LINE_ADDITION ||
      l->origin == GIT_DIFF_LINE_DELETION)
    fputc(l->origin, p->fp);
  fwrite(l->content, 1, l->content_len, p->fp);
  return 0;
}

static void agents_patch(FILE *fp, git_diff *diff) {
  struct agents_patch p = {fp, 0};

  git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, agents_patch_line, &p);
  if (p.lines > AGENTS_PATCH_LINES)
    fprintf(fp,
            "  ... %zu more line(s) of the patch (keep them with "
            "--work-dir and compare refs/recorded/)\n",
            p.lines - AGENTS_PATCH_LINES);
}

static void agents_diff(FILE *fp, git_repository *repo, git_tree *want,
                        git_tree *got) {
  git_diff *diff = NULL;
  git_diff_stats *st = NULL;
  size_t n;

  if (git_diff_tree_to_tree(&diff, repo, want, got, NULL) < 0 ||
      git_diff_get_stats(&st, diff) < 0) {
    fputs("  (no diff stat)\n", fp);
    goto out;
  }
  fprintf(fp,
          "  %zu file(s) changed, %zu insertion(s)(+), %zu deletion(s)(-)\n",
          git_diff_stats_files_changed(st), git_diff_stats_insertions(st),
          git_diff_stats_deletions(st));
  n = git_diff_num_deltas(diff);
  for (size_t i = 0; i < n && i < 20; i++)
    fprintf(fp, "  %s\n", git_diff_get_delta(diff, i)->new_file.path);
  agents_patch(fp, diff);
out:
  git_diff_stats_free(st);
  git_diff_free(diff);
}

struct agents_cmp {
  struct agents *a;
  int diverged, compared;
};

static int agents_ticket_cb(const struct store_ticket *t, void *payload) {
  struct agents_cmp *c = payload;
  git_tree *want = NULL, *got = NULL;
  char *rec, *now, hex[GIT_OID_HEXSZ + 1];

  if (t->branch == NULL)
    return 0;
  xasprintf(&rec, "refs/recorded/%s", t->branch);
  xasprintf(&now, "refs/heads/%s", t->branch);
  agents_tree(&want, c->a->repo, rec);
  agents_tree(&got, c->a->repo, now);
  c->compared++;
  if (want != NULL && got != NULL &&
      git_oid_equal(git_tree_id(want), git_tree_id(got))) {
    git_oid_tostr(hex, sizeof(hex), git_tree_id(want));
    fprintf(c->a->fp, "ticket %s: identical (tree %.12s)\n", t->id, hex);
  } else {
    c->diverged = 1;
    fprintf(c->a->fp, "ticket %s: diverged%s\n", t->id,
            got == NULL ? " (no branch after the replay)" : "");
    if (want != NULL && got != NULL)
      agents_diff(c->a->fp, c->a->repo, want, got);
  }
  git_tree_free(want);
  git_tree_free(got);
  free(rec);
  free(now);
  return 0;
}

static int agents_rm_cb(const char *path, const struct stat *sb, int type,
                        struct FTW *ftw) {
  (void)sb;
  (void)type;
  (void)ftw;
  return remove(path) < 0 ? -1 : 0;
}

static int agents_setup(struct agents *a, const char *work_dir,
                        struct crl_err *err) {
  char tmpl[] = "/tmp/corral-replay.XXXXXX";
  int rc;

  if (work_dir == NULL && mkdtemp(tmpl) == NULL)
    return crl_err_set(err, -errno, "unable to create a work dir: %s",
                       strerror(errno));
  a->dir = xstrdup(work_dir ? work_dir : tmpl);
  xasprintf(&a->repo_dir, "%s/repo", a->dir);
  xasprintf(&a->state_dir, "%s/state", a->dir);
  if ((rc = rt_mkdirs(a->state_dir, 0700)) < 0)
    return crl_err_set(err, rc, "unable to create %s", a->state_dir);
  free(a->m->repo);
  a->m->repo = xstrdup(a->repo_dir);
  return 0;
}

static void agents_close(struct agents *a, int keep) {
  git_repository_free(a->repo);
  if (!keep && a->dir != NULL)
    nftw(a->dir, agents_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  json_decref(a->decisions);
  rt_llm_replay_free(a->llm);
  msn_mission_free(a->m);
  free(a->id);
  free(a->dir);
  free(a->repo_dir);
  free(a->state_dir);
  git_libgit2_shutdown();
}

/* The slot count events mode infers, so merges land in the same order. */
static int agents_jobs(struct store *tr, struct crl_err *err) {
  struct rt_replay_opts o = {0, 1};
  struct rt_replay_result res;

  return rt_replay_events(&res, tr, &o, err) < 0 ? 1 : res.jobs;
}

int rt_replay_agents(struct store *tr, const char *work_dir, FILE *fp,
                     struct crl_err *err) {
  struct agents a = {tr, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, fp};
  struct agents_cmp c = {&a, 0, 0};
  int rc;

  git_libgit2_init();
  a.decisions = json_object();
  if ((rc = rt_trace_mission(&a.id, tr, err)) < 0 ||
      (rc = rt_replay_mission(&a.m, tr, a.id, err)) < 0 ||
      (rc = agents_check(&a, err)) < 0 ||
      (rc = rt_llm_replay_load(&a.llm, tr, a.id, err)) < 0 ||
      (rc = store_event_list(tr, a.id, NULL, 0, agents_review_cb, &a)) < 0 ||
      (rc = agents_setup(&a, work_dir, err)) < 0 ||
      (rc = agents_repo(&a, err)) < 0)
    goto out;
  a.jobs = agents_jobs(tr, err);
  if ((rc = agents_run(&a, err)) < 0 ||
      (rc = store_ticket_list(tr, a.id, agents_ticket_cb, &c)) < 0)
    goto out;
  fprintf(fp, "%s (%d ticket%s compared)\n",
          c.diverged ? "diverged" : "identical", c.compared,
          c.compared == 1 ? "" : "s");
  rc = c.diverged ? RT_EXIT_FAILED : RT_EXIT_OK;
out:
  agents_close(&a, work_dir != NULL);
  return rc;
}
