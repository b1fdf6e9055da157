/*
 * corral show [MISSION]: every task of a mission (the latest by default)
 * with its state, attempts, duration and end reason, as a table or JSON.
 */
#include "client.h"
#include "rt-int.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void show_usage(FILE *fp) {
  fputs("usage: corral show [--state-dir DIR | --socket PATH | --trace FILE]\n"
        "                   [--json] [MISSION]\n\n"
        "Shows every task of MISSION (default: the most recent one). Without\n"
        "--state-dir it asks the daemon when one answers on its socket;\n"
        "--trace reads a trace file (corral export) directly.\n",
        fp);
}

static int show_table_row(const struct store_task *t, void *payload) {
  char dur[32] = "-";

  if (t->started_at > 0 && t->ended_at >= t->started_at)
    crl_duration_format(dur, sizeof(dur), t->ended_at - t->started_at);
  printf("%-20s %-10s %-15s %8d %8s  %s\n", t->id, t->ticket, t->state,
         t->attempts, dur, t->reason ? t->reason : "");
  return 0;
}

static int show_json_row(const struct store_task *t, void *payload) {
  json_t *a = payload;

  json_array_append_new(
      a, json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:s?}", "id", t->id,
                   "ticket", t->ticket, "agent", t->agent, "state", t->state,
                   "attempts", t->attempts, "started_at",
                   (json_int_t)t->started_at, "ended_at",
                   (json_int_t)t->ended_at, "reason", t->reason));
  return 0;
}

static int show_commit_row(const struct store_commit *c, void *payload) {
  int *n = payload;

  if ((*n)++ == 0)
    printf("\n%-10s %-20s %-12s %6s %6s %6s  %s\n", "TICKET", "TASK", "COMMIT",
           "FILES", "+", "-", "BRANCH");
  printf("%-10s %-20s %-12.12s %6lld %6lld %6lld  %s\n",
         c->ticket ? c->ticket : "", c->task ? c->task : "", c->sha,
         (long long)c->files, (long long)c->insertions, (long long)c->deletions,
         c->branch ? c->branch : "");
  return 0;
}

static int show_commit_json(const struct store_commit *c, void *payload) {
  json_array_append_new(
      payload,
      json_pack("{s:s?, s:s?, s:I, s:s?, s:s, s:s?, s:I, s:I, s:I}", "ticket",
                c->ticket, "task", c->task, "run", (json_int_t)c->run, "branch",
                c->branch, "sha", c->sha, "parent", c->parent, "files",
                (json_int_t)c->files, "insertions", (json_int_t)c->insertions,
                "deletions", (json_int_t)c->deletions));
  return 0;
}

/* Per ticket: its git side, and the sums of its commits' stats. */
struct show_sum {
  const char *ticket;
  json_int_t commits, files, ins, del;
};

static int show_sum_add(const struct store_commit *c, void *payload) {
  struct show_sum *s = payload;

  if (c->ticket == NULL || strcmp(c->ticket, s->ticket) != 0)
    return 0;
  s->commits++;
  s->files += c->files;
  s->ins += c->insertions;
  s->del += c->deletions;
  return 0;
}

static json_t *show_ticket_obj(struct store *st, const struct store_ticket *t) {
  struct show_sum sum = {t->id, 0, 0, 0, 0};
  json_t *detail = t->detail ? json_loads(t->detail, 0, NULL) : NULL;

  store_commit_list(st, t->mission, show_sum_add, &sum);
  return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:o?, s:I, s:I, s:I, s:I}",
                   "id", t->id, "state", t->state, "branch", t->branch, "head",
                   t->head, "merged", t->merged, "detail", detail, "commits",
                   sum.commits, "files", sum.files, "insertions", sum.ins,
                   "deletions", sum.del);
}

struct show_tickets {
  struct store *st;
  json_t *v;
};

static int show_ticket_collect(const struct store_ticket *t, void *payload) {
  struct show_tickets *c = payload;

  if (t->branch != NULL || strcmp(t->state, "open") != 0)
    json_array_append_new(c->v, show_ticket_obj(c->st, t));
  return 0;
}

/* The tickets that have a branch, as JSON (their rows are read first: the
 * commit sums need the store too). */
static json_t *show_tickets(struct store *st, const char *mission) {
  struct show_tickets c = {st, json_array()};

  store_ticket_list(st, mission, show_ticket_collect, &c);
  return c.v;
}

static void show_ticket_table(json_t *tickets) {
  size_t i;
  json_t *t;

  json_array_foreach(tickets, i, t) {
    if (i == 0)
      printf("\n%-10s %-10s %-28s %5s %6s %6s %6s  %s\n", "TICKET", "STATE",
             "BRANCH", "COMMITS", "FILES", "+", "-", "MERGED");
    printf("%-10s %-10s %-28s %5lld %6lld %6lld %6lld  %.12s\n",
           json_string_value(json_object_get(t, "id")),
           json_string_value(json_object_get(t, "state")),
           json_string_value(json_object_get(t, "branch")) ?: "",
           json_integer_value(json_object_get(t, "commits")),
           json_integer_value(json_object_get(t, "files")),
           json_integer_value(json_object_get(t, "insertions")),
           json_integer_value(json_object_get(t, "deletions")),
           json_string_value(json_object_get(t, "merged")) ?: "");
  }
}

/* The mission's LLM calls, from the gateway's records: "llm" in json, or
 * a line of the table when json is NULL. */
static void show_llm(struct store *st, const char *mission, json_t *json) {
  struct store_llm_totals t;
  json_t *o;

  if (store_llm_totals(st, mission, NULL, 0, &t, NULL) < 0 || t.calls == 0)
    return;
  o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:I}", "calls",
                (json_int_t)t.calls, "input", (json_int_t)t.input, "output",
                (json_int_t)t.output, "cache_read", (json_int_t)t.cache_read,
                "cache_write", (json_int_t)t.cache_write, "usd", t.usd,
                "unpriced", (json_int_t)t.unpriced);
  if (json != NULL) {
    json_object_set_new(json, "llm", o);
    return;
  }
  rt_show_llm_print(o);
  json_decref(o);
}

static int show_table(struct store *st, const struct store_mission *m) {
  json_t *tickets;
  int rc, n = 0;

  printf("mission %s: %s (%s)\n", m->id, m->state, m->file ? m->file : "");
  show_llm(st, m->id, NULL);
  printf("%-20s %-10s %-15s %8s %8s  %s\n", "TASK", "TICKET", "STATE",
         "ATTEMPTS", "TIME", "REASON");
  if ((rc = store_task_list(st, m->id, show_table_row, NULL)) < 0)
    return rc;
  tickets = show_tickets(st, m->id);
  show_ticket_table(tickets);
  json_decref(tickets);
  return store_commit_list(st, m->id, show_commit_row, &n);
}

static int show_mission(struct store *st, const char *id, int json) {
  struct store_mission m;
  json_t *tasks, *commits, *doc;
  int rc;

  if ((rc = store_mission_get(st, id, &m, NULL)) < 0)
    return rc;
  if (!json)
    return show_table(st, &m);
  tasks = json_array();
  commits = json_array();
  rc = store_task_list(st, id, show_json_row, tasks);
  if (rc == 0)
    rc = store_commit_list(st, id, show_commit_json, commits);
  doc = json_pack("{s:s, s:s, s:o, s:o, s:o}", "mission", id, "state", m.state,
                  "tasks", tasks, "tickets", show_tickets(st, id), "commits",
                  commits);
  show_llm(st, id, doc);
  json_dumpf(doc, stdout, JSON_INDENT(2));
  json_decref(doc);
  putchar('\n');
  return rc;
}

static int show_exec(int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"trace", required_argument, 0, 't'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  struct crl_err err = CRL_ERR_INIT;
  const char *sd = NULL, *sock = NULL, *trace = NULL;
  char *dir = NULL, *id = NULL;
  struct store *st = NULL;
  int c, json = 0, rc;

  while ((c = getopt_long(argc, argv, "s:S:h", opts, NULL)) != -1) {
    if (c == 's')
      sd = optarg;
    else if (c == 'S')
      sock = optarg;
    else if (c == 'J')
      json = 1;
    else if (c == 't')
      trace = optarg;
    else
      return show_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind > 1 || (sd != NULL && sock != NULL))
    return show_usage(stderr), RT_EXIT_USAGE;
  if (trace == NULL && rt_client_wanted(sd, sock))
    return rt_client_show(sock, argv[optind], json);
  if (trace != NULL)
    rc = store_trace_open(&st, trace, 1, &err);
  else if ((rc = rt_statedir(&dir, sd, &err)) == 0)
    rc = rt_store_open(&st, dir, &err);
  if (rc < 0 || (rc = rt_mission_pick(&id, st, argv[optind], &err)) < 0 ||
      (rc = show_mission(st, id, json)) < 0)
    rt_errorf("%s", err.msg[0] ? err.msg : crl_strerror(rc));
  store_close(st);
  free(dir);
  free(id);
  return rc < 0 ? RT_EXIT_FAILED : RT_EXIT_OK;
}

const struct rt_cmd rt_cmd_show = {"show",
                                   "show [--json] [--trace F] [MISSION]",
                                   "show a mission's tasks", show_exec};
