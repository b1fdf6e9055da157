/*
 * corral pause MISSION: holds a running mission's dispatch (runs already
 * started go on; nothing new starts), through the daemon. The mission must
 * be live in the daemon; `corral resume MISSION` (cmd-resume.c) lets it go
 * again.
 */
#include "client.h"

#include <stdlib.h>

#include "rt-int.h"

static void pause_usage(FILE *fp) {
  fputs("usage: corral pause [--socket PATH] [--json] MISSION\n\n"
        "Stops the daemon starting new tasks of MISSION; runs in progress go "
        "on.\n",
        fp);
}

/* POST /v1/missions/{id}/<op> and prints the outcome. */
int rt_client_mission_op(struct rt_client *c, const char *id, const char *op,
                         int json) {
  char *esc = rt_client_escape(id), *path;
  json_t *doc = NULL;
  int rc;

  xasprintf(&path, "/v1/missions/%s/%s", esc, op);
  rc = rt_client_call(c, "POST", path, NULL, &doc);
  if (rc == RT_EXIT_OK && json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK)
    printf("mission %s: %s\n", id,
           json_string_value(json_object_get(doc, "state")) ?: op);
  json_decref(doc);
  free(path);
  free(esc);
  return rc;
}

static int pause_exec(int argc, char **argv) {
  const char *sock = NULL;
  struct rt_client c;
  int json = 0, rc;

  if ((rc = rt_client_args(argc, argv, 1, pause_usage, &sock, &json)) >= 0)
    return rc;
  rt_client_init(&c, sock);
  rc = rt_client_mission_op(&c, argv[optind], "pause", json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_pause = {
    "pause", "pause MISSION", "stop starting a mission's tasks", pause_exec};
