/*
 * libcurl's multi interface driven by the gateway's libuv loop (curl's
 * multi-uv.c example): libcurl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION → one uv_poll_t each) and when to call it back
 * (CURLMOPT_TIMERFUNCTION → one uv_timer_t); we report readiness with
 * curl_multi_socket_action and collect finished transfers from
 * curl_multi_info_read. The multi handle keeps upstream connections alive
 * between calls, so a run's calls reuse them. This file also builds one
 * upstream request (URL, headers with the real key, body) from a call.
 */
#include "gateway-int.h"

#include <stdlib.h>
#include <string.h>

static void check_done(struct rt_gw *gw) {
  CURLMsg *msg;
  int left;

  while ((msg = curl_multi_info_read(gw->multi, &left)) != NULL) {
    struct rt__gw_call *call = NULL;

    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
    rt__gw_call_done(call, msg->data.result);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct rt__gw_sock *s = crl_container_of(h, struct rt__gw_sock, poll);
  struct rt_gw *gw = s->gw;
  int flags = 0, running;

  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(gw->multi, s->fd, flags, &running);
  check_done(gw);
}

static void on_timer(uv_timer_t *t) {
  struct rt_gw *gw = crl_container_of(t, struct rt_gw, timer);
  int running;

  curl_multi_socket_action(gw->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(gw);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
  struct rt_gw *gw = userp;

  if (timeout_ms < 0)
    uv_timer_stop(&gw->timer);
  else
    uv_timer_start(&gw->timer, on_timer, (uint64_t)timeout_ms, 0);
  return 0;
}

static void sock_closed(uv_handle_t *h) {
  struct rt__gw_sock *s = crl_container_of(h, struct rt__gw_sock, poll);
  struct rt_gw *gw = s->gw;

  free(s);
  rt__gw_gw_handle_closed(gw);
}

static void sock_remove(struct rt__gw_sock *s) {
  struct rt_gw *gw = s->gw;

  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    gw->socks = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
  uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static struct rt__gw_sock *sock_add(struct rt_gw *gw, curl_socket_t fd) {
  struct rt__gw_sock *s = xcalloc(1, sizeof(*s));

  s->gw = gw;
  s->fd = fd;
  if (uv_poll_init_socket(gw->loop, &s->poll, fd) < 0) {
    free(s);
    return NULL;
  }
  gw->handles++;
  s->next = gw->socks;
  if (gw->socks != NULL)
    gw->socks->prev = s;
  gw->socks = s;
  curl_multi_assign(gw->multi, fd, s);
  return s;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp) {
  struct rt_gw *gw = userp;
  struct rt__gw_sock *s = socketp;
  int events = 0;

  if (what == CURL_POLL_REMOVE) {
    if (s != NULL) {
      curl_multi_assign(gw->multi, fd, NULL);
      sock_remove(s);
    }
    return 0;
  }
  if (s == NULL && (s = sock_add(gw, fd)) == NULL)
    return -1;
  if (what & CURL_POLL_IN)
    events |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    events |= UV_WRITABLE;
  uv_poll_start(&s->poll, events, on_poll);
  return 0;
}

int rt__gw_curl_init(struct rt_gw *gw) {
  if ((gw->multi = curl_multi_init()) == NULL)
    return CRL_EINTERNAL;
  uv_timer_init(gw->loop, &gw->timer);
  gw->handles++;
  curl_multi_setopt(gw->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  curl_multi_setopt(gw->multi, CURLMOPT_SOCKETDATA, gw);
  curl_multi_setopt(gw->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(gw->multi, CURLMOPT_TIMERDATA, gw);
  curl_multi_setopt(gw->multi, CURLMOPT_MAXCONNECTS, 64L);
  return 0;
}

static void on_timer_closed(uv_handle_t *h) {
  rt__gw_gw_handle_closed(crl_container_of(h, struct rt_gw, timer));
}

/* Every transfer is gone by now (each call was aborted with its
 * connection). Cleaning up the multi handle closes the cached upstream
 * connections, which may report their sockets removed; any socket left is
 * closed here. */
void rt__gw_curl_close(struct rt_gw *gw) {
  if (gw->multi != NULL)
    curl_multi_cleanup(gw->multi);
  gw->multi = NULL;
  while (gw->socks != NULL)
    sock_remove(gw->socks);
  uv_timer_stop(&gw->timer);
  uv_close((uv_handle_t *)&gw->timer, on_timer_closed);
}

static size_t on_header(char *data, size_t size, size_t n, void *userp) {
  return rt__gw_call_on_header(userp, data, size * n);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp) {
  return rt__gw_call_on_body(userp, data, size * n);
}

/* Request headers as sent, minus hop-by-hop ones and keys, plus the real
 * key; "Expect:" stops libcurl from waiting for a 100 on large bodies. */
static struct curl_slist *build_headers(struct rt__gw_call *call) {
  struct rt__gw_conn *c = call->conn;
  struct curl_slist *sl = NULL;
  struct rt_gw_upstream up;
  char *line;

  for (size_t i = 0; i < c->nhdrs; i++) {
    if (rt__gw_hdr_dropped(c->hdrs[i].name))
      continue;
    xasprintf(&line, "%s: %s", c->hdrs[i].name, c->hdrs[i].value);
    sl = curl_slist_append(sl, line);
    free(line);
  }
  rt__gw_upstream_of(&up, call->l, call->rec.provider);
  line = rt__gw_key_header(call->rec.provider, up.key_header, up.api_key);
  sl = curl_slist_append(sl, line);
  free(line);
  return curl_slist_append(sl, "Expect:");
}

static void set_method(struct rt__gw_call *call, CURL *e) {
  struct crl_buf *body = &call->conn->body;

  if (strcmp(call->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    return;
  }
  if (strcmp(call->method, "GET") != 0 || body->len > 0) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body->data ? body->data : "");
  }
  if (strcmp(call->method, "POST") != 0)
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call->method);
}

int rt__gw_curl_start(struct rt__gw_call *call) {
  struct rt_gw *gw = call->conn->gw;
  enum rt_gw_provider p = call->rec.provider;
  char *query = rt__gw_query_strip_key(call->query);
  struct rt_gw_upstream up;
  CURL *e;

  rt__gw_upstream_of(&up, call->l, p);
  xasprintf(&call->url, "%s%s%s%s", up.base_url, call->path, *query ? "?" : "",
            query);
  free(query);
  if ((e = curl_easy_init()) == NULL)
    return CRL_EINTERNAL;
  call->easy = e;
  call->slist = build_headers(call);
  curl_easy_setopt(e, CURLOPT_URL, call->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, call);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->curl_error);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->slist);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, gw->opts.connect_timeout_ms);
  set_method(call, e);
  if (curl_multi_add_handle(gw->multi, e) != CURLM_OK)
    return CRL_EINTERNAL;
  return 0;
}

void rt__gw_curl_stop(struct rt__gw_call *call) {
  if (call->easy == NULL)
    return;
  curl_multi_remove_handle(call->conn->gw->multi, call->easy);
  curl_easy_cleanup(call->easy);
  curl_slist_free_all(call->slist);
  call->easy = NULL;
  call->slist = NULL;
}
