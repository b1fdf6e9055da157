/*
 * Shared fixture for the control-socket tests: a server on a private loop in
 * its own thread, listening in a temp dir, and blocking clients in the test
 * thread (libcurl over the Unix socket, raw sockets for malformed input).
 * The loop thread is stopped through a uv_async_t; the test then asserts
 * uv_loop_close() == 0. Cross-thread waits use semaphores posted from loop
 * callbacks, never sleeps.
 */
#ifndef HTTP_FIXTURE_H
#define HTTP_FIXTURE_H

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http.h"

struct http_fx {
  char dir[64];
  char sock[100];
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t stop;
  struct rt_http_server *srv;
  void (*on_stop)(void); /* runs on the loop thread before the server closes */
};

static struct http_fx fx;

static void fx_loop_thread(void *arg) {
  uv_run(&fx.loop, UV_RUN_DEFAULT);
}

static void fx_stop_cb(uv_async_t *a) {
  if (fx.on_stop != NULL)
    fx.on_stop();
  rt_http_server_close(fx.srv, NULL, NULL);
  uv_close((uv_handle_t *)a, NULL);
}

static void fx_setup(void) {
  memset(&fx, 0, sizeof(fx));
  strcpy(fx.dir, "/tmp/corral-http-XXXXXX");
  cr_assert_not_null(mkdtemp(fx.dir));
  snprintf(fx.sock, sizeof(fx.sock), "%s/run/ctl.sock", fx.dir);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
}

static void fx_teardown(void) {
  char cmd[128];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
  cr_assert_eq(system(cmd), 0);
  curl_global_cleanup();
}

/* Starts a server with opts (NULL: defaults) and routes on its thread. */
static void fx_start(const struct rt_http_opts *opts,
                     const struct rt_http_route *routes, size_t n) {
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  cr_assert_eq(rt_http_server_new(&fx.srv, &fx.loop, opts, routes, n, NULL), 0);
  cr_assert_eq(rt_http_server_listen(fx.srv, fx.sock, &err), 0, "%s", err.msg);
  cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, fx_stop_cb), 0);
  cr_assert_eq(uv_thread_create(&fx.thread, fx_loop_thread, NULL), 0);
}

/* Stops the server, joins the loop thread and checks nothing leaked. */
static void fx_stop(void) {
  uv_async_send(&fx.stop);
  uv_thread_join(&fx.thread);
  cr_assert_eq(uv_loop_close(&fx.loop), 0);
}

struct fx_resp {
  long status;
  char *body;
  size_t len;
  char *headers;
  size_t hlen;
};

static size_t fx_collect(char *p, size_t sz, size_t n, void *ud) {
  char **buf = ud;
  size_t *len = (size_t *)(buf + 1);

  *buf = realloc(*buf, *len + sz * n + 1);
  memcpy(*buf + *len, p, sz * n);
  *len += sz * n;
  (*buf)[*len] = '\0';
  return sz * n;
}

/* One request through libcurl; returns the curl code, fills r. */
static CURLcode fx_curl(CURL *c, const char *method, const char *path,
                        const char *body, size_t blen, struct fx_resp *r) {
  char url[512];
  struct {
    char *p;
    size_t n;
  } b = {NULL, 0}, h = {NULL, 0};
  CURLcode rc;

  snprintf(url, sizeof(url), "http://localhost%s", path);
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, fx.sock);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fx_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fx_collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  if (body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  }
  rc = curl_easy_perform(c);
  memset(r, 0, sizeof(*r));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  r->body = b.p ? b.p : strdup("");
  r->len = b.n;
  r->headers = h.p ? h.p : strdup("");
  r->hlen = h.n;
  return rc;
}

/* A fresh handle per call: one request, one connection. */
static long fx_get(const char *path, struct fx_resp *r) {
  CURL *c = curl_easy_init();
  CURLcode rc = fx_curl(c, "GET", path, NULL, 0, r);

  curl_easy_cleanup(c);
  cr_assert_eq(rc, CURLE_OK, "GET %s: %s", path, curl_easy_strerror(rc));
  return r->status;
}

static void fx_resp_free(struct fx_resp *r) {
  free(r->body);
  free(r->headers);
}

/* The error code string of an error body ("" when not one). */
__attribute__((unused)) static const char *fx_error_code(const char *body,
                                                         char *out, size_t n) {
  json_t *v = json_loads(body, 0, NULL);
  const char *s =
      json_string_value(json_object_get(json_object_get(v, "error"), "code"));

  snprintf(out, n, "%s", s ? s : "");
  json_decref(v);
  return out;
}

static int fx_connect(void) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  cr_assert_geq(fd, 0);
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.sock);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
               strerror(errno));
  return fd;
}

static void fx_send(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

    cr_assert_gt(w, 0, "send: %s", strerror(errno));
    s += w;
    n -= (size_t)w;
  }
}

static void fx_sends(int fd, const char *s) {
  fx_send(fd, s, strlen(s));
}

/* Reads until EOF (or a reset) into a new string; *n gets the length. */
static char *fx_read_all(int fd, size_t *n) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  ssize_t r;

  for (;;) {
    if (len + 1024 > cap)
      buf = realloc(buf, cap *= 2);
    r = read(fd, buf + len, cap - len - 1);
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  buf[len] = '\0';
  if (n != NULL)
    *n = len;
  return buf;
}

/* Reads until buf holds needle; returns the bytes read so far (new string)
 * or NULL when EOF comes first. */
static char *fx_read_until(int fd, const char *needle) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  ssize_t r;

  buf[0] = '\0';
  while (strstr(buf, needle) == NULL) {
    if (len + 1024 > cap)
      buf = realloc(buf, cap *= 2);
    r = read(fd, buf + len, cap - len - 1);
    if (r <= 0) {
      free(buf);
      return NULL;
    }
    len += (size_t)r;
    buf[len] = '\0';
  }
  return buf;
}

/* Reads one response with a Content-Length body from fd. New string. */
__attribute__((unused)) static char *fx_read_response(int fd) {
  char *head = fx_read_until(fd, "\r\n\r\n"), *cl, *end;
  size_t want, have, hl;

  cr_assert_not_null(head);
  end = strstr(head, "\r\n\r\n") + 4;
  hl = (size_t)(end - head);
  cl = strcasestr(head, "Content-Length:");
  cr_assert_not_null(cl);
  want = strtoul(cl + 15, NULL, 10);
  have = strlen(head) - hl;
  head = realloc(head, hl + want + 1);
  while (have < want) {
    ssize_t r = read(fd, head + hl + have, want - have);

    cr_assert_gt(r, 0);
    have += (size_t)r;
  }
  head[hl + want] = '\0';
  return head;
}

__attribute__((unused)) static int64_t fx_now_ms(void) {
  return (int64_t)(uv_hrtime() / 1000000);
}

#endif
