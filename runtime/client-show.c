/*
 * corral show through the daemon: a mission (the most recent by default)
 * from GET /v1/missions/{id}, its tasks from GET /v1/tasks?mission=, its
 * tickets from GET /v1/missions/{id}/tickets, each branch's commits from
 * GET /v1/tickets/{id}?mission= and its LLM calls from GET
 * /v1/costs?group_by=mission. The table and the --json document have the
 * shape `corral show --state-dir` prints.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#include "rt-int.h"

/* GET path into *out under key, with the mission id escaped into fmt. */
static int show_get(struct rt_client *c, const char *fmt, const char *id,
                    const char *key, json_t **out) {
  char *esc = rt_client_escape(id), *path;
  json_t *doc = NULL;
  int rc;

  xasprintf(&path, fmt, esc);
  rc = rt_client_call(c, "GET", path, NULL, &doc);
  if (rc == RT_EXIT_OK)
    *out = key ? json_incref(json_object_get(doc, key)) : json_incref(doc);
  if (rc == RT_EXIT_OK && *out == NULL)
    *out = json_array();
  json_decref(doc);
  free(path);
  free(esc);
  return rc;
}

/* The most recent mission's id. Heap, or NULL with the error printed. */
static char *show_latest(struct rt_client *c, int *rc) {
  json_t *doc = NULL, *m;
  char *id = NULL;

  if ((*rc = rt_client_call(c, "GET", "/v1/missions?limit=1", NULL, &doc)) !=
      RT_EXIT_OK)
    return NULL;
  m = json_array_get(json_object_get(doc, "missions"), 0);
  if (m != NULL)
    id = xstrdup(json_string_value(json_object_get(m, "id")));
  else {
    rt_errorf("MISSION_NOT_FOUND: the daemon has no mission");
    *rc = RT_EXIT_FAILED;
  }
  json_decref(doc);
  return id;
}

/* Adds the ticket's commits (with their ticket) to commits, and their sums
 * to the ticket. */
static int show_ticket_commits(struct rt_client *c, const char *mission,
                               json_t *t, json_t *commits) {
  const char *id = json_string_value(json_object_get(t, "id"));
  char *fmt, *esc = rt_client_escape(id);
  json_int_t files = 0, ins = 0, del = 0;
  json_t *v = NULL, *x;
  size_t i;
  int rc;

  xasprintf(&fmt, "/v1/tickets/%s?mission=%%s", esc);
  rc = show_get(c, fmt, mission, "commits", &v);
  json_array_foreach(v, i, x) {
    json_object_set_new(x, "ticket", json_string(id));
    files += json_integer_value(json_object_get(x, "files"));
    ins += json_integer_value(json_object_get(x, "insertions"));
    del += json_integer_value(json_object_get(x, "deletions"));
    json_array_append(commits, x);
  }
  json_object_set_new(t, "commits", json_integer((json_int_t)i));
  json_object_set_new(t, "files", json_integer(files));
  json_object_set_new(t, "insertions", json_integer(ins));
  json_object_set_new(t, "deletions", json_integer(del));
  json_decref(v);
  free(fmt);
  free(esc);
  return rc;
}

/* The mission's document: {mission, state, file, tasks, tickets, commits},
 * keeping only tickets that have a branch or have moved, as locally. */
static int show_collect(struct rt_client *c, const char *id, json_t **out) {
  json_t *m = NULL, *tasks = NULL, *all = NULL, *tickets = json_array();
  json_t *commits = json_array(), *t;
  size_t i;
  int rc;

  if ((rc = show_get(c, "/v1/missions/%s", id, NULL, &m)) != RT_EXIT_OK ||
      (rc = show_get(c, "/v1/tasks?mission=%s", id, "tasks", &tasks)) !=
          RT_EXIT_OK ||
      (rc = show_get(c, "/v1/missions/%s/tickets", id, "tickets", &all)) !=
          RT_EXIT_OK)
    goto out;
  json_array_foreach(all, i, t) {
    if (json_is_null(json_object_get(t, "branch")) &&
        strcmp(json_string_value(json_object_get(t, "state")) ?: "", "open") ==
            0)
      continue;
    if ((rc = show_ticket_commits(c, id, t, commits)) != RT_EXIT_OK)
      goto out;
    json_array_append(tickets, t);
  }
  *out =
      json_pack("{s:s, s:O, s:O?, s:O, s:O, s:O}", "mission", id, "state",
                json_object_get(m, "state"), "file", json_object_get(m, "file"),
                "tasks", tasks, "tickets", tickets, "commits", commits);
out:
  json_decref(m);
  json_decref(tasks);
  json_decref(all);
  json_decref(tickets);
  json_decref(commits);
  return rc;
}

/* The mission's LLM calls, as "llm" in doc; nothing when it made none
 * (or the daemon has no costs route). */
static void show_llm(struct rt_client *c, const char *id, json_t *doc) {
  json_t *groups = NULL, *g;

  if (show_get(c, "/v1/costs?group_by=mission&mission=%s", id, "groups",
               &groups) != RT_EXIT_OK)
    return;
  g = json_array_get(groups, 0);
  if (json_integer_value(json_object_get(g, "calls")) > 0)
    json_object_set_new(
        doc, "llm",
        json_pack(
            "{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "calls",
            json_object_get(g, "calls"), "input", json_object_get(g, "input"),
            "output", json_object_get(g, "output"), "cache_read",
            json_object_get(g, "cache_read"), "cache_write",
            json_object_get(g, "cache_write"), "usd", json_object_get(g, "usd"),
            "unpriced", json_object_get(g, "unpriced_calls")));
  json_decref(groups);
}

void rt_show_llm_print(const json_t *llm) {
  json_int_t unpriced = json_integer_value(json_object_get(llm, "unpriced"));

  if (llm == NULL)
    return;
  printf("LLM calls: %lld, tokens: %lld in, %lld out, %lld cache read, %lld "
         "cache write; $%.6f",
         (long long)json_integer_value(json_object_get(llm, "calls")),
         (long long)json_integer_value(json_object_get(llm, "input")),
         (long long)json_integer_value(json_object_get(llm, "output")),
         (long long)json_integer_value(json_object_get(llm, "cache_read")),
         (long long)json_integer_value(json_object_get(llm, "cache_write")),
         json_number_value(json_object_get(llm, "usd")));
  if (unpriced > 0)
    printf(" (%lld unpriced)", (long long)unpriced);
  putchar('\n');
}

static const char *show_str(json_t *o, const char *k) {
  return json_string_value(json_object_get(o, k)) ?: "";
}

static void show_task_row(json_t *t) {
  json_int_t s = json_integer_value(json_object_get(t, "started_at"));
  json_int_t e = json_integer_value(json_object_get(t, "ended_at"));
  char dur[32] = "-";

  if (s > 0 && e >= s)
    crl_duration_format(dur, sizeof(dur), e - s);
  printf("%-20s %-10s %-15s %8lld %8s  %s\n", show_str(t, "id"),
         show_str(t, "ticket"), show_str(t, "state"),
         json_integer_value(json_object_get(t, "attempts")), dur,
         show_str(t, "reason"));
}

static void show_ticket_row(json_t *t, size_t i) {
  if (i == 0)
    printf("\n%-10s %-10s %-28s %5s %6s %6s %6s  %s\n", "TICKET", "STATE",
           "BRANCH", "COMMITS", "FILES", "+", "-", "MERGED");
  printf("%-10s %-10s %-28s %5lld %6lld %6lld %6lld  %.12s\n",
         show_str(t, "id"), show_str(t, "state"), show_str(t, "branch"),
         json_integer_value(json_object_get(t, "commits")),
         json_integer_value(json_object_get(t, "files")),
         json_integer_value(json_object_get(t, "insertions")),
         json_integer_value(json_object_get(t, "deletions")),
         show_str(t, "merged"));
}

static void show_commit_row(json_t *x, size_t i) {
  if (i == 0)
    printf("\n%-10s %-20s %-12s %6s %6s %6s\n", "TICKET", "TASK", "COMMIT",
           "FILES", "+", "-");
  printf("%-10s %-20s %-12.12s %6lld %6lld %6lld\n", show_str(x, "ticket"),
         show_str(x, "task"), show_str(x, "sha"),
         json_integer_value(json_object_get(x, "files")),
         json_integer_value(json_object_get(x, "insertions")),
         json_integer_value(json_object_get(x, "deletions")));
}

static void show_table(json_t *doc) {
  json_t *x;
  size_t i;

  printf("mission %s: %s (%s)\n", show_str(doc, "mission"),
         show_str(doc, "state"), show_str(doc, "file"));
  rt_show_llm_print(json_object_get(doc, "llm"));
  printf("%-20s %-10s %-15s %8s %8s  %s\n", "TASK", "TICKET", "STATE",
         "ATTEMPTS", "TIME", "REASON");
  json_array_foreach(json_object_get(doc, "tasks"), i, x) show_task_row(x);
  json_array_foreach(json_object_get(doc, "tickets"), i, x)
      show_ticket_row(x, i);
  json_array_foreach(json_object_get(doc, "commits"), i, x)
      show_commit_row(x, i);
}

int rt_client_show(const char *socket, const char *mission, int json) {
  struct rt_client c;
  json_t *doc = NULL;
  char *id = NULL;
  int rc = RT_EXIT_OK;

  rt_client_init(&c, socket);
  id = mission ? xstrdup(mission) : show_latest(&c, &rc);
  if (id != NULL && (rc = show_collect(&c, id, &doc)) == RT_EXIT_OK) {
    show_llm(&c, id, doc);
    if (json)
      rt_client_print_json(doc);
    else
      show_table(doc);
  }
  json_decref(doc);
  free(id);
  rt_client_close(&c);
  return rc;
}
