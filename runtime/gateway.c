/*
 * The gateway object and its per-run listeners: creation with a copy of the
 * options (upstream URLs and keys), the configuration file, adopting a
 * run's listening TCP socket with a copy of its run context, and the
 * orderly close of everything (connections, listeners, libcurl's sockets,
 * the timer) with the memory freed once the last uv handle has closed.
 */
#include "gateway-int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void gw_free(struct rt_gw *gw) {
  rt_gw_close_cb cb = gw->close_cb;
  void *payload = gw->close_payload;

  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    free(gw->base_url[p]);
    free(gw->api_key[p]);
    free(gw->key_header[p]);
  }
  free(gw);
  if (cb != NULL)
    cb(payload);
}

void rt__gw_gw_handle_closed(struct rt_gw *gw) {
  assert(gw->handles > 0);
  if (--gw->handles == 0 && gw->closing)
    gw_free(gw);
}

int rt_gw_new(struct rt_gw **out, uv_loop_t *loop,
              const struct rt_gw_opts *opts, struct crl_err *err) {
  struct rt_gw_opts defaults = RT_GW_OPTS_INIT;
  struct rt_gw *gw = xcalloc(1, sizeof(*gw));

  gw->loop = loop;
  gw->opts = opts ? *opts : defaults;
  if (gw->opts.max_request_bytes == 0)
    gw->opts.max_request_bytes = defaults.max_request_bytes;
  if (gw->opts.max_parse_bytes == 0)
    gw->opts.max_parse_bytes = defaults.max_parse_bytes;
  if (gw->opts.max_unsent_bytes == 0)
    gw->opts.max_unsent_bytes = defaults.max_unsent_bytes;
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    const struct rt_gw_upstream *u = &gw->opts.upstream[p];
    gw->base_url[p] =
        xstrdup(u->base_url ? u->base_url : rt__gw_default_base(p));
    gw->api_key[p] = u->api_key ? xstrdup(u->api_key) : NULL;
    gw->key_header[p] = u->key_header ? xstrdup(u->key_header) : NULL;
    gw->opts.upstream[p].base_url = gw->base_url[p];
    gw->opts.upstream[p].api_key = gw->api_key[p];
    gw->opts.upstream[p].key_header = gw->key_header[p];
  }
  if (rt__gw_curl_init(gw) < 0) {
    gw_free(gw);
    return crl_err_set(err, CRL_EINTERNAL, "gateway: curl_multi_init failed");
  }
  *out = gw;
  return 0;
}

void rt_gw_close(struct rt_gw *gw, rt_gw_close_cb cb, void *payload) {
  if (gw == NULL)
    return;
  assert(!gw->closing);
  gw->close_cb = cb;
  gw->close_payload = payload;
  while (gw->listeners != NULL)
    rt_gw_unlisten(gw->listeners);
  gw->closing = 1;
  rt__gw_curl_close(gw); /* closes the timer: handles > 0 until then */
}

static void on_connection(uv_stream_t *s, int status) {
  struct rt_gw_listener *l = crl_container_of(s, struct rt_gw_listener, tcp);

  if (status < 0) {
    log_warn("gateway: accept on run %s: %s",
             l->run.run_id ? l->run.run_id : "?", uv_strerror(status));
    return;
  }
  rt__gw_conn_accept(l);
}

static char *dup_or_null(const char *s) {
  return s ? xstrdup(s) : NULL;
}

static void run_copy(struct rt_gw_run *dst, const struct rt_gw_run *src) {
  *dst = *src;
  dst->mission_id = dup_or_null(src->mission_id);
  dst->ticket_id = dup_or_null(src->ticket_id);
  dst->task_id = dup_or_null(src->task_id);
  dst->run_id = dup_or_null(src->run_id);
  dst->agent = dup_or_null(src->agent);
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    dst->upstream[p].base_url = dup_or_null(src->upstream[p].base_url);
    dst->upstream[p].api_key = dup_or_null(src->upstream[p].api_key);
    dst->upstream[p].key_header = dup_or_null(src->upstream[p].key_header);
  }
}

static void run_free(struct rt_gw_run *run) {
  free((char *)run->mission_id);
  free((char *)run->ticket_id);
  free((char *)run->task_id);
  free((char *)run->run_id);
  free((char *)run->agent);
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    free((char *)run->upstream[p].base_url);
    free((char *)run->upstream[p].api_key);
    free((char *)run->upstream[p].key_header);
  }
}

static void listener_closed(uv_handle_t *h) {
  struct rt_gw_listener *l = crl_container_of(h, struct rt_gw_listener, tcp);
  struct rt_gw *gw = l->gw;

  rt__gw_replay_free(l);
  run_free(&l->run);
  free(l);
  rt__gw_gw_handle_closed(gw);
}

int rt_gw_listen_fd(struct rt_gw_listener **out, struct rt_gw *gw, int fd,
                    const struct rt_gw_run *run, struct crl_err *err) {
  struct rt_gw_listener *l = xcalloc(1, sizeof(*l));
  int rc;

  assert(!gw->closing);
  l->gw = gw;
  run_copy(&l->run, run);
  rt__gw_replay_copy(l, run);
  l->seq = run->prior_seq;
  l->totals.turns = run->prior_turns;
  uv_tcp_init(gw->loop, &l->tcp);
  gw->handles++;
  if ((rc = uv_tcp_open(&l->tcp, fd)) < 0 ||
      (rc = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection)) < 0) {
    if (uv_fileno((uv_handle_t *)&l->tcp, &(uv_os_fd_t){0}) != 0)
      close(fd); /* not adopted by the handle */
    uv_close((uv_handle_t *)&l->tcp, listener_closed);
    return crl_err_set(err, rc, "gateway: cannot serve fd %d: %s", fd,
                       uv_strerror(rc));
  }
  l->next = gw->listeners;
  if (gw->listeners != NULL)
    gw->listeners->prev = l;
  gw->listeners = l;
  *out = l;
  return 0;
}

void rt_gw_unlisten(struct rt_gw_listener *l) {
  struct rt_gw *gw;

  if (l == NULL)
    return;
  gw = l->gw;
  while (l->conns != NULL)
    rt__gw_conn_close(l->conns);
  if (l->prev != NULL)
    l->prev->next = l->next;
  else
    gw->listeners = l->next;
  if (l->next != NULL)
    l->next->prev = l->prev;
  uv_close((uv_handle_t *)&l->tcp, listener_closed);
}

void rt__gw_upstream_of(struct rt_gw_upstream *out,
                        const struct rt_gw_listener *l, enum rt_gw_provider p) {
  const struct rt_gw_upstream *own = &l->run.upstream[p];

  *out = l->gw->opts.upstream[p];
  if (own->api_key == NULL)
    return;
  out->api_key = own->api_key;
  out->key_header = own->key_header;
  if (own->base_url != NULL)
    out->base_url = own->base_url;
}

const struct rt_gw_run *rt_gw_listener_run(const struct rt_gw_listener *l) {
  return &l->run;
}

void rt_gw_listener_set_budget(struct rt_gw_listener *l,
                               const struct rt_gw_budget *budget) {
  l->run.budget = *budget;
  l->budget_fired = 0;
}

void rt_gw_listener_totals(const struct rt_gw_listener *l,
                           struct rt_gw_totals *out) {
  *out = l->totals;
}

void rt_gw_opts_from_config(struct rt_gw_opts *opts,
                            const struct rt_gw_config *cfg) {
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    opts->upstream[p].base_url = cfg->base_url[p];
    opts->upstream[p].api_key = cfg->api_key[p];
    opts->upstream[p].key_header = cfg->key_header[p];
  }
  if (cfg->record_body_max > 0)
    opts->record_body_max = cfg->record_body_max;
}
