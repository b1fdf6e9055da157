/*
 * store: corral's only SQL. One SQLite database per state dir, in WAL mode
 * with foreign keys on, its schema brought forward by numbered migrations,
 * every statement prepared once. Writes are grouped: the first write of a
 * loop turn opens a transaction and store_commit (called by the runtime once
 * per turn, before anything is reported to a user) ends it, so throughput
 * does not hinge on one commit per event and nothing reported is lost when
 * the process is killed.
 *
 * Rows handed to callbacks and getters borrow their strings from the store:
 * they are valid until the callback returns / the next store call.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crl.h"

struct store;

/*
 * Opens (creating when absent) the database at `path`, sets WAL, foreign
 * keys and busy timeout, and applies pending migrations. A database whose
 * schema is newer than this build fails with CRL_ESCHEMA. *out is owned by
 * the caller (store_close).
 */
int store_open(struct store **out, const char *path, struct crl_err *err);
/* Commits any open transaction, finalizes statements and closes. NULL-safe. */
void store_close(struct store *st);

/* The schema version now in force (the number of the last migration). */
int store_schema_version(struct store *st);

/* Commits the transaction opened by this turn's writes, if any. */
int store_commit(struct store *st, struct crl_err *err);
/* 1 when a transaction is open (writes pending). */
int store_dirty(const struct store *st);

/* Missions. `id` is the mission's name; its state is free text. */
int store_mission_upsert(struct store *st, const char *id, const char *file,
                         int64_t now, struct crl_err *err);
int store_mission_set_state(struct store *st, const char *id, const char *state,
                            int64_t now, struct crl_err *err);

struct store_mission {
  const char *id;
  const char *file;
  const char *state;
  int64_t created_at;
  int64_t updated_at;
  const char *repo; /* the repository its tickets branch from, or NULL */
  const char *base; /* the base they merge into, or NULL */
};

/* CRL_EMISSION_NOT_FOUND when absent. */
int store_mission_get(struct store *st, const char *id,
                      struct store_mission *out, struct crl_err *err);

/* Records the repository and base of a mission that has a `repo:`. */
int store_mission_set_repo(struct store *st, const char *id, const char *repo,
                           const char *base, struct crl_err *err);

typedef int (*store_mission_cb)(const struct store_mission *m, void *payload);
/* Newest first. A callback returning non-zero stops the walk and that value
 * is returned. */
int store_mission_list(struct store *st, store_mission_cb cb, void *payload);

/* Tickets and tasks. Upserts keep existing state. */
int store_ticket_upsert(struct store *st, const char *mission, const char *id,
                        const char *title, int priority, struct crl_err *err);
int store_task_upsert(struct store *st, const char *mission, const char *id,
                      const char *ticket, const char *agent, int position,
                      struct crl_err *err);
int store_dep_add(struct store *st, const char *mission, const char *task,
                  const char *needs, struct crl_err *err);

/* Records a task's state. `reason` may be NULL (kept as is). started_at /
 * ended_at of -1 keep the stored value. */
int store_task_set_state(struct store *st, const char *mission,
                         const char *task, const char *state, int attempts,
                         const char *reason, int64_t started_at,
                         int64_t ended_at, struct crl_err *err);

struct store_task {
  const char *mission;
  const char *id;
  const char *ticket;
  const char *agent;
  const char *state;
  const char *reason; /* end reason of the last run, or NULL */
  int attempts;
  int position;         /* file order */
  int64_t started_at;   /* 0 when never started */
  int64_t ended_at;     /* 0 when not ended */
  const char *feedback; /* of the last rejection, or NULL */
  const char *phase;    /* "plan" or "work" for a plan: required task */
  int resume_turns;     /* > 0: the next run resumes the agent CLI's
                           session with this many turns */
};

typedef int (*store_task_cb)(const struct store_task *t, void *payload);
/* In file order. */
int store_task_list(struct store *st, const char *mission, store_task_cb cb,
                    void *payload);
/* CRL_ETASK_NOT_FOUND when absent. */
int store_task_get(struct store *st, const char *mission, const char *id,
                   struct store_task *out, struct crl_err *err);
/* Records a reviewer's feedback for the task's next run (NULL clears). */
int store_task_set_feedback(struct store *st, const char *mission,
                            const char *task, const char *feedback,
                            struct crl_err *err);

/* Records the phase of a task whose plan needs approval. */
int store_task_set_phase(struct store *st, const char *mission,
                         const char *task, const char *phase,
                         struct crl_err *err);

/* Asks the task's next run to resume its agent CLI's session with `turns`
 * turns (0 clears the request). */
int store_task_set_resume(struct store *st, const char *mission,
                          const char *task, int turns, struct crl_err *err);

/* Questions and action approvals an agent raised (kind "question" or
 * "approval"); state open, answered or expired (answered by its default). */
struct store_question {
  int64_t id;
  const char *mission;
  const char *task;
  int64_t run;
  const char *kind;
  const char *text;
  const char *state;
  const char *answer;         /* or NULL */
  const char *default_answer; /* or NULL */
  int64_t deadline;           /* wall ms, 0: none */
  int64_t created_at;
  int64_t answered_at;
};

/* Sets q->id. */
int store_question_add(struct store *st, struct store_question *q,
                       struct crl_err *err);
/* open -> state with answer; CRL_EINVALID_TRANSITION when not open. */
int store_question_answer(struct store *st, int64_t id, const char *state,
                          const char *answer, int64_t now, struct crl_err *err);
/* CRL_ENOT_FOUND when absent. */
int store_question_get(struct store *st, int64_t id, struct store_question *out,
                       struct crl_err *err);
typedef int (*store_question_cb)(const struct store_question *q, void *payload);
/* Filters may be NULL. */
int store_question_list(struct store *st, const char *mission,
                        const char *state, const char *kind,
                        store_question_cb cb, void *payload);

/* A ticket's git side (issue 8). */
struct store_ticket {
  const char *mission;
  const char *id;
  const char *title;
  const char *state;  /* open, merged, conflict or unmerged */
  const char *branch; /* corral/<mission>/<ticket>, or NULL before a run */
  const char *head;   /* the branch head corral last recorded, or NULL */
  const char *merged; /* base's head after the merge, or NULL */
  const char *detail; /* JSON: conflicting paths or the error, or NULL */
  const char *repo;   /* the mission's repository, or NULL */
  const char *base;   /* the mission's base, or NULL */
};

/* Records the branch and the head corral saw last. */
int store_ticket_set_head(struct store *st, const char *mission, const char *id,
                          const char *branch, const char *head,
                          struct crl_err *err);
/* Records the merge state; merged (NULL keeps it) is base's new head. */
int store_ticket_set_state(struct store *st, const char *mission,
                           const char *id, const char *state,
                           const char *detail, const char *merged,
                           struct crl_err *err);
/* CRL_ENOT_FOUND when absent. */
int store_ticket_get(struct store *st, const char *mission, const char *id,
                     struct store_ticket *out, struct crl_err *err);
typedef int (*store_ticket_cb)(const struct store_ticket *t, void *payload);
/* The tickets of one mission (or of all when mission is NULL), in order. */
int store_ticket_list(struct store *st, const char *mission, store_ticket_cb cb,
                      void *payload);

/* Runs: one attempt of a task. */
struct store_run {
  int64_t id; /* assigned by store_run_insert */
  const char *mission;
  const char *task;
  int attempt;
  const char *state; /* "starting", "running", "ended" */
  const char *dir;   /* runs/<id> directory, absolute */
  int64_t shim_pid;
  int64_t shim_start; /* /proc/<pid>/stat starttime, to defeat pid reuse */
  int64_t pid;        /* the agent's pid, 0 when unknown */
  int exit_code;      /* -1 when none */
  int signal;         /* 0 when none */
  const char *reason; /* "exit 0", "signal 9", "timeout", ... or NULL */
  int err_no;         /* spawn error errno, 0 when none */
  int64_t log_offset; /* bytes of output.log already turned into events */
  int64_t started_at;
  int64_t ended_at;
};

/* Inserts a run in state "starting"; sets r->id. `dir` may be NULL and set
 * later with store_run_set_dir. */
int store_run_insert(struct store *st, struct store_run *r,
                     struct crl_err *err);
int store_run_set_dir(struct store *st, int64_t run, const char *dir,
                      struct crl_err *err);
/* starting -> running with the shim's identity. */
int store_run_set_spawned(struct store *st, int64_t run, int64_t shim_pid,
                          int64_t shim_start, int64_t pid, struct crl_err *err);
int store_run_set_offset(struct store *st, int64_t run, int64_t offset,
                         struct crl_err *err);
/* -> ended. */
int store_run_end(struct store *st, int64_t run, int exit_code, int sig,
                  const char *reason, int err_no, int64_t ended_at,
                  struct crl_err *err);

typedef int (*store_run_cb)(const struct store_run *r, void *payload);
/* Runs of a mission not yet ended, oldest first. */
int store_run_list_live(struct store *st, const char *mission, store_run_cb cb,
                        void *payload);
/* Every run of one task, oldest first (task NULL: of the whole mission). */
int store_run_list(struct store *st, const char *mission, const char *task,
                   store_run_cb cb, void *payload);
int store_run_get(struct store *st, int64_t run, struct store_run *out,
                  struct crl_err *err);

/* Commits on ticket branches (commit.c). */
struct store_commit_file {
  const char *path;
  int64_t insertions;
  int64_t deletions;
};

struct store_commit {
  int64_t id; /* assigned by store_commit_add */
  const char *mission;
  const char *ticket;
  const char *task;
  int64_t run;
  const char *agent;
  const char *branch;
  const char *sha;
  const char *parent; /* NULL for a root commit */
  int64_t files;
  int64_t insertions;
  int64_t deletions;
  int64_t created_at;
  const struct store_commit_file *per_file; /* ignored by the list walk */
  size_t nper_file;
};

/* Records a commit and its per-file stats; sets c->id. CRL_ETASK_NOT_FOUND
 * when the task is unknown. */
int store_commit_add(struct store *st, struct store_commit *c,
                     struct crl_err *err);

typedef int (*store_commit_cb)(const struct store_commit *c, void *payload);
/* A mission's commits, oldest first. */
int store_commit_list(struct store *st, const char *mission, store_commit_cb cb,
                      void *payload);

/* Events: append-only, with a global sequence. */
struct store_event {
  int64_t seq; /* assigned by store_event_append */
  int64_t ts;  /* wall clock ms */
  const char *mission;
  const char *task; /* may be NULL */
  int64_t run;      /* 0 when none */
  const char *kind; /* "state", "message", "run.start", "run.end", ... */
  const char *data; /* a JSON document, may be NULL */
};

int store_event_append(struct store *st, struct store_event *ev,
                       struct crl_err *err);

typedef int (*store_event_cb)(const struct store_event *ev, void *payload);
/* Events with seq > after, in sequence order; mission NULL means all;
 * task NULL means all tasks. */
int store_event_list(struct store *st, const char *mission, const char *task,
                     int64_t after, store_event_cb cb, void *payload);

/* LLM spending of one task (spend.c), summed from the gateway's llm.call
 * events: tokens of every class (input, output, cache read and write) of
 * calls whose answer carried usage, dollars of the priced ones. */
struct store_spend {
  const char *task; /* NULL for calls recorded without a task */
  int64_t calls;
  int64_t tokens;
  double usd;
};

typedef int (*store_spend_cb)(const struct store_spend *s, void *payload);
/* One row per task of the mission that made calls, by task id. A callback
 * returning non-zero stops the walk and that value is returned. */
int store_spend_list(struct store *st, const char *mission, store_spend_cb cb,
                     void *payload, struct crl_err *err);
/* LLM calls (llm.c): one row per call the gateway answered for a run,
 * bodies included as recorded. */
struct store_llm_call {
  const char *mission;
  const char *task;
  int64_t run;
  int64_t seq;          /* per run, from 1 (the llm.call event's "seq") */
  int64_t ts;           /* wall clock ms when the request was complete */
  const char *provider; /* "anthropic", "openai", "gemini", "unknown" */
  const char *api;      /* "messages", "responses", "chat", "gemini", "side" */
  const char *method;
  const char *path;
  const char *model; /* may be NULL */
  int status;        /* sent to the client; 0: the client went first */
  int stream;
  int refused;
  int replayed;
  const char *content_type; /* may be NULL */
  const void *request;      /* may be NULL */
  size_t request_len;
  int request_truncated;
  const void *response; /* may be NULL */
  size_t response_len;
  int response_truncated;
  int64_t input, output, cache_read, cache_write, reasoning;
  int usage_seen;
  double usd;   /* when priced */
  int unpriced; /* usage was seen but the model has no price */
  double latency_ms;
  double ttfb_ms; /* -1: no body byte */
  const char *error;
};

int store_llm_call_add(struct store *st, const struct store_llm_call *c,
                       struct crl_err *err);
typedef int (*store_llm_call_cb)(const struct store_llm_call *c, void *payload);
/* A mission's calls (run 0) or one run's, by run then seq. A callback
 * returning non-zero stops the walk and that value is returned. */
int store_llm_call_list(struct store *st, const char *mission, int64_t run,
                        store_llm_call_cb cb, void *payload);

struct store_llm_totals {
  int64_t calls;
  int64_t input, output, cache_read, cache_write, reasoning;
  double usd;       /* priced calls */
  int64_t unpriced; /* calls with usage but no price */
};
/* Sums over a mission's calls, of one task (task non-NULL) or one run (run
 * non-zero). */
int store_llm_totals(struct store *st, const char *mission, const char *task,
                     int64_t run, struct store_llm_totals *out,
                     struct crl_err *err);

/*
 * Trace files (trace.c, import.c): one mission in a database of its own,
 * with this store's schema plus trace_meta and trace_blobs. Format
 * STORE_TRACE_FORMAT; a checksum over every row is verified on open.
 */
#define STORE_TRACE_FORMAT 1

/*
 * Creates the trace at `path` (which must not exist) holding the rows of
 * `mission` copied from `src`. Add blobs, then store_trace_seal, then
 * store_close. CRL_EMISSION_NOT_FOUND when `src` has no such mission.
 */
int store_trace_create(struct store **out, const char *path, struct store *src,
                       const char *mission, struct crl_err *err);
/* Stores a named blob ("mission", "bundle", "log/<run>"), replacing one of
 * the same name. */
int store_trace_blob_put(struct store *tr, const char *name, const void *data,
                         size_t len, struct crl_err *err);
/* Computes and records the checksum and leaves the file in one piece. */
int store_trace_seal(struct store *tr, struct crl_err *err);
/*
 * Opens a trace read-only. The file size must match its SQLite header, the
 * format and schema this build's, and (when `verify`) the checksum the rows:
 * else CRL_EPARSE or CRL_ESCHEMA with the reason in err. Every getter of
 * this header works on the result; writes fail.
 */
int store_trace_open(struct store **out, const char *path, int verify,
                     struct crl_err *err);
/* A trace_meta value ("format", "mission", "checksum", ...) into out. */
int store_trace_meta(struct store *tr, const char *key, char *out, size_t len,
                     struct crl_err *err);
typedef int (*store_trace_blob_cb)(const char *name, const void *data,
                                   size_t len, void *payload);
/* Blobs whose name starts with `prefix`, by name; the data is borrowed for
 * the callback. */
int store_trace_blob_list(struct store *tr, const char *prefix,
                          store_trace_blob_cb cb, void *payload);

struct store_import {
  const char *as;       /* the mission id to import as */
  const char *runs_dir; /* <state dir>/runs: run dirs become runs_dir/<id> */
  int64_t run_offset;   /* set: added to every run id */
  int64_t commit_offset;
  int64_t question_offset;
};

/* Loads the (verified) trace at `path` into `st` under im->as, with fresh
 * run, commit, question ids and event sequence numbers, in one transaction.
 * CRL_EDUPLICATE when im->as exists. */
int store_trace_import(struct store *st, const char *path,
                       struct store_import *im, struct crl_err *err);

#endif
