/*
 * The daemon's lifecycle and its missions. Every mission runs in an engine
 * embedded in the daemon's loop and sharing its store; a mission submitted
 * over the socket keeps its source under STATE/missions/ so a restarted
 * daemon can load it again. At start the daemon takes up every mission the
 * store says is running: their engines re-attach the live shims (found
 * through each run's lock and pid, watched through a pidfd) and read each
 * log from its committed offset. SIGTERM stops accepting, commits, and
 * detaches the engines: agents go on under their shims (or, with
 * --stop-agents, are cancelled first). SIGHUP takes up missions again.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rt_dmission *rt_daemon_mission(struct rt_daemon *d, const char *id) {
  for (struct rt_dmission *x = d->missions; x != NULL; x = x->next)
    if (strcmp(x->id, id) == 0)
      return x;
  return NULL;
}

static void daemon_on_commit(struct rt_engine *e, void *payload) {
  rt_daemon_feed_pump(payload);
}

static void daemon_on_finish(struct rt_engine *e, void *payload) {
  struct rt_daemon *d = payload;
  struct rt_dmission *x = crl_container_of(e, struct rt_dmission, eng);

  x->done = 1;
  rt_daemon_feed_pump(d);
}

static struct rt_dmission *daemon_slot(struct rt_daemon *d,
                                       struct msn_mission *m) {
  struct rt_dmission *x = xcalloc(1, sizeof(*x));

  x->d = d;
  x->id = xstrdup(m->name);
  x->m = m;
  x->next = d->missions;
  d->missions = x;
  return x;
}

static int daemon_start(struct rt_daemon *d, struct msn_mission *m,
                        struct rt_dmission **out, struct crl_err *err) {
  struct rt_engine_opts o = {.state_dir = d->state_dir,
                             .shim_path = d->shim,
                             .jobs = d->opts.jobs,
                             .view = RT_VIEW_QUIET,
                             .st = d->st,
                             .embedded = 1,
                             .on_commit = daemon_on_commit,
                             .on_finish = daemon_on_finish,
                             .payload = d};
  struct rt_dmission *x = daemon_slot(d, m);
  int rc;

  x->running = 1;
  if ((rc = rt_engine_init(&x->eng, d->loop, &o, m, err)) < 0) {
    rt_engine_abort(&x->eng); /* closed by the reaper once idle */
    x->done = 1;
    return rc;
  }
  log_info("mission %s: started", m->name);
  if (out != NULL)
    *out = x;
  return 0;
}

/* STATE/missions/<id>.<ext>: the source as submitted; <id>.dir: where its
 * relative paths resolve. Written aside, then renamed. */
static void daemon_path(char **out, struct rt_daemon *d, const char *id,
                        const char *ext) {
  xasprintf(out, "%s/missions/%s.%s", d->state_dir, id, ext);
}

static int daemon_write(const char *path, const char *buf, size_t len) {
  char *tmp;
  int fd, rc = 0;

  xasprintf(&tmp, "%s.tmp", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0 ||
      rename(tmp, path) < 0)
    rc = -errno;
  if (fd >= 0)
    close(fd);
  free(tmp);
  return rc;
}

static void daemon_save(struct rt_daemon *d, const struct msn_mission *m,
                        const char *buf, size_t len, int is_json,
                        const char *dir) {
  char *src, *meta, *other;

  daemon_path(&src, d, m->name, is_json ? "json" : "yaml");
  daemon_path(&other, d, m->name, is_json ? "yaml" : "json");
  daemon_path(&meta, d, m->name, "dir");
  if (daemon_write(src, buf, len) < 0 || daemon_write(meta, dir, strlen(dir)))
    log_warn("mission %s: unable to keep its source under %s/missions", m->name,
             d->state_dir);
  unlink(other);
  free(src);
  free(other);
  free(meta);
}

/* A submitted mission's file is the source the daemon keeps: the store
 * names it, `corral export` puts it in the trace, a restart loads it. */
static void daemon_own_file(struct rt_daemon *d, struct msn_mission *m,
                            int is_json) {
  free(m->file);
  daemon_path(&m->file, d, m->name, is_json ? "json" : "yaml");
}

int rt_daemon_submit(struct rt_daemon *d, const char *buf, size_t len,
                     int is_json, const char *dir, const char *file,
                     struct msn_diags *diags, struct rt_dmission **out,
                     struct crl_err *err) {
  const char *name = file ? file : is_json ? "mission.json" : "mission.yaml";
  struct msn_mission *m = NULL;
  struct rt_dmission *x;

  if (msn_load_buffer(&m, name, dir, buf, len, is_json, diags) < 0)
    return crl_err_set(err, CRL_EVALIDATION_FAILED, "the mission is not valid");
  if ((x = rt_daemon_mission(d, m->name)) != NULL && !x->done) {
    crl_err_set(err, CRL_EAGENT_BUSY, "mission %s is running already", m->name);
    msn_mission_free(m);
    return CRL_EAGENT_BUSY;
  }
  daemon_save(d, m, buf, len, is_json, dir);
  daemon_own_file(d, m, is_json);
  return daemon_start(d, m, out, err);
}

static char *daemon_slurp(const char *path, size_t *len) {
  struct crl_buf b;
  char chunk[8192];
  ssize_t n;
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return NULL;
  crl_buf_init(&b, 0);
  while ((n = read(fd, chunk, sizeof(chunk))) > 0)
    crl_buf_append(&b, chunk, (size_t)n);
  close(fd);
  crl_buf_append(&b, "", 1);
  *len = b.len - 1;
  return b.data;
}

/* Loads the source the daemon keeps for mission id; 1 when it keeps none. */
static int daemon_load_kept(struct msn_mission **m, struct rt_daemon *d,
                            const char *id, struct msn_diags *diags) {
  char *path, *src = NULL, *dir;
  size_t len = 0, dlen;
  int is_json = 0, rc;

  for (int j = 0; j < 2 && src == NULL; j++) {
    daemon_path(&path, d, id, j ? "json" : "yaml");
    src = daemon_slurp(path, &len);
    is_json = j;
    free(path);
  }
  if (src == NULL)
    return 1;
  daemon_path(&path, d, id, "dir");
  dir = daemon_slurp(path, &dlen);
  free(path);
  rc = msn_load_buffer(m, is_json ? "mission.json" : "mission.yaml",
                       dir ? dir : "/", src, len, is_json, diags);
  if (rc == 0)
    daemon_own_file(d, *m, is_json);
  free(src);
  free(dir);
  return rc;
}

int rt_daemon_load(struct msn_mission **m, struct rt_daemon *d, const char *id,
                   struct crl_err *err) {
  struct msn_diags diags;
  struct store_mission sm;
  int rc;

  msn_diags_init(&diags);
  rc = daemon_load_kept(m, d, id, &diags);
  if (rc == 1 &&
      (store_mission_get(d->st, id, &sm, err) < 0 || sm.file == NULL))
    rc = crl_err_set(err, CRL_EMISSION_NOT_FOUND,
                     "mission %s has no source to load", id);
  else if (rc == 1)
    rc = msn_load_file(m, sm.file, &diags);
  if (rc < 0 && diags.n > 0)
    crl_err_set(err, CRL_EVALIDATION_FAILED, "%s:%d:%d: %s", diags.v[0].file,
                diags.v[0].line, diags.v[0].col, diags.v[0].msg);
  msn_diags_close(&diags);
  return rc;
}

int rt_daemon_restart(struct rt_daemon *d, const char *id,
                      struct rt_dmission **out, struct crl_err *err) {
  struct rt_dmission *x = rt_daemon_mission(d, id);
  struct msn_mission *m = NULL;
  int rc;

  if (x != NULL && !x->done) {
    *out = x;
    return 0;
  }
  if (x != NULL)
    return crl_err_set(err, CRL_EAGENT_BUSY,
                       "mission %s is still closing; try again", id);
  if ((rc = rt_daemon_load(&m, d, id, err)) < 0)
    return rc;
  return daemon_start(d, m, out, err);
}

static int daemon_adopt_one(const struct store_mission *sm, void *payload) {
  struct rt_daemon *d = payload;

  if (strcmp(sm->state, "running") != 0 || rt_daemon_mission(d, sm->id) != NULL)
    return 0;
  /* The list walk holds a statement: start the engine after it. */
  d->pending = xreallocarray(d->pending, d->npending + 1, sizeof(char *));
  d->pending[d->npending++] = xstrdup(sm->id);
  return 0;
}

/* Takes up every mission the store says is running (after a restart). */
static void daemon_adopt(struct rt_daemon *d) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_dmission *x;

  store_mission_list(d->st, daemon_adopt_one, d);
  for (size_t i = 0; i < d->npending; i++) {
    if (rt_daemon_restart(d, d->pending[i], &x, &err) < 0)
      log_warn("mission %s: not taken up: %s", d->pending[i], err.msg);
    else
      log_info("mission %s: taken up", d->pending[i]);
    free(d->pending[i]);
    crl_err_clear(&err);
  }
  free(d->pending);
  d->pending = NULL;
  d->npending = 0;
}

static void daemon_unlink(struct rt_daemon *d, struct rt_dmission *x) {
  struct rt_dmission **p = &d->missions;

  while (*p != x)
    p = &(*p)->next;
  *p = x->next;
}

static void daemon_handles_close(struct rt_daemon *d) {
  uv_close((uv_handle_t *)&d->reap, NULL);
  uv_close((uv_handle_t *)&d->pump, NULL);
  uv_close((uv_handle_t *)&d->sigterm, NULL);
  uv_close((uv_handle_t *)&d->sigint, NULL);
  uv_close((uv_handle_t *)&d->sighup, NULL);
}

/* After every loop turn: closes the engines that are done; when stopping
 * and none is left, closes the daemon's own handles so the loop ends. */
static void daemon_on_reap(uv_check_t *h) {
  struct rt_daemon *d = crl_container_of(h, struct rt_daemon, reap);
  struct rt_dmission *x, *next;

  for (x = d->missions; x != NULL; x = next) {
    next = x->next;
    if (!x->done || !rt_engine_idle(&x->eng))
      continue;
    daemon_unlink(d, x);
    rt_engine_close(&x->eng);
    msn_mission_free(x->m);
    free(x->id);
    free(x);
  }
  if (d->stopping == 1 && d->missions == NULL && d->http == NULL) {
    d->stopping = 2;
    if (store_dirty(d->st))
      store_commit(d->st, NULL);
    daemon_handles_close(d);
  }
}

static void daemon_on_pump(uv_timer_t *h) {
  rt_daemon_feed_pump(crl_container_of(h, struct rt_daemon, pump));
}

static void daemon_on_http_closed(void *payload) {
  struct rt_daemon *d = payload;

  d->http = NULL;
}

void rt_daemon_stop(struct rt_daemon *d) {
  if (d->stopping)
    return;
  d->stopping = 1;
  log_info("stopping: %s", d->opts.stop_agents
                               ? "cancelling every run"
                               : "agents keep running under their shims");
  rt_daemon_feed_close_all(d);
  rt_http_server_close(d->http, daemon_on_http_closed, d);
  for (struct rt_dmission *x = d->missions; x != NULL; x = x->next) {
    if (x->done)
      continue;
    if (d->opts.stop_agents)
      rt_engine_cancel(&x->eng, NULL);
    else {
      rt_engine_detach(&x->eng);
      x->done = 1;
    }
  }
}

static void daemon_on_signal(uv_signal_t *h, int signum) {
  struct rt_daemon *d = h->data;

  if (signum == SIGHUP) {
    log_info("SIGHUP: taking up missions again");
    daemon_adopt(d);
    return;
  }
  rt_daemon_stop(d);
}

static int daemon_handles(struct rt_daemon *d) {
  uv_signal_t *sigs[] = {&d->sigterm, &d->sigint, &d->sighup};
  int signums[] = {SIGTERM, SIGINT, SIGHUP};

  uv_check_init(d->loop, &d->reap);
  uv_check_start(&d->reap, daemon_on_reap);
  uv_timer_init(d->loop, &d->pump);
  uv_timer_start(&d->pump, daemon_on_pump, 200, 200);
  uv_unref((uv_handle_t *)&d->pump);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(sigs); i++) {
    uv_signal_init(d->loop, sigs[i]);
    sigs[i]->data = d;
    uv_signal_start(sigs[i], daemon_on_signal, signums[i]);
  }
  return 0;
}

static int daemon_listen(struct rt_daemon *d, struct crl_err *err) {
  struct rt_http_opts ho = RT_HTTP_OPTS_INIT;
  int rc;

  ho.allow_gid = d->opts.allow_gid;
  ho.gid = d->opts.gid;
  ho.max_body_bytes = 8 * 1024 * 1024;
  if ((rc = rt_http_server_new(&d->http, d->loop, &ho, rt_api_routes,
                               rt_api_nroutes, d)) < 0)
    return crl_err_set(err, rc, "unable to create the server: %s",
                       crl_strerror(rc));
  if (d->opts.listen_fd >= 0)
    return rt_http_server_adopt(d->http, d->opts.listen_fd, err);
  return rt_http_server_listen(d->http, d->opts.socket_path, err);
}

int rt_daemon_init(struct rt_daemon *d, uv_loop_t *loop,
                   const struct rt_daemon_opts *o, struct crl_err *err) {
  char *dir;
  int rc;

  /* libuv writes to sockets with write(2), not send(MSG_NOSIGNAL): a client
   * that goes away while a reply or an event stream is queued for it would
   * kill the daemon with SIGPIPE. Ignored, the write fails with EPIPE and
   * only that connection closes. Shims are spawned with every signal reset
   * to its default (POSIX_SPAWN_SETSIGDEF), so agents do not inherit it. */
  signal(SIGPIPE, SIG_IGN);
  memset(d, 0, sizeof(*d));
  d->loop = loop;
  d->opts = *o;
  d->started_ms = crl_time_wall_ms();
  d->shim = rt_shim_path();
  if ((rc = rt_statedir(&d->state_dir, o->state_dir, err)) < 0 ||
      (rc = rt_store_open(&d->st, d->state_dir, err)) < 0)
    return rc;
  xasprintf(&dir, "%s/missions", d->state_dir);
  rc = rt_mkdirs(dir, 0700);
  free(dir);
  if (rc < 0 || (rc = daemon_listen(d, err)) < 0)
    return rc < 0 && err->code == 0
               ? crl_err_set(err, rc, "unable to create %s/missions",
                             d->state_dir)
               : rc;
  daemon_handles(d);
  daemon_adopt(d);
  return 0;
}

int rt_daemon_run(struct rt_daemon *d) {
  uv_run(d->loop, UV_RUN_DEFAULT);
  return d->exit_code;
}

void rt_daemon_close(struct rt_daemon *d) {
  store_close(d->st);
  free(d->state_dir);
  free(d->shim);
}
