/*
 * A Server-Sent Events parser for the client (the HTML Living Standard's
 * "event stream interpretation"): bytes arrive in arbitrary chunks, lines
 * end with LF, CRLF or CR, a blank line dispatches the event gathered so
 * far, lines starting with ':' are comments (the daemon's heartbeat), and
 * the last id: seen is remembered across events so a reconnecting client
 * can send it as Last-Event-ID. A line or an event over SSE_MAX bytes is
 * an error rather than unbounded memory.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#define SSE_MAX (1024 * 1024)

void rt_sse_parser_init(struct rt_sse_parser *p) {
  memset(p, 0, sizeof(*p));
  crl_buf_init(&p->line, SSE_MAX);
  crl_buf_init(&p->data, SSE_MAX);
}

void rt_sse_parser_reset(struct rt_sse_parser *p) {
  crl_buf_reset(&p->line);
  crl_buf_reset(&p->data);
  free(p->id);
  free(p->event);
  p->id = NULL;
  p->event = NULL;
  p->has_data = 0;
  p->after_cr = 0;
}

void rt_sse_parser_close(struct rt_sse_parser *p) {
  rt_sse_parser_reset(p);
  crl_buf_close(&p->line);
  crl_buf_close(&p->data);
  free(p->last_id);
  p->last_id = NULL;
}

static int sse_dispatch(struct rt_sse_parser *p, rt_sse_event_cb cb,
                        void *payload) {
  struct rt_sse_event ev;
  int rc = 0;

  if (p->id != NULL) {
    free(p->last_id);
    p->last_id = xstrdup(p->id);
  }
  if (p->has_data) {
    ev.id = p->id;
    ev.event = p->event ? p->event : "message";
    ev.data = p->data.data ? p->data.data : "";
    rc = cb(&ev, payload);
  }
  free(p->id);
  free(p->event);
  p->id = p->event = NULL;
  p->has_data = 0;
  crl_buf_reset(&p->data);
  return rc;
}

/* One complete line (without its end): a field, a comment or a blank. */
static int sse_line(struct rt_sse_parser *p, const char *s, rt_sse_event_cb cb,
                    void *payload) {
  const char *colon = strchr(s, ':'), *v = "";
  size_t n = colon ? (size_t)(colon - s) : strlen(s);

  if (*s == '\0')
    return sse_dispatch(p, cb, payload);
  if (n == 0)
    return 0; /* a comment */
  if (colon != NULL)
    v = colon[1] == ' ' ? colon + 2 : colon + 1;
  if (n == 4 && strncmp(s, "data", 4) == 0) {
    if (p->has_data && crl_buf_append(&p->data, "\n", 1) < 0)
      return CRL_ETOOBIG;
    p->has_data = 1;
    return crl_buf_append(&p->data, v, strlen(v));
  }
  if (n == 2 && strncmp(s, "id", 2) == 0) {
    free(p->id);
    p->id = xstrdup(v);
  } else if (n == 5 && strncmp(s, "event", 5) == 0) {
    free(p->event);
    p->event = xstrdup(v);
  }
  return 0; /* retry: and unknown fields are ignored */
}

int rt_sse_parser_feed(struct rt_sse_parser *p, const char *buf, size_t len,
                       rt_sse_event_cb cb, void *payload) {
  int rc;

  for (size_t i = 0; i < len; i++) {
    int cr = p->after_cr;

    p->after_cr = buf[i] == '\r';
    if (buf[i] == '\n' && cr)
      continue; /* the LF of a CRLF whose CR ended the line */
    if (buf[i] != '\r' && buf[i] != '\n') {
      if (crl_buf_append(&p->line, buf + i, 1) < 0)
        return CRL_ETOOBIG;
      continue;
    }
    rc = sse_line(p, p->line.data ? p->line.data : "", cb, payload);
    crl_buf_reset(&p->line);
    if (rc != 0)
      return rc;
  }
  return 0;
}
