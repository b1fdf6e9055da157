/*
 * Tests for struct adapter_env: set replaces an earlier key in place, put
 * parses KEY=VALUE, and the vector stays NULL-terminated as it grows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"

Test(adapter_env, empty_vector_is_null_terminated) {
  struct adapter_env e;

  adapter_env_init(&e);
  cr_assert_not_null(e.v);
  cr_assert_null(e.v[0]);
  cr_assert_null(adapter_env_get(&e, "HOME"));
  adapter_env_close(&e);
  adapter_env_close(&e);
}

Test(adapter_env, set_replaces_in_place) {
  struct adapter_env e;

  adapter_env_init(&e);
  adapter_env_set(&e, "A", "1");
  adapter_env_set(&e, "AB", "2");
  adapter_env_set(&e, "A", "3");
  cr_assert_eq(e.n, 2);
  cr_assert_str_eq(e.v[0], "A=3");
  cr_assert_str_eq(e.v[1], "AB=2");
  cr_assert_null(e.v[2]);
  cr_assert_str_eq(adapter_env_get(&e, "A"), "3");
  cr_assert_str_eq(adapter_env_get(&e, "AB"), "2");
  cr_assert_null(adapter_env_get(&e, "ABC"));
  adapter_env_close(&e);
}

Test(adapter_env, put_parses_and_rejects) {
  struct adapter_env e;

  adapter_env_init(&e);
  cr_assert_eq(adapter_env_put(&e, "PATH=/bin:/usr/bin"), 0);
  cr_assert_eq(adapter_env_put(&e, "EMPTY="), 0);
  cr_assert_eq(adapter_env_put(&e, "X=a=b"), 0);
  cr_assert_eq(adapter_env_put(&e, "PATH=/opt"), 0);
  cr_assert_eq(adapter_env_put(&e, "NOEQUALS"), CRL_EPARSE);
  cr_assert_eq(adapter_env_put(&e, "=v"), CRL_EPARSE);
  cr_assert_eq(e.n, 3);
  cr_assert_str_eq(adapter_env_get(&e, "PATH"), "/opt");
  cr_assert_str_eq(adapter_env_get(&e, "EMPTY"), "");
  cr_assert_str_eq(adapter_env_get(&e, "X"), "a=b");
  adapter_env_close(&e);
}

Test(adapter_env, grows_and_stays_terminated) {
  struct adapter_env e;
  char key[16];
  int i;

  adapter_env_init(&e);
  for (i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "K%d", i);
    adapter_env_set(&e, key, key);
    cr_assert_null(e.v[e.n]);
  }
  cr_assert_eq(e.n, 100);
  cr_assert_str_eq(adapter_env_get(&e, "K42"), "K42");
  adapter_env_close(&e);
}
