/*
 * schema.c: the mission file's schema as data, and the walker that checks a
 * document tree against it. Each kind of object (the file itself, budget,
 * defaults, agent, ticket, task, retries, intensity, sandbox profile) is a
 * table of known keys, each with a conversion and the offset of the field it
 * fills. The walker visits every key of a mapping in document order, reports
 * unknown keys with the nearest known one, converts known keys, then reports
 * missing required keys. Nothing stops at the first problem: a bad value leaves
 * its field unset and the walk moves on, so one load reports every error.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

#define FIELD(k, fn, type, member) \
  { k, fn, offsetof(type, member), 0, 0 }
#define FIELD_REQ(k, fn, type, member) \
  { k, fn, offsetof(type, member), 1, 0 }
#define FIELD_MIN(k, fn, type, member, m) \
  { k, fn, offsetof(type, member), 0, m }
#define KIND(name, fields) \
  { name, fields, CRL_ARRAY_SIZE(fields) }

/* Most keys in any table (task has 18); suggestions look at this many. */
#define SCHEMA_MAX_KEYS 24

static void schema_budget(struct msn__ctx *c, const struct msn__field *f,
                          const struct msn__node *n, void *dst);
static void schema_spend_budget(struct msn__ctx *c, const struct msn__field *f,
                                const struct msn__node *n, void *dst);
static void schema_defaults(struct msn__ctx *c, const struct msn__field *f,
                            const struct msn__node *n, void *dst);
static void schema_agents(struct msn__ctx *c, const struct msn__field *f,
                          const struct msn__node *n, void *dst);
static void schema_tickets(struct msn__ctx *c, const struct msn__field *f,
                           const struct msn__node *n, void *dst);
static void schema_tasks(struct msn__ctx *c, const struct msn__field *f,
                         const struct msn__node *n, void *dst);
static void schema_retries(struct msn__ctx *c, const struct msn__field *f,
                           const struct msn__node *n, void *dst);
static void schema_intensity(struct msn__ctx *c, const struct msn__field *f,
                             const struct msn__node *n, void *dst);
static void schema_sandboxes(struct msn__ctx *c, const struct msn__field *f,
                             const struct msn__node *n, void *dst);
static void schema_ci(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst);

static const struct msn__field top_fields[] = {
    FIELD_REQ("mission", msn__conv_id, struct msn__ctx, m.name),
    FIELD("repo", msn__conv_string, struct msn__ctx, m.repo),
    FIELD("base", msn__conv_string, struct msn__ctx, m.base),
    FIELD("workdir", msn__conv_node, struct msn__ctx, workdir),
    FIELD("budget", schema_budget, struct msn__ctx, m.budget),
    FIELD("defaults", schema_defaults, struct msn__ctx, defaults),
    FIELD("agents", schema_agents, struct msn__ctx, m.agents),
    FIELD_REQ("tickets", schema_tickets, struct msn__ctx, m.tickets),
    /* Policies land in the mission; the offset is unused. */
    FIELD("policies", msn__schema_policies, struct msn__ctx, m),
    FIELD("sandboxes", schema_sandboxes, struct msn__ctx, sbx),
    FIELD("ci", schema_ci, struct msn__ctx, m.ci),
};

/* `corral run --ci` never waits for a human: what a review gate does. */
static const struct msn__field ci_fields[] = {
    FIELD("review", msn__conv_ci_review, struct msn_ci, review),
};

static const struct msn__field budget_fields[] = {
    FIELD("usd", msn__conv_number, struct msn_budget, usd),
    FIELD("tokens", msn__conv_int64, struct msn_budget, tokens),
    FIELD("wall", msn__conv_duration, struct msn_budget, wall_ms),
};

/* A ticket's or a task's budget: what its LLM calls may spend. */
static const struct msn__field spend_budget_fields[] = {
    FIELD("usd", msn__conv_number, struct msn_budget, usd),
    FIELD("tokens", msn__conv_int64, struct msn_budget, tokens),
};

static const struct msn__field defaults_fields[] = {
    FIELD("agent", msn__conv_node, struct msn__opts, agent),
    FIELD("sandbox", msn__conv_node, struct msn__opts, sandbox),
    FIELD("timeout", msn__conv_duration, struct msn__opts, timeout_ms),
    FIELD("idle_timeout", msn__conv_duration, struct msn__opts,
          idle_timeout_ms),
    FIELD("grace", msn__conv_duration, struct msn__opts, grace_ms),
    FIELD("retries", schema_retries, struct msn__opts, retries),
};

static const struct msn__field agent_fields[] = {
    FIELD("adapter", msn__conv_adapter, struct msn_agent, adapter),
    FIELD("command", msn__conv_argv, struct msn_agent, command),
    FIELD("env", msn__conv_env, struct msn_agent, env),
    FIELD("model", msn__conv_string, struct msn_agent, model),
    FIELD("capacity", msn__conv_int, struct msn_agent, capacity),
    FIELD_MIN("max_turns", msn__conv_int, struct msn_agent, max_turns, 1),
};

static const struct msn__field ticket_fields[] = {
    FIELD_REQ("id", msn__conv_id, struct msn_ticket, id),
    FIELD("title", msn__conv_string, struct msn_ticket, title),
    FIELD("priority", msn__conv_priority, struct msn_ticket, priority),
    FIELD("budget", schema_spend_budget, struct msn_ticket, budget),
    /* Tasks land in the context, not the ticket; the offset is unused. */
    FIELD_REQ("tasks", schema_tasks, struct msn_ticket, id),
};

static const struct msn__field task_fields[] = {
    FIELD_REQ("id", msn__conv_id, struct msn__taskdef, t.id),
    FIELD("needs", msn__conv_needs, struct msn__taskdef, needs),
    FIELD("agent", msn__conv_node, struct msn__taskdef, o.agent),
    FIELD("prompt", msn__conv_string, struct msn__taskdef, t.prompt),
    FIELD("command", msn__conv_argv, struct msn__taskdef, o.command),
    FIELD("env", msn__conv_env, struct msn__taskdef, o.env),
    FIELD("timeout", msn__conv_duration, struct msn__taskdef, o.timeout_ms),
    FIELD("idle_timeout", msn__conv_duration, struct msn__taskdef,
          o.idle_timeout_ms),
    FIELD("grace", msn__conv_duration, struct msn__taskdef, o.grace_ms),
    FIELD("retries", schema_retries, struct msn__taskdef, o.retries),
    FIELD("estimate", msn__conv_duration, struct msn__taskdef, t.estimate_ms),
    FIELD("review", msn__conv_review, struct msn__taskdef, t.review),
    FIELD("plan", msn__conv_review, struct msn__taskdef, t.plan),
    FIELD("plan_command", msn__conv_argv, struct msn__taskdef, t.plan_command),
    FIELD("heartbeat", msn__conv_duration, struct msn__taskdef, t.heartbeat_ms),
    FIELD_MIN("max_turns", msn__conv_int, struct msn__taskdef, t.max_turns, 1),
    FIELD("sandbox", msn__conv_node, struct msn__taskdef, o.sandbox),
    FIELD("budget", schema_spend_budget, struct msn__taskdef, t.budget),
};

static const struct msn__field sandbox_fields[] = {
    FIELD("extends", msn__conv_node, struct msn__sbxdef, extends),
    FIELD("writable", msn__conv_paths, struct msn__sbxdef, s.writable),
    FIELD("readonly", msn__conv_paths, struct msn__sbxdef, s.readonly),
    FIELD("hidden", msn__conv_paths, struct msn__sbxdef, s.hidden),
    FIELD("network", msn__conv_network, struct msn__sbxdef, s.network),
    FIELD_MIN("memory", msn__conv_size, struct msn__sbxdef, s.memory, 1),
    FIELD_MIN("pids", msn__conv_int64, struct msn__sbxdef, s.pids, 1),
    FIELD_MIN("cpu", msn__conv_cpu, struct msn__sbxdef, s.cpu_percent, 1),
    FIELD_MIN("tmp_size", msn__conv_size, struct msn__sbxdef, s.tmp_size, 1),
};

static const struct msn__field retries_fields[] = {
    FIELD("max", msn__conv_int, struct msn_retries, max),
    FIELD("backoff", msn__conv_backoff, struct msn_retries, floor_ms),
    FIELD_MIN("factor", msn__conv_number, struct msn_retries, factor, 1),
    FIELD("reset_after", msn__conv_duration, struct msn_retries,
          reset_after_ms),
    FIELD("intensity", schema_intensity, struct msn_retries, intensity),
};

static const struct msn__field intensity_fields[] = {
    FIELD_MIN("failures", msn__conv_int, struct msn_retries, intensity, 1),
    {"within", msn__conv_duration,
     offsetof(struct msn_retries, intensity_window_ms), 1, 0},
};

static const struct msn__kind kind_top = KIND(NULL, top_fields);
static const struct msn__kind kind_budget = KIND("budget", budget_fields);
static const struct msn__kind kind_spend_budget =
    KIND("budget", spend_budget_fields);
static const struct msn__kind kind_ci = KIND("ci", ci_fields);
static const struct msn__kind kind_defaults = KIND("defaults", defaults_fields);
static const struct msn__kind kind_agent = KIND("agent", agent_fields);
static const struct msn__kind kind_ticket = KIND("ticket", ticket_fields);
static const struct msn__kind kind_task = KIND("task", task_fields);
static const struct msn__kind kind_retries = KIND("retries", retries_fields);
static const struct msn__kind kind_intensity =
    KIND("intensity", intensity_fields);
static const struct msn__kind kind_sandbox =
    KIND("sandbox profile", sandbox_fields);

static const struct msn__field *schema_field(const struct msn__kind *k,
                                             const char *key) {
  for (size_t i = 0; i < k->nfields; i++)
    if (strcmp(k->fields[i].key, key) == 0)
      return &k->fields[i];
  return NULL;
}

static void schema_unknown(struct msn__ctx *c, const struct msn__kind *k,
                           const struct msn__node *key) {
  const char *cands[SCHEMA_MAX_KEYS], *near;
  char q[64];
  size_t n = k->nfields < SCHEMA_MAX_KEYS ? k->nfields : SCHEMA_MAX_KEYS;

  for (size_t i = 0; i < n; i++)
    cands[i] = k->fields[i].key;
  near = msn__suggest(key->str, cands, n);
  msn__err(c, key, "unknown key '%s'%s%s%s%s%s",
           msn__quote(q, sizeof(q), key->str), k->name ? " in " : "",
           k->name ? k->name : "", near ? " (did you mean '" : "",
           near ? near : "", near ? "'?)" : "");
}

int msn__schema_map(struct msn__ctx *c, const struct msn__kind *k,
                    const struct msn__node *n, const char *what, void *obj) {
  char got[64];

  if (n->type != MSN__MAP) {
    msn__err(c, n, "expected a mapping for %s, got %s", what,
             msn__got(got, sizeof(got), n));
    return -1;
  }
  for (size_t i = 0; i + 1 < n->n; i += 2) {
    const struct msn__field *f = schema_field(k, n->v[i]->str);

    if (f == NULL)
      schema_unknown(c, k, n->v[i]);
    else
      f->conv(c, f, n->v[i + 1], (char *)obj + f->off);
  }
  for (size_t i = 0; i < k->nfields; i++)
    if (k->fields[i].required && msn__node_get(n, k->fields[i].key) == NULL)
      msn__err(c, n, "missing required key '%s'%s%s", k->fields[i].key,
               k->name ? " in " : "", k->name ? k->name : "");
  return 0;
}

static void schema_budget(struct msn__ctx *c, const struct msn__field *f,
                          const struct msn__node *n, void *dst) {
  msn__schema_map(c, &kind_budget, n, "'budget'", dst);
}

static void schema_spend_budget(struct msn__ctx *c, const struct msn__field *f,
                                const struct msn__node *n, void *dst) {
  msn__schema_map(c, &kind_spend_budget, n, "'budget'", dst);
}

static void schema_ci(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst) {
  msn__schema_map(c, &kind_ci, n, "'ci'", dst);
}

static void schema_defaults(struct msn__ctx *c, const struct msn__field *f,
                            const struct msn__node *n, void *dst) {
  msn__schema_map(c, &kind_defaults, n, "'defaults'", dst);
}

static void schema_retries(struct msn__ctx *c, const struct msn__field *f,
                           const struct msn__node *n, void *dst) {
  struct msn__retries_opt *o = dst;

  msn__retries_default(&o->r);
  if (msn__schema_map(c, &kind_retries, n, "'retries'", &o->r) == 0)
    o->set = 1;
}

/* dst is the `intensity` field; its table addresses the whole struct. */
static void schema_intensity(struct msn__ctx *c, const struct msn__field *f,
                             const struct msn__node *n, void *dst) {
  struct msn_retries *r = crl_container_of(dst, struct msn_retries, intensity);

  msn__schema_map(c, &kind_intensity, n, "'intensity'", r);
}

static struct msn_agent *schema_agent_push(struct msn__ctx *c,
                                           const struct msn__node *key) {
  struct msn_agent *a;

  if (c->m.nagents == c->agentcap) {
    c->agentcap = c->agentcap ? c->agentcap * 2 : 4;
    c->m.agents = xreallocarray(c->m.agents, c->agentcap, sizeof(*a));
  }
  a = &c->m.agents[c->m.nagents++];
  memset(a, 0, sizeof(*a));
  a->name = xstrdup(key->str);
  a->line = key->line;
  a->col = key->col;
  return a;
}

/* An agent without `adapter:` runs its `command:` directly. */
static void schema_agent(struct msn__ctx *c, const struct msn__node *key,
                         const struct msn__node *val) {
  struct msn_agent *a = schema_agent_push(c, key);
  char q[64];

  if (!msn__id_valid(key->str))
    msn__err(c, key,
             "invalid agent name '%s' (expected letters, digits, '.', '_' "
             "or '-')",
             msn__quote(q, sizeof(q), key->str));
  if (msn__schema_map(c, &kind_agent, val, "an agent", a) < 0)
    return;
  if (msn__node_get(val, "adapter") != NULL)
    return;
  if (msn__node_get(val, "command") != NULL)
    a->adapter = xstrdup("exec");
  else
    msn__err(c, val,
             "missing required key 'adapter' in agent (or give "
             "'command' to run it directly)");
}

static void schema_agents(struct msn__ctx *c, const struct msn__field *f,
                          const struct msn__node *n, void *dst) {
  if (n->type != MSN__MAP) {
    msn__type_error(c, n, "a mapping", f->key);
    return;
  }
  for (size_t i = 0; i + 1 < n->n; i += 2)
    schema_agent(c, n->v[i], n->v[i + 1]);
}

static void schema_ticket(struct msn__ctx *c, const struct msn__node *n) {
  struct msn_ticket *t;
  size_t i = c->m.ntickets;

  if (i == c->ticketcap) {
    c->ticketcap = c->ticketcap ? c->ticketcap * 2 : 4;
    c->m.tickets = xreallocarray(c->m.tickets, c->ticketcap, sizeof(*t));
    c->ticket_ids =
        xreallocarray(c->ticket_ids, c->ticketcap, sizeof(*c->ticket_ids));
  }
  t = &c->m.tickets[c->m.ntickets++];
  memset(t, 0, sizeof(*t));
  t->priority = 1;
  t->line = n->line;
  t->col = n->col;
  c->cur_ticket = i;
  msn__schema_map(c, &kind_ticket, n, "a ticket", t);
  c->ticket_ids[i] = t->id != NULL ? msn__node_get(n, "id") : NULL;
}

static void schema_tickets(struct msn__ctx *c, const struct msn__field *f,
                           const struct msn__node *n, void *dst) {
  if (n->type != MSN__SEQ) {
    msn__type_error(c, n, "a sequence", f->key);
    return;
  }
  for (size_t i = 0; i < n->n; i++)
    schema_ticket(c, n->v[i]);
}

static void schema_task(struct msn__ctx *c, const struct msn__node *n) {
  struct msn__taskdef *td;

  if (c->ntasks == c->taskcap) {
    c->taskcap = c->taskcap ? c->taskcap * 2 : 8;
    c->tasks = xreallocarray(c->tasks, c->taskcap, sizeof(*td));
  }
  td = &c->tasks[c->ntasks++];
  memset(td, 0, sizeof(*td));
  msn__opts_init(&td->o);
  td->t.ticket = c->cur_ticket;
  td->t.line = n->line;
  td->t.col = n->col;
  td->node = n;
  msn__schema_map(c, &kind_task, n, "a task", td);
  td->id = td->t.id != NULL ? msn__node_get(n, "id") : NULL;
}

static void schema_tasks(struct msn__ctx *c, const struct msn__field *f,
                         const struct msn__node *n, void *dst) {
  if (n->type != MSN__SEQ) {
    msn__type_error(c, n, "a sequence", f->key);
    return;
  }
  for (size_t i = 0; i < n->n; i++)
    schema_task(c, n->v[i]);
}

static struct msn__sbxdef *schema_sandbox_push(struct msn__ctx *c,
                                               const struct msn__node *key) {
  struct msn__sbxdef *d;

  if (c->nsbx == c->sbxcap) {
    c->sbxcap = c->sbxcap ? c->sbxcap * 2 : 4;
    c->sbx = xreallocarray(c->sbx, c->sbxcap, sizeof(*d));
  }
  d = &c->sbx[c->nsbx++];
  memset(d, 0, sizeof(*d));
  d->s.name = xstrdup(key->str);
  d->s.network = -1;
  d->s.line = key->line;
  d->s.col = key->col;
  return d;
}

/* A profile is kept even when its name is refused, so its body is checked
 * too; built-in names always win lookups, so it is never used. */
static void schema_sandbox(struct msn__ctx *c, const struct msn__node *key,
                           const struct msn__node *val) {
  struct msn__sbxdef *d = schema_sandbox_push(c, key);
  char q[64];

  msn__quote(q, sizeof(q), key->str);
  if (!msn__id_valid(key->str))
    msn__err(c, key,
             "invalid sandbox profile name '%s' (expected letters, digits, "
             "'.', '_' or '-')",
             q);
  else if (msn__sandbox_builtin(key->str))
    msn__err(c, key,
             "profile '%s' is built in; use extends: %s in a new profile", q,
             q);
  msn__schema_map(c, &kind_sandbox, val, "a sandbox profile", d);
}

static void schema_sandboxes(struct msn__ctx *c, const struct msn__field *f,
                             const struct msn__node *n, void *dst) {
  if (n->type != MSN__MAP) {
    msn__type_error(c, n, "a mapping", f->key);
    return;
  }
  for (size_t i = 0; i + 1 < n->n; i += 2)
    schema_sandbox(c, n->v[i], n->v[i + 1]);
}

void msn__schema_mission(struct msn__ctx *c, const struct msn__node *root) {
  if (root == NULL) {
    msn_diags_add(c->d, c->file, 1, 1,
                  "empty mission file (expected a mapping with 'mission' and "
                  "'tickets')");
    return;
  }
  msn__schema_map(c, &kind_top, root, "the mission file", c);
}
