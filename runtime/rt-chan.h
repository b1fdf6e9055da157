/*
 * The agent channel of a run (chan.c) and the gates it feeds (gate.c):
 * heartbeats, progress, usage, questions and action approvals.
 */
#ifndef RT_CHAN_H
#define RT_CHAN_H

#include <jansson.h>

#include "rt-int.h"

struct rt_chan_conn;

/* RUNDIR/chan, the directory the sandbox shows the agent. Heap. */
char *rt_chan_dir(const struct rt_run *r);
/* Listens on RUNDIR/chan/agent.sock; the run counts its handles. */
int rt_chan_open(struct rt_run *r, struct crl_err *err);
/* Closes the listener and every connection. */
void rt_chan_close(struct rt_run *r);
/* One JSON line to the agent (steals msg). */
void rt_chan_reply(struct rt_chan_conn *c, json_t *msg);
void rt_chan_error(struct rt_chan_conn *c, int code, const char *msg);

/* gate.c: what the engine does with a message (msg borrowed). */
void rt_engine_chan_message(struct rt_run *r, struct rt_chan_conn *c,
                            json_t *msg);
void rt_engine_discover(struct rt_run *r, struct rt_chan_conn *c, json_t *msg);
/* A connection went away: nobody waits on it any more. */
void rt_engine_chan_gone(struct rt_run *r, struct rt_chan_conn *c);

#endif
