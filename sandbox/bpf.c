/*
 * The seccomp filter as the sandbox uses it: classic BPF, compiled from the
 * rules of seccomp.c by libseccomp when corral is built (seccomp-gen.c
 * writes seccomp-filter.h), copied into each plan in the parent, and handed
 * to prctl in the child. Compiling at every start cost about a third of a
 * millisecond and a link to libseccomp for nothing: the filter is the same
 * for every profile and every run. A unit test checks the built-in copy
 * against a fresh compile, so the two cannot drift apart.
 */
#include "sbx-int.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "seccomp-filter.h"

void sbx__seccomp_prebuilt(struct sbx__bpf *out) {
  out->len = CRL_ARRAY_SIZE(sbx__seccomp_filter);
  out->insns = xcalloc(out->len, sizeof(struct sock_filter));
  memcpy(out->insns, sbx__seccomp_filter, sizeof(sbx__seccomp_filter));
}

/* Child side: no allocation, no libseccomp. The caller has set
 * no_new_privs, without which an unprivileged process gets EACCES. */
int sbx__seccomp_install(const struct sbx__bpf *bpf) {
  struct sock_fprog prog;

  if (bpf == NULL || bpf->insns == NULL || bpf->len == 0)
    return -EINVAL;
  prog.len = (unsigned short)bpf->len;
  prog.filter = bpf->insns;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
    return -errno;
  return 0;
}

void sbx__bpf_free(struct sbx__bpf *bpf) {
  if (bpf == NULL)
    return;
  free(bpf->insns);
  bpf->insns = NULL;
  bpf->len = 0;
}
