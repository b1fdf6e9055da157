/*
 * One run: the engine's side of a corral-shim. The engine posix_spawns the
 * shim (never fork from a big process; uv_spawn forks in the libuv Debian
 * ships), watches it through a pidfd, follows RUNDIR/output.log from the
 * last committed offset (an inotify watch wakes it), and once the shim is
 * gone reads its status, ingests the rest of the log and reports the end.
 * The run ends when both the reap and the last bytes have arrived (tmux
 * job.c); its handles are closed and it is freed from the close callbacks.
 */
#include "rt-chan.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static void run_on_exit(uv_poll_t *h, int status, int events);
static void run_close(struct rt_run *r);
static void run_heartbeat_start(struct rt_run *r);
static void run_chan_open(struct rt_run *r);
static void run_on_log(uv_fs_event_t *h, const char *f, int ev, int status);

struct rt_run *rt_run_new(struct rt_engine *e, size_t task, int64_t id,
                          int attempt, const char *dir) {
  struct rt_run *r = xcalloc(1, sizeof(*r));
  const char *kind = e->m->agents[e->m->tasks[task].agent].adapter;

  r->eng = e;
  r->task = task;
  r->id = id;
  r->attempt = attempt;
  r->dir = xstrdup(dir);
  r->pidfd = -1;
  r->logfd = -1;
  r->state = RT_RUN_STARTING;
  r->exit_code = -1;
  r->gw_sock = -1;
  r->gw_child = -1;
  adapter_stream_init(&r->stream, adapter_find(kind), RT_LINE_MAX);
  return r;
}

static void run_emit(const struct adapter_event *ev, void *payload) {
  struct rt_run *r = payload;

  rt_engine_run_line(r->eng, r, ev);
}

/* Ingests at most RT_LOG_TURN_MAX bytes of new output; returns 1 when more
 * is left, so the caller can come back in a later turn. */
static int run_ingest(struct rt_run *r) {
  char buf[RT_LOG_CHUNK];
  size_t total = 0;
  ssize_t n;

  if (r->logfd < 0)
    return 0;
  while (total < RT_LOG_TURN_MAX &&
         (n = pread(r->logfd, buf, sizeof(buf), r->read_off)) > 0) {
    adapter_stream_feed(&r->stream, buf, (size_t)n, run_emit, r);
    r->read_off += n;
    total += (size_t)n;
  }
  if (total > 0) {
    sched_task_activity(r->eng->sched, r->task, rt_engine_now(r->eng));
    store_run_set_offset(r->eng->st, r->id,
                         r->read_off - (int64_t)r->stream.partial.len, NULL);
  }
  return total >= RT_LOG_TURN_MAX;
}

static int run_open_log(struct rt_run *r, int64_t offset) {
  char *path;
  int rc = 0;

  xasprintf(&path, "%s/output.log", r->dir);
  r->logfd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (r->logfd < 0)
    rc = -errno;
  r->read_off = offset;
  if (rc == 0 && uv_fs_event_init(r->eng->loop, &r->watch) == 0) {
    r->handles++;
    r->has_watch = 1;
    uv_fs_event_start(&r->watch, run_on_log, path, 0);
  }
  free(path);
  return rc;
}

static int run_watch(struct rt_run *r, pid_t pid) {
  int rc;

  r->shim_pid = pid;
  if ((r->pidfd = rt_pidfd_open(pid)) < 0)
    return r->pidfd;
  if ((rc = uv_poll_init(r->eng->loop, &r->poll, r->pidfd)) < 0)
    return rc;
  r->handles++;
  r->has_poll = 1;
  r->state = RT_RUN_RUNNING;
  return uv_poll_start(&r->poll, UV_READABLE, run_on_exit);
}

/* A growing argv for the shim's command line. */
struct run_argv {
  char **v;
  size_t n;
};

static void run_argv_add(struct run_argv *a, const char *s) {
  a->v = xreallocarray(a->v, a->n + 2, sizeof(*a->v));
  a->v[a->n++] = xstrdup(s);
  a->v[a->n] = NULL;
}

static void run_argv_num(struct run_argv *a, const char *opt, int64_t n) {
  char buf[32];

  if (n <= 0)
    return;
  snprintf(buf, sizeof(buf), "%lld", (long long)n);
  run_argv_add(a, opt);
  run_argv_add(a, buf);
}

static void run_argv_paths(struct run_argv *a, const char *opt,
                           char *const *paths) {
  for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
    run_argv_add(a, opt);
    run_argv_add(a, paths[i]);
  }
}

static const char *const run_net_names[] = {"none", "gateway", "host"};

static void run_argv_add_cb(void *a, const char *s) {
  run_argv_add(a, s);
}

/* The task's sandbox profile as shim options: a built-in base, and for a
 * profile of the mission its overrides. "none" adds nothing. */
/* The sandbox shows the agent its channel and the corral binary. */
static void run_argv_chan(struct run_argv *a, const struct rt_run *r) {
  char *dir, *bin;

  if (r->chan == NULL)
    return;
  dir = rt_chan_dir(r);
  bin = xstrdup(r->eng->opts.shim_path);
  run_argv_add(a, "--readonly");
  run_argv_add(a, dir);
  if (strrchr(bin, '/') != NULL && strrchr(bin, '/') != bin &&
      strncmp(bin, "/usr/", 5) != 0 && strncmp(bin, "/bin/", 5) != 0) {
    *strrchr(bin, '/') = '\0';
    run_argv_add(a, "--readonly");
    run_argv_add(a, bin);
  }
  free(dir);
  free(bin);
}

static void run_argv_sandbox(struct run_argv *a, const struct rt_run *r) {
  const struct msn_task *t = &r->eng->m->tasks[r->task];
  const struct msn_sandbox *sb = msn_sandbox_find(r->eng->m, t->sandbox);
  const char *base = sb != NULL ? sb->extends : t->sandbox;

  if (strcmp(base, "none") == 0)
    return;
  run_argv_add(a, "--profile");
  run_argv_add(a, base);
  run_argv_chan(a, r);
  rt_run_agent_argv(r, run_argv_add_cb, a);
  if (sb == NULL)
    return;
  run_argv_paths(a, "--writable", sb->writable);
  run_argv_paths(a, "--readonly", sb->readonly);
  run_argv_paths(a, "--hidden", sb->hidden);
  if (sb->network >= 0 && sb->network <= 2) {
    run_argv_add(a, "--net");
    run_argv_add(a, run_net_names[sb->network]);
  }
  run_argv_num(a, "--memory", sb->memory);
  run_argv_num(a, "--pids", sb->pids);
  run_argv_num(a, "--cpu", sb->cpu_percent);
  run_argv_num(a, "--tmp-size", sb->tmp_size);
}

static void run_argv_build(struct run_argv *a, const struct rt_run *r,
                           char **agent_argv) {
  run_argv_add(a, r->eng->opts.shim_path);
  run_argv_num(a, "--grace", r->eng->m->tasks[r->task].grace_ms);
  run_argv_add(a, "--cwd");
  run_argv_add(a, r->workdir ? r->workdir : r->eng->m->workdir);
  if (r->eng->cgroup != NULL) {
    run_argv_add(a, "--cgroup");
    run_argv_add(a, r->eng->cgroup);
  }
  run_argv_sandbox(a, r);
  run_argv_add(a, r->dir);
  run_argv_add(a, "--");
  for (size_t i = 0; agent_argv[i] != NULL; i++)
    run_argv_add(a, agent_argv[i]);
}

static int run_posix_spawn(pid_t *pid, struct rt_run *r, char **agent_argv,
                           char **envp) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  struct run_argv argv = {NULL, 0};
  sigset_t none, all;
  int rc;

  run_argv_build(&argv, r, agent_argv);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_init(&at);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (r->gw_child >= 0)
    posix_spawn_file_actions_adddup2(&fa, r->gw_child, 3);
  posix_spawn_file_actions_addclosefrom_np(&fa, r->gw_child >= 0 ? 4 : 3);
  rc = -posix_spawn(pid, argv.v[0], &fa, &at, argv.v, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  adapter_argv_free(argv.v);
  return rc;
}

/* The agent's environment: an allowlist of the caller's, then the agent's
 * and task's own variables, then the adapter's. */
static const char *const run_env_allow[] = {
    "PATH",     "HOME", "USER", "LOGNAME", "LANG",  "LC_ALL",
    "LC_CTYPE", "TZ",   "TERM", "TMPDIR",  "SHELL", NULL};

static void run_env(struct adapter_env *env, const struct msn_task *t) {
  const char *v;

  adapter_env_init(env);
  for (size_t i = 0; run_env_allow[i] != NULL; i++)
    if ((v = getenv(run_env_allow[i])) != NULL)
      adapter_env_set(env, run_env_allow[i], v);
  if (adapter_env_get(env, "PATH") == NULL)
    adapter_env_set(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
  for (size_t i = 0; t->env != NULL && t->env[i] != NULL; i++)
    adapter_env_put(env, t->env[i]);
}

/* A reviewer's feedback on the last rejection, for the next run. */
/* The agent channel and the corral binary that speaks it. */
static void run_chan_env(struct adapter_env *env, struct rt_run *r) {
  char *dir, *path, *bin;

  if (r->chan == NULL)
    return;
  dir = rt_chan_dir(r);
  xasprintf(&path, "%s/agent.sock", dir);
  xasprintf(&bin, "%s", r->eng->opts.shim_path);
  if (strrchr(bin, '/') != NULL)
    strcpy(strrchr(bin, '/') + 1, "corral");
  adapter_env_set(env, "CORRAL_AGENT_SOCKET", path);
  adapter_env_set(env, "CORRAL_BIN", bin);
  free(path);
  free(dir);
  free(bin);
}

static void run_feedback(struct adapter_env *env, struct rt_run *r) {
  struct store_task t;

  if (store_task_get(r->eng->st, r->eng->m->name, r->eng->m->tasks[r->task].id,
                     &t, NULL) == 0 &&
      t.feedback != NULL)
    adapter_env_set(env, "CORRAL_FEEDBACK", t.feedback);
}

static void run_adapter_info(struct adapter_run *a, struct rt_run *r,
                             char *idbuf, size_t idlen) {
  const struct msn_mission *m = r->eng->m;
  const struct msn_task *t = &m->tasks[r->task];

  snprintf(idbuf, idlen, "%lld", (long long)r->id);
  memset(a, 0, sizeof(*a));
  a->mission = m->name;
  a->ticket = m->tickets[t->ticket].id;
  a->task = t->id;
  a->run_id = idbuf;
  a->prompt = t->prompt;
  a->model = m->agents[t->agent].model;
  a->max_turns = t->max_turns;
  a->workdir = r->workdir ? r->workdir : m->workdir;
  a->command = r->eng->planning[r->task] && t->plan_command != NULL
                   ? t->plan_command
                   : t->command;
  a->attempt = r->attempt;
}

/* Keeps the agent's argv in RUNDIR/argv.json, for the record: what a CLI
 * was told, which session a run resumed. It holds no key (the gateway's
 * placeholder travels in the environment). Best effort. */
static void run_argv_record(const struct rt_run *r, char **argv) {
  json_t *a = json_array();
  char *path;

  for (size_t i = 0; argv[i] != NULL; i++)
    json_array_append_new(a, json_string(argv[i]));
  xasprintf(&path, "%s/argv.json", r->dir);
  if (json_dump_file(a, path, JSON_COMPACT) < 0)
    log_warn("run %lld: unable to write %s", (long long)r->id, path);
  free(path);
  json_decref(a);
}

static int run_start_shim(struct rt_run *r, pid_t *pid, struct crl_err *err) {
  const struct msn_task *t = &r->eng->m->tasks[r->task];
  struct adapter_env env;
  struct adapter_run a;
  char id[32], **argv = NULL;
  int rc;

  run_adapter_info(&a, r, id, sizeof(id));
  run_env(&env, t);
  if ((rc = rt_run_agent_prepare(r, &a, err)) < 0)
    goto out;
  run_feedback(&env, r);
  run_chan_env(&env, r);
  if (t->plan)
    adapter_env_set(&env, "CORRAL_PHASE",
                    r->eng->planning[r->task] ? "plan" : "work");
  if ((rc = r->stream.ops->build_argv(&argv, &a, err)) < 0)
    goto out;
  if ((rc = r->stream.ops->build_env(&env, &a, err)) < 0)
    goto out;
  r->agent_path = xstrdup(adapter_env_get(&env, "PATH"));
  run_argv_record(r, argv);
  if ((rc = run_posix_spawn(pid, r, argv, env.v)) < 0)
    crl_err_set(err, rc, "spawn error: %s: %s", r->eng->opts.shim_path,
                crl_strerror(rc));
out:
  adapter_argv_free(argv);
  adapter_env_close(&env);
  return rc;
}

void rt_run_spawn(struct rt_run *r) {
  struct crl_err err = CRL_ERR_INIT;
  pid_t pid;
  int rc;

  if (r->stop != SCHED_STOP_NONE) {
    /* Stopped before it started: nothing ran, nothing to kill. */
    crl_err_set(&err, 0, "%s before start", sched_stop_reason_name(r->stop));
    goto fail;
  }
  if ((rc = run_open_log(r, 0)) < 0) {
    crl_err_set(&err, rc, "spawn error: output.log: %s", crl_strerror(rc));
    goto fail;
  }
  if ((rc = rt_ticket_prepare(r, &err)) < 0) {
    memmove(err.msg + 10, err.msg, sizeof(err.msg) - 11);
    memcpy(err.msg, "worktree: ", 10);
    err.msg[sizeof(err.msg) - 1] = '\0';
    goto fail;
  }
  run_chan_open(r);
  if ((rc = run_start_shim(r, &pid, &err)) < 0)
    goto fail;
  r->owned = 1;
  r->spawned = 1;
  rt_run_agent_spawned(r);
  if ((rc = run_watch(r, pid)) < 0) {
    crl_err_set(&err, rc, "unable to watch shim %ld: %s", (long)pid,
                crl_strerror(rc));
    goto fail;
  }
  store_run_set_spawned(r->eng->st, r->id, pid, rt_proc_starttime(pid), 0,
                        NULL);
  run_heartbeat_start(r);
  return;
fail:
  r->state = RT_RUN_DEAD;
  rt_engine_run_ended(r->eng, r, SCHED_OUTCOME_FAILURE, err.msg);
  run_close(r);
}

static void run_on_heartbeat_missed(uv_timer_t *h) {
  struct rt_run *r = crl_container_of(h, struct rt_run, hb);

  rt_engine_event(r->eng, r->eng->m->tasks[r->task].id, r->id,
                  "heartbeat-timeout", NULL);
  rt_run_stop(r, SCHED_STOP_HEARTBEAT);
}

void rt_run_heartbeat(struct rt_run *r) {
  int64_t every = r->eng->m->tasks[r->task].heartbeat_ms;

  if (r->has_hb && r->state == RT_RUN_RUNNING)
    uv_timer_start(&r->hb, run_on_heartbeat_missed, (uint64_t)every, 0);
}

/* A task that declares a heartbeat must send its first one in time too. */
static void run_heartbeat_start(struct rt_run *r) {
  if (r->eng->m->tasks[r->task].heartbeat_ms <= 0 || r->has_hb)
    return;
  uv_timer_init(r->eng->loop, &r->hb);
  r->handles++;
  r->has_hb = 1;
  rt_run_heartbeat(r);
}

/* The channel is an aid, not a condition: a run without one still runs. */
static void run_chan_open(struct rt_run *r) {
  struct crl_err err = CRL_ERR_INIT;

  if (rt_chan_open(r, &err) < 0)
    log_warn("run %lld: no agent channel: %s", (long long)r->id, err.msg);
}

int rt_run_attach(struct rt_run *r, pid_t shim_pid, int64_t offset) {
  int rc;

  if ((rc = run_open_log(r, offset)) < 0)
    return rc;
  r->spawned = 1;
  if ((rc = run_watch(r, shim_pid)) < 0)
    return rc;
  rt_run_agent_attach(r);
  run_chan_open(r);
  run_heartbeat_start(r);
  return 0;
}

static void run_reason(char *out, size_t len, const struct rt_status *s,
                       enum sched_stop_reason stop) {
  const char *tail = s->killed ? ", killed after grace" : "";

  if (strcmp(s->end, "spawn_error") == 0 && s->err_no == 0)
    snprintf(out, len, "sandbox: %s", s->detail);
  else if (strcmp(s->end, "spawn_error") == 0)
    snprintf(out, len, "spawn error: %s (%s)", crl_err_name(-s->err_no),
             crl_strerror(-s->err_no));
  else if (stop != SCHED_STOP_NONE)
    snprintf(out, len, "%s%s", sched_stop_reason_name(stop), tail);
  else if (strcmp(s->end, "signaled") == 0)
    snprintf(out, len, "signal %d (%s)%s", s->signal, strsignal(s->signal),
             tail);
  else
    snprintf(out, len, "exit %d", s->code);
}

/* The shim is gone: read its verdict, take the last bytes, report. */
static void run_finish(struct rt_run *r) {
  struct rt_status s;
  char reason[1200];
  enum sched_outcome o = SCHED_OUTCOME_FAILURE;
  int rc;

  r->state = RT_RUN_DEAD;
  while (run_ingest(r))
    ;
  adapter_stream_finish(&r->stream, run_emit, r);
  store_run_set_offset(r->eng->st, r->id, r->read_off, NULL);
  if ((rc = rt_status_read(&s, r->dir)) < 0) {
    snprintf(reason, sizeof(reason), "shim lost: no status (%s)",
             crl_strerror(rc));
  } else {
    run_reason(reason, sizeof(reason), &s, r->stop);
    r->exit_code = strcmp(s.end, "exited") == 0 ? s.code : -1;
    r->signal = s.signal;
    r->err_no = s.err_no;
    if (strcmp(s.end, "exited") == 0 && s.code == 0 &&
        r->stop == SCHED_STOP_NONE)
      o = SCHED_OUTCOME_SUCCESS;
  }
  rt_engine_run_ended(r->eng, r, o, reason);
}

void rt_run_handle_closed(struct rt_run *r) {
  if (--r->handles == 0)
    rt_engine_run_closed(r->eng, r);
}

static void run_on_close(uv_handle_t *h) {
  rt_run_handle_closed(h->data);
}

static void run_close(struct rt_run *r) {
  r->state = RT_RUN_CLOSED;
  rt_run_agent_close(r);
  if (r->handles == 0) {
    rt_engine_run_closed(r->eng, r);
    return;
  }
  if (r->has_poll) {
    r->poll.data = r;
    uv_close((uv_handle_t *)&r->poll, run_on_close);
  }
  if (r->has_watch) {
    r->watch.data = r;
    uv_close((uv_handle_t *)&r->watch, run_on_close);
  }
  if (r->has_hb) {
    r->hb.data = r;
    uv_close((uv_handle_t *)&r->hb, run_on_close);
  }
  rt_chan_close(r);
}

static void run_on_exit(uv_poll_t *h, int status, int events) {
  struct rt_run *r = crl_container_of(h, struct rt_run, poll);
  siginfo_t si;

  uv_poll_stop(h);
  if (r->owned)
    waitid((idtype_t)P_PIDFD, (id_t)r->pidfd, &si, WEXITED);
  run_finish(r);
  run_close(r);
}

static void run_on_log(uv_fs_event_t *h, const char *f, int ev, int status) {
  struct rt_run *r = crl_container_of(h, struct rt_run, watch);

  if (r->state == RT_RUN_RUNNING)
    run_ingest(r);
}

void rt_run_finish_detached(struct rt_run *r, int64_t offset) {
  run_open_log(r, offset);
  run_finish(r);
  run_close(r);
}

void rt_run_stop(struct rt_run *r, enum sched_stop_reason why) {
  if (r->state == RT_RUN_STARTING)
    r->stop = why;
  if (r->state != RT_RUN_RUNNING)
    return;
  r->stop = why;
  rt_pidfd_signal(r->pidfd, SIGTERM);
}

void rt_run_kill(struct rt_run *r) {
  if (r->state == RT_RUN_RUNNING)
    rt_pidfd_signal(r->pidfd, SIGUSR1);
}

void rt_run_detach(struct rt_run *r) {
  if (r->state == RT_RUN_RUNNING) {
    while (run_ingest(r))
      ;
    store_run_set_offset(r->eng->st, r->id, r->read_off, NULL);
  }
  if (r->has_poll)
    uv_poll_stop(&r->poll);
  run_close(r);
}
