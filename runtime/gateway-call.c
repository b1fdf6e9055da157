/*
 * The life of one call through the gateway: a complete request is routed
 * to a provider, checked against the run's budget, then answered locally
 * (the HEAD probe, a refusal in the provider's error format, a replayed
 * body) or forwarded upstream (gateway-curl.c). An upstream answer goes
 * back to the client as it arrives: the status and headers as soon as
 * libcurl has them, then each piece of body as one HTTP chunk, so SSE is
 * never held back. Usage is parsed on the way (gateway-usage.c). When the
 * call ends for any reason, its record is priced, added to the listener's
 * totals and handed to on_call, and the connection moves on.
 */
#include "gateway-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *rt_gw_budget_name(enum rt_gw_budget_kind kind) {
  static const char *const names[] = {"none", "tokens", "usd", "turns",
                                      "external"};

  return (size_t)kind < CRL_ARRAY_SIZE(names) ? names[kind] : "none";
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 404:
    return "Not Found";
  case 413:
    return "Payload Too Large";
  case 429:
    return "Too Many Requests";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  default:
    return "Status";
  }
}

static double ms_since(uint64_t t0_ns) {
  return (double)(uv_hrtime() - t0_ns) / 1e6;
}

/* Keeps up to the record bound of the bytes in buf; notes truncation. */
static void record_bytes(struct crl_buf *buf, int *truncated, const char *p,
                         size_t n) {
  size_t room = buf->max - buf->len;

  if (n > room) {
    *truncated = 1;
    n = room;
  }
  if (n > 0)
    crl_buf_append(buf, p, n);
}

static void split_url(struct rt__gw_call *call, const char *url) {
  const char *q = strchr(url, '?');

  call->path = q ? xstrndup(url, (size_t)(q - url)) : xstrdup(url);
  call->query = xstrdup(q ? q + 1 : "");
}

static struct rt__gw_call *call_new(struct rt__gw_conn *conn) {
  struct rt__gw_call *call = xcalloc(1, sizeof(*call));
  struct rt_gw *gw = conn->gw;
  size_t rec_max = gw->opts.record_body_max;

  call->conn = conn;
  call->l = conn->l;
  call->t0_ns = uv_hrtime();
  call->method = xstrdup(http_method_str(conn->parser.method));
  split_url(call, conn->url.data ? conn->url.data : "/");
  crl_buf_init(&call->head, 64 * 1024);
  /* A bound of 0 would mean "unbounded" to crl_buf: keep at least 1. */
  crl_buf_init(&call->req_rec, rec_max ? rec_max : 1);
  crl_buf_init(&call->resp_rec, rec_max ? rec_max : 1);
  crl_buf_init(&call->line, gw->opts.max_parse_bytes);
  call->rec.seq = ++call->l->seq;
  call->rec.method = call->method;
  call->rec.path = call->path;
  call->rec.started_ms = crl_time_wall_ms();
  call->rec.ttfb_ms = -1;
  if (rec_max > 0)
    record_bytes(&call->req_rec, &call->rec.request_truncated, conn->body.data,
                 conn->body.len);
  else
    call->rec.request_truncated = conn->body.len > 0;
  conn->call = call;
  return call;
}

static void call_free(struct rt__gw_call *call) {
  free(call->method);
  free(call->path);
  free(call->query);
  free(call->model);
  free(call->url);
  free(call->ctype);
  free(call->error);
  crl_buf_close(&call->head);
  crl_buf_close(&call->req_rec);
  crl_buf_close(&call->resp_rec);
  crl_buf_close(&call->line);
  free(call);
}

/* Prices the call, adds it to the listener's totals, hands it to on_call. */
static void call_record(struct rt__gw_call *call) {
  struct rt_gw *gw = call->l->gw;
  struct rt_gw_call *r = &call->rec;
  struct rt_gw_totals *t = &call->l->totals;

  r->model = call->model;
  r->content_type = call->ctype;
  r->error = call->error;
  r->latency_ms = ms_since(call->t0_ns);
  r->request_body = call->req_rec.data;
  r->request_len = call->req_rec.len;
  r->response_body = call->resp_rec.data;
  r->response_len = call->resp_rec.len;
  if (!r->usage_seen)
    r->cost_rc = 0; /* nothing to price (side request, error, refusal) */
  else if (gw->opts.pricing == NULL)
    r->cost_rc = CRL_EINTERNAL;
  else
    r->cost_rc =
        rt_price_cost(gw->opts.pricing, call->model, &r->usage, &r->usd);
  t->calls++;
  if (r->api != RT_GW_API_SIDE && !r->refused)
    t->turns++;
  rt_usage_add(&t->usage, &r->usage);
  if (r->cost_rc == 0)
    t->usd += r->usd;
  else if (r->usage_seen)
    t->unpriced++;
  log_debug("%s: run %s #%llu %s %s %s status %d %.1f ms in %lld out %lld%s%s",
            __func__, call->l->run.run_id ? call->l->run.run_id : "-",
            (unsigned long long)r->seq, rt_gw_provider_name(r->provider),
            call->method, call->path, r->status, r->latency_ms,
            (long long)r->usage.input, (long long)r->usage.output,
            r->error ? ": " : "", r->error ? r->error : "");
  if (gw->opts.on_call != NULL)
    gw->opts.on_call(&call->l->run, r, gw->opts.payload);
}

/* Ends the call; keep: the client connection serves its next request. */
static void call_finish(struct rt__gw_call *call, int keep) {
  struct rt__gw_conn *conn = call->conn;

  rt__gw_curl_stop(call);
  rt__gw_usage_end(call);
  /* The call is over before on_call runs: a callback that closes the
   * listener (or the gateway) must not abort it a second time. */
  conn->call = NULL;
  call_record(call);
  call_free(call);
  rt__gw_conn_call_done(conn, keep && conn->keep_alive);
}

/* Answers with a complete response written by the gateway. */
static void call_reply(struct rt__gw_call *call, int status, const char *ctype,
                       const char *body, size_t len) {
  char *head;
  int n;

  /* ctype may come from a replay list: no fixed-size buffer. */
  n = xasprintf(&head,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                "%s\r\n",
                status, reason(status), ctype, len,
                call->conn->keep_alive ? "" : "Connection: close\r\n");
  call->rec.status = status;
  call->status = status;
  call->head_sent = 1;
  free(call->ctype);
  call->ctype = xstrdup(ctype);
  if (rt__gw_conn_write(call->conn, head, (size_t)n) == 0 && len > 0 &&
      strcmp(call->method, "HEAD") != 0)
    rt__gw_conn_write(call->conn, body, len);
  free(head);
  if (len > 0)
    record_bytes(&call->resp_rec, &call->rec.response_truncated, body, len);
}

static void call_refuse(struct rt__gw_call *call, enum rt__gw_refusal why,
                        const char *fmt, ...) {
  va_list ap;
  char *msg, *body;
  int status;

  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    abort();
  va_end(ap);
  body = rt__gw_error_body(call->rec.provider, why, msg, &status);
  call->rec.refused = 1;
  free(call->error);
  call->error = msg;
  call_reply(call, status, "application/json", body, strlen(body));
  free(body);
  call_finish(call, why != RT_GW_R_TOO_LARGE);
}

/* The run's own caps first, then the runtime's admit callback. */
static enum rt_gw_budget_kind budget_check(struct rt__gw_call *call) {
  struct rt_gw_listener *l = call->l;
  const struct rt_gw_budget *b = &l->run.budget;
  const struct rt_gw_totals *t = &l->totals;
  struct rt_gw *gw = l->gw;

  if (b->max_tokens > 0 && rt_usage_total(&t->usage) >= b->max_tokens)
    return RT_GW_BUDGET_TOKENS;
  if (b->max_usd > 0 && t->usd >= b->max_usd)
    return RT_GW_BUDGET_USD;
  if (b->max_turns > 0 && t->turns >= b->max_turns)
    return RT_GW_BUDGET_TURNS;
  call->rec.model = call->model;
  if (gw->opts.admit != NULL &&
      gw->opts.admit(&l->run, &call->rec, gw->opts.payload) != 0)
    return RT_GW_BUDGET_EXTERNAL;
  return RT_GW_BUDGET_NONE;
}

static void call_refuse_budget(struct rt__gw_call *call,
                               enum rt_gw_budget_kind what) {
  struct rt_gw_listener *l = call->l;
  struct rt_gw *gw = l->gw;
  int first = !l->budget_fired;

  l->budget_fired = 1;
  call->rec.refused_budget = what;
  /* on_budget runs after the refusal is recorded, and only once per run:
   * the runtime stops the run then. */
  call_refuse(call, RT_GW_R_BUDGET, "corral: %s budget of this run reached",
              rt_gw_budget_name(what));
  if (first && gw->opts.on_budget != NULL)
    gw->opts.on_budget(&l->run, what, gw->opts.payload);
}

static int looks_sse(const char *body, size_t len) {
  return (len >= 6 && strncmp(body, "event:", 6) == 0) ||
         (len >= 5 && strncmp(body, "data:", 5) == 0);
}

static void call_replay(struct rt__gw_call *call) {
  struct rt_gw_listener *l = call->l;
  struct rt__gw_conn *conn = call->conn;
  const struct rt_gw_replay *r;
  const char *ctype;
  long i = rt__gw_replay_pick(l, call->method, call->path, conn->body.data,
                              conn->body.len);

  if (i < 0) {
    call_refuse(call, RT_GW_R_REPLAY_END,
                "corral: replay has no recorded answer for call %llu (%s %s)",
                (unsigned long long)call->rec.seq, call->method, call->path);
    return;
  }
  r = &l->run.replay[i];
  call->sse = looks_sse(r->body, r->len);
  ctype = r->content_type ? r->content_type
          : call->sse     ? "text/event-stream"
                          : "application/json";
  call->rec.replayed = 1;
  call->rec.stream = call->sse;
  call->rec.ttfb_ms = ms_since(call->t0_ns);
  call_reply(call, r->status ? r->status : 200, ctype, r->body, r->len);
  rt__gw_usage_feed(call, r->body, r->len);
  call_finish(call, 1);
}

static void call_forward(struct rt__gw_call *call) {
  enum rt_gw_budget_kind what;
  struct rt_gw_upstream up;

  rt__gw_upstream_of(&up, call->l, call->rec.provider);
  if (up.api_key == NULL) {
    call_refuse(call, RT_GW_R_UNCONFIGURED,
                "corral: no upstream is configured for provider %s",
                rt_gw_provider_name(call->rec.provider));
    return;
  }
  if (call->rec.api != RT_GW_API_SIDE &&
      (what = budget_check(call)) != RT_GW_BUDGET_NONE) {
    call_refuse_budget(call, what);
    return;
  }
  if (rt__gw_curl_start(call) < 0)
    call_refuse(call, RT_GW_R_UPSTREAM, "corral: cannot start the transfer");
}

void rt__gw_call_start(struct rt__gw_conn *conn) {
  struct rt__gw_call *call = call_new(conn);
  struct rt__gw_route route;

  rt__gw_route(&route, call->method, call->path, conn->hdrs, conn->nhdrs);
  call->rec.provider = route.provider;
  call->rec.api = route.api;
  call->model = rt__gw_model_of(route.api, call->path, conn->body.data,
                                conn->parse_error ? 0 : conn->body.len);
  if (conn->parse_error)
    call_refuse(call, RT_GW_R_TOO_LARGE, "corral: request body too large");
  else if (route.local) {
    call_reply(call, 200, "application/json", "", 0);
    call_finish(call, 1);
  } else if (route.provider == RT_GW_UNKNOWN)
    call_refuse(call, RT_GW_R_NOT_FOUND, "corral: no LLM API at %s %s",
                call->method, call->path);
  else if (call->l->run.replay != NULL)
    call_replay(call);
  else
    call_forward(call);
}

/* Response headers worth passing on: not hop-by-hop, not the length (the
 * body is re-framed as chunks). */
static int header_passed(const char *line, size_t n) {
  static const char *const dropped[] = {
      "connection:", "keep-alive:", "transfer-encoding:", "content-length:",
      "proxy-"};

  for (size_t i = 0; i < CRL_ARRAY_SIZE(dropped); i++)
    if (n >= strlen(dropped[i]) &&
        strncasecmp(line, dropped[i], strlen(dropped[i])) == 0)
      return 0;
  return 1;
}

static void call_send_head(struct rt__gw_call *call) {
  char first[128];
  int n;

  n = snprintf(first, sizeof(first), "HTTP/1.1 %d %s\r\n", call->status,
               reason(call->status));
  call->head_sent = 1;
  call->rec.status = call->status;
  call->rec.stream = call->sse;
  rt__gw_conn_write(call->conn, first, (size_t)n);
  if (call->head.len > 0)
    rt__gw_conn_write(call->conn, call->head.data, call->head.len);
  if (call->head_only)
    rt__gw_conn_write(call->conn, "Content-Length: 0\r\n\r\n", 21);
  else
    rt__gw_conn_write(call->conn, "Transfer-Encoding: chunked\r\n\r\n", 30);
}

/* The upstream's Content-Type value, trimmed; SSE when it says so. */
static void call_note_ctype(struct rt__gw_call *call, const char *v, size_t n) {
  while (n > 0 && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
    n--;
  free(call->ctype);
  call->ctype = xstrndup(v, n);
  if (memmem(v, n, "text/event-stream", 17) != NULL)
    call->sse = 1;
}

size_t rt__gw_call_on_header(struct rt__gw_call *call, const char *line,
                             size_t n) {
  if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
    const char *sp = memchr(line, ' ', n);
    call->status = sp ? atoi(sp + 1) : 502;
    crl_buf_reset(&call->head);
    return n;
  }
  if (n <= 2 && (line[0] == '\r' || line[0] == '\n')) {
    /* End of a head: interim (1xx) heads are dropped. */
    if (call->status >= 200 && !call->head_sent) {
      /* No body may follow these: no chunked framing either. */
      call->head_only = strcmp(call->method, "HEAD") == 0 ||
                        call->status == 204 || call->status == 304;
      call_send_head(call);
    }
    return n;
  }
  if (n >= 13 && strncasecmp(line, "content-type:", 13) == 0)
    call_note_ctype(call, line + 13, n - 13);
  if (header_passed(line, n) && crl_buf_append(&call->head, line, n) < 0)
    return 0;
  return n;
}

size_t rt__gw_call_on_body(struct rt__gw_call *call, const char *data,
                           size_t n) {
  char size[24];
  int k;

  if (n == 0)
    return 0;
  if (call->rec.ttfb_ms < 0)
    call->rec.ttfb_ms = ms_since(call->t0_ns);
  k = snprintf(size, sizeof(size), "%zx\r\n", n);
  if (rt__gw_conn_write(call->conn, size, (size_t)k) < 0 ||
      rt__gw_conn_write(call->conn, data, n) < 0 ||
      rt__gw_conn_write(call->conn, "\r\n", 2) < 0) {
    free(call->error);
    call->error = xstrdup("aborted: the client does not read");
    return 0; /* aborts the transfer */
  }
  record_bytes(&call->resp_rec, &call->rec.response_truncated, data, n);
  rt__gw_usage_feed(call, data, n);
  return n;
}

void rt__gw_call_done(struct rt__gw_call *call, CURLcode rc) {
  if (rc != CURLE_OK && call->error == NULL)
    xasprintf(&call->error, "upstream: %s",
              call->curl_error[0] ? call->curl_error : curl_easy_strerror(rc));
  if (!call->head_sent) {
    /* Nothing reached the client yet: answer in the provider's format. */
    rt__gw_curl_stop(call);
    call_refuse(call, RT_GW_R_UPSTREAM, "corral: %s",
                call->error ? call->error : "upstream sent no answer");
    return;
  }
  if (rc == CURLE_OK && !call->head_only)
    rt__gw_conn_write(call->conn, "0\r\n\r\n", 5);
  /* A transfer cut short cannot be framed as complete: close. */
  call_finish(call, rc == CURLE_OK);
}

void rt__gw_call_abort(struct rt__gw_call *call, const char *why) {
  rt__gw_curl_stop(call);
  if (call->error == NULL)
    call->error = xstrdup(why);
  call->rec.status = 0;
  rt__gw_usage_end(call);
  call_record(call);
  call->conn->call = NULL;
  call_free(call);
}
