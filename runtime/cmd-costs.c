/*
 * corral costs [--by mission|ticket|task|agent]: what the missions have
 * spent, grouped, as the daemon's LLM gateway measured it.
 */
#include "client.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "rt-int.h"

static void costs_usage(FILE *fp) {
  fputs("usage: corral costs [--socket PATH] [--json] "
        "[--by mission|ticket|task|agent]\n\n"
        "Prints spending grouped by mission (default), ticket, task or "
        "agent.\n",
        fp);
}

static void costs_row(json_t *g) {
  const char *k;
  json_t *v;

  json_object_foreach(g, k, v) {
    if (json_is_string(v))
      printf("%s=%s ", k, json_string_value(v));
    else if (json_is_number(v))
      printf("%s=%g ", k, json_number_value(v));
  }
  putchar('\n');
}

static int costs_show(struct rt_client *c, const char *by, int json) {
  char *esc = rt_client_escape(by), *path;
  json_t *doc = NULL, *g;
  size_t i;
  int rc;

  xasprintf(&path, "/v1/costs?group_by=%s", esc);
  rc = rt_client_call(c, "GET", path, NULL, &doc);
  if (rc == RT_EXIT_OK && json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK) {
    json_t *groups = json_object_get(doc, "groups");

    if (json_array_size(groups) == 0)
      printf("no costs recorded (by %s)\n", by);
    json_array_foreach(groups, i, g) costs_row(g);
  }
  json_decref(doc);
  free(path);
  free(esc);
  return rc;
}

static int costs_exec(int argc, char **argv) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"by", required_argument, 0, 'b'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *sock = NULL, *by = "mission";
  struct rt_client c;
  int ch, json = 0, rc;

  while ((ch = getopt_long(argc, argv, "S:b:h", opts, NULL)) != -1) {
    if (ch == 'S')
      sock = optarg;
    else if (ch == 'J')
      json = 1;
    else if (ch == 'b')
      by = optarg;
    else
      return costs_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (optind != argc)
    return costs_usage(stderr), RT_EXIT_USAGE;
  rt_client_init(&c, sock);
  rc = costs_show(&c, by, json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_costs = {"costs", "costs [--by GROUP]",
                                    "print spending, grouped", costs_exec};
