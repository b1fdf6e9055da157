/*
 * The daemon (corral daemon): one libuv loop serving the control socket and
 * running any number of missions, each an embedded engine sharing one
 * store. Files: daemon.c (lifecycle, missions and their engines),
 * daemon-feed.c (Server-Sent Event subscribers and run output followers,
 * fed after every store commit), api-*.c (the /v1/ resources), and
 * cmd-daemon.c (the verb: options, systemd, signals).
 */
#ifndef RT_DAEMON_H
#define RT_DAEMON_H

#include "http.h"
#include "rt-int.h"

struct rt_daemon;

/* One mission the daemon knows in this process. */
struct rt_dmission {
  struct rt_daemon *d;
  char *id;
  struct msn_mission *m;
  struct rt_engine eng;
  int running; /* the engine is initialised and not closed */
  int done;    /* the engine finished (or detached); close it */
  struct rt_dmission *next;
};

struct rt_feed; /* an SSE subscriber or an output follower */

struct rt_daemon_opts {
  const char *state_dir;
  const char *socket_path; /* NULL: serve listen_fd */
  int listen_fd;           /* systemd socket activation, or -1 */
  int stop_agents;         /* SIGTERM stops runs instead of leaving them */
  int allow_gid;
  gid_t gid;
  int jobs;
};

struct rt_daemon {
  uv_loop_t *loop;
  struct rt_daemon_opts opts;
  char *state_dir;
  char *shim;
  struct store *st;
  struct rt_http_server *http;
  struct rt_dmission *missions;
  struct rt_feed *feeds;
  uv_signal_t sigterm, sigint, sighup;
  uv_check_t reap;
  uv_timer_t pump;
  int64_t started_ms;
  int stopping;
  int exit_code;
  uint64_t events_sent, feeds_dropped;
  char **pending; /* missions to take up, gathered during a store walk */
  size_t npending;
  struct crl_err err;
};

/* daemon.c */
int rt_daemon_init(struct rt_daemon *d, uv_loop_t *loop,
                   const struct rt_daemon_opts *o, struct crl_err *err);
/* Runs until SIGTERM/SIGINT; returns the exit code. */
int rt_daemon_run(struct rt_daemon *d);
void rt_daemon_close(struct rt_daemon *d);
/* Starts stopping: no new connections, engines detach (or cancel their runs
 * with --stop-agents), the loop ends once everything is closed. */
void rt_daemon_stop(struct rt_daemon *d);
struct rt_dmission *rt_daemon_mission(struct rt_daemon *d, const char *id);
/*
 * Loads a mission source (YAML, or JSON when is_json) submitted over the
 * socket, keeps a copy under STATE/missions/, and starts its engine. file
 * (may be NULL) names it in diagnostics.
 * Validation problems go to diags (CRL_EVALIDATION_FAILED); a mission that
 * is running already is CRL_EAGENT_BUSY.
 */
int rt_daemon_submit(struct rt_daemon *d, const char *buf, size_t len,
                     int is_json, const char *dir, const char *file,
                     struct msn_diags *diags, struct rt_dmission **out,
                     struct crl_err *err);
/* Loads a known mission as the daemon saved it, else from its file; *m is
 * the caller's (msn_mission_free). */
int rt_daemon_load(struct msn_mission **m, struct rt_daemon *d, const char *id,
                   struct crl_err *err);
/* Starts the engine of a known mission again from its saved source or its
 * file (resume: live runs re-attach, unfinished tasks go on). */
int rt_daemon_restart(struct rt_daemon *d, const char *id,
                      struct rt_dmission **out, struct crl_err *err);

/* daemon-feed.c */
void rt_daemon_feed_events(struct rt_daemon *d, struct rt_http_req *req,
                           const char *mission, int64_t after);
void rt_daemon_feed_output(struct rt_daemon *d, struct rt_http_req *req,
                           int64_t run, const char *dir, int64_t offset);
/* Sends what is new to every feed (after a commit, and from a timer for
 * feeds that were held back by a slow client). */
void rt_daemon_feed_pump(struct rt_daemon *d);
void rt_daemon_feed_close_all(struct rt_daemon *d);
size_t rt_daemon_feed_count(const struct rt_daemon *d);

/* api.c: the route table. */
extern const struct rt_http_route rt_api_routes[];
extern const size_t rt_api_nroutes;

#endif
