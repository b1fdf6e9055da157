/*
 * Server-Sent Event streams through a real socket: framing with ids and
 * multi-line data, Last-Event-ID reaching the handler, the heartbeat
 * comment, the close callback (client gone, owner close), and backpressure:
 * a client that never reads is disconnected with bounded memory while other
 * clients are still served.
 */
#include <stdatomic.h>

#include "http-fixture.h"

#define FLOOD_EVENT 8192

static uv_sem_t closed_sem;
static atomic_int closed_count;
static atomic_int bad_id_rc;
static atomic_size_t max_unsent;
static atomic_int toobig;

static struct rt_sse *flood[8];
static size_t nflood;
static uv_timer_t flood_timer;
static int flood_started;
static char flood_data[FLOOD_EVENT];

static void on_close(struct rt_sse *s, void *payload) {
  for (size_t i = 0; i < nflood; i++)
    if (flood[i] == s)
      flood[i] = flood[--nflood];
  atomic_fetch_add(&closed_count, 1);
  uv_sem_post(&closed_sem);
}

static void h_events(struct rt_http_req *req, void *payload) {
  const char *last = req->last_event_id;
  int close_now = rt_http_req_query(req, "close") != NULL;
  char resume[64];
  struct rt_sse *s;

  snprintf(resume, sizeof(resume), "%s", last ? last : "");
  s = rt_sse_open(req, on_close, NULL);
  cr_assert_not_null(s);
  atomic_store(&bad_id_rc, rt_sse_send(s, "1\n2", NULL, "x"));
  if (resume[0] != '\0') {
    rt_sse_send(s, "42", "resume", resume);
    return;
  }
  rt_sse_send(s, "1", "state", "a\nb\r\nc");
  rt_sse_send(s, "2", NULL, "x");
  if (close_now)
    rt_sse_close(s);
}

static void flood_tick(uv_timer_t *t) {
  for (size_t i = 0; i < nflood; i++) {
    int rc = rt_sse_send(flood[i], "7", "big", flood_data);
    size_t u = rt_sse_unsent(flood[i]);

    if (u > atomic_load(&max_unsent))
      atomic_store(&max_unsent, u);
    if (rc == CRL_ETOOBIG)
      atomic_fetch_add(&toobig, 1);
  }
}

static void h_flood(struct rt_http_req *req, void *payload) {
  struct rt_sse *s = rt_sse_open(req, on_close, NULL);

  flood[nflood++] = s;
  if (flood_started)
    return;
  memset(flood_data, 'z', sizeof(flood_data) - 1);
  uv_timer_init(&fx.loop, &flood_timer);
  uv_timer_start(&flood_timer, flood_tick, 1, 1);
  flood_started = 1;
}

static void h_health(struct rt_http_req *req, void *payload) {
  rt_http_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void stop_flood(void) {
  if (flood_started)
    uv_close((uv_handle_t *)&flood_timer, NULL);
}

static const struct rt_http_route routes[] = {
    {"GET", "/v1/events", h_events},
    {"GET", "/v1/flood", h_flood},
    {"GET", "/v1/health", h_health},
};

static void sse_setup(void) {
  fx_setup();
  uv_sem_init(&closed_sem, 0);
  fx.on_stop = stop_flood;
}

static void start(const struct rt_http_opts *o) {
  fx_start(o, routes, CRL_ARRAY_SIZE(routes));
}

TestSuite(rt_sse, .init = sse_setup, .fini = fx_teardown, .timeout = 60);

Test(rt_sse, events_carry_ids_and_split_multiline_data) {
  char *got;
  int fd;

  start(NULL);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/events?close=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  got = fx_read_all(fd, NULL);
  cr_assert(strstr(got, "HTTP/1.1 200 OK\r\n"), "%s", got);
  cr_assert(strstr(got, "Content-Type: text/event-stream\r\n"), "%s", got);
  cr_assert(strstr(got, "Cache-Control: no-cache\r\n"), "%s", got);
  cr_assert_null(strcasestr(got, "Content-Length"), "%s", got);
  cr_assert(strstr(got, "\r\n\r\nid: 1\nevent: state\ndata: a\ndata: b\n"
                        "data: c\n\nid: 2\ndata: x\n\n"),
            "%s", got);
  free(got);
  close(fd);
  /* The owner closed the stream: its close callback ran once. */
  uv_sem_wait(&closed_sem);
  fx_stop();
  cr_assert_eq(atomic_load(&closed_count), 1);
  cr_assert_eq(atomic_load(&bad_id_rc), -EINVAL);
}

Test(rt_sse, last_event_id_reaches_the_handler) {
  char *got;
  int fd;

  start(NULL);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/events HTTP/1.1\r\nHost: x\r\n"
               "Last-Event-ID: 41\r\n\r\n");
  got = fx_read_until(fd, "data: 41\n\n");
  cr_assert_not_null(got);
  cr_assert(strstr(got, "id: 42\nevent: resume\ndata: 41\n\n"), "%s", got);
  free(got);
  close(fd);
  uv_sem_wait(&closed_sem);
  fx_stop();
}

Test(rt_sse, heartbeat_comment_is_sent) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  char *got;
  int fd;

  o.sse_heartbeat_ms = 50;
  start(&o);
  fd = fx_connect();
  fx_sends(fd, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
  got = fx_read_until(fd, "\n\n: hb\n\n: hb\n\n");
  cr_assert_not_null(got, "two heartbeats arrive");
  free(got);
  close(fd);
  /* The client left: the close callback tells the owner. */
  uv_sem_wait(&closed_sem);
  cr_assert_eq(atomic_load(&closed_count), 1);
  fx_stop();
}

struct curl_sse {
  char buf[4096];
  size_t len;
};

static size_t curl_sse_write(char *p, size_t sz, size_t n, void *ud) {
  struct curl_sse *c = ud;
  size_t k = sz * n;

  if (c->len + k >= sizeof(c->buf))
    k = sizeof(c->buf) - c->len - 1;
  memcpy(c->buf + c->len, p, k);
  c->len += k;
  c->buf[c->len] = '\0';
  /* Returning less than given stops the transfer: we have what we need. */
  return strstr(c->buf, "id: 2\n") ? 0 : sz * n;
}

Test(rt_sse, libcurl_reads_the_stream) {
  struct curl_sse got = {.len = 0};
  CURL *c = curl_easy_init();
  CURLcode rc;

  start(NULL);
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, fx.sock);
  curl_easy_setopt(c, CURLOPT_URL, "http://localhost/v1/events");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sse_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
  rc = curl_easy_perform(c);
  cr_assert_eq(rc, CURLE_WRITE_ERROR, "%s", curl_easy_strerror(rc));
  cr_assert(strstr(got.buf, "id: 1\nevent: state\ndata: a\n"), "%s", got.buf);
  curl_easy_cleanup(c);
  uv_sem_wait(&closed_sem);
  fx_stop();
}

Test(rt_sse, client_that_never_reads_is_dropped_with_bounded_memory) {
  struct rt_http_opts o = RT_HTTP_OPTS_INIT;
  struct fx_resp r;
  int fd, small = 4096;
  size_t drained;
  char *got;

  o.max_unsent_bytes = 64 * 1024;
  start(&o);
  fd = fx_connect();
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  fx_sends(fd, "GET /v1/flood HTTP/1.1\r\nHost: x\r\n\r\n");
  /* While the flood runs, other clients are served. */
  cr_assert_eq(fx_get("/v1/health", &r), 200);
  fx_resp_free(&r);
  uv_sem_wait(&closed_sem);
  cr_assert_eq(atomic_load(&toobig), 1);
  cr_assert_leq(atomic_load(&max_unsent), o.max_unsent_bytes + 2 * FLOOD_EVENT,
                "unsent bytes stay bounded: %zu", atomic_load(&max_unsent));
  /* Another stream still works after the drop. */
  {
    int fd2 = fx_connect();

    fx_sends(fd2, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
    got = fx_read_until(fd2, "id: 2\ndata: x\n\n");
    cr_assert_not_null(got);
    free(got);
    close(fd2);
  }
  /* What the slow client finally reads is bounded too, and ends in EOF. */
  got = fx_read_all(fd, &drained);
  cr_log_info("peak unsent %zu bytes, slow client drained %zu bytes",
              atomic_load(&max_unsent), drained);
  cr_assert_lt(drained, 2 * 1024 * 1024, "drained %zu", drained);
  cr_assert(strstr(got, "text/event-stream"));
  free(got);
  close(fd);
  fx_stop();
}
