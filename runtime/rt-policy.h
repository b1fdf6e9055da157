/*
 * Change policies (policy.c): `protect:` and `max_diff_lines:` checked on a
 * change between two commits of a ticket branch.
 */
#ifndef RT_POLICY_H
#define RT_POLICY_H

#include <jansson.h>

#include "mission.h"
#include "rt-git.h"

/* One violated policy: the protected paths touched, or the line count. */
struct rt_policy_hit {
  const struct msn_policy *policy;
  char **paths;
  size_t npaths;
  int64_t lines;
};

struct rt_policy_hits {
  struct rt_policy_hit *v;
  size_t n;
  int fail;   /* a violated policy's action is `failed` */
  int review; /* a violated policy's action is `pending_review` */
};

/* Checks the change from..to against the mission's policies. Returns the
 * number of violations (0 when none) or a negative code. Close *out. */
int rt_policy_check(struct rt_policy_hits *out, struct rt_repo *r,
                    const struct msn_mission *m, const char *from,
                    const char *to, struct crl_err *err);
void rt_policy_hits_close(struct rt_policy_hits *h);
/* {"policy":…, "action":…, "paths":[…], "lines":…} for an event. */
json_t *rt_policy_hit_json(const struct rt_policy_hit *h);

#endif
