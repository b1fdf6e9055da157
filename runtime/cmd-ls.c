/*
 * corral ls: the daemon's missions, most recent first, one line each with
 * its state and how many of its tasks are in each state. Pages are
 * followed through next_cursor, so the list is whole; --json prints them
 * as one {"missions": [...]} document.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt-int.h"

static void ls_usage(FILE *fp) {
  fputs("usage: corral ls [--socket PATH] [--json]\n\n"
        "Lists the daemon's missions, most recent first.\n",
        fp);
}

/* Every page of GET /v1/missions appended to all. */
static int ls_fetch(struct rt_client *c, json_t *all) {
  char *cursor = xstrdup("0"), *path;
  json_t *page = NULL;
  int rc = RT_EXIT_OK;

  while (cursor != NULL && rc == RT_EXIT_OK) {
    xasprintf(&path, "/v1/missions?limit=1000&cursor=%s", cursor);
    free(cursor);
    cursor = NULL;
    rc = rt_client_call(c, "GET", path, NULL, &page);
    free(path);
    if (rc != RT_EXIT_OK)
      break;
    json_array_extend(all, json_object_get(page, "missions"));
    if (json_is_string(json_object_get(page, "next_cursor")))
      cursor = rt_client_escape(
          json_string_value(json_object_get(page, "next_cursor")));
    json_decref(page);
  }
  free(cursor);
  return rc;
}

/* "completed 3, running 1" from the task counts. */
static void ls_counts(char *out, size_t len, json_t *counts) {
  const char *k;
  json_t *v;
  size_t n = 0;

  out[0] = '\0';
  json_object_foreach(counts, k, v) {
    int w = snprintf(out + n, len - n, "%s%s %lld", n ? ", " : "", k,
                     json_integer_value(v));

    if (w < 0 || (size_t)w >= len - n)
      break;
    n += (size_t)w;
  }
}

static void ls_row(json_t *m) {
  time_t t =
      (time_t)(json_integer_value(json_object_get(m, "created_at")) / 1000);
  char when[32], counts[256];
  struct tm tm;

  strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
  ls_counts(counts, sizeof(counts), json_object_get(m, "tasks"));
  printf("%-24s %-10s %-16s %s\n", json_string_value(json_object_get(m, "id")),
         json_is_true(json_object_get(m, "paused"))
             ? "paused"
             : json_string_value(json_object_get(m, "state")),
         when, counts);
}

static int ls_exec(int argc, char **argv) {
  const char *sock = NULL;
  json_t *all, *m;
  struct rt_client c;
  int json = 0, rc;
  size_t i;

  if ((rc = rt_client_args(argc, argv, 0, ls_usage, &sock, &json)) >= 0)
    return rc;
  all = json_array();
  rt_client_init(&c, sock);
  if ((rc = ls_fetch(&c, all)) == RT_EXIT_OK && json) {
    m = json_pack("{s:O}", "missions", all);
    rt_client_print_json(m);
    json_decref(m);
  } else if (rc == RT_EXIT_OK) {
    printf("%-24s %-10s %-16s %s\n", "MISSION", "STATE", "CREATED", "TASKS");
    json_array_foreach(all, i, m) ls_row(m);
  }
  json_decref(all);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_ls = {"ls", "ls [--json]",
                                 "list the daemon's missions", ls_exec};
