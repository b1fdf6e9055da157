/*
 * The control socket's listener: binding a Unix socket path (private parent
 * directory, stale socket removed, mode 0600) or adopting a socket systemd
 * passed in, the peer-credential policy applied to every connection, and an
 * orderly close that waits for every connection handle before freeing.
 */
#include "http-int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void opts_fill(struct rt_http_opts *o, const struct rt_http_opts *in) {
  const struct rt_http_opts def = RT_HTTP_OPTS_INIT;

  *o = in ? *in : def;
  if (o->max_header_bytes == 0)
    o->max_header_bytes = def.max_header_bytes;
  if (o->max_body_bytes == 0)
    o->max_body_bytes = def.max_body_bytes;
  if (o->read_timeout_ms == 0)
    o->read_timeout_ms = def.read_timeout_ms;
  if (o->idle_timeout_ms == 0)
    o->idle_timeout_ms = def.idle_timeout_ms;
  if (o->max_conns == 0)
    o->max_conns = def.max_conns;
  if (o->max_unsent_bytes == 0)
    o->max_unsent_bytes = def.max_unsent_bytes;
  if (o->sse_heartbeat_ms == 0)
    o->sse_heartbeat_ms = def.sse_heartbeat_ms;
  if (o->uid == (uid_t)-1)
    o->uid = getuid();
}

int rt_http_server_new(struct rt_http_server **out, uv_loop_t *loop,
                       const struct rt_http_opts *opts,
                       const struct rt_http_route *routes, size_t nroutes,
                       void *payload) {
  struct rt_http_server *srv = xcalloc(1, sizeof(*srv));
  int rc;

  srv->loop = loop;
  opts_fill(&srv->opts, opts);
  srv->routes = routes;
  srv->nroutes = nroutes;
  srv->payload = payload;
  if ((rc = uv_pipe_init(loop, &srv->listener, 0)) < 0) {
    free(srv);
    return rc;
  }
  srv->listener.data = srv;
  *out = srv;
  return 0;
}

static void server_connection_cb(uv_stream_t *s, int status) {
  struct rt_http_server *srv = s->data;

  if (status < 0) {
    log_warn("%s: accept: %s", __func__, uv_strerror(status));
    return;
  }
  rt__http_conn_accept(srv);
}

static int server_start(struct rt_http_server *srv, struct crl_err *err) {
  int rc = uv_listen((uv_stream_t *)&srv->listener, 511, server_connection_cb);

  if (rc < 0)
    return crl_err_set(err, rc, "listen: %s", uv_strerror(rc));
  srv->listening = 1;
  return 0;
}

/* Creates the socket's parent directory 0700 when it is missing; an
 * existing directory is left as its owner made it. */
static int server_mkparent(const char *path, struct crl_err *err) {
  char *dir = xstrdup(path), *slash = strrchr(dir, '/');
  int rc = 0;

  if (slash != NULL && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
      rc = crl_err_set(err, -errno, "cannot create %s: %s", dir,
                       strerror(errno));
  }
  free(dir);
  return rc;
}

int rt_http_server_listen(struct rt_http_server *srv, const char *path,
                          struct crl_err *err) {
  struct sockaddr_un sa;
  struct stat st;
  int rc;

  /* libuv before 1.46 silently truncates a long path and binds elsewhere. */
  if (strlen(path) >= sizeof(sa.sun_path))
    return crl_err_set(err, -ENAMETOOLONG,
                       "socket path longer than %zu bytes: %s",
                       sizeof(sa.sun_path) - 1, path);
  if ((rc = server_mkparent(path, err)) < 0)
    return rc;
  /* Only a socket is removed: a regular file at the path is a mistake the
   * user should see, not something to delete. */
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
    unlink(path);
  if ((rc = uv_pipe_bind(&srv->listener, path)) < 0)
    return crl_err_set(err, rc, "cannot bind %s: %s", path, uv_strerror(rc));
  if (chmod(path, 0600) < 0)
    return crl_err_set(err, -errno, "cannot chmod %s: %s", path,
                       strerror(errno));
  return server_start(srv, err);
}

int rt_http_server_adopt(struct rt_http_server *srv, int fd,
                         struct crl_err *err) {
  int rc = uv_pipe_open(&srv->listener, fd);

  if (rc < 0)
    return crl_err_set(err, rc, "cannot adopt fd %d: %s", fd, uv_strerror(rc));
  return server_start(srv, err);
}

static int peer_in_group(int fd, gid_t primary, gid_t want) {
  gid_t groups[256];
  socklen_t len = sizeof(groups);

  if (primary == want)
    return 1;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
    return 0;
  for (size_t i = 0; i < len / sizeof(gid_t); i++)
    if (groups[i] == want)
      return 1;
  return 0;
}

int rt__http_peer_allowed(const struct rt_http_server *srv, int fd) {
  const struct rt_http_opts *o = &srv->opts;
  struct ucred cr;
  socklen_t len = sizeof(cr);

  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
    return 0;
  if (cr.uid == o->uid || (o->allow_root && cr.uid == 0))
    return 1;
  if (o->allow_gid && peer_in_group(fd, cr.gid, o->gid))
    return 1;
  log_info("control: refused peer pid %ld uid %ld", (long)cr.pid, (long)cr.uid);
  return 0;
}

unsigned rt_http_server_conns(const struct rt_http_server *srv) {
  return srv->nconns;
}

uint64_t rt_http_server_requests(const struct rt_http_server *srv) {
  return srv->nrequests;
}

void rt__http_server_maybe_free(struct rt_http_server *srv) {
  rt_http_close_cb cb = srv->close_cb;
  void *payload = srv->close_payload;

  if (!srv->closing || srv->listening || srv->nconns > 0)
    return;
  free(srv);
  if (cb != NULL)
    cb(payload);
}

static void server_listener_closed(uv_handle_t *h) {
  struct rt_http_server *srv = h->data;

  srv->listening = 0;
  rt__http_server_maybe_free(srv);
}

void rt_http_server_close(struct rt_http_server *srv, rt_http_close_cb cb,
                          void *payload) {
  struct rt_http_conn *c, *next;

  srv->closing = 1;
  srv->close_cb = cb;
  srv->close_payload = payload;
  for (c = srv->conns; c != NULL; c = next) {
    next = c->next;
    rt__http_conn_close(c);
  }
  /* The listener is closed even when it never listened; `listening` stands
   * for "its handle is still open" from here on. */
  srv->listening = 1;
  uv_close((uv_handle_t *)&srv->listener, server_listener_closed);
}
