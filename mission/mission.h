/*
 * mission: reads a mission file (YAML through libyaml, JSON through jansson
 * for strict syntax and libyaml for positions), validates it against the
 * schema of DESIGN.md §5 and produces a resolved, immutable description:
 * every task carries its effective agent, command, environment, timeouts and
 * retry policy. Validation collects every error, each with FILE:LINE:COL and
 * what was expected, and suggests the nearest key for an unknown one.
 */
#ifndef MISSION_H
#define MISSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crl.h"

/* One diagnostic. Lines and columns are 1-based. */
struct msn_diag {
  char *file;
  int line;
  int col;
  char *msg;
};

struct msn_diags {
  struct msn_diag *v;
  size_t n;
  size_t cap;
};

void msn_diags_init(struct msn_diags *d);
void msn_diags_close(struct msn_diags *d);
/* Appends a formatted diagnostic. */
void msn_diags_add(struct msn_diags *d, const char *file, int line, int col,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prints each as "FILE:LINE:COL: error: MSG\n". */
void msn_diags_print(const struct msn_diags *d, FILE *fp);

/* Retry policy as written (see struct sched_retry for meaning). */
struct msn_retries {
  int max;
  int64_t floor_ms;
  int64_t cap_ms;
  double factor;
  int64_t reset_after_ms;
  int intensity;
  int64_t intensity_window_ms;
};

struct msn_agent {
  char *name;
  char *adapter;  /* "exec", "claude-code", ... */
  char **command; /* NULL-terminated argv, or NULL */
  char **env;     /* NULL-terminated "KEY=VALUE", or NULL */
  char *model;    /* or NULL */
  int capacity;   /* 0: unlimited */
  int max_turns;  /* 0: the CLI's own default */
  int line, col;
};

/* A budget: the mission's (all three), a ticket's or a task's (tokens and
 * usd only; LLM calls through the gateway, summed over every run). */
struct msn_budget {
  double usd;      /* 0: none */
  int64_t tokens;  /* 0: none */
  int64_t wall_ms; /* 0: none */
};

/* Priorities: 0 low, 1 medium (default), 2 high, 3 critical. */
struct msn_ticket {
  char *id;
  char *title; /* or NULL */
  int priority;
  struct msn_budget budget; /* tokens and usd of all its tasks' runs */
  int line, col;
};

/* A task with every default resolved. */
struct msn_task {
  char *id;
  size_t ticket; /* index into mission->tickets */
  size_t agent;  /* index into mission->agents */
  char *prompt;  /* or NULL */
  char **needs;  /* NULL-terminated task ids (any ticket) */
  size_t nneeds;
  char **command; /* effective argv (task's, else agent's); NULL-terminated,
                     NULL when the adapter builds its own */
  char **env;     /* effective extra env: agent's then task's; NULL-term. */
  char *sandbox;  /* effective profile name (task's, else defaults', else
                     "agent"): a built-in or one of mission->sandboxes */
  int64_t estimate_ms;     /* 0 when not given */
  int64_t timeout_ms;      /* 0: none */
  int64_t idle_timeout_ms; /* 0: none */
  int64_t grace_ms;        /* SIGTERM -> SIGKILL; default 10s */
  struct msn_retries retries;
  int review; /* review: required */
  int plan;   /* plan: required: a plan run, approved, before the work */
  char **plan_command;      /* the plan run's argv for exec agents, or NULL */
  int64_t heartbeat_ms;     /* the agent must call `corral agent heartbeat` at
                               least this often (0: no heartbeat expected) */
  int max_turns;            /* LLM turns per run: the task's, else its agent's;
                               0: no cap */
  struct msn_budget budget; /* tokens and usd of all its runs; 0: no cap */
  int line, col;
};

/*
 * A sandbox profile from `sandboxes:`, flattened along its `extends:` chain.
 * Built-in profiles (agent, strict, network, none) have no entry; they are
 * defined by the sandbox module.
 */
struct msn_sandbox {
  char *name;
  char *extends;    /* the built-in the chain ends at: "agent", "strict",
                       "network" or "none" */
  char **writable;  /* NULL-terminated absolute paths, merged along the
                       chain (parent first, no repeats); never NULL */
  char **readonly;  /* same */
  char **hidden;    /* same */
  int network;      /* -1 inherit the built-in's, 0 none, 1 gateway, 2 host */
  int64_t memory;   /* bytes; 0 inherit */
  int64_t pids;     /* 0 inherit */
  int cpu_percent;  /* 100 per core; 0 inherit */
  int64_t tmp_size; /* bytes; 0 inherit */
  int line, col;    /* where the profile's name is written */
};

/* A rule of `policies:` (mission/policy.c). */
enum msn_policy_kind {
  MSN_POLICY_FORCE_PUSH, /* deny: force-push */
  MSN_POLICY_PROTECT,    /* protect: [globs] */
  MSN_POLICY_MAX_DIFF    /* max_diff_lines: N */
};

/* Where a task that violates a policy goes. */
enum msn_policy_action { MSN_ACTION_FAILED, MSN_ACTION_REVIEW };

struct msn_policy {
  int kind;               /* enum msn_policy_kind */
  char **protect;         /* NULL-terminated globs, for MSN_POLICY_PROTECT */
  int64_t max_diff_lines; /* for MSN_POLICY_MAX_DIFF */
  int action;             /* enum msn_policy_action */
  int line, col;
};

/* What a review gate does under `corral run --ci`, where no human waits. */
enum msn_ci_review {
  MSN_CI_REVIEW_FAIL,   /* the task fails (the default) */
  MSN_CI_REVIEW_APPROVE /* the task is approved */
};

struct msn_ci {
  int review; /* enum msn_ci_review */
};

struct msn_mission {
  char *name;
  char *file;    /* absolute path of the mission file */
  char *dir;     /* its directory */
  char *workdir; /* absolute; `workdir:` resolved against dir, else dir */
  char *repo;    /* or NULL (kept for the worktree issue) */
  char *base;    /* or NULL */
  struct msn_budget budget;
  struct msn_ci ci; /* the `ci:` section */
  struct msn_agent *agents;
  size_t nagents;
  struct msn_ticket *tickets;
  size_t ntickets;
  struct msn_task *tasks; /* every ticket's tasks, in file order */
  size_t ntasks;
  struct msn_sandbox *sandboxes; /* user-defined profiles, in file order */
  size_t nsandboxes;
  struct msn_policy *policies; /* in file order */
  size_t npolicies;
};

/* "deny force-push", "protect" or "max_diff_lines". */
const char *msn_policy_name(const struct msn_policy *p);
/* The mission's first policy of a kind, or NULL. */
const struct msn_policy *msn_policy_find(const struct msn_mission *m, int kind);

/*
 * Loads and validates `path`. The format follows the extension (.json is
 * JSON, anything else YAML). On success returns 0 and *out (caller frees
 * with msn_mission_free). On failure returns CRL_EVALIDATION_FAILED (or
 * -errno when the file cannot be read) with every problem appended to
 * `diags`.
 */
int msn_load_file(struct msn_mission **out, const char *path,
                  struct msn_diags *diags);
/* Same from memory; `name` is used in diagnostics and as `file`, `dir` is
 * where relative paths resolve. */
int msn_load_buffer(struct msn_mission **out, const char *name, const char *dir,
                    const char *buf, size_t len, int is_json,
                    struct msn_diags *diags);
void msn_mission_free(struct msn_mission *m);

/* Index of a task by id, or -1. */
int msn_task_find(const struct msn_mission *m, const char *id);

/*
 * The user-defined sandbox profile `name` of mission `m` (borrowed; valid
 * until msn_mission_free), or NULL when `name` is a built-in profile or is
 * not defined.
 */
const struct msn_sandbox *msn_sandbox_find(const struct msn_mission *m,
                                           const char *name);

#endif
