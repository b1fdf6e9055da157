/*
 * The client's Server-Sent Events parser: events split across chunks at
 * every byte, LF, CRLF and CR line ends, multi-line data joined with LF,
 * comments and unknown fields ignored, the last id kept across events for
 * Last-Event-ID, a partial event dropped on reset, a callback that stops
 * the feed, and a line over the bound refused.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "client.h"

struct seen {
  char buf[4096];
  int n;
  int stop_after;
};

static int on_event(const struct rt_sse_event *ev, void *payload) {
  struct seen *s = payload;
  size_t len = strlen(s->buf);

  snprintf(s->buf + len, sizeof(s->buf) - len, "[%s|%s|%s]",
           ev->id ? ev->id : "-", ev->event, ev->data);
  return s->stop_after > 0 && ++s->n >= s->stop_after;
}

static void feed_bytewise(struct rt_sse_parser *p, const char *in,
                          struct seen *s) {
  for (size_t i = 0; in[i] != '\0'; i++)
    cr_assert_eq(rt_sse_parser_feed(p, in + i, 1, on_event, s), 0);
}

Test(client_sse, events_split_at_every_byte) {
  const char *in = ": hb\n\nid: 1\nevent: state\ndata: {\"a\":1}\n\n"
                   "id: 2\ndata: x\ndata: y\nretry: 10\nfoo: bar\n\n";
  struct rt_sse_parser p;
  struct seen s = {0};

  rt_sse_parser_init(&p);
  feed_bytewise(&p, in, &s);
  cr_assert_str_eq(s.buf, "[1|state|{\"a\":1}][2|message|x\ny]");
  cr_assert_str_eq(p.last_id, "2");
  rt_sse_parser_close(&p);
}

Test(client_sse, crlf_and_cr_line_ends) {
  const char *in = "id: 7\r\ndata: a\r\n\r\nid:8\rdata:b\r\r";
  struct rt_sse_parser p;
  struct seen s = {0};

  rt_sse_parser_init(&p);
  feed_bytewise(&p, in, &s);
  cr_assert_str_eq(s.buf, "[7|message|a][8|message|b]");
  rt_sse_parser_close(&p);
}

Test(client_sse, reset_drops_a_partial_event_and_keeps_last_id) {
  struct rt_sse_parser p;
  struct seen s = {0};

  rt_sse_parser_init(&p);
  cr_assert_eq(rt_sse_parser_feed(&p, "id: 3\ndata: ok\n\nid: 4\ndata: ha", 30,
                                  on_event, &s),
               0);
  rt_sse_parser_reset(&p);
  cr_assert_eq(rt_sse_parser_feed(&p, "lf\n\n", 4, on_event, &s), 0);
  cr_assert_str_eq(s.buf, "[3|message|ok]");
  cr_assert_str_eq(p.last_id, "3");
  rt_sse_parser_close(&p);
}

Test(client_sse, callback_stops_the_feed) {
  const char *in = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
  struct rt_sse_parser p;
  struct seen s = {.stop_after = 2};

  rt_sse_parser_init(&p);
  cr_assert_eq(rt_sse_parser_feed(&p, in, strlen(in), on_event, &s), 1);
  cr_assert_str_eq(s.buf, "[-|message|1][-|message|2]");
  rt_sse_parser_close(&p);
}

Test(client_sse, an_endless_line_is_refused) {
  size_t n = 2 * 1024 * 1024;
  char *big = malloc(n);
  struct rt_sse_parser p;
  struct seen s = {0};

  memset(big, 'x', n);
  rt_sse_parser_init(&p);
  cr_assert_eq(rt_sse_parser_feed(&p, big, n, on_event, &s), CRL_ETOOBIG);
  rt_sse_parser_close(&p);
  free(big);
}
