/*
 * corral costs [--by mission|ticket|task|run|agent]: what the missions have
 * spent, grouped, as the LLM gateway measured it on the wire. Through the
 * daemon when one answers on its socket, else (or with --state-dir) from
 * the state dir that `corral run` wrote.
 */
#include "client.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "rt-int.h"

struct costs_opts {
  const char *state_dir;
  const char *socket;
  const char *mission;
  const char *by;
  int json;
};

static void costs_usage(FILE *fp) {
  fputs("usage: corral costs [--state-dir DIR | --socket PATH] [--json]\n"
        "                    [--mission M] [--by mission|ticket|task|run|"
        "agent]\n\n"
        "Prints the tokens and dollars the LLM gateway recorded, grouped by\n"
        "mission (default), ticket, task, run or agent. Calls to a model the\n"
        "pricing table lacks are counted as unpriced, never priced at 0.\n"
        "Without --state-dir it asks the daemon when one answers on its\n"
        "socket, else it reads the default state dir.\n",
        fp);
}

static void costs_row(json_t *g) {
  json_int_t in = json_integer_value(json_object_get(g, "input")) +
                  json_integer_value(json_object_get(g, "cache_write"));

  printf("%-40s %6lld %10lld %8lld %10lld %10.4f",
         json_string_value(json_object_get(g, "key")),
         json_integer_value(json_object_get(g, "calls")), in,
         json_integer_value(json_object_get(g, "output")),
         json_integer_value(json_object_get(g, "cache_read")),
         json_number_value(json_object_get(g, "usd")));
  if (json_integer_value(json_object_get(g, "unpriced_calls")) > 0)
    printf("  (%lld unpriced)",
           json_integer_value(json_object_get(g, "unpriced_calls")));
  putchar('\n');
}

static void costs_print(json_t *doc, const struct costs_opts *o) {
  json_t *groups = json_object_get(doc, "groups"), *g;
  size_t i;

  if (o->json) {
    rt_client_print_json(doc);
    return;
  }
  if (json_array_size(groups) == 0) {
    printf("no costs recorded (by %s)\n", o->by);
    return;
  }
  printf("%-40s %6s %10s %8s %10s %10s\n", o->by, "calls", "input", "output",
         "cache_read", "usd");
  json_array_foreach(groups, i, g) costs_row(g);
}

static int costs_remote(const struct costs_opts *o) {
  char *by = rt_client_escape(o->by), *m = NULL, *path;
  struct rt_client c;
  json_t *doc = NULL;
  int rc;

  if (o->mission != NULL)
    m = rt_client_escape(o->mission);
  xasprintf(&path, "/v1/costs?group_by=%s%s%s", by, m ? "&mission=" : "",
            m ? m : "");
  rt_client_init(&c, o->socket);
  if ((rc = rt_client_call(&c, "GET", path, NULL, &doc)) == RT_EXIT_OK)
    costs_print(doc, o);
  rt_client_close(&c);
  json_decref(doc);
  free(path);
  free(by);
  free(m);
  return rc;
}

static int costs_local(const struct costs_opts *o) {
  struct crl_err err = CRL_ERR_INIT;
  struct store *st = NULL;
  char *dir = NULL;
  json_t *doc;
  int rc;

  if ((rc = rt_statedir(&dir, o->state_dir, &err)) < 0 ||
      (rc = rt_store_open(&st, dir, &err)) < 0) {
    rt_errorf("%s", err.msg[0] ? err.msg : crl_strerror(rc));
    free(dir);
    return RT_EXIT_FAILED;
  }
  doc = rt_costs(st, o->mission, o->by);
  costs_print(doc, o);
  json_decref(doc);
  store_close(st);
  free(dir);
  return RT_EXIT_OK;
}

static int costs_parse(struct costs_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"socket", required_argument, 0, 'S'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"by", required_argument, 0, 'b'},
                                       {"json", no_argument, 0, 'J'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int ch;

  while ((ch = getopt_long(argc, argv, "s:S:m:b:h", opts, NULL)) != -1) {
    if (ch == 's')
      o->state_dir = optarg;
    else if (ch == 'S')
      o->socket = optarg;
    else if (ch == 'm')
      o->mission = optarg;
    else if (ch == 'b')
      o->by = optarg;
    else if (ch == 'J')
      o->json = 1;
    else
      return costs_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (optind != argc || !rt_costs_group_ok(o->by)) {
    if (optind == argc)
      rt_errorf("--by %s: expected mission, ticket, task, run or agent", o->by);
    return costs_usage(stderr), RT_EXIT_USAGE;
  }
  return -1;
}

static int costs_exec(int argc, char **argv) {
  struct costs_opts o = {.by = "mission"};
  int rc;

  if ((rc = costs_parse(&o, argc, argv)) >= 0)
    return rc;
  if (rt_client_wanted(o.state_dir, o.socket))
    return costs_remote(&o);
  return costs_local(&o);
}

const struct rt_cmd rt_cmd_costs = {"costs", "costs [--by GROUP]",
                                    "print spending, grouped", costs_exec};
