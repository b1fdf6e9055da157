/*
 * What `corral run` shows while it works. Three modes: on a terminal, a live
 * view (a line per running task with its elapsed time and a summary line,
 * redrawn at most ten times a second, finished tasks scrolling above it);
 * otherwise one plain line per state change; or, with --json, every event as
 * a JSON line. Lines are queued and written only by rt_view_flush, which the
 * engine calls after the store has committed what they report.
 */
#include "rt-int.h"

#include <stdlib.h>
#include <jansson.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VIEW_REDRAW_MS 100

struct rt_view {
  enum rt_view_mode mode;
  struct rt_engine *e;
  struct crl_buf out; /* lines waiting for the commit */
  int live_lines;     /* height of the live region on screen */
  int64_t last_draw;
  int dirty;
  int color;
  uv_timer_t timer;
};

struct rt_view *rt_view_new(uv_loop_t *loop, enum rt_view_mode mode,
                            struct rt_engine *e) {
  struct rt_view *v = xcalloc(1, sizeof(*v));
  const char *nc = getenv("NO_COLOR");

  v->mode = mode;
  v->e = e;
  v->color = mode == RT_VIEW_TTY && (nc == NULL || nc[0] == '\0');
  crl_buf_init(&v->out, 0);
  uv_timer_init(loop, &v->timer);
  return v;
}

static void view_clock(char *out, size_t len) {
  time_t now = time(NULL);
  struct tm tm;

  localtime_r(&now, &tm);
  strftime(out, len, "%H:%M:%S", &tm);
}

static const char *view_color(struct rt_view *v, enum sched_state st) {
  if (!v->color)
    return "";
  if (st == SCHED_COMPLETED)
    return "\033[32m";
  if (st == SCHED_FAILED || st == SCHED_CANCELLED)
    return "\033[31m";
  return st == SCHED_SKIPPED ? "\033[33m" : "";
}

static int view_shows(struct rt_view *v, enum sched_state to) {
  if (v->mode == RT_VIEW_PLAIN)
    return 1;
  return v->mode == RT_VIEW_TTY && to != SCHED_READY && to != SCHED_RUNNING;
}

void rt_view_state(struct rt_view *v, size_t task, enum sched_state from,
                   enum sched_state to, const char *reason) {
  const char *id = v->e->m->tasks[task].id;
  char clock[16];

  v->dirty = 1;
  if (!view_shows(v, to))
    return;
  view_clock(clock, sizeof(clock));
  crl_buf_printf(&v->out, "%s %s: %s -> %s%s%s%s%s%s\n", clock, id,
                 sched_state_name(from), view_color(v, to),
                 sched_state_name(to), v->color ? "\033[0m" : "",
                 reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
}

/* A warning's message on the terminal or in plain output, one line. */
static void view_warning(struct rt_view *v, const char *task,
                         const char *data) {
  json_t *d = json_loads(data ? data : "", 0, NULL);
  const char *msg = json_string_value(json_object_get(d, "message"));
  char clock[16];

  view_clock(clock, sizeof(clock));
  crl_buf_printf(&v->out, "%s %s: warning: %s\n", clock,
                 task ? task : v->e->m->name, msg ? msg : "(no message)");
  v->dirty = 1;
  json_decref(d);
}

void rt_view_event(struct rt_view *v, int64_t seq, const char *task,
                   int64_t run, const char *kind, const char *data) {
  if ((v->mode == RT_VIEW_PLAIN || v->mode == RT_VIEW_TTY) &&
      strcmp(kind, "warning") == 0)
    view_warning(v, task, data);
  if (v->mode != RT_VIEW_JSON)
    return;
  crl_buf_printf(&v->out,
                 "{\"seq\":%lld,\"ts\":%lld,\"mission\":\"%s\",\"task\":%s%s%s,"
                 "\"run\":%lld,\"kind\":\"%s\",\"data\":%s}\n",
                 (long long)seq, (long long)crl_time_wall_ms(), v->e->m->name,
                 task ? "\"" : "", task ? task : "null", task ? "\"" : "",
                 (long long)run, kind, data ? data : "null");
}

static void view_write(const char *p, size_t n) {
  ssize_t w;

  while (n > 0 && (w = write(STDOUT_FILENO, p, n)) > 0) {
    p += w;
    n -= (size_t)w;
  }
}

static void view_live(struct rt_view *v, struct crl_buf *b) {
  struct rt_engine *e = v->e;
  struct sched_counts c;
  char el[32];
  int64_t now = rt_engine_now(e);

  v->live_lines = 0;
  for (size_t i = 0; i < e->m->ntasks; i++) {
    if (e->runs[i] == NULL || e->runs[i]->state != RT_RUN_RUNNING)
      continue;
    crl_duration_format(el, sizeof(el), now - e->runs[i]->started_at);
    crl_buf_printf(b, "  %s running %s (attempt %d)\033[K\n", e->m->tasks[i].id,
                   el, e->runs[i]->attempt);
    v->live_lines++;
  }
  sched_counts(e->sched, &c);
  crl_buf_printf(b, "%s: %zu done, %zu failed, %zu running, %zu queued\033[K\n",
                 e->m->name, c.by_state[SCHED_COMPLETED],
                 c.by_state[SCHED_FAILED] + c.by_state[SCHED_SKIPPED],
                 c.by_state[SCHED_RUNNING],
                 c.by_state[SCHED_PENDING] + c.by_state[SCHED_READY]);
  v->live_lines++;
}

static void view_redraw(struct rt_view *v) {
  struct crl_buf b;

  crl_buf_init(&b, 0);
  if (v->live_lines > 0)
    crl_buf_printf(&b, "\033[%dA\033[J", v->live_lines);
  if (v->out.len > 0)
    crl_buf_append(&b, v->out.data, v->out.len);
  crl_buf_reset(&v->out);
  view_live(v, &b);
  view_write(b.data, b.len);
  crl_buf_close(&b);
  v->last_draw = crl_time_mono_ms();
  v->dirty = 0;
}

static void view_on_timer(uv_timer_t *h) {
  struct rt_view *v = crl_container_of(h, struct rt_view, timer);

  view_redraw(v);
  uv_timer_start(&v->timer, view_on_timer, 250, 0);
}

void rt_view_flush(struct rt_view *v) {
  int64_t wait;

  if (v->mode != RT_VIEW_TTY) {
    view_write(v->out.data, v->out.len);
    crl_buf_reset(&v->out);
    return;
  }
  if (!v->dirty && v->out.len == 0 && uv_is_active((uv_handle_t *)&v->timer))
    return;
  wait = v->last_draw + VIEW_REDRAW_MS - crl_time_mono_ms();
  uv_timer_start(&v->timer, view_on_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

void rt_view_finish(struct rt_view *v, int code) {
  if (code < 0)
    ; /* the mission never started: nothing to summarise */
  else if (v->mode == RT_VIEW_TTY)
    view_redraw(v);
  else
    rt_view_flush(v);
  uv_close((uv_handle_t *)&v->timer, NULL);
}

void rt_view_free(struct rt_view *v) {
  if (v == NULL)
    return;
  crl_buf_close(&v->out);
  free(v);
}
