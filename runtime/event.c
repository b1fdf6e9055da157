/*
 * Events written by verbs that work on a state dir without an engine
 * (approve, reject, ci): one JSON object each, stamped with the wall clock.
 */
#include "rt-json.h"

#include <stdlib.h>

#include "crl.h"

void rt_store_event(struct store *st, const char *mission, const char *task,
                    const char *kind, json_t *data) {
  struct store_event ev = {0};
  char *s = json_dumps(data, JSON_COMPACT);

  ev.ts = crl_time_wall_ms();
  ev.mission = mission;
  ev.task = task;
  ev.kind = kind;
  ev.data = s;
  store_event_append(st, &ev, NULL);
  free(s);
  json_decref(data);
}
