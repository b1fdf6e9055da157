/*
 * corral gc: removes the worktrees (and branches) of tickets whose work is
 * all in their base, and prunes the metadata of ticket worktrees whose
 * directory is gone. A worktree with uncommitted changes or a branch with
 * commits its base lacks is kept and reported; --force first saves it under
 * refs/corral/attic/<ticket>/<time>, says so, then removes it. --dry-run
 * says what would happen and changes nothing. Missions that are running are
 * left alone. Every removal is a "gc" event of its mission.
 */
#include "rt-int.h"
#include "rt-git.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct gc_opts {
  const char *state_dir;
  const char *mission;
  int dry, force, json;
};

struct gc_ticket {
  char *mission, *id, *repo, *base;
};

struct gc_ctx {
  struct gc_opts o;
  char *dir;
  struct store *st;
  struct gc_ticket *v;
  size_t n;
  json_t *report;
  int kept;
};

static void gc_usage(FILE *fp) {
  fputs("usage: corral gc [--state-dir DIR] [--mission M] [--dry-run] "
        "[--force] [--json]\n\n"
        "Removes the worktrees and branches of tickets whose work is merged "
        "and prunes\nstale worktree metadata. Unmerged commits and uncommitted "
        "changes are kept;\n--force saves them to refs/corral/attic/ first, "
        "then removes them.\n\n"
        "gc always works on the state dir itself, also while a daemon runs: "
        "the\ndaemon has no gc resource. Missions it is running hold their "
        "lock and are\nleft alone.\n",
        fp);
}

static int gc_parse(struct gc_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"dry-run", no_argument, 0, 'n'},
                                       {"force", no_argument, 0, 'f'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  while ((c = getopt_long(argc, argv, "s:m:nfjh", opts, NULL)) != -1) {
    if (c == 's')
      o->state_dir = optarg;
    else if (c == 'm')
      o->mission = optarg;
    else if (c == 'n')
      o->dry = 1;
    else if (c == 'f')
      o->force = 1;
    else if (c == 'j')
      o->json = 1;
    else
      return gc_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (optind != argc)
    return gc_usage(stderr), RT_EXIT_USAGE;
  return -1;
}

static int gc_collect(const struct store_ticket *t, void *payload) {
  struct gc_ctx *c = payload;
  struct gc_ticket *g;

  if (t->repo == NULL)
    return 0;
  c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
  g = &c->v[c->n++];
  g->mission = xstrdup(t->mission);
  g->id = xstrdup(t->id);
  g->repo = xstrdup(t->repo);
  g->base = t->base ? xstrdup(t->base) : NULL;
  return 0;
}

/* 1 when an engine holds the mission (its lock is taken). */
static int gc_running(struct gc_ctx *c, const char *mission) {
  char pid[32];
  int fd, rc = rt_mission_lock(&fd, c->dir, mission, pid, sizeof(pid), NULL);

  if (fd >= 0)
    close(fd);
  return rc == CRL_EAGENT_BUSY;
}

static void gc_say(struct gc_ctx *c, const struct gc_ticket *t,
                   const char *action, const char *why, const char *attic) {
  json_t *o =
      json_pack("{s:s, s:s, s:s, s:s, s:s?}", "mission", t->mission, "ticket",
                t->id, "action", action, "reason", why, "attic", attic);
  char *s;

  if (c->o.json)
    json_array_append(c->report, o);
  else
    printf("%-8s %s/%s: %s%s%s\n", action, t->mission, t->id, why,
           attic ? "; saved to " : "", attic ? attic : "");
  if (!c->o.dry && strcmp(action, "kept") != 0) {
    struct store_event ev = {0};

    s = json_dumps(o, JSON_COMPACT);
    ev.ts = crl_time_wall_ms();
    ev.mission = t->mission;
    ev.kind = "gc";
    ev.data = s;
    store_event_append(c->st, &ev, NULL);
    free(s);
  }
  json_decref(o);
}

static void gc_why(char *out, size_t len, const struct rt_gc_ticket *g) {
  snprintf(out, len, "%zu unmerged commit%s%s", g->unmerged,
           g->unmerged == 1 ? "" : "s",
           g->dirty ? " and uncommitted changes" : "");
  if (g->unmerged == 0 && g->dirty)
    snprintf(out, len, "uncommitted changes");
}

/* Saves (with --force) and removes one ticket's worktree and branch. */
static int gc_remove(struct gc_ctx *c, struct rt_repo *r,
                     const struct gc_ticket *t, const struct rt_gc_ticket *g,
                     const char *branch, const char *wt) {
  struct crl_err err = CRL_ERR_INIT;
  char why[128], *attic = NULL;
  int keep = g->dirty || g->unmerged > 0, rc = 0;

  gc_why(why, sizeof(why), g);
  if (c->o.dry) {
    gc_say(c, t, keep ? "would-save" : "would-remove", keep ? why : "merged",
           NULL);
    return 0;
  }
  if (keep && (rc = rt_gc_save(&attic, r, t->id, branch, wt, &err)) < 0)
    goto out;
  if ((rc = rt_gc_remove(r, branch, wt, &err)) < 0)
    goto out;
  gc_say(c, t, keep ? "saved" : "removed", keep ? why : "merged", attic);
out:
  if (rc < 0)
    rt_errorf("gc %s/%s: %s", t->mission, t->id, err.msg);
  free(attic);
  return rc;
}

static int gc_ticket(struct gc_ctx *c, struct rt_repo *r,
                     const struct gc_ticket *t) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_gc_ticket g;
  char *branch, *wt, why[128];
  int rc;

  xasprintf(&branch, "refs/heads/corral/%s/%s", t->mission, t->id);
  xasprintf(&wt, "%s/worktrees/%s/%s", c->dir, t->mission, t->id);
  rc = rt_gc_inspect(&g, r, branch, t->base, wt, &err);
  if (rc < 0)
    rt_errorf("gc %s/%s: %s", t->mission, t->id, err.msg);
  else if (!g.has_branch && !g.has_worktree)
    rc = 0;
  else if ((g.dirty || g.unmerged > 0) && !c->o.force) {
    gc_why(why, sizeof(why), &g);
    strncat(why, "; --force saves them to the attic and removes them",
            sizeof(why) - strlen(why) - 1);
    gc_say(c, t, "kept", why, NULL);
    c->kept++;
  } else
    rc = gc_remove(c, r, t, &g, branch, wt);
  free(branch);
  free(wt);
  return rc;
}

static void gc_prune(struct gc_ctx *c, struct rt_repo *r,
                     const struct gc_ticket *t) {
  struct crl_err err = CRL_ERR_INIT;
  char *prefix, **names = NULL;
  size_t n = 0;

  xasprintf(&prefix, "%s/worktrees/%s/", c->dir, t->mission);
  if (rt_gc_prune(&names, &n, r, prefix, c->o.dry, &err) < 0)
    rt_errorf("gc %s: %s", t->mission, err.msg);
  for (size_t i = 0; i < n; i++) {
    struct gc_ticket stale = {t->mission, names[i], NULL, NULL};

    gc_say(c, &stale, c->o.dry ? "would-prune" : "pruned",
           "stale worktree metadata (its directory is gone)", NULL);
  }
  rt_paths_free(names, n);
  free(prefix);
}

/* The tickets of one mission, v[from..to). */
static int gc_mission(struct gc_ctx *c, size_t from, size_t to) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_repo *r = NULL;
  int rc = 0;

  if (gc_running(c, c->v[from].mission)) {
    printf("skipped  %s: it is running\n", c->v[from].mission);
    return 0;
  }
  if (rt_repo_open(&r, c->v[from].repo, &err) < 0) {
    rt_errorf("gc %s: %s", c->v[from].mission, err.msg);
    return -1;
  }
  for (size_t i = from; i < to; i++)
    if (gc_ticket(c, r, &c->v[i]) < 0)
      rc = -1;
  gc_prune(c, r, &c->v[from]);
  rt_repo_free(r);
  return rc;
}

static int gc_all(struct gc_ctx *c) {
  size_t i = 0, j;
  int rc = 0;

  while (i < c->n) {
    for (j = i + 1; j < c->n && strcmp(c->v[j].mission, c->v[i].mission) == 0;
         j++)
      ;
    if (gc_mission(c, i, j) < 0)
      rc = -1;
    i = j;
  }
  return rc;
}

static void gc_close(struct gc_ctx *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->v[i].mission);
    free(c->v[i].id);
    free(c->v[i].repo);
    free(c->v[i].base);
  }
  free(c->v);
  json_decref(c->report);
  store_close(c->st);
  free(c->dir);
}

static int gc_exec(int argc, char **argv) {
  struct gc_ctx c = {0};
  struct crl_err err = CRL_ERR_INIT;
  char *id = NULL;
  int rc;

  if ((rc = gc_parse(&c.o, argc, argv)) >= 0)
    return rc;
  c.report = json_array();
  if ((rc = rt_statedir(&c.dir, c.o.state_dir, &err)) < 0 ||
      (rc = rt_store_open(&c.st, c.dir, &err)) < 0 ||
      (c.o.mission != NULL &&
       (rc = rt_mission_pick(&id, c.st, c.o.mission, &err)) < 0)) {
    rt_errorf("%s", err.msg[0] ? err.msg : crl_strerror(rc));
    gc_close(&c);
    return RT_EXIT_FAILED;
  }
  free(id);
  store_ticket_list(c.st, c.o.mission, gc_collect, &c);
  rc = gc_all(&c);
  if (!c.o.dry)
    store_commit(c.st, NULL);
  if (c.o.json)
    json_dumpf(c.report, stdout, JSON_INDENT(2)), putchar('\n');
  gc_close(&c);
  return rc < 0 ? RT_EXIT_FAILED : RT_EXIT_OK;
}

const struct rt_cmd rt_cmd_gc = {
    "gc", "gc [--dry-run] [--force]",
    "remove merged ticket worktrees; keep or save unmerged work", gc_exec};
