/*
 * The agent channel: one Unix socket per run, RUNDIR/chan/agent.sock, which
 * the sandbox shows the agent read-only at the same path (connecting needs
 * no write access to a mount) and whose path the agent finds in
 * $CORRAL_AGENT_SOCKET. `corral agent VERB` speaks one JSON object per
 * line and reads one JSON reply per line. The engine listens, so a daemon
 * restart binds it again; an agent waiting for an answer reconnects and
 * asks again by question id. Lines are bounded (CHAN_LINE_MAX): a longer
 * one is answered with an error and the connection closed.
 */
#include "rt-chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHAN_LINE_MAX (64 * 1024)

struct rt_chan_conn {
  uv_pipe_t pipe;
  struct rt_chan *ch; /* NULL once the channel closed */
  struct rt_run *r;
  struct crl_buf in;
  int closing;
  struct rt_chan_conn *next;
};

struct rt_chan {
  struct rt_run *r;
  uv_pipe_t listener;
  struct rt_chan_conn *conns;
  int listening;
};

char *rt_chan_dir(const struct rt_run *r) {
  char *dir;

  xasprintf(&dir, "%s/chan", r->dir);
  return dir;
}

static void chan_on_write(uv_write_t *w, int status) {
  free(w->data);
  free(w);
}

void rt_chan_reply(struct rt_chan_conn *c, json_t *msg) {
  char *s = json_dumps(msg, JSON_COMPACT);
  uv_write_t *w = xmalloc(sizeof(*w));
  uv_buf_t b;
  size_t n = strlen(s);

  json_decref(msg);
  s = xrealloc(s, n + 2);
  s[n] = '\n';
  s[n + 1] = '\0';
  b = uv_buf_init(s, (unsigned)(n + 1));
  w->data = s;
  if (c->closing ||
      uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, chan_on_write) < 0) {
    free(s);
    free(w);
  }
}

void rt_chan_error(struct rt_chan_conn *c, int code, const char *msg) {
  rt_chan_reply(c, json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code",
                             crl_err_name(code), "message", msg));
}

static void chan_conn_closed(uv_handle_t *h) {
  struct rt_chan_conn *c = h->data;
  struct rt_run *r = c->r;

  crl_buf_close(&c->in);
  free(c);
  rt_run_handle_closed(r);
}

static void chan_conn_close(struct rt_chan_conn *c) {
  struct rt_chan_conn **p = &c->ch->conns;

  if (c->closing)
    return;
  c->closing = 1;
  while (*p != NULL && *p != c)
    p = &(*p)->next;
  if (*p == c)
    *p = c->next;
  rt_engine_chan_gone(c->ch->r, c);
  uv_close((uv_handle_t *)&c->pipe, chan_conn_closed);
}

static void chan_line(struct rt_chan_conn *c, const char *line, size_t len) {
  json_error_t je;
  json_t *msg = json_loadb(line, len, 0, &je);

  if (!json_is_object(msg)) {
    rt_chan_error(c, CRL_EBAD_REQUEST, "expected one JSON object per line");
    json_decref(msg);
    return;
  }
  rt_engine_chan_message(c->ch->r, c, msg);
  json_decref(msg);
}

static void chan_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  b->base = xmalloc(4096);
  b->len = 4096;
}

static void chan_feed(struct rt_chan_conn *c, const char *buf, size_t n) {
  char *nl;

  crl_buf_append(&c->in, buf, n);
  while (!c->closing && (nl = memchr(c->in.data, '\n', c->in.len)) != NULL) {
    size_t len = (size_t)(nl - c->in.data);

    chan_line(c, c->in.data, len);
    crl_buf_consume(&c->in, len + 1);
  }
  if (c->in.len > CHAN_LINE_MAX) {
    rt_chan_error(c, CRL_EPAYLOAD_TOO_LARGE, "line over 64 KiB");
    chan_conn_close(c);
  }
}

static void chan_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct rt_chan_conn *c = s->data;

  if (n > 0)
    chan_feed(c, b->base, (size_t)n);
  else if (n < 0)
    chan_conn_close(c);
  free(b->base);
}

static void chan_on_connect(uv_stream_t *srv, int status) {
  struct rt_chan *ch = srv->data;
  struct rt_chan_conn *c;

  if (status < 0)
    return;
  c = xcalloc(1, sizeof(*c));
  c->ch = ch;
  c->r = ch->r;
  crl_buf_init(&c->in, 0);
  uv_pipe_init(srv->loop, &c->pipe, 0);
  c->pipe.data = c;
  ch->r->handles++;
  if (uv_accept(srv, (uv_stream_t *)&c->pipe) < 0) {
    c->closing = 1;
    uv_close((uv_handle_t *)&c->pipe, chan_conn_closed);
    return;
  }
  c->next = ch->conns;
  ch->conns = c;
  uv_read_start((uv_stream_t *)&c->pipe, chan_alloc, chan_on_read);
}

static void chan_listener_closed(uv_handle_t *h) {
  struct rt_chan *ch = h->data;
  struct rt_run *r = ch->r;

  free(ch);
  rt_run_handle_closed(r);
}

int rt_chan_open(struct rt_run *r, struct crl_err *err) {
  struct rt_chan *ch = xcalloc(1, sizeof(*ch));
  char *dir = rt_chan_dir(r), *path;
  int rc;

  xasprintf(&path, "%s/agent.sock", dir);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    log_warn("unable to create %s: %s", dir, strerror(errno));
  unlink(path);
  ch->r = r;
  uv_pipe_init(r->eng->loop, &ch->listener, 0);
  ch->listener.data = ch;
  r->handles++;
  r->chan = ch;
  if ((rc = uv_pipe_bind(&ch->listener, path)) < 0 ||
      (rc = chmod(path, 0600) < 0 ? -errno : 0) < 0 ||
      (rc = uv_listen((uv_stream_t *)&ch->listener, 16, chan_on_connect)) < 0)
    crl_err_set(err, rc, "agent channel %s: %s", path, uv_strerror(rc));
  free(path);
  free(dir);
  return rc;
}

void rt_chan_close(struct rt_run *r) {
  struct rt_chan *ch = r->chan;

  if (ch == NULL)
    return;
  r->chan = NULL;
  while (ch->conns != NULL)
    chan_conn_close(ch->conns);
  uv_close((uv_handle_t *)&ch->listener, chan_listener_closed);
}
