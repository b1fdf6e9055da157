/*
 * runtime internals shared by the files of runtime/: the engine (one libuv
 * loop driving the scheduler, the store and the runs), the supervisor of one
 * run, progress output, and the CLI verbs. Only runtime links libuv.
 */
#ifndef RT_INT_H
#define RT_INT_H

#include <stdio.h>
#include <jansson.h>
#include <uv.h>

#include "adapter.h"
#include "crl.h"
#include "mission.h"
#include "rt-cli.h"
#include "scheduler/sched.h"
#include "store.h"

/* Largest chunk of a log the engine ingests per callback, and the longest
 * line an adapter sees in one piece: together they bound engine memory
 * whatever an agent prints. */
#define RT_LOG_CHUNK (64 * 1024)
#define RT_LOG_TURN_MAX (1024 * 1024)
#define RT_LINE_MAX (4 * 1024 * 1024)
/* The LLM gateway's port inside a run's own network namespace. */
#define RT_GW_PORT 8790

extern const struct rt_cmd rt_cmd_run;
extern const struct rt_cmd rt_cmd_validate;
extern const struct rt_cmd rt_cmd_show;
extern const struct rt_cmd rt_cmd_logs;
extern const struct rt_cmd rt_cmd_doctor;
extern const struct rt_cmd rt_cmd_approve;
extern const struct rt_cmd rt_cmd_reject;
extern const struct rt_cmd rt_cmd_gc;
extern const struct rt_cmd rt_cmd_daemon;
extern const struct rt_cmd rt_cmd_agent;
/* Clients of the daemon (client.h). */
extern const struct rt_cmd rt_cmd_submit;
extern const struct rt_cmd rt_cmd_ls;
extern const struct rt_cmd rt_cmd_events;
extern const struct rt_cmd rt_cmd_pause;
extern const struct rt_cmd rt_cmd_resume;
extern const struct rt_cmd rt_cmd_cancel;
extern const struct rt_cmd rt_cmd_answer;
extern const struct rt_cmd rt_cmd_costs;

/* Common options parsed the same way by every verb. */
struct rt_common {
  const char *state_dir;
  int json;
};

/* State dir: --state-dir, else $XDG_STATE_HOME/corral, else
 * ~/.local/state/corral. Creates it (0700). *out is heap-owned. */
int rt_statedir(char **out, const char *opt, struct crl_err *err);
/* Opens the store of a state dir. */
int rt_store_open(struct store **out, const char *state_dir,
                  struct crl_err *err);
/* Takes STATE/<mission>.lock, held while *fd stays open: one process acts
 * on a mission at a time. CRL_EAGENT_BUSY (err untouched, *fd -1) with the
 * holder's pid in holder when another process has it. */
int rt_mission_lock(int *fd, const char *state_dir, const char *mission,
                    char *holder, size_t len, struct crl_err *err);
/* Finds the mission to show: `name`, else the most recent one. */
int rt_mission_pick(char **out, struct store *st, const char *name,
                    struct crl_err *err);

/* Spending from the llm.call events of `mission` (NULL: all) grouped by
 * "mission", "ticket", "task", "run" or "agent" (costs.c):
 * {"group_by", "currency", "groups": [{key, calls, input, output,
 * cache_read, cache_write, usd, unpriced_calls}]}. */
int rt_costs_group_ok(const char *by);
json_t *rt_costs(struct store *st, const char *mission, const char *by);

/* A cgroup v2 directory under which shims may create one leaf per run, or
 * NULL when the host gives us none (cgroup.c). Heap-owned. */
char *rt_cgroup_parent(void);

/* The control socket: opt, else $CORRAL_SOCKET, else
 * $XDG_RUNTIME_DIR/corral/corral.sock, else /tmp/corral-<uid>/corral.sock.
 * Heap. */
char *rt_socket_path(const char *opt);

/* corral-shim beside our own binary, or $CORRAL_SHIM. Heap. */
char *rt_shim_path(void);

/* mkdir -p with mode. */
int rt_mkdirs(const char *path, mode_t mode);

/* Process helpers (proc.c). */
int rt_pidfd_open(pid_t pid);
int rt_pidfd_signal(int pidfd, int sig);
/* starttime (field 22 of /proc/pid/stat), or -errno. */
int64_t rt_proc_starttime(pid_t pid);
/* 1 when a live shim holds RUNDIR/lock, 0 when not, -errno on error; the pid
 * in the lock file goes to *pid. */
int rt_lock_held(const char *rundir, pid_t *pid);

/* The status a shim leaves in RUNDIR/status. */
struct rt_status {
  char end[16]; /* "exited", "signaled", "spawn_error" */
  int code;
  int signal;
  int err_no;
  int stopped;
  int killed;
  int64_t started;
  int64_t ended;
  char detail[1024]; /* why the agent could not start, or "" */
};

/* Leaves a "never started" status at path (O_EXCL). */
int rt_status_write_never(const char *path);
/* -ENOENT when the shim has written no status. */
int rt_status_read(struct rt_status *out, const char *rundir);

struct rt_engine;
struct rt_run;

/* LLM spending of one scope: tokens (rt_usage_total) and dollars of priced
 * calls. */
struct rt_spend {
  int64_t tokens;
  double usd;
};

/* Run lifecycle (tmux job.c): the run ends once the shim is reaped (its
 * status is final and the log complete) and the last bytes are ingested. */
enum rt_run_state {
  RT_RUN_STARTING,
  RT_RUN_RUNNING,
  RT_RUN_DEAD,
  RT_RUN_CLOSED
};

struct rt_chan;

struct rt_run {
  struct rt_engine *eng;
  size_t task;
  int64_t id;
  int attempt;
  char *dir;
  enum rt_run_state state;
  pid_t shim_pid;
  int pidfd;
  int owned; /* our child: we reap it */
  int logfd;
  int64_t read_off;
  int64_t started_at;
  enum sched_stop_reason stop;
  char *workdir;           /* the ticket's worktree, or NULL: mission's */
  char head_at_start[41];  /* ticket branch head when the run started */
  char verdict_reason[64]; /* why the policies failed or held the run */
  int spawned;             /* a shim was started for this run */
  int exit_code;           /* -1 when the agent did not exit normally */
  int signal;
  int err_no;
  int handles; /* open uv handles still to close */
  int has_poll;
  int has_watch;
  uv_poll_t poll;
  uv_fs_event_t watch;
  struct rt_chan *chan; /* the agent channel, or NULL */
  uv_timer_t hb;        /* heartbeat deadline, when the task declares one */
  int has_hb;
  struct adapter_stream stream;
  struct rt_run *next_spawn;
  /* Agent CLIs (run-agent.c): private home, gateway port. */
  char *home;         /* RUNDIR/home, or NULL */
  int home_sandboxed; /* bound as the sandbox's $HOME */
  char *agent_path;   /* the agent's PATH, for the sandbox's read-only dirs */
  int gw_sock;        /* our end of the socketpair the sandbox answers on */
  int gw_child;       /* the shim's end until the spawn, or -1 */
  int gw_netns;       /* the sandbox makes the port in its namespace */
  int gw_port;
  char base_url[64];
  int has_gw_poll;
  uv_poll_t gw_poll;
  struct rt_gw_listener *gw; /* the run's gateway port, or NULL */
  char *session;             /* the CLI session this run resumes, or NULL */
  int max_turns;             /* a resume's turns (the gateway's cap), or 0 */
  uint64_t gw_prior_seq; /* re-attached: calls recorded before (gateway.h) */
  int64_t gw_prior_turns;
};

/* Output modes of `corral run`. */
enum rt_view_mode { RT_VIEW_PLAIN, RT_VIEW_TTY, RT_VIEW_JSON, RT_VIEW_QUIET };

struct rt_view;
struct rt_llm_replay;

/* Runs the mission in file on a state dir in the foreground, as `corral
 * run FILE` does (cmd-run.c); an RT_EXIT_* code. */
int rt_run_file(const char *state_dir, const char *file,
                enum rt_view_mode view);

struct rt_engine_opts {
  const char *state_dir;
  const char *shim_path;
  int jobs;
  enum rt_view_mode view;
  /* The daemon embeds engines: a shared store (borrowed), no signal
   * handlers of their own, and callbacks instead of a loop that ends. */
  struct store *st;
  int embedded;
  void (*on_commit)(struct rt_engine *e, void *payload); /* after a commit */
  void (*on_finish)(struct rt_engine *e, void *payload); /* mission over */
  void *payload;
  /* Replay mode (rt-trace.h): every LLM call is answered from the answers
   * recorded for the same task and attempt; no upstream is configured, so
   * nothing reaches the network. Borrowed. */
  const struct rt_llm_replay *llm_replay;
};

struct rt_engine {
  uv_loop_t *loop;
  struct rt_engine_opts opts;
  struct msn_mission *m;
  struct sched *sched;
  struct store *st;
  struct rt_run **runs; /* per task: its current run or NULL */
  char **reasons;       /* per task: end reason of its last run */
  size_t live;          /* runs not yet closed */
  struct rt_run *spawn_head;
  struct rt_run **spawn_tail;
  struct sched_actions acts;
  struct rt_view *view;
  char *cgroup;         /* parent of the runs' cgroup leaves, or NULL */
  struct rt_repo *repo; /* the mission's repository, or NULL */
  struct rt_question *questions; /* open questions and approvals */
  unsigned char *planning;       /* per task: its plan waits for approval */
  char *merge_ref;               /* the branch tickets merge into, or NULL */
  unsigned char *ticket_done;    /* per ticket: merge attempted this run */
  int merge_check;               /* a task completed: look for tickets */
  int merge_failed;              /* tickets left unmerged */
  uv_prepare_t turn;
  uv_timer_t wake;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  int need_step;
  int cancels;
  int limit_hit;
  int fatal;
  int finished;
  int exit_code;
  int lockfd; /* STATE/<mission>.lock, held while we run it */
  int handles_ok;
  int own_store; /* opened the store itself */
  int closing;   /* engine handles still closing */
  int detaching; /* rt_engine_detach: runs close, agents live on */
  int aborted;   /* rt_engine_init failed */
  struct crl_err err;
  struct rt_gw *gw; /* the LLM gateway, when an agent is an LLM CLI */
  struct rt_gw_config *gw_cfg;
  struct rt_price_table *prices;
  json_t *unpriced;      /* models warned about as missing from the prices */
  struct rt_spend spent; /* the mission's LLM spending */
  struct rt_spend *spent_ticket; /* per ticket */
  struct rt_spend *spent_task;   /* per task */
};

int rt_engine_init(struct rt_engine *e, uv_loop_t *loop,
                   const struct rt_engine_opts *o, struct msn_mission *m,
                   struct crl_err *err);
/* Runs the loop until the mission is over; returns an RT_EXIT_* code. */
int rt_engine_run(struct rt_engine *e);
void rt_engine_close(struct rt_engine *e);
/* Cleans up after a failed rt_engine_init; an embedded engine only starts
 * closing (wait for rt_engine_idle, then rt_engine_close). */
void rt_engine_abort(struct rt_engine *e);
/* Stops watching the mission without stopping its agents (daemon shutdown):
 * every run's handles close, shims go on, the next engine re-attaches. The
 * engine is done once rt_engine_idle says so; then rt_engine_close. */
void rt_engine_detach(struct rt_engine *e);
/* 1 when the engine has finished or detached and its handles are closed. */
int rt_engine_idle(const struct rt_engine *e);

/* Human decisions and controls (engine-ctl.c). Each returns 0 or
 * CRL_ETASK_NOT_FOUND / CRL_EINVALID_TRANSITION with err set. */
int rt_engine_task_index(const struct rt_engine *e, const char *id);
int rt_engine_approve(struct rt_engine *e, size_t task, struct crl_err *err);
int rt_engine_reject(struct rt_engine *e, size_t task, const char *feedback,
                     struct crl_err *err);
int rt_engine_retry(struct rt_engine *e, size_t task, struct crl_err *err);
/* A failed task runs again resuming its agent CLI's session with turns
 * more turns (session.c says what else is refused). */
int rt_engine_resume(struct rt_engine *e, size_t task, int turns,
                     struct crl_err *err);
int rt_engine_cancel_task(struct rt_engine *e, size_t task,
                          struct crl_err *err);
int rt_engine_cancel(struct rt_engine *e, struct crl_err *err);
int rt_engine_pause(struct rt_engine *e, int paused, struct crl_err *err);
/* Answers an open question or approval ("approve"/"deny") of this engine;
 * CRL_EINVALID_TRANSITION when it is not open here (gate.c). */
int rt_engine_answer(struct rt_engine *e, int64_t id, const char *answer,
                     struct crl_err *err);
struct rt_question;
void rt_gate_run_ended(struct rt_engine *e, size_t task);
void rt_gate_resume(struct rt_engine *e);
void rt_gate_close_all(struct rt_engine *e);

/* Engine services used by runs. */
int64_t rt_engine_now(struct rt_engine *e);
void rt_engine_run_ended(struct rt_engine *e, struct rt_run *r,
                         enum sched_outcome outcome, const char *reason);
void rt_engine_run_line(struct rt_engine *e, struct rt_run *r,
                        const struct adapter_event *ev);
void rt_engine_run_closed(struct rt_engine *e, struct rt_run *r);
void rt_engine_event(struct rt_engine *e, const char *task, int64_t run,
                     const char *kind, const char *data);

/* Resume (resume.c): restores task states and re-attaches live runs. */
int rt_resume(struct rt_engine *e, struct crl_err *err);
/* Persists the mission's definition (upserts keep states). */
int rt_persist(struct rt_engine *e, struct crl_err *err);
void rt_engine_dispatch(struct rt_engine *e);

/* Ticket worktrees and commits (ticket.c), when the mission has a repo. */
struct rt_repo;
int rt_tickets_open(struct rt_engine *e, struct crl_err *err);
/* Records the repository and base in the store (after rt_persist). */
int rt_tickets_record(struct rt_engine *e, struct crl_err *err);
void rt_tickets_close(struct rt_engine *e);
/* The base as written, or "HEAD". */
const char *rt_ticket_base(const struct rt_engine *e);
/* refs/heads/corral/<mission>/<ticket> into out. */
void rt_ticket_branch(char *out, size_t len, const struct rt_engine *e,
                      size_t ticket);
char *rt_ticket_dir(const struct rt_run *r);
int rt_ticket_prepare(struct rt_run *r, struct crl_err *err);

/* What the policies say of a run's result. */
enum rt_verdict { RT_VERDICT_OK, RT_VERDICT_FAIL, RT_VERDICT_REVIEW };
/* Commits the run's work and checks the policies (r->verdict_reason says
 * which failed). */
enum rt_verdict rt_ticket_commit(struct rt_run *r);
/* Merges every ticket whose tasks have all completed (mergeq.c). */
void rt_tickets_merge(struct rt_engine *e);

/* Builds the plan to find whole-mission errors (cycles) as diagnostics. */
int rt_mission_check(const struct msn_mission *m, struct msn_diags *d);

/* The scheduler's options for one task of the mission. */
void rt_plan_task_opts(struct sched_task_opts *o, const struct msn_mission *m,
                       const struct msn_task *t);
/* Discovered tasks (discover.c): re-adds those the store recorded, after a
 * restart (before rt_resume). */
int rt_discover_restore(struct rt_engine *e, struct crl_err *err);
/* Builds the scheduler for a mission; CRL_ECYCLE etc. with err set. */
int rt_plan_build(struct sched **out, const struct msn_mission *m, int jobs,
                  struct crl_err *err);

/* The engine's LLM gateway (engine-gw.c, gateway.h). */
struct rt_gw;
struct rt_gw_config;
struct rt_gw_budget;
struct rt_gw_listener;
struct rt_price_table;
int rt_agent_uses_gw(const struct adapter_ops *ops);
int rt_engine_gw_init(struct rt_engine *e, struct crl_err *err);
void rt_engine_gw_close(struct rt_engine *e);
void rt_engine_gw_free(struct rt_engine *e);
/* A task's run caps: the least of what is left of its task's, ticket's
 * and the mission's budgets. */
void rt_engine_gw_budget(const struct rt_engine *e, size_t task,
                         struct rt_gw_budget *b);
/* Sums the mission's recorded llm.call events into the engine's spending
 * (a restarted engine keeps the caps); after rt_discover_restore. */
int rt_engine_gw_reload(struct rt_engine *e, struct crl_err *err);
/* Grows the per-task spending after a discovered task was added. */
void rt_engine_gw_grow(struct rt_engine *e);
/* The run's gateway back after a re-attach: the listening socket the shim
 * holds (run-agent.c). */
void rt_run_agent_attach(struct rt_run *r);

/* A run's home and gateway port (run-agent.c). */
int rt_run_agent_prepare(struct rt_run *r, struct adapter_run *a,
                         struct crl_err *err);
void rt_run_agent_spawned(struct rt_run *r);
void rt_run_agent_close(struct rt_run *r);
void rt_run_agent_argv(const struct rt_run *r,
                       void (*add)(void *a, const char *s), void *a);

/* Resuming an agent CLI's own session (session.c). */
#define RT_SESSION_ID_MAX 128
#define RT_RESUME_TURNS_MAX 1000

struct rt_session {
  int64_t run;                /* the run that recorded it */
  char id[RT_SESSION_ID_MAX]; /* the CLI's session id */
};

/* 1 when id is fit for a CLI's argv: letters, digits and "._:-", not
 * starting with '-', shorter than RT_SESSION_ID_MAX. */
int rt_session_id_ok(const char *id);
/* The session id of the task's latest run that recorded one (the last
 * "session" event whose id is fit); CRL_ENOT_FOUND when none did. */
int rt_session_find(struct rt_session *out, struct store *st,
                    const char *mission, const char *task, struct crl_err *err);
/* Checks a resume of task and records it for the task's next run (the
 * caller commits). Refused: the task not in m (CRL_ETASK_NOT_FOUND), its
 * agent not a CLI (CRL_EVALIDATION_FAILED), turns not in
 * 1..RT_RESUME_TURNS_MAX (CRL_EBAD_REQUEST), the task neither failed nor
 * cancelled (CRL_EINVALID_TRANSITION), no session recorded
 * (CRL_ENOT_FOUND). */
int rt_session_request(struct store *st, const struct msn_mission *m,
                       const char *task, int turns, struct crl_err *err);
/* Copies the directory tree from into to (which must not exist), modes
 * kept, links copied as links and never followed. */
int rt_session_home_copy(const char *from, const char *to, struct crl_err *err);
/* At a CLI run's start (r->home named, not made): when a resume was asked
 * for, takes it, makes the home as a copy of the session's and sets a's
 * session, turns and prompt; 1 then, 0 when no resume was asked. */
int rt_session_take(struct rt_run *r, struct adapter_run *a,
                    struct crl_err *err);

/* One run (run.c). */
struct rt_run *rt_run_new(struct rt_engine *e, size_t task, int64_t id,
                          int attempt, const char *dir);
/* Spawns the shim; on failure the run is ended with a spawn reason. */
void rt_run_spawn(struct rt_run *r);
/* Re-attaches to a live shim (resume). */
int rt_run_attach(struct rt_run *r, pid_t shim_pid, int64_t offset);
/* Finishes a run whose shim died while no engine watched it. */
void rt_run_finish_detached(struct rt_run *r, int64_t offset);
void rt_run_stop(struct rt_run *r, enum sched_stop_reason why);
/* A handle the run counts (the channel's) finished closing. */
void rt_run_handle_closed(struct rt_run *r);
/* The agent said it is alive: the heartbeat deadline moves on. */
void rt_run_heartbeat(struct rt_run *r);
/* Takes what the log holds, then closes the run's handles; the shim lives. */
void rt_run_detach(struct rt_run *r);
void rt_run_kill(struct rt_run *r);

/* Progress output (view.c). Lines are queued and written by
 * rt_view_flush, which the engine calls only after the store committed. */
struct rt_view *rt_view_new(uv_loop_t *loop, enum rt_view_mode mode,
                            struct rt_engine *e);
void rt_view_state(struct rt_view *v, size_t task, enum sched_state from,
                   enum sched_state to, const char *reason);
void rt_view_event(struct rt_view *v, int64_t seq, const char *task,
                   int64_t run, const char *kind, const char *data);
void rt_view_flush(struct rt_view *v);
/* Final redraw and close; code < 0 when the mission never started. */
void rt_view_finish(struct rt_view *v, int code);
void rt_view_free(struct rt_view *v);

#endif
