/*
 * What a run of an agent CLI gets besides argv (adapter.h): a private home,
 * RUNDIR/home (0700), where the adapter's config files are written and
 * which the sandbox binds read-write as its $HOME (/home/agent), and a port
 * of the engine's LLM gateway. Under a sandbox with its own network
 * namespace the port is made inside it: the engine hands the shim one end
 * of a socketpair (fd 3, --gw-fd), the sandbox's child binds
 * 127.0.0.1:RT_GW_PORT in the namespace and sends the listening socket back
 * over SCM_RIGHTS; the engine serves it with rt_gw_listen_fd. Without a
 * sandbox, or with the host's network, the engine binds 127.0.0.1:0 itself.
 * The agent only ever sees the placeholder key.
 *
 * Either way the engine then queues a copy of the listener back on the
 * socketpair, where the shim (fd 3, held until it exits, never read) keeps
 * it for the run's life. An engine that re-attaches to the run after a
 * restart takes the shim's fd 3 with pidfd_getfd(2), peeks the listener
 * out (the copy stays queued for a later restart) and serves it again:
 * connections made while no engine ran wait in its backlog. Calls in
 * flight when the old engine died are lost (the client sees the
 * connection reset, and the CLIs retry).
 */
#include "gateway.h"
#include "rt-chan.h"
#include "rt-trace.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sbx.h"

/* The sandbox's $HOME. */
#define RT_SBX_HOME "/home/agent"

/* 1 when the run gets a sandbox, with *net_host set when it keeps the
 * host's network. */
static int agent_sandboxed(const struct rt_run *r, int *net_host) {
  const struct msn_task *t = &r->eng->m->tasks[r->task];
  const struct msn_sandbox *sb = msn_sandbox_find(r->eng->m, t->sandbox);
  const char *base = sb != NULL ? sb->extends : t->sandbox;
  struct sbx_profile p;

  *net_host = 1;
  if (strcmp(base, "none") == 0)
    return 0;
  if (sb != NULL && sb->network >= 0 && sb->network <= 2)
    *net_host = sb->network == SBX_NET_HOST;
  else if (sbx_profile_builtin(&p, base) == 0) {
    *net_host = p.net == SBX_NET_HOST;
    sbx_profile_close(&p);
  }
  return 1;
}

static int agent_write_file(const char *home, const struct adapter_file *f,
                            struct crl_err *err) {
  char *path, *slash;
  int fd, rc = 0;

  xasprintf(&path, "%s/%s", home, f->path);
  slash = strrchr(path, '/');
  *slash = '\0';
  rc = rt_mkdirs(path, 0700);
  *slash = '/';
  if (rc == 0 &&
      (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                 f->mode)) >= 0) {
    if (write(fd, f->content, f->len) != (ssize_t)f->len)
      rc = -EIO;
    close(fd);
  } else if (rc == 0)
    rc = -errno;
  if (rc < 0)
    crl_err_set(err, rc, "home: %s: %s", path, crl_strerror(rc));
  free(path);
  return rc;
}

static int agent_files(struct rt_run *r, const struct adapter_run *a,
                       struct crl_err *err) {
  struct adapter_file *files = NULL;
  size_t n = 0;
  int rc = 0;

  if (r->stream.ops->build_files != NULL &&
      (rc = r->stream.ops->build_files(&files, &n, a, err)) < 0)
    return rc;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = agent_write_file(r->home, &files[i], err);
  adapter_files_free(files, n);
  return rc;
}

static void agent_gw_ctx(struct rt_gw_run *ctx, struct rt_run *r,
                         const struct adapter_run *a) {
  const struct msn_mission *m = r->eng->m;

  memset(ctx, 0, sizeof(*ctx));
  ctx->mission_id = m->name;
  ctx->ticket_id = a->ticket;
  ctx->task_id = a->task;
  ctx->run_id = a->run_id;
  ctx->agent = m->agents[m->tasks[r->task].agent].name;
  rt_engine_gw_budget(r->eng, r->task, &ctx->budget);
  /* max_turns is held on the wire too, whatever the CLI does with it; a
   * resumed run has the turns it was given. */
  ctx->budget.max_turns =
      r->max_turns > 0 ? r->max_turns : r->eng->m->tasks[r->task].max_turns;
  ctx->prior_seq = r->gw_prior_seq;
  ctx->prior_turns = r->gw_prior_turns;
  ctx->payload = r;
  if (r->eng->opts.llm_replay != NULL)
    rt_llm_replay_find(r->eng->opts.llm_replay, a->task, r->attempt,
                       &ctx->replay, &ctx->nreplay);
}

static int agent_serve(struct rt_run *r, int fd, const struct adapter_run *a,
                       struct crl_err *err) {
  struct rt_gw_run ctx;

  agent_gw_ctx(&ctx, r, a);
  return rt_gw_listen_fd(&r->gw, r->eng->gw, fd, &ctx, err);
}

/* Serves fd (owned from now on) with the run's ids; warns when it cannot. */
static void agent_serve_fd(struct rt_run *r, int fd, const char *from) {
  struct crl_err err = CRL_ERR_INIT;
  struct adapter_run a;
  char id[32];

  memset(&a, 0, sizeof(a));
  snprintf(id, sizeof(id), "%lld", (long long)r->id);
  a.ticket = r->eng->m->tickets[r->eng->m->tasks[r->task].ticket].id;
  a.task = r->eng->m->tasks[r->task].id;
  a.run_id = id;
  if (fd < 0)
    log_warn("run %lld: no gateway socket from %s", (long long)r->id, from);
  else if (agent_serve(r, fd, &a, &err) < 0)
    log_warn("run %lld: gateway: %s", (long long)r->id, err.msg);
}

/* Queues the listener on our end of the socketpair for the shim to hold
 * (it stays there unread). Best effort: without it the run only loses its
 * gateway if the engine restarts. */
static void agent_hold(struct rt_run *r, int lfd) {
  int rc = crl_fd_send(r->gw_sock, lfd, MSG_DONTWAIT);

  if (rc < 0)
    log_warn("run %lld: the shim cannot hold the gateway port: %s",
             (long long)r->id, crl_strerror(rc));
}

/* No namespace of its own: the engine's port on the host's loopback. */
static int agent_gw_host(struct rt_run *r, const struct adapter_run *a,
                         struct crl_err *err) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof(sa);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(fd, 128) < 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
    int rc = -errno;

    if (fd >= 0)
      close(fd);
    return crl_err_set(err, rc, "gateway port: %s", crl_strerror(rc));
  }
  r->gw_port = ntohs(sa.sin_port);
  agent_hold(r, fd);
  close(r->gw_sock);
  r->gw_sock = -1;
  return agent_serve(r, fd, a, err);
}

static int agent_gw(struct rt_run *r, int sandboxed, int net_host,
                    const struct adapter_run *a, struct crl_err *err) {
  int sv[2];

  if (r->eng->gw == NULL)
    return crl_err_set(err, CRL_EINTERNAL, "no LLM gateway");
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return crl_err_set(err, -errno, "gateway socketpair: %s", strerror(errno));
  r->gw_sock = sv[0];
  r->gw_child = sv[1];
  r->gw_netns = sandboxed && !net_host;
  if (!r->gw_netns)
    return agent_gw_host(r, a, err);
  r->gw_port = RT_GW_PORT;
  return 0;
}

int rt_run_agent_prepare(struct rt_run *r, struct adapter_run *a,
                         struct crl_err *err) {
  int net_host, sandboxed, rc;

  if (!rt_agent_uses_gw(r->stream.ops))
    return 0;
  sandboxed = agent_sandboxed(r, &net_host);
  xasprintf(&r->home, "%s/home", r->dir);
  if ((rc = rt_session_take(r, a, err)) < 0)
    return rc;
  if (rc == 0 && (rc = rt_mkdirs(r->home, 0700)) < 0)
    return crl_err_set(err, rc, "home: %s: %s", r->home, crl_strerror(rc));
  r->home_sandboxed = sandboxed;
  a->home = sandboxed ? RT_SBX_HOME : r->home;
  if ((rc = agent_gw(r, sandboxed, net_host, a, err)) < 0)
    return rc;
  snprintf(r->base_url, sizeof(r->base_url), "http://127.0.0.1:%d", r->gw_port);
  a->base_url = r->base_url;
  a->api_key = NULL;
  return agent_files(r, a, err);
}

static void agent_poll_closed(uv_handle_t *h) {
  rt_run_handle_closed(h->data);
}

static void agent_poll_close(struct rt_run *r) {
  if (!r->has_gw_poll)
    return;
  r->has_gw_poll = 0;
  r->gw_poll.data = r;
  uv_close((uv_handle_t *)&r->gw_poll, agent_poll_closed);
  close(r->gw_sock); /* the handle is no longer active */
  r->gw_sock = -1;
}

static void agent_on_gw_fd(uv_poll_t *h, int status, int events) {
  struct rt_run *r = crl_container_of(h, struct rt_run, gw_poll);
  int fd = crl_fd_recv(r->gw_sock, MSG_DONTWAIT);

  (void)status;
  (void)events;
  if (fd >= 0)
    agent_hold(r, fd);
  agent_poll_close(r);
  agent_serve_fd(r, fd, "the sandbox");
}

/* The shim's fd 3 (its end of the socketpair), through its pidfd. */
static int agent_shim_fd(const struct rt_run *r) {
  int type = 0;
  socklen_t len = sizeof(type);
  int fd = (int)syscall(SYS_pidfd_getfd, r->pidfd, 3, 0);

  if (fd < 0)
    return -errno;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
      type != SOCK_SEQPACKET) {
    close(fd);
    return -ENOTSOCK; /* a shim from before fd holding */
  }
  return fd;
}

/* What the run's calls before the restart used: the last seq, and the
 * model calls that count as turns (gateway-call.c counts the same). */
static int agent_prior_call(const struct store_llm_call *c, void *payload) {
  struct rt_run *r = payload;

  if ((uint64_t)c->seq > r->gw_prior_seq)
    r->gw_prior_seq = (uint64_t)c->seq;
  if (strcmp(c->api ? c->api : "side", "side") != 0 && !c->refused)
    r->gw_prior_turns++;
  return 0;
}

void rt_run_agent_attach(struct rt_run *r) {
  int sock, fd = -1, acc = 0;
  socklen_t len = sizeof(acc);

  if (!rt_agent_uses_gw(r->stream.ops) || r->eng->gw == NULL || r->pidfd < 0)
    return;
  if ((sock = agent_shim_fd(r)) < 0) {
    log_warn("run %lld: cannot take the gateway port from the shim: %s",
             (long long)r->id, crl_strerror(sock));
    return;
  }
  fd = crl_fd_recv(sock, MSG_DONTWAIT | MSG_PEEK);
  close(sock);
  store_llm_call_list(r->eng->st, r->eng->m->name, r->id, agent_prior_call, r);
  if (fd >= 0 &&
      (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc)) {
    close(fd);
    fd = -1;
  }
  agent_serve_fd(r, fd, "the shim");
}

void rt_run_agent_spawned(struct rt_run *r) {
  if (r->gw_child >= 0)
    close(r->gw_child);
  r->gw_child = -1;
  if (r->gw_sock < 0 || !r->gw_netns ||
      uv_poll_init(r->eng->loop, &r->gw_poll, r->gw_sock) < 0)
    return;
  r->handles++;
  r->has_gw_poll = 1;
  uv_poll_start(&r->gw_poll, UV_READABLE, agent_on_gw_fd);
}

void rt_run_agent_close(struct rt_run *r) {
  if (r->gw_child >= 0)
    close(r->gw_child);
  r->gw_child = -1;
  agent_poll_close(r);
  if (r->gw_sock >= 0)
    close(r->gw_sock);
  r->gw_sock = -1;
  free(r->home);
  r->home = NULL;
  free(r->agent_path);
  r->agent_path = NULL;
  free(r->session);
  r->session = NULL;
  rt_gw_unlisten(r->gw);
  r->gw = NULL;
}

/* The sandbox shows the agent its home and the dirs of its PATH that lie
 * outside the system's (node_modules/.bin: the whole node_modules). */
void rt_run_agent_argv(const struct rt_run *r,
                       void (*add)(void *a, const char *s), void *a) {
  char *path, *save = NULL, *dir, *end, port[16];

  if (r->gw_child >= 0) {
    add(a, "--gw-fd");
    add(a, "3");
  }
  if (r->home == NULL || !r->home_sandboxed)
    return;
  add(a, "--home-src");
  add(a, r->home);
  if (r->gw_child >= 0 && r->gw_netns) {
    snprintf(port, sizeof(port), "%d", r->gw_port);
    add(a, "--gw-port");
    add(a, port);
  }
  path = xstrdup(r->agent_path != NULL ? r->agent_path : "");
  for (dir = strtok_r(path, ":", &save); dir != NULL;
       dir = strtok_r(NULL, ":", &save)) {
    if (dir[0] != '/' || strncmp(dir, "/usr/", 5) == 0 ||
        strncmp(dir, "/bin", 4) == 0 || strncmp(dir, "/sbin", 5) == 0)
      continue;
    end = dir + strlen(dir);
    if (end - dir > 18 && strcmp(end - 18, "/node_modules/.bin") == 0)
      end[-5] = '\0';
    if (access(dir, R_OK) != 0)
      continue;
    add(a, "--readonly");
    add(a, dir);
  }
  free(path);
}
