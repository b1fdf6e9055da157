/*
 * mission-int.h: what the files of the mission module share. A mission file
 * becomes a small document tree (node.c, json.c) whose every node remembers
 * its line and column; the schema walker (schema.c, value.c) checks that tree
 * against tables of known keys and fills a load context; graph.c, sandbox.c
 * and resolve.c then check the task graph, flatten the sandbox profiles and
 * apply defaults; mission.c ties the steps together. Every step appends
 * diagnostics and keeps going, so one run reports every problem of a file.
 */
#ifndef MISSION_INT_H
#define MISSION_INT_H

#include <stdarg.h>

#include "mission.h"

/* Mission files larger than this are refused (STYLE.md rule 14). */
#define MSN__MAX_FILE (16 * 1024 * 1024)
/* Deeper nesting than this is refused, so hostile input cannot exhaust the
 * stack of the recursive tree builder. */
#define MSN__MAX_DEPTH 64

/* ---- document tree (node.c) ---- */

enum msn__type { MSN__NULL, MSN__SCALAR, MSN__MAP, MSN__SEQ };

/*
 * One node. A scalar (or null) owns `str`; a sequence owns its items in `v`;
 * a mapping owns keys and values interleaved in `v` (key i is v[2i], its
 * value v[2i + 1]). `n` counts entries of `v`. Keys are scalars and unique:
 * the builder reports and drops any other.
 */
struct msn__node {
  enum msn__type type;
  int line, col; /* 1-based */
  int plain;     /* scalar written without quotes or tag */
  char *str;     /* scalar or null text, else NULL */
  struct msn__node **v;
  size_t n, cap;
};

/* Builds the tree of the single YAML document in buf. Returns 0 and *out (NULL
 * for an empty document), or CRL_EPARSE after adding a diagnostic. */
int msn__node_parse(struct msn__node **out, const char *file, const char *buf,
                    size_t len, struct msn_diags *d);
void msn__node_free(struct msn__node *n);
/* Line and column (1-based, columns in characters) of byte off of buf. */
void msn__offset_pos(const char *buf, size_t off, int *line, int *col);
/* Value of `key` in mapping n, or NULL (also when n is not a mapping). */
const struct msn__node *msn__node_get(const struct msn__node *n,
                                      const char *key);
/* "a mapping", "a sequence", "a scalar" or "null", for messages. */
const char *msn__node_what(const struct msn__node *n);

/* ---- JSON front end (json.c) ---- */

/* Checks strict JSON syntax with jansson, then builds the tree through
 * libyaml. Same contract as msn__node_parse. */
int msn__json_parse(struct msn__node **out, const char *file, const char *buf,
                    size_t len, struct msn_diags *d);

/* ---- diagnostics (diag.c) ---- */

void msn__diags_addv(struct msn_diags *d, const char *file, int line, int col,
                     const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
/* Stable-sorts entries [from, n) by line then column: document order. */
void msn__diags_sort(struct msn_diags *d, size_t from);

/* ---- did-you-mean (suggest.c) ---- */

/* Optimal-string-alignment distance between a and b, capped: returns
 * max + 1 as soon as the distance is known to exceed max. */
int msn__distance(const char *a, const char *b, int max);
/* The candidate nearest to word within distance 2, or NULL. Ties go to the
 * earliest candidate. Words of one or two letters get no suggestion unless
 * they differ by one edit. */
const char *msn__suggest(const char *word, const char *const *cands, size_t n);

/* ---- load context (schema.c, value.c, graph.c, resolve.c) ---- */

/* Retry policy as written, with whether it was written at all. */
struct msn__retries_opt {
  int set;
  struct msn_retries r;
};

/* Options a task may take from `defaults:`. Durations are -1 when absent. */
struct msn__opts {
  const struct msn__node *agent; /* scalar naming an agent, or NULL */
  char **command;
  char **env;
  const struct msn__node *sandbox; /* scalar naming a profile, or NULL */
  int64_t timeout_ms, idle_timeout_ms, grace_ms;
  struct msn__retries_opt retries;
};

/* A task as written: the public part plus what resolution still needs. */
struct msn__taskdef {
  struct msn_task t;
  struct msn__opts o;
  const struct msn__node *node;        /* the task mapping */
  const struct msn__node *id;          /* its `id:` value, or NULL */
  const struct msn__node *needs;       /* its `needs:` value, or NULL */
  size_t *need_idx;                    /* resolved by graph.c, t.nneeds long */
  const struct msn__node **need_nodes; /* where each need is written */
};

/* A sandbox profile as written: the public part plus what the walk along
 * `extends:` needs. */
struct msn__sbxdef {
  struct msn_sandbox s;
  const struct msn__node *extends; /* its `extends:` value, or NULL */
  int state;                       /* MSN__SBX_* */
};

enum { MSN__SBX_NEW, MSN__SBX_WALK, MSN__SBX_DONE, MSN__SBX_BROKEN };

/* A profile name and its index in msn__ctx.sbx, sorted for lookups. */
struct msn__sbxname {
  const char *name;
  size_t idx;
};

struct msn__ctx {
  const char *file; /* name used in diagnostics */
  struct msn_diags *d;
  struct msn_mission m; /* filled in place; moved out on success */
  struct msn__opts defaults;
  const struct msn__node *workdir;
  const struct msn__node **ticket_ids;
  struct msn__taskdef *tasks;
  size_t ntasks, taskcap, agentcap, ticketcap;
  struct msn__sbxdef *sbx;
  struct msn__sbxname *sbx_index; /* built by msn__sandbox_resolve */
  size_t nsbx, sbxcap;
  size_t cur_ticket;
};

/* Adds a diagnostic at n's position. */
void msn__err(struct msn__ctx *c, const struct msn__node *n, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));
/* Copies s into out (size outlen) with control bytes escaped and long text
 * cut with "...", so untrusted text is safe inside a message. */
const char *msn__quote(char *out, size_t outlen, const char *s);
void msn__opts_init(struct msn__opts *o);
void msn__opts_close(struct msn__opts *o);
void msn__retries_default(struct msn_retries *r);
void msn__argv_free(char **v);
char **msn__argv_dup(char *const *v);
size_t msn__argv_len(char *const *v);

/* A schema field: conv checks node n (the value of `key`) and stores it at
 * dst, a field of the object being filled. */
struct msn__field;
typedef void (*msn__conv_fn)(struct msn__ctx *c, const struct msn__field *f,
                             const struct msn__node *n, void *dst);

struct msn__field {
  const char *key;
  msn__conv_fn conv;
  size_t off;
  int required;
  long long min; /* for integers and numbers */
};

struct msn__kind {
  const char *name; /* "task", "agent", ...; NULL at the top level */
  const struct msn__field *fields;
  size_t nfields;
};

/* Walks mapping n against kind k, filling obj. Returns 0, or -1 when n is not
 * a mapping (after a diagnostic naming `what`). */
int msn__schema_map(struct msn__ctx *c, const struct msn__kind *k,
                    const struct msn__node *n, const char *what, void *obj);
/* `policies:` (policy.c). */
void msn__schema_policies(struct msn__ctx *c, const struct msn__field *f,
                          const struct msn__node *n, void *dst);
void msn__policies_clear(struct msn_mission *m);
/* Walks the document root. */
void msn__schema_mission(struct msn__ctx *c, const struct msn__node *root);

/* Describes n for "got ..." in messages: 'text' for a scalar, else
 * msn__node_what(n). Returns out. */
const char *msn__got(char *out, size_t outlen, const struct msn__node *n);
/* Reports a type mismatch: "expected WANT for 'KEY', got ...". */
void msn__type_error(struct msn__ctx *c, const struct msn__node *n,
                     const char *want, const char *key);

/* Scalar conversions (value.c), each usable as a schema field. */
void msn__conv_string(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst);
void msn__conv_id(struct msn__ctx *c, const struct msn__field *f,
                  const struct msn__node *n, void *dst);
void msn__conv_node(struct msn__ctx *c, const struct msn__field *f,
                    const struct msn__node *n, void *dst);
void msn__conv_int(struct msn__ctx *c, const struct msn__field *f,
                   const struct msn__node *n, void *dst);
void msn__conv_int64(struct msn__ctx *c, const struct msn__field *f,
                     const struct msn__node *n, void *dst);
void msn__conv_number(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst);
void msn__conv_duration(struct msn__ctx *c, const struct msn__field *f,
                        const struct msn__node *n, void *dst);
void msn__conv_backoff(struct msn__ctx *c, const struct msn__field *f,
                       const struct msn__node *n, void *dst);
void msn__conv_argv(struct msn__ctx *c, const struct msn__field *f,
                    const struct msn__node *n, void *dst);
void msn__conv_env(struct msn__ctx *c, const struct msn__field *f,
                   const struct msn__node *n, void *dst);
void msn__conv_priority(struct msn__ctx *c, const struct msn__field *f,
                        const struct msn__node *n, void *dst);
/* `ci: { review: approve | fail }`. */
void msn__conv_ci_review(struct msn__ctx *c, const struct msn__field *f,
                         const struct msn__node *n, void *dst);
void msn__conv_review(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst);
void msn__conv_adapter(struct msn__ctx *c, const struct msn__field *f,
                       const struct msn__node *n, void *dst);
void msn__conv_needs(struct msn__ctx *c, const struct msn__field *f,
                     const struct msn__node *n, void *dst);

void msn__conv_size(struct msn__ctx *c, const struct msn__field *f,
                    const struct msn__node *n, void *dst);

/* "invalid value 'x' for 'key' (did you mean 'y'?)" when a candidate is near,
 * else "(expected EXPECTED)". */
void msn__enum_error(struct msn__ctx *c, const struct msn__node *n,
                     const char *key, const char *expected,
                     const char *const *cands, size_t ncands);
/* Whether s matches [A-Za-z0-9._-]+, the syntax of names and ids. */
int msn__id_valid(const char *s);
/* Parses "500ms", "90s", "1h30m" or "0". Returns 0 or CRL_EPARSE. */
int msn__duration(int64_t *out_ms, const char *s);
/* Parses "DURATION" (floor = cap: constant backoff) or "FLOOR..CAP". Returns
 * 0, CRL_EPARSE for bad syntax, or -ERANGE when floor exceeds cap; the
 * outputs are untouched on failure. */
int msn__backoff(int64_t *floor_ms, int64_t *cap_ms, const char *s);

/* Parses a byte count: digits with an optional binary suffix K, M, G or T
 * (either case), e.g. "1024", "512M", "2G". Returns 0, or CRL_EPARSE for bad
 * syntax or a value above INT64_MAX; *out is untouched on failure. */
int msn__size(int64_t *out, const char *s);

/* The adapters corral knows, for `adapter:` checks. */
extern const char *const msn__adapters[];
extern const size_t msn__nadapters;

/* ---- task graph (graph.c) ---- */

/* Reports duplicate ids among ids[0..n) (NULL entries skipped) as
 * "duplicate WHAT id 'x' (first defined at L:C)". */
void msn__dups(struct msn__ctx *c, const struct msn__node *const *ids, size_t n,
               const char *what);
/* Checks task ids and needs, fills each task's needs, and reports cycles. */
void msn__graph_check(struct msn__ctx *c);

/* ---- sandbox profiles (sandbox.c) ---- */

/* The built-in profiles: agent, strict, network, none. */
extern const char *const msn__sandbox_builtins[];
extern const size_t msn__nsandbox_builtins;
int msn__sandbox_builtin(const char *name);
/* Profile conversions: a list of paths made absolute against the mission's
 * directory; none|gateway|host; a CPU percentage up to 100 per host CPU. */
void msn__conv_paths(struct msn__ctx *c, const struct msn__field *f,
                     const struct msn__node *n, void *dst);
void msn__conv_network(struct msn__ctx *c, const struct msn__field *f,
                       const struct msn__node *n, void *dst);
void msn__conv_cpu(struct msn__ctx *c, const struct msn__field *f,
                   const struct msn__node *n, void *dst);
/* Follows every profile's `extends:` to its built-in, reporting unknown
 * names and cycles, and merges each profile with its parent. Runs once,
 * after the schema walk and before msn__sandbox_ref. */
void msn__sandbox_resolve(struct msn__ctx *c);
/* Checks that scalar n names a built-in or defined profile; reports it with
 * the nearest name otherwise. Returns 0 or -1. */
int msn__sandbox_ref(struct msn__ctx *c, const struct msn__node *n);
void msn__sandbox_clear(struct msn_sandbox *s);

/* ---- defaults (resolve.c) ---- */

/* Resolves each task's agent, command, env, timeouts, retries and sandbox. */
void msn__resolve(struct msn__ctx *c);
/* Resolves `workdir:` against m.dir into m.workdir. */
void msn__resolve_workdir(struct msn__ctx *c);

/* Frees everything a mission owns, leaving *m zeroed. */
void msn__mission_clear(struct msn_mission *m);
void msn__task_clear(struct msn_task *t);

#endif
