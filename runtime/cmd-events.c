/*
 * corral events [-f] [--since SEQ] [--mission M] [--count N]: the daemon's
 * event stream (GET /v1/events, Server-Sent Events whose id is the event
 * sequence). Without -f it prints the events stored so far and stops once
 * the stream has been quiet for EVENTS_QUIET_MS; with -f it follows, and
 * after a dropped connection (a daemon restart) reconnects with
 * Last-Event-ID, so no event is missed or printed twice. --count N stops
 * after N events. --json prints each event as one JSON line.
 */
#include "client.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt-int.h"

/* The daemon sends a backlog in batches every 200 ms: a second without a
 * byte means it has sent everything it had. */
#define EVENTS_QUIET_MS 1000
/* How long a follower waits for a restarting daemon. */
#define EVENTS_RETRY_MS 30000

struct events_opts {
  const char *socket;
  const char *mission;
  const char *since;
  long long count; /* 0: no limit */
  int follow;
  int json;
};

struct events_ctx {
  const struct events_opts *o;
  struct rt_sse_parser parser;
  long long seen;
};

static void events_usage(FILE *fp) {
  fputs("usage: corral events [--socket PATH] [--json] [-f|--follow]\n"
        "                     [--since SEQ] [--mission M] [--count N]\n\n"
        "Prints the daemon's events after SEQ (default: all). -f follows the "
        "stream,\nreconnecting with Last-Event-ID when the daemon restarts; "
        "--count N stops\nafter N events.\n",
        fp);
}

static void events_print_human(const char *data) {
  json_t *ev = json_loads(data, 0, NULL), *d;
  time_t t = (time_t)(json_integer_value(json_object_get(ev, "ts")) / 1000);
  char when[16], *s;
  struct tm tm;

  strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
  d = json_object_get(ev, "data");
  s = d ? json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  printf("%6lld %s %-16s %-14s %-12s %s\n",
         json_integer_value(json_object_get(ev, "seq")), when,
         json_string_value(json_object_get(ev, "mission")) ?: "-",
         json_string_value(json_object_get(ev, "task")) ?: "-",
         json_string_value(json_object_get(ev, "kind")) ?: "?", s ? s : "");
  free(s);
  json_decref(ev);
}

static int events_on_event(const struct rt_sse_event *ev, void *payload) {
  struct events_ctx *x = payload;

  if (x->o->json)
    printf("%s\n", ev->data);
  else
    events_print_human(ev->data);
  fflush(stdout);
  return x->o->count > 0 && ++x->seen >= x->o->count;
}

static int events_on_data(const char *data, size_t len, void *payload) {
  struct events_ctx *x = payload;

  return rt_sse_parser_feed(&x->parser, data, len, events_on_event, x) != 0;
}

static char *events_path(const struct events_opts *o) {
  char *m = o->mission ? rt_client_escape(o->mission) : NULL, *out;

  xasprintf(&out, "/v1/events?after=%s%s%s", o->since ? o->since : "0",
            m ? "&mission=" : "", m ? m : "");
  free(m);
  return out;
}

/* One connection; returns rt_client_stream's code. */
static int events_once(struct rt_client *c, struct events_ctx *x,
                       const char *path, struct rt_client_reply *r,
                       struct crl_err *err) {
  char *hdr = NULL;
  int rc;

  if (x->parser.last_id != NULL)
    xasprintf(&hdr, "Last-Event-ID: %s", x->parser.last_id);
  rc = rt_client_stream(c, path, hdr, x->o->follow ? 0 : EVENTS_QUIET_MS,
                        events_on_data, x, r, err);
  free(hdr);
  rt_sse_parser_reset(&x->parser);
  return rc;
}

/* Connects, and while following reconnects, until done; an exit code. */
static int events_loop(struct rt_client *c, struct events_ctx *x) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply r;
  char *path = events_path(x->o);
  int64_t down = 0; /* when the daemon went away, or 0 */
  int rc, connected = 0;

  for (;;) {
    rc = events_once(c, x, path, &r, &err);
    if (rc >= 0 && r.status != 200) {
      rc = rt_client_fail_reply(&r, NULL);
      break;
    }
    connected |= rc >= 0;
    down = rc >= 0 ? 0 : down ? down : crl_time_mono_ms();
    if (rc == 1 || (rc == 0 && !x->o->follow)) {
      rc = RT_EXIT_OK;
      break;
    }
    if (rc < 0 && (!connected || !x->o->follow ||
                   crl_time_mono_ms() - down > EVENTS_RETRY_MS)) {
      rc = rt_client_fail(c, rc, &err);
      break;
    }
    rt_client_reply_close(&r);
    usleep(200 * 1000); /* the daemon restarts, or the stream was dropped */
  }
  rt_client_reply_close(&r);
  free(path);
  return rc;
}

static int events_parse(struct events_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"follow", no_argument, 0, 'f'},
                                       {"since", required_argument, 0, 's'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"count", required_argument, 0, 'n'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  char *end;
  int ch;

  while ((ch = getopt_long(argc, argv, "S:fs:m:n:h", opts, NULL)) != -1) {
    if (ch == 'S')
      o->socket = optarg;
    else if (ch == 'J')
      o->json = 1;
    else if (ch == 'f')
      o->follow = 1;
    else if (ch == 's' && strtoll(optarg, &end, 10) >= 0 && *end == '\0')
      o->since = optarg;
    else if (ch == 'm')
      o->mission = optarg;
    else if (ch == 'n' && (o->count = strtoll(optarg, &end, 10)) > 0 && !*end)
      continue;
    else
      return events_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (optind != argc)
    return events_usage(stderr), RT_EXIT_USAGE;
  return -1;
}

static int events_exec(int argc, char **argv) {
  struct events_opts o = {0};
  struct events_ctx x = {.o = &o};
  struct rt_client c;
  int rc;

  if ((rc = events_parse(&o, argc, argv)) >= 0)
    return rc;
  rt_sse_parser_init(&x.parser);
  rt_client_init(&c, o.socket);
  rc = events_loop(&c, &x);
  rt_client_close(&c);
  rt_sse_parser_close(&x.parser);
  return rc;
}

const struct rt_cmd rt_cmd_events = {"events",
                                     "events [-f] [--since SEQ] [--mission M]",
                                     "print the daemon's events", events_exec};
