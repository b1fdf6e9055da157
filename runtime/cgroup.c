/*
 * Where runs get their cgroups. The engine looks once for a cgroup v2
 * hierarchy (/sys/fs/cgroup itself, or the "unified" mount of a hybrid
 * host), finds its own cgroup there, and tries to create a "corral" child
 * it may write to. When that works every shim makes a leaf under it for its
 * agent's tree (cgroup.kill then stops the tree atomically); when it does
 * not (no v2, no delegation) runs go without, and the shim's subreaper walk
 * remains the way the tree is found. Resource limits are the sandbox's job.
 */
#include "rt-int.h"
#include "sbx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *cgroup_mount(void) {
  static const char *const cands[] = {"/sys/fs/cgroup",
                                      "/sys/fs/cgroup/unified"};
  struct statfs sf;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(cands); i++)
    if (statfs(cands[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
      return cands[i];
  return NULL;
}

/* Our own v2 cgroup path ("0::/a/b" in /proc/self/cgroup), or NULL. */
static char *cgroup_self(void) {
  char line[4096], *out = NULL;
  FILE *fp = fopen("/proc/self/cgroup", "re");

  if (fp == NULL)
    return NULL;
  while (out == NULL && fgets(line, sizeof(line), fp) != NULL)
    if (strncmp(line, "0::", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      out = xstrdup(strcmp(line + 3, "/") == 0 ? "" : line + 3);
    }
  fclose(fp);
  return out;
}

char *rt_cgroup_parent(void) {
  const char *mnt = cgroup_mount();
  char *self, *dir = NULL, *probe;

  if (sbx_simulate_missing("cgroup") || mnt == NULL ||
      (self = cgroup_self()) == NULL)
    return NULL;
  xasprintf(&dir, "%s%s/corral", mnt, self);
  free(self);
  xasprintf(&probe, "%s/cgroup.procs", dir);
  if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || access(probe, W_OK) < 0) {
    log_info("no writable cgroup v2 parent at %s: runs go without", dir);
    free(dir);
    dir = NULL;
  }
  free(probe);
  return dir;
}
