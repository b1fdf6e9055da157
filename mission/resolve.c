/*
 * resolve.c: turns tasks as written into tasks as run. A task's agent is its
 * own `agent:`, else `defaults.agent`, else an implicit agent named "exec"
 * (adapter exec, added once) that runs the task's command. The command is
 * the task's, else the agent's; the environment is the agent's with the
 * task's entries on top; timeouts, grace, retries and sandbox come from the
 * task, else `defaults:`, else built-in values (no timeouts, 10s grace, no
 * retries, sandbox "agent"); a sandbox named by a task or by `defaults:`
 * must be built in or defined under `sandboxes:`. The working directory
 * resolves against the mission file's directory and must exist.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mission-int.h"

#define RESOLVE_GRACE_MS 10000
/* Suggest among at most this many agent names. */
#define RESOLVE_SUGGEST_MAX 64

static long resolve_agent_find(const struct msn__ctx *c, const char *name) {
  for (size_t i = 0; i < c->m.nagents; i++)
    if (strcmp(c->m.agents[i].name, name) == 0)
      return (long)i;
  return -1;
}

/* Looks up the agent named by scalar n; reports it when undefined. */
static long resolve_agent_named(struct msn__ctx *c, const struct msn__node *n) {
  const char *cands[RESOLVE_SUGGEST_MAX], *near;
  size_t k = 0;
  long i = resolve_agent_find(c, n->str);
  char q[64];

  if (i >= 0)
    return i;
  for (size_t j = 0; j < c->m.nagents && k < RESOLVE_SUGGEST_MAX; j++)
    cands[k++] = c->m.agents[j].name;
  near = msn__suggest(n->str, cands, k);
  msn__quote(q, sizeof(q), n->str);
  if (near != NULL)
    msn__err(c, n, "unknown agent '%s' (did you mean '%s'?)", q, near);
  else
    msn__err(c, n, "unknown agent '%s' (define it under 'agents')", q);
  return -1;
}

/* The agent tasks fall back to: one named "exec", added when missing. */
static long resolve_implicit_exec(struct msn__ctx *c) {
  long i = resolve_agent_find(c, "exec");
  struct msn_agent *a;

  if (i >= 0)
    return i;
  if (c->m.nagents == c->agentcap) {
    c->agentcap = c->agentcap ? c->agentcap * 2 : 4;
    c->m.agents = xreallocarray(c->m.agents, c->agentcap, sizeof(*a));
  }
  a = &c->m.agents[c->m.nagents];
  memset(a, 0, sizeof(*a));
  a->name = xstrdup("exec");
  a->adapter = xstrdup("exec");
  return (long)c->m.nagents++;
}

/* Agent entries first, each replaced by a task entry of the same name. */
static char **resolve_env(char *const *agent, char *const *task) {
  size_t na = msn__argv_len(agent), nt = msn__argv_len(task), k = na;
  char **v = xcalloc(na + nt + 1, sizeof(*v));

  for (size_t i = 0; i < na; i++)
    v[i] = xstrdup(agent[i]);
  for (size_t i = 0; i < nt; i++) {
    size_t len = strcspn(task[i], "=") + 1, j;

    for (j = 0; j < na; j++)
      if (strncmp(v[j], task[i], len) == 0)
        break;
    if (j < na) {
      free(v[j]);
      v[j] = xstrdup(task[i]);
    } else {
      v[k++] = xstrdup(task[i]);
    }
  }
  return v;
}

static int64_t resolve_ms(int64_t task, int64_t defaults, int64_t builtin) {
  if (task >= 0)
    return task;
  return defaults >= 0 ? defaults : builtin;
}

static void resolve_options(struct msn__ctx *c, struct msn__taskdef *td) {
  const struct msn__opts *d = &c->defaults, *o = &td->o;
  struct msn_task *t = &td->t;

  t->timeout_ms = resolve_ms(o->timeout_ms, d->timeout_ms, 0);
  t->idle_timeout_ms = resolve_ms(o->idle_timeout_ms, d->idle_timeout_ms, 0);
  t->grace_ms = resolve_ms(o->grace_ms, d->grace_ms, RESOLVE_GRACE_MS);
  if (o->retries.set)
    t->retries = o->retries.r;
  else if (d->retries.set)
    t->retries = d->retries.r;
  else
    msn__retries_default(&t->retries);
  t->sandbox = xstrdup(o->sandbox   ? o->sandbox->str
                       : d->sandbox ? d->sandbox->str
                                    : "agent");
  /* A default that names no profile is reported once, in msn__resolve. */
  if (o->sandbox != NULL)
    msn__sandbox_ref(c, o->sandbox);
}

/* plan: required runs a plan first: exec agents name its command. */
static void resolve_plan(struct msn__ctx *c, struct msn__taskdef *td,
                         const struct msn_agent *a) {
  const char *id = td->t.id ? td->t.id : "?";

  if (td->t.plan_command != NULL && !td->t.plan)
    msn__err(c, msn__node_get(td->node, "plan_command"),
             "task '%s' has a plan_command but no `plan: required`", id);
  else if (td->t.plan && td->t.plan_command == NULL && a->adapter != NULL &&
           strcmp(a->adapter, "exec") == 0)
    msn__err(c, msn__node_get(td->node, "plan"),
             "task '%s' needs a plan_command (exec agents run one for "
             "`plan: required`)",
             id);
}

static void resolve_task(struct msn__ctx *c, struct msn__taskdef *td,
                         long def) {
  const struct msn_agent *a;
  long i;

  resolve_options(c, td);
  if (td->o.agent != NULL)
    i = resolve_agent_named(c, td->o.agent);
  else if (c->defaults.agent != NULL)
    i = def;
  else
    i = resolve_implicit_exec(c);
  if (i < 0)
    return;
  a = &c->m.agents[i];
  td->t.agent = (size_t)i;
  if (td->t.max_turns == 0)
    td->t.max_turns = a->max_turns;
  td->t.command = msn__argv_dup(td->o.command ? td->o.command : a->command);
  td->t.env = resolve_env(a->env, td->o.env);
  /* A `command:` that failed its own check was reported already. */
  if (td->t.command == NULL && a->adapter != NULL &&
      strcmp(a->adapter, "exec") == 0 &&
      msn__node_get(td->node, "command") == NULL)
    msn__err(c, td->node,
             "task '%s' has no command (exec agents need `command`)",
             td->t.id ? td->t.id : "?");
  resolve_plan(c, td, a);
}

void msn__resolve(struct msn__ctx *c) {
  long def = -1;

  if (c->defaults.agent != NULL)
    def = resolve_agent_named(c, c->defaults.agent);
  if (c->defaults.sandbox != NULL)
    msn__sandbox_ref(c, c->defaults.sandbox);
  /* A task that is not a mapping was reported and has nothing to resolve. */
  for (size_t i = 0; i < c->ntasks; i++)
    if (c->tasks[i].node->type == MSN__MAP)
      resolve_task(c, &c->tasks[i], def);
}

void msn__resolve_workdir(struct msn__ctx *c) {
  const struct msn__node *n = c->workdir;
  char *path = NULL, *real = NULL, q[64];
  struct stat st;

  if (n == NULL) {
    c->m.workdir = xstrdup(c->m.dir);
    return;
  }
  if (n->str[0] == '/')
    path = xstrdup(n->str);
  else
    xasprintf(&path, "%s/%s", c->m.dir, n->str);
  msn__quote(q, sizeof(q), n->str);
  if ((real = realpath(path, NULL)) == NULL) {
    msn__err(c, n, "workdir '%s' cannot be used: %s", q, strerror(errno));
  } else if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
    msn__err(c, n, "workdir '%s' is not a directory", q);
  } else {
    c->m.workdir = real;
    real = NULL;
  }
  free(real);
  free(path);
}
