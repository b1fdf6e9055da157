/*
 * The built-in profiles: agent is the default and sees the system read-only
 * with no network, strict is smaller and has no resolver files, network
 * shares the host's network, none turns the sandbox off, and copies are
 * deep.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sbx-int.h"

TestSuite(sbx_profile, .timeout = 10);

static int has(char *const *v, const char *s) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    if (strcmp(v[i], s) == 0)
      return 1;
  return 0;
}

Test(sbx_profile, agent_is_readonly_system_without_network) {
  struct sbx_profile p;

  cr_assert_eq(sbx_profile_builtin(&p, "agent"), 0);
  cr_assert_str_eq(p.name, "agent");
  cr_assert_eq(p.enabled, 1);
  cr_assert_eq(p.net, SBX_NET_NONE);
  cr_assert_eq(p.tmp_size, INT64_C(1) << 30);
  cr_assert(has(p.readonly, "/usr") && has(p.readonly, "/etc/passwd"));
  cr_assert(has(p.readonly, "/etc/resolv.conf"));
  cr_assert(!has(p.readonly, "/etc") && !has(p.readonly, "/home"));
  cr_assert_null(p.writable);
  cr_assert_null(p.hidden);
  sbx_profile_close(&p);
  cr_assert_null(p.name);
}

Test(sbx_profile, strict_has_small_tmp_and_no_resolver) {
  struct sbx_profile p;

  cr_assert_eq(sbx_profile_builtin(&p, "strict"), 0);
  cr_assert_eq(p.net, SBX_NET_NONE);
  cr_assert_eq(p.tmp_size, INT64_C(256) << 20);
  cr_assert(has(p.readonly, "/usr") && has(p.readonly, "/etc/passwd"));
  cr_assert(!has(p.readonly, "/etc/resolv.conf"));
  cr_assert(!has(p.readonly, "/etc/hosts"));
  sbx_profile_close(&p);
}

Test(sbx_profile, network_shares_the_host_network) {
  struct sbx_profile p;

  cr_assert_eq(sbx_profile_builtin(&p, "network"), 0);
  cr_assert_eq(p.enabled, 1);
  cr_assert_eq(p.net, SBX_NET_HOST);
  cr_assert(has(p.readonly, "/etc/resolv.conf"));
  sbx_profile_close(&p);
}

Test(sbx_profile, none_is_disabled) {
  struct sbx_profile p;

  cr_assert_eq(sbx_profile_builtin(&p, "none"), 0);
  cr_assert_eq(p.enabled, 0);
  cr_assert_null(p.readonly);
  sbx_profile_close(&p);
}

Test(sbx_profile, unknown_name_is_not_found) {
  struct sbx_profile p;

  cr_assert_eq(sbx_profile_builtin(&p, "docker"), CRL_ENOT_FOUND);
  sbx_profile_close(NULL);
}

Test(sbx_profile, copy_is_deep) {
  struct sbx_profile p, q;

  cr_assert_eq(sbx_profile_builtin(&p, "agent"), 0);
  sbx__profile_copy(&q, &p);
  cr_assert_neq(q.readonly, p.readonly);
  cr_assert_neq(q.readonly[0], p.readonly[0]);
  cr_assert_str_eq(q.readonly[0], p.readonly[0]);
  sbx_profile_close(&p);
  cr_assert_str_eq(q.name, "agent");
  sbx_profile_close(&q);
}
