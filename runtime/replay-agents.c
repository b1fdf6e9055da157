/*
 * Agents-mode replay: placeholder until the exec path lands below.
 */
#include "rt-int.h"
#include "rt-trace.h"

int rt_replay_agents(struct store *tr, const char *trace_path,
                     const char *work_dir, int llm, FILE *fp,
                     struct crl_err *err) {
  (void)tr;
  (void)trace_path;
  (void)work_dir;
  (void)fp;
  (void)llm;
  return crl_err_set(err, CRL_EINTERNAL, "not yet");
}
