/*
 * corral approve / reject through the daemon: POST /v1/tasks/{id}/approve
 * or /reject with {"feedback": …} (and the request every such verb on a
 * task makes, rt_client_task_op). The daemon decides on the mission's live
 * engine (starting it again from its source when it had stopped), so the
 * mission goes on at once: no `corral run` is needed afterwards.
 */
#include "client.h"

#include <stdlib.h>

#include "rt-int.h"

int rt_client_task_op(const char *socket, const char *mission, const char *task,
                      const char *op, json_t *body, json_t **doc) {
  char *t = rt_client_escape(task),
       *m = mission ? rt_client_escape(mission) : NULL;
  struct rt_client c;
  char *path;
  int rc;

  xasprintf(&path, "/v1/tasks/%s/%s%s%s", t, op, m ? "?mission=" : "",
            m ? m : "");
  rt_client_init(&c, socket);
  rc = rt_client_call(&c, "POST", path, body, doc);
  rt_client_close(&c);
  free(path);
  free(t);
  free(m);
  return rc;
}

int rt_client_review(const char *socket, const char *mission, const char *task,
                     const char *feedback, int json) {
  json_t *body = feedback ? json_pack("{s:s}", "feedback", feedback) : NULL;
  json_t *doc = NULL;
  int rc = rt_client_task_op(socket, mission, task,
                             feedback ? "reject" : "approve", body, &doc);

  if (rc == RT_EXIT_OK && json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK)
    printf("%s %s of mission %s: now %s\n", feedback ? "rejected" : "approved",
           task, json_string_value(json_object_get(doc, "mission")) ?: "?",
           json_string_value(json_object_get(doc, "state")) ?: "?");
  json_decref(doc);
  json_decref(body);
  return rc;
}
