/*
 * Spending: the LLM gateway's llm.call events of a store rolled up per
 * mission, ticket, task, run or agent. Shared by GET /v1/costs and the
 * local `corral costs --state-dir`. A call to a model the pricing table
 * lacks is counted in unpriced_calls, never priced at 0 silently.
 */
#include "rt-int.h"

#include <stdio.h>
#include <string.h>

struct costs {
  struct store *st;
  const char *by;
  json_t *groups; /* key -> totals */
  json_t *owners; /* "MISSION/TASK" -> its ticket or agent, looked up once */
};

static const char *const costs_groups[] = {"mission", "ticket", "task", "run",
                                           "agent"};

int rt_costs_group_ok(const char *by) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(costs_groups); i++)
    if (strcmp(by, costs_groups[i]) == 0)
      return 1;
  return 0;
}

/* The ticket ("MISSION/TICKET") or agent of the event's task, from the
 * store once per task; "MISSION/?" when the task is not in the store. */
static const char *costs_owner(struct costs *c, const struct store_event *ev) {
  struct store_task t;
  char id[512], v[512];
  json_t *have;

  snprintf(id, sizeof(id), "%s/%s", ev->mission, ev->task);
  if ((have = json_object_get(c->owners, id)) != NULL)
    return json_string_value(have);
  if (store_task_get(c->st, ev->mission, ev->task, &t, NULL) < 0)
    snprintf(v, sizeof(v), "%s/?", ev->mission);
  else if (strcmp(c->by, "ticket") == 0)
    snprintf(v, sizeof(v), "%s/%s", ev->mission, t.ticket ? t.ticket : "");
  else
    snprintf(v, sizeof(v), "%s", t.agent ? t.agent : "");
  json_object_set_new(c->owners, id, json_string(v));
  have = json_object_get(c->owners, id);
  return have != NULL ? json_string_value(have) : "?";
}

/* The group an llm.call event belongs to. */
static void costs_key(char *out, size_t len, struct costs *c,
                      const struct store_event *ev) {
  if (strcmp(c->by, "mission") == 0 || ev->task == NULL)
    snprintf(out, len, "%s", ev->mission ? ev->mission : "");
  else if (strcmp(c->by, "task") == 0)
    snprintf(out, len, "%s/%s", ev->mission, ev->task);
  else if (strcmp(c->by, "run") == 0)
    snprintf(out, len, "%s/%s/%lld", ev->mission, ev->task, (long long)ev->run);
  else
    snprintf(out, len, "%s", costs_owner(c, ev));
}

static void costs_add(json_t *g, const char *k, json_t *v) {
  json_t *have = json_object_get(g, k);

  if (json_is_real(v) || json_is_real(have))
    json_object_set_new(
        g, k, json_real(json_number_value(have) + json_number_value(v)));
  else
    json_object_set_new(
        g, k, json_integer(json_integer_value(have) + json_integer_value(v)));
}

static void costs_count(json_t *g, const char *k) {
  json_object_set_new(
      g, k, json_integer(json_integer_value(json_object_get(g, k)) + 1));
}

static json_t *costs_group(struct costs *c, const char *key) {
  json_t *g = json_object_get(c->groups, key);

  if (g == NULL) {
    g = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:i}", "key", key,
                  "calls", 0, "input", 0, "output", 0, "cache_read", 0,
                  "cache_write", 0, "usd", 0.0, "unpriced_calls", 0);
    json_object_set_new(c->groups, key, g);
  }
  return g;
}

static int costs_one(const struct store_event *ev, void *payload) {
  static const char *const keys[] = {"input", "output", "cache_read",
                                     "cache_write", "usd"};
  struct costs *c = payload;
  json_t *d, *g;
  char key[512];

  if (strcmp(ev->kind, "llm.call") != 0 ||
      (d = json_loads(ev->data ? ev->data : "", 0, NULL)) == NULL)
    return 0;
  costs_key(key, sizeof(key), c, ev);
  g = costs_group(c, key);
  costs_count(g, "calls");
  for (size_t i = 0; i < CRL_ARRAY_SIZE(keys); i++)
    costs_add(g, keys[i], json_object_get(d, keys[i]));
  if (json_is_true(json_object_get(d, "unpriced")))
    costs_count(g, "unpriced_calls");
  json_decref(d);
  return 0;
}

json_t *rt_costs(struct store *st, const char *mission, const char *by) {
  struct costs c = {st, by, json_object(), json_object()};
  json_t *v = json_array(), *g;
  const char *k;

  store_event_list(st, mission, NULL, 0, costs_one, &c);
  json_object_foreach(c.groups, k, g) json_array_append(v, g);
  json_decref(c.groups);
  json_decref(c.owners);
  return json_pack("{s:s, s:s, s:o}", "group_by", by, "currency", "USD",
                   "groups", v);
}
