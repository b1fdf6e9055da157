/*
 * Whole-mission checks that need the scheduler: the file may be valid YAML
 * and schema yet describe a cycle. The cycle is reported like any other
 * diagnostic, at the position of the first task on it.
 */
#include "rt-int.h"

#include <string.h>

static void check_cycle_diag(const struct msn_mission *m,
                             const struct crl_err *err, struct msn_diags *d) {
  const char *msg = err->msg, *arrow = strstr(msg, " -> ");
  const char *start = arrow ? arrow : msg;
  char id[256];
  int idx = -1;

  /* The message ends "... a -> b -> a": find the first id on the cycle. */
  while (start > msg && start[-1] != ' ' && start[-1] != ':')
    start--;
  if (arrow != NULL && (size_t)(arrow - start) < sizeof(id)) {
    memcpy(id, start, (size_t)(arrow - start));
    id[arrow - start] = '\0';
    idx = msn_task_find(m, id);
  }
  msn_diags_add(d, m->file, idx >= 0 ? m->tasks[idx].line : 1,
                idx >= 0 ? m->tasks[idx].col : 1, "dependency cycle: %s",
                start);
}

int rt_mission_check(const struct msn_mission *m, struct msn_diags *d) {
  struct crl_err err = CRL_ERR_INIT;
  struct sched *s = NULL;
  int rc;

  if ((rc = rt_plan_build(&s, m, 0, &err)) == 0) {
    sched_free(s);
    return 0;
  }
  if (rc == CRL_ECYCLE)
    check_cycle_diag(m, &err, d);
  else
    msn_diags_add(d, m->file, 1, 1, "%s", err.msg);
  return rc;
}
