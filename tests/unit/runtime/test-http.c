/*
 * The control socket's HTTP layer through a real Unix socket: routing,
 * decoding, JSON bodies, limits (431, 413 by Content-Length and chunked),
 * keep-alive, pipelining, read and idle timeouts, hundreds of connections,
 * the connection cap, peer credentials, async replies and their abort.
 */
#include <stdatomic.h>
#include <sys/stat.h>

#include "http-fixture.h"
#include "http-int.h"

static void h_health(struct rt_http_req *req, void *payload) {
  rt_http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void h_conns(struct rt_http_req *req, void *payload) {
  rt_http_reply_json(
      req, 200, json_pack("{s:i}", "conns", (int)rt_http_server_conns(fx.srv)));
}

static void h_query(struct rt_http_req *req, void *payload) {
  json_t *q = json_object();

  for (size_t i = 0; i < req->nquery; i++)
    json_object_set_new(q, req->query[i].name,
                        json_string(req->query[i].value));
  rt_http_reply_json(req, 200,
                     json_pack("{s:s,s:o}", "path", req->path, "query", q));
}

static void h_approve(struct rt_http_req *req, void *payload) {
  rt_http_reply_json(req, 200,
                     json_pack("{s:s}", "id", rt_http_req_param(req, "id")));
}

static void h_echo(struct rt_http_req *req, void *payload) {
  struct crl_err err = CRL_ERR_INIT;
  json_t *v;

  if (rt_http_req_json(&v, req, &err) < 0) {
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
    return;
  }
  rt_http_reply_json(req, 200, v);
}

static void h_metrics(struct rt_http_req *req, void *payload) {
  static const char text[] = "corral_up 1\n";

  rt_http_reply_text(req, 200, "text/plain; version=0.0.4", text,
                     sizeof(text) - 1);
}

static void h_missing(struct rt_http_req *req, void *payload) {
  rt_http_reply_error(req, CRL_ETASK_NOT_FOUND, json_pack("{s:s}", "id", "x"),
                      "task %s not found", "x");
}

/* An async handler: answers from a timer, like a long poll. */
struct later {
  uv_timer_t timer;
  struct rt_http_req *req;
};

static atomic_int aborted;
static uv_sem_t abort_sem;

static void later_closed(uv_handle_t *h) {
  free(h->data);
}

static void later_fire(uv_timer_t *t) {
  struct later *l = t->data;

  if (l->req != NULL)
    rt_http_reply_json(l->req, 200, json_pack("{s:s}", "n", "slow"));
  uv_close((uv_handle_t *)t, later_closed);
}

static void later_abort(struct rt_http_req *req, void *payload) {
  struct later *l = payload;

  l->req = NULL;
  uv_timer_stop(&l->timer);
  uv_close((uv_handle_t *)&l->timer, later_closed);
  atomic_fetch_add(&aborted, 1);
  uv_sem_post(&abort_sem);
}

static void h_slow(struct rt_http_req *req, void *payload) {
  struct later *l = xcalloc(1, sizeof(*l));
  const char *ms = rt_http_req_query(req, "ms");

  l->req = req;
  l->timer.data = l;
  uv_timer_init(&fx.loop, &l->timer);
  uv_timer_start(&l->timer, later_fire, ms ? strtoull(ms, NULL, 10) : 50, 0);
  rt_http_req_on_abort(req, later_abort, l);
}

#define FOLLOW_BULK 240000

static uv_sem_t stream_sem;

static void follow_closed(struct rt_http_stream *s, void *payload) {
  uv_sem_post(&stream_sem);
}

/* Like `GET /v1/runs/{id}/output?follow=1`: plain text written over time. */
static void h_follow(struct rt_http_req *req, void *payload) {
  struct rt_http_stream *s =
      rt_http_stream_open(req, 200, "text/plain", follow_closed, NULL);
  char *bulk = xmalloc(FOLLOW_BULK);

  memset(bulk, 'x', FOLLOW_BULK);
  cr_assert_not_null(s);
  cr_assert_eq(rt_http_stream_write(s, "line 1\n", 7), 0);
  /* More than the kernel takes at once: the close below must let the
   * queued rest drain first. */
  cr_assert_eq(rt_http_stream_write(s, bulk, FOLLOW_BULK), 0);
  cr_assert_eq(rt_http_stream_write(s, "line 2\n", 7), 0);
  free(bulk);
  rt_http_stream_close(s);
  /* Closing is asynchronous; until the callback the stream refuses bytes. */
  cr_assert_eq(rt_http_stream_write(s, "late\n", 5), -EPIPE);
}

static const struct rt_http_route routes[] = {
    {"GET", "/v1/health", h_health},
    {"GET", "/v1/conns", h_conns},
    {"GET", "/v1/query", h_query},
    {"GET", "/v1/query/{name}", h_query},
    {"POST", "/v1/tasks/{id}/approve", h_approve},
    {"POST", "/v1/echo", h_echo},
    {"GET", "/metrics", h_metrics},
    {"GET", "/v1/tasks/{id}", h_missing},
    {"GET", "/v1/slow", h_slow},
    {"GET", "/v1/follow", h_follow},
};

static void start(const struct rt_http_opts *o) {
  fx_start(o, routes, CRL_ARRAY_SIZE(routes));
}

TestSuite(rt_http, .init = fx_setup, .fini = fx_teardown, .timeout = 60);

Test(rt_http, routes_answer_200_404_405_with_error_format) {
  struct fx_resp r;
  char code[64];
  char *resp;
  int fd;

  start(NULL);
  cr_assert_eq(fx_get("/v1/health", &r), 200);
  cr_assert_str_eq(r.body, "{\"ok\":true}");
  cr_assert(strcasestr(r.headers, "Content-Type: application/json"));
  fx_resp_free(&r);
  cr_assert_eq(fx_get("/v1/nope", &r), 404);
  cr_assert_str_eq(fx_error_code(r.body, code, sizeof(code)), "NOT_FOUND");
  fx_resp_free(&r);
  cr_assert_eq(fx_get("/v1/tasks/x", &r), 404);
  cr_assert_str_eq(r.body, "{\"error\":{\"code\":\"TASK_NOT_FOUND\","
                           "\"message\":\"task x not found\","
                           "\"details\":{\"id\":\"x\"}}}");
  fx_resp_free(&r);
  cr_assert_eq(fx_get("/metrics", &r), 200);
  cr_assert_str_eq(r.body, "corral_up 1\n");
  cr_assert(strcasestr(r.headers, "Content-Type: text/plain; version=0.0.4"));
  fx_resp_free(&r);
  fd = fx_connect();
  fx_sends(fd, "DELETE /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  resp = fx_read_response(fd);
  cr_assert(strstr(resp, "HTTP/1.1 405 Method Not Allowed\r\n"), "%s", resp);
  cr_assert(strstr(resp, "\r\nAllow: GET\r\n"), "%s", resp);
  cr_assert(strstr(resp, "\"METHOD_NOT_ALLOWED\""), "%s", resp);
  free(resp);
  fx_sends(fd, "GET /v1/tasks/1/approve HTTP/1.1\r\nHost: x\r\n\r\n");
  resp = fx_read_response(fd);
  cr_assert(strstr(resp, "\r\nAllow: POST\r\n"), "%s", resp);
  free(resp);
  close(fd);
  fx_stop();
}

Test(rt_http, path_captures_and_query_are_percent_decoded) {
  struct fx_resp r;
  CURL *c = curl_easy_init();

  start(NULL);
  cr_assert_eq(fx_get("/v1/query?a=x%20y&b=1+2&c=%C3%A9&flag&=v", &r), 200);
  cr_assert_str_eq(r.body, "{\"path\":\"/v1/query\",\"query\":{\"a\":\"x y\","
                           "\"b\":\"1 2\",\"c\":\"\xC3\xA9\",\"flag\":\"\","
                           "\"\":\"v\"}}");
  fx_resp_free(&r);
  cr_assert_eq(fx_get("/v1/query/a%2Fb", &r), 200);
  cr_assert(strstr(r.body, "\"path\":\"/v1/query/a/b\""), "%s", r.body);
  fx_resp_free(&r);
  cr_assert_eq(fx_curl(c, "POST", "/v1/tasks/t%201/approve", "", 0, &r),
               CURLE_OK);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "{\"id\":\"t 1\"}");
  fx_resp_free(&r);
  cr_assert_eq(fx_get("/v1/query?a=%zz", &r), 400);
  fx_resp_free(&r);
  cr_assert_eq(fx_get("/v1/query?a=%00", &r), 400);
  fx_resp_free(&r);
  curl_easy_cleanup(c);
  fx_stop();
}

Test(rt_http, json_body_round_trips) {
  const char *body = "{\"feedback\":\"n\xC3\xA4h\",\"n\":[1,2,{\"x\":null}]}";
  struct fx_resp r;
  CURL *c = curl_easy_init();

  start(NULL);
  cr_assert_eq(fx_curl(c, "POST", "/v1/echo", body, strlen(body), &r),
               CURLE_OK);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, body);
  fx_resp_free(&r);
  curl_easy_cleanup(c);
  fx_stop();
}

/* Posts body and expects a 400 whose message names why. */
static void expect_bad_json(CURL *c, const char *body, size_t len,
                            const char *why) {
  struct fx_resp r;
  char code[64];

  cr_assert_eq(fx_curl(c, "POST", "/v1/echo", body, len, &r), CURLE_OK);
  cr_assert_eq(r.status, 400, "%.60s -> %ld", body, r.status);
  cr_assert_str_eq(fx_error_code(r.body, code, sizeof(code)), "BAD_REQUEST");
  cr_assert(strstr(r.body, "invalid JSON body"), "%s", r.body);
  cr_assert(strstr(r.body, why), "%s", r.body);
  fx_resp_free(&r);
}

Test(rt_http, invalid_json_utf8_and_deep_nesting_are_400) {
  CURL *c = curl_easy_init();
  size_t deep = 100000;
  char *nest = malloc(deep);

  memset(nest, '[', deep);
  start(NULL);
  expect_bad_json(c, "{\"a\":", 5, "end of file");
  expect_bad_json(c, "{\"a\":\"\xff\xfe\"}", 10, "byte 0xff");
  expect_bad_json(c, "{\"a\":\"\xC3\"}", 9, "byte 0xc3");
  expect_bad_json(c, "{\"a\":\"a\\u0000b\"}", 16, "u0000");
  expect_bad_json(c, "", 0, "expected");
  expect_bad_json(c, nest, deep, "maximum parsing depth");
  free(nest);
  curl_easy_cleanup(c);
  fx_stop();
}

Test(rt_http, headers_over_the_limit_are_431) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  size_t big = 20000;
  char *line = malloc(big + 64), *resp;
  int fd;

  o.max_header_bytes = 8192;
  start(&o);
  fd = fx_connect();
  strcpy(line, "GET /v1/health HTTP/1.1\r\nX-Big: ");
  memset(line + strlen(line), 'a', big);
  line[33 + big] = '\0';
  strcat(line, "\r\n\r\n");
  fx_sends(fd, line);
  resp = fx_read_all(fd, NULL);
  cr_assert(strstr(resp, "HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "%s", resp);
  cr_assert(strstr(resp, "\"PAYLOAD_TOO_LARGE\""), "%s", resp);
  free(resp);
  free(line);
  close(fd);
  fx_stop();
}

Test(rt_http, body_over_the_limit_by_content_length_is_413_before_reading) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  struct fx_resp r;
  CURL *c = curl_easy_init();
  size_t big = 300000;
  char *body = malloc(big), *resp;
  int fd;

  o.max_body_bytes = 100000;
  start(&o);
  /* Headers only: the answer comes although no body byte was ever sent. */
  fd = fx_connect();
  fx_sends(fd, "POST /v1/echo HTTP/1.1\r\nHost: x\r\n"
               "Content-Length: 100000000\r\n\r\n");
  resp = fx_read_all(fd, NULL);
  cr_assert(strstr(resp, "HTTP/1.1 413 Payload Too Large\r\n"), "%s", resp);
  cr_assert(strstr(resp, "\"PAYLOAD_TOO_LARGE\""), "%s", resp);
  cr_assert(strstr(resp, "Connection: close\r\n"), "%s", resp);
  free(resp);
  close(fd);
  /* And through libcurl, which sends the whole body. */
  memset(body, ' ', big);
  cr_assert_eq(fx_curl(c, "POST", "/v1/echo", body, big, &r), CURLE_OK);
  cr_assert_eq(r.status, 413);
  fx_resp_free(&r);
  free(body);
  curl_easy_cleanup(c);
  fx_stop();
}

Test(rt_http, chunked_body_over_the_limit_is_413_while_reading) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  char chunk[4096 + 16], *resp;
  int fd;

  o.max_body_bytes = 10000;
  start(&o);
  fd = fx_connect();
  fx_sends(fd, "POST /v1/echo HTTP/1.1\r\nHost: x\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
  strcpy(chunk, "1000\r\n");
  memset(chunk + 6, '1', 4096);
  strcpy(chunk + 6 + 4096, "\r\n");
  /* Three 4 KiB chunks pass the 10 000 byte bound; the last chunk never
   * comes, so the 413 cannot come from a complete read. */
  for (int i = 0; i < 3; i++)
    fx_sends(fd, chunk);
  resp = fx_read_all(fd, NULL);
  cr_assert(strstr(resp, "HTTP/1.1 413 Payload Too Large\r\n"), "%s", resp);
  free(resp);
  close(fd);
  fx_stop();
}

Test(rt_http, keep_alive_serves_two_requests_on_one_connection) {
  struct fx_resp r;
  CURL *c = curl_easy_init();
  long connects = -1;

  start(NULL);
  cr_assert_eq(fx_curl(c, "GET", "/v1/health", NULL, 0, &r), CURLE_OK);
  cr_assert_eq(r.status, 200);
  fx_resp_free(&r);
  cr_assert_eq(fx_curl(c, "GET", "/v1/conns", NULL, 0, &r), CURLE_OK);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "{\"conns\":1}");
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  cr_assert_eq(connects, 0, "the second request reused the connection");
  fx_resp_free(&r);
  curl_easy_cleanup(c);
  fx_stop();
}

Test(rt_http, pipelined_requests_are_answered_in_order) {
  char *all, *a, *b, *c;
  int fd;

  start(NULL);
  fd = fx_connect();
  /* The first is answered later from a timer; the two behind it must wait. */
  fx_sends(fd, "GET /v1/slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /v1/query?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /v1/query?n=3 HTTP/1.1\r\nHost: x\r\n"
               "Connection: close\r\n\r\n");
  all = fx_read_all(fd, NULL);
  a = strstr(all, "{\"n\":\"slow\"}");
  b = strstr(all, "{\"n\":\"2\"}");
  c = strstr(all, "{\"n\":\"3\"}");
  cr_assert(a && b && c, "%s", all);
  cr_assert(a < b && b < c, "%s", all);
  free(all);
  close(fd);
  fx_stop();
}

Test(rt_http, slow_request_is_closed_by_the_read_timeout) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  const char *req = "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n";
  struct pollfd p;
  int64_t t0;
  size_t i = 0;
  char c;
  int fd;

  o.read_timeout_ms = 300;
  o.idle_timeout_ms = 60000;
  start(&o);
  fd = fx_connect();
  t0 = fx_now_ms();
  /* Dribble one byte per 20 ms: each byte would reset a naive idle timer.
   * poll() waits for the server's close, the 20 ms is only the pace. */
  for (;;) {
    p = (struct pollfd){.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20) == 1)
      break;
    fx_send(fd, &req[i % strlen(req)], 1);
    i++;
  }
  cr_assert_leq(read(fd, &c, 1), 0, "closed without a response");
  cr_assert_geq(fx_now_ms() - t0, 250);
  cr_assert_lt(fx_now_ms() - t0, 10000);
  close(fd);
  fx_stop();
}

Test(rt_http, idle_keep_alive_connection_is_closed) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  char c, *resp;
  int64_t t0;
  int fd;

  o.idle_timeout_ms = 200;
  start(&o);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  resp = fx_read_response(fd);
  cr_assert(strstr(resp, "Connection: keep-alive\r\n"), "%s", resp);
  free(resp);
  t0 = fx_now_ms();
  cr_assert_eq(read(fd, &c, 1), 0, "the server closes the idle connection");
  cr_assert_geq(fx_now_ms() - t0, 150);
  close(fd);
  fx_stop();
}

Test(rt_http, hundreds_of_idle_connections_leave_the_server_answering) {
  enum { N = 500 };
  struct fx_resp r;
  int fds[N];
  char *resp;

  start(NULL);
  for (int i = 0; i < N; i++)
    fds[i] = fx_connect();
  /* The last one proves every connection before it was accepted. */
  fx_sends(fds[N - 1], "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  resp = fx_read_response(fds[N - 1]);
  cr_assert(strstr(resp, "200 OK"));
  free(resp);
  cr_assert_eq(fx_get("/v1/conns", &r), 200);
  cr_assert_str_eq(r.body, "{\"conns\":501}");
  fx_resp_free(&r);
  for (int i = 0; i < N; i++)
    close(fds[i]);
  fx_stop();
}

Test(rt_http, connections_past_the_cap_get_503) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  struct fx_resp r;
  char code[64], *resp;
  int fds[3];

  o.max_conns = 3;
  start(&o);
  for (int i = 0; i < 3; i++) {
    fds[i] = fx_connect();
    fx_sends(fds[i], "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    resp = fx_read_response(fds[i]);
    free(resp);
  }
  cr_assert_eq(fx_get("/v1/health", &r), 503);
  cr_assert(strcasestr(r.headers, "Retry-After: 1"));
  cr_assert_str_eq(fx_error_code(r.body, code, sizeof(code)), "INTERNAL");
  fx_resp_free(&r);
  close(fds[0]);
  /* A slot frees when a client leaves; poll until the server saw it. */
  for (;;) {
    long s = fx_get("/v1/health", &r);

    fx_resp_free(&r);
    if (s == 200)
      break;
    cr_assert_eq(s, 503);
  }
  close(fds[1]);
  close(fds[2]);
  fx_stop();
}

Test(rt_http, peer_of_another_uid_is_refused_with_401) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  struct fx_resp r;
  char code[64];

  /* The test's own uid is excluded (root too, since CI may run as root),
   * so this proves refusal without a second uid. */
  o.uid = getuid() + 4242;
  o.allow_root = 0;
  start(&o);
  cr_assert_eq(fx_get("/v1/health", &r), 401);
  cr_assert_str_eq(fx_error_code(r.body, code, sizeof(code)), "UNAUTHORIZED");
  fx_resp_free(&r);
  fx_stop();
}

Test(rt_http, peer_in_the_allowed_group_is_served) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  struct fx_resp r;

  o.uid = getuid() + 4242;
  o.allow_root = 0;
  o.allow_gid = 1;
  o.gid = getgid();
  start(&o);
  cr_assert_eq(fx_get("/v1/health", &r), 200);
  fx_resp_free(&r);
  fx_stop();
}

Test(rt_http, socket_is_private_and_replaces_a_stale_one) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  struct fx_resp r;
  struct stat st;
  char parent[128];
  int fd;

  /* A socket file left behind by a dead daemon. */
  snprintf(parent, sizeof(parent), "%s/run", fx.dir);
  cr_assert_eq(mkdir(parent, 0700), 0);
  fd = socket(AF_UNIX, SOCK_STREAM, 0);
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.sock);
  cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  close(fd);
  start(NULL);
  cr_assert_eq(stat(fx.sock, &st), 0);
  cr_assert(S_ISSOCK(st.st_mode));
  cr_assert_eq(st.st_mode & 0777, 0600);
  cr_assert_eq(fx_get("/v1/health", &r), 200);
  fx_resp_free(&r);
  fx_stop();
}

Test(rt_http, parent_directory_is_created_0700) {
  struct stat st;
  char parent[128];

  start(NULL);
  snprintf(parent, sizeof(parent), "%s/run", fx.dir);
  cr_assert_eq(stat(parent, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0700);
  fx_stop();
}

Test(rt_http, adopted_listening_fd_is_served) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  struct crl_err err = CRL_ERR_INIT;
  struct fx_resp r;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  snprintf(fx.sock, sizeof(fx.sock), "%s/adopted.sock", fx.dir);
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.sock);
  cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  cr_assert_eq(listen(fd, 16), 0);
  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  cr_assert_eq(rt_http_server_new(&fx.srv, &fx.loop, NULL, routes,
                                  CRL_ARRAY_SIZE(routes), NULL),
               0);
  cr_assert_eq(rt_http_server_adopt(fx.srv, fd, &err), 0, "%s", err.msg);
  cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, fx_stop_cb), 0);
  cr_assert_eq(uv_thread_create(&fx.thread, fx_loop_thread, NULL), 0);
  cr_assert_eq(fx_get("/v1/health", &r), 200);
  fx_resp_free(&r);
  fx_stop();
}

Test(rt_http, malformed_request_is_400_and_closed) {
  char *resp;
  int fd;

  start(NULL);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/health HTTP/9.Z\r\n\r\n");
  resp = fx_read_all(fd, NULL);
  cr_assert(strstr(resp, "HTTP/1.1 400 Bad Request\r\n"), "%s", resp);
  cr_assert(strstr(resp, "\"BAD_REQUEST\""), "%s", resp);
  free(resp);
  close(fd);
  fx_stop();
}

Test(rt_http, async_request_is_aborted_when_the_client_leaves) {
  char *resp;
  int fd;

  uv_sem_init(&abort_sem, 0);
  start(NULL);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/slow?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n");
  /* A second, fast request on another connection is not held up. */
  {
    struct fx_resp r;

    cr_assert_eq(fx_get("/v1/health", &r), 200);
    fx_resp_free(&r);
  }
  close(fd);
  uv_sem_wait(&abort_sem);
  cr_assert_eq(atomic_load(&aborted), 1);
  /* And an answered async request is not aborted. */
  fd = fx_connect();
  fx_sends(fd, "GET /v1/slow?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n");
  resp = fx_read_response(fd);
  cr_assert(strstr(resp, "{\"n\":\"slow\"}"), "%s", resp);
  free(resp);
  close(fd);
  fx_stop();
  cr_assert_eq(atomic_load(&aborted), 1);
  uv_sem_destroy(&abort_sem);
}

Test(rt_http, status_table_maps_codes) {
  json_t *b;
  char *s;

  cr_assert_eq(rt_http_status_of(CRL_EBAD_REQUEST), 400);
  cr_assert_eq(rt_http_status_of(CRL_EUNAUTHORIZED), 401);
  cr_assert_eq(rt_http_status_of(CRL_EMISSION_NOT_FOUND), 404);
  cr_assert_eq(rt_http_status_of(CRL_EMETHOD_NOT_ALLOWED), 405);
  cr_assert_eq(rt_http_status_of(CRL_EINVALID_TRANSITION), 409);
  cr_assert_eq(rt_http_status_of(CRL_EAGENT_BUSY), 409);
  cr_assert_eq(rt_http_status_of(CRL_EPAYLOAD_TOO_LARGE), 413);
  cr_assert_eq(rt_http_status_of(CRL_EVALIDATION_FAILED), 422);
  cr_assert_eq(rt_http_status_of(CRL_EBUDGET_EXCEEDED), 429);
  cr_assert_eq(rt_http_status_of(CRL_EINTERNAL), 500);
  cr_assert_eq(rt_http_status_of(-ENOENT), 500);
  b = rt_http_error_body(-ENOENT, "m", NULL);
  s = json_dumps(b, JSON_COMPACT);
  cr_assert_str_eq(s, "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"m\"}}");
  free(s);
  json_decref(b);
}

Test(rt_http, half_closed_client_still_gets_its_reply) {
  char *resp;
  int fd;

  start(NULL);
  fd = fx_connect();
  /* socat and `nc -N` send the request, then shut their side down. */
  fx_sends(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  cr_assert_eq(shutdown(fd, SHUT_WR), 0);
  resp = fx_read_all(fd, NULL);
  cr_assert(strstr(resp, "HTTP/1.1 200 OK\r\n"), "%s", resp);
  cr_assert(strstr(resp, "{\"ok\":true}"), "%s", resp);
  free(resp);
  close(fd);
  fx_stop();
}

Test(rt_http, parser_yields_the_same_request_fed_byte_by_byte) {
  static const char in[] =
      "POST /v1/tasks/a%2Fb/approve?x=%41+b HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nLast-Event-ID: 7\r\n"
      "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n"
      "0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  struct crl_err err = CRL_ERR_INIT;
  struct rt__http_parse p;
  struct rt_http_req *req = NULL, *got[2] = {NULL, NULL};
  size_t used, n = 0;
  int status;

  rt__http_parse_init(&p, 4096, 4096);
  for (size_t i = 0; i < sizeof(in) - 1; i++) {
    cr_assert_eq(rt__http_parse_feed(&p, in + i, 1, &used, &req, &status, &err),
                 0, "%s", err.msg);
    cr_assert_eq(used, 1);
    if (req != NULL)
      got[n++] = req;
  }
  cr_assert_eq(n, 2);
  cr_assert_str_eq(got[0]->method, "POST");
  cr_assert_str_eq(got[0]->path, "/v1/tasks/a/b/approve");
  cr_assert_str_eq(got[0]->raw_path, "/v1/tasks/a%2Fb/approve");
  cr_assert_str_eq(rt_http_req_query(got[0], "x"), "A b");
  cr_assert_str_eq(got[0]->content_type, "application/json");
  cr_assert_str_eq(got[0]->last_event_id, "7");
  cr_assert_eq(got[0]->body_len, 7);
  cr_assert_str_eq(got[0]->body, "{\"a\":1}");
  cr_assert_str_eq(got[1]->path, "/");
  rt__http_req_free(got[0]);
  rt__http_req_free(got[1]);
  rt__http_parse_close(&p);
}

Test(rt_http, expect_100_continue_is_answered) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  size_t big = 1500000;
  char *body = malloc(big + 1);
  struct curl_slist *h = curl_slist_append(NULL, "Expect: 100-continue");
  CURL *c = curl_easy_init();
  struct fx_resp r;
  int64_t t0;

  o.max_body_bytes = 4 * 1024 * 1024;
  start(&o);
  memset(body, 'x', big);
  memcpy(body, "{\"a\":\"", 6);
  memcpy(body + big - 2, "\"}", 2);
  body[big] = '\0';
  /* Without our 100 Continue, curl would wait 20 s before sending. */
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 20000L);
  t0 = fx_now_ms();
  cr_assert_eq(fx_curl(c, "POST", "/v1/echo", body, big, &r), CURLE_OK);
  cr_assert_lt(fx_now_ms() - t0, 15000);
  cr_assert_eq(r.status, 200, "%s%.200s", r.headers, r.body);
  cr_assert(strstr(r.headers, "HTTP/1.1 100 Continue"), "%s", r.headers);
  cr_assert_eq(r.len, big);
  fx_resp_free(&r);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  free(body);
  fx_stop();
}

Test(rt_http, socket_path_too_long_is_refused) {
  struct crl_err err = CRL_ERR_INIT;
  char path[200];

  memset(path, 'a', sizeof(path) - 1);
  path[0] = '/';
  path[sizeof(path) - 1] = '\0';
  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  cr_assert_eq(rt_http_server_new(&fx.srv, &fx.loop, NULL, routes,
                                  CRL_ARRAY_SIZE(routes), NULL),
               0);
  cr_assert_eq(rt_http_server_listen(fx.srv, path, &err), -ENAMETOOLONG);
  cr_assert(strstr(err.msg, "longer than 107 bytes"), "%s", err.msg);
  rt_http_server_close(fx.srv, NULL, NULL);
  cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
  cr_assert_eq(uv_loop_close(&fx.loop), 0);
}

Test(rt_http, handler_turns_its_connection_into_a_stream) {
  char *got, *body;
  size_t n;
  int fd;

  uv_sem_init(&stream_sem, 0);
  start(NULL);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/follow HTTP/1.1\r\nHost: x\r\n\r\n");
  got = fx_read_all(fd, &n);
  body = strstr(got, "\r\n\r\n");
  cr_assert_not_null(body);
  cr_assert(strstr(got, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"),
            "%.200s", got);
  cr_assert_eq(memmem(got, (size_t)(body - got), "Content-Length", 14), NULL);
  body += 4;
  cr_assert_eq(n - (size_t)(body - got), 7 + FOLLOW_BULK + 7);
  cr_assert_eq(strncmp(body, "line 1\nxxx", 10), 0);
  cr_assert_str_eq(body + 7 + FOLLOW_BULK, "line 2\n");
  free(got);
  close(fd);
  uv_sem_wait(&stream_sem);
  fx_stop();
  uv_sem_destroy(&stream_sem);
}
