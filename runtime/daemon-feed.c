/*
 * Feeds: what the daemon streams to clients. An events feed is a
 * Server-Sent Event stream of the store's events after a cursor (the
 * request's `after`, or its Last-Event-ID), each with `id:` its sequence
 * number. An output feed streams a run's log from an offset as it grows,
 * until the run has ended and everything is sent. Both read only what the
 * store committed (pumped after each commit) and hold back while a client
 * reads slowly: a feed sends while fewer than FEED_HIGH bytes wait unsent,
 * and the timer pump resumes it later. A client that stops reading
 * altogether would never reach the server's bound (the feed stops adding
 * at FEED_HIGH), so a feed that stays held back without the client taking
 * a byte for FEED_STALL_MS is closed here; it resumes with Last-Event-ID
 * and misses nothing.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEED_HIGH (64 * 1024)
#define FEED_BATCH 512
/* A client that takes nothing of a held-back feed for this long is stuck
 * (or gone without a FIN): close it. A reading client, however slow,
 * drains some bytes between two pumps (200 ms apart). */
#define FEED_STALL_MS 15000

enum feed_kind { FEED_EVENTS, FEED_OUTPUT };

struct rt_feed {
  enum feed_kind kind;
  struct rt_daemon *d;
  struct rt_sse *sse;            /* FEED_EVENTS */
  struct rt_http_stream *stream; /* FEED_OUTPUT */
  char *mission;                 /* NULL: every mission */
  int64_t cursor;                /* last event seq or log offset sent */
  int64_t run;
  char *path;           /* the run's output.log */
  int sent;             /* events sent in this pump */
  int full;             /* held back by the client */
  int closing;          /* close asked; its callback frees it */
  size_t unsent_after;  /* bytes unsent when the last pump ended */
  uint64_t stall_since; /* loop time when it was first seen stuck, or 0 */
  struct rt_feed *next;
};

size_t rt_daemon_feed_count(const struct rt_daemon *d) {
  size_t n = 0;

  for (const struct rt_feed *f = d->feeds; f != NULL; f = f->next)
    n++;
  return n;
}

static void feed_free(struct rt_feed *f) {
  struct rt_feed **p = &f->d->feeds;

  while (*p != NULL && *p != f)
    p = &(*p)->next;
  if (*p == f)
    *p = f->next;
  free(f->mission);
  free(f->path);
  free(f);
}

static struct rt_feed *feed_new(struct rt_daemon *d, enum feed_kind kind) {
  struct rt_feed *f = xcalloc(1, sizeof(*f));

  f->kind = kind;
  f->d = d;
  f->next = d->feeds;
  d->feeds = f;
  return f;
}

static int feed_event_send(const struct store_event *ev, void *payload) {
  struct rt_feed *f = payload;
  json_t *data = ev->data ? json_loads(ev->data, 0, NULL) : NULL;
  json_t *doc = json_pack("{s:I, s:I, s:s?, s:s?, s:I, s:s, s:o?}", "seq",
                          (json_int_t)ev->seq, "ts", (json_int_t)ev->ts,
                          "mission", ev->mission, "task", ev->task, "run",
                          (json_int_t)ev->run, "kind", ev->kind, "data", data);
  char id[32], *s = json_dumps(doc, JSON_COMPACT);
  int rc;

  snprintf(id, sizeof(id), "%lld", (long long)ev->seq);
  rc = rt_sse_send(f->sse, id, ev->kind, s);
  free(s);
  json_decref(doc);
  if (rc < 0) { /* closing: the close callback frees the feed */
    f->full = 1;
    return 1;
  }
  f->cursor = ev->seq;
  f->d->events_sent++;
  if (++f->sent >= FEED_BATCH || rt_sse_unsent(f->sse) > FEED_HIGH) {
    f->full = 1;
    return 1;
  }
  return 0;
}

static void feed_events_pump(struct rt_feed *f) {
  f->sent = 0;
  f->full = 0;
  store_event_list(f->d->st, f->mission, NULL, f->cursor, feed_event_send, f);
}

static void feed_on_sse_closed(struct rt_sse *s, void *payload) {
  feed_free(payload);
}

void rt_daemon_feed_events(struct rt_daemon *d, struct rt_http_req *req,
                           const char *mission, int64_t after) {
  struct rt_feed *f = feed_new(d, FEED_EVENTS);

  f->mission = mission ? xstrdup(mission) : NULL;
  f->cursor = after;
  f->sse = rt_sse_open(req, feed_on_sse_closed, f);
  if (f->sse == NULL) {
    feed_free(f);
    return;
  }
  feed_events_pump(f);
}

/* 1 when the run's row says it ended (its log is complete). */
static int feed_run_ended(struct rt_feed *f) {
  struct store_run r;

  return store_run_get(f->d->st, f->run, &r, NULL) == 0 &&
         strcmp(r.state, "ended") == 0;
}

static void feed_output_pump(struct rt_feed *f) {
  char buf[16384];
  int fd = open(f->path, O_RDONLY | O_CLOEXEC), ended = feed_run_ended(f);
  ssize_t n = 0;

  while (fd >= 0 && rt_http_stream_unsent(f->stream) < FEED_HIGH &&
         (n = pread(fd, buf, sizeof(buf), f->cursor)) > 0) {
    if (rt_http_stream_write(f->stream, buf, (size_t)n) < 0)
      break;
    f->cursor += n;
  }
  if (fd >= 0)
    close(fd);
  /* Ended before this read began, and nothing more to read: done. */
  if (ended && n == 0 && rt_http_stream_unsent(f->stream) < FEED_HIGH) {
    f->closing = 1;
    rt_http_stream_close(f->stream);
  }
}

static void feed_on_stream_closed(struct rt_http_stream *s, void *payload) {
  feed_free(payload);
}

void rt_daemon_feed_output(struct rt_daemon *d, struct rt_http_req *req,
                           int64_t run, const char *dir, int64_t offset) {
  struct rt_feed *f = feed_new(d, FEED_OUTPUT);

  f->run = run;
  f->cursor = offset;
  xasprintf(&f->path, "%s/output.log", dir);
  f->stream = rt_http_stream_open(req, 200, "application/octet-stream",
                                  feed_on_stream_closed, f);
  if (f->stream == NULL) {
    feed_free(f);
    return;
  }
  feed_output_pump(f);
}

static size_t feed_unsent(const struct rt_feed *f) {
  return f->kind == FEED_EVENTS ? rt_sse_unsent(f->sse)
                                : rt_http_stream_unsent(f->stream);
}

static void feed_close(struct rt_feed *f) {
  f->closing = 1;
  if (f->kind == FEED_EVENTS)
    rt_sse_close(f->sse);
  else
    rt_http_stream_close(f->stream);
}

/* 1 when the feed was held back at the last pump and the client has taken
 * no byte since, for FEED_STALL_MS: it is closed (what is queued gets the
 * server's linger time to drain, then the connection goes). */
static int feed_stalled(struct rt_feed *f) {
  uint64_t now = uv_now(f->d->loop);
  size_t unsent = feed_unsent(f);

  if (unsent < FEED_HIGH || unsent < f->unsent_after) {
    f->stall_since = 0;
    return 0;
  }
  if (f->stall_since == 0)
    f->stall_since = now;
  if (now - f->stall_since < FEED_STALL_MS)
    return 0;
  log_info("control: subscriber took nothing of %zu bytes for %d s, dropped",
           unsent, FEED_STALL_MS / 1000);
  f->d->feeds_dropped++;
  feed_close(f);
  return 1;
}

void rt_daemon_feed_pump(struct rt_daemon *d) {
  struct rt_feed *f, *next;

  for (f = d->feeds; f != NULL; f = next) {
    next = f->next;
    if (f->closing || feed_stalled(f))
      continue;
    if (f->kind == FEED_EVENTS)
      feed_events_pump(f);
    else
      feed_output_pump(f);
    if (!f->closing)
      f->unsent_after = feed_unsent(f);
  }
}

void rt_daemon_feed_close_all(struct rt_daemon *d) {
  for (struct rt_feed *f = d->feeds; f != NULL; f = f->next)
    if (!f->closing)
      feed_close(f);
}
