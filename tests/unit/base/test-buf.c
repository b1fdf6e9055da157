#include <criterion/criterion.h>
#include <string.h>

#include "crl.h"

Test(crl_buf, append_keeps_nul_and_length) {
  struct crl_buf b;

  crl_buf_init(&b, 0);
  cr_assert_eq(crl_buf_append(&b, "abc", 3), 0);
  cr_assert_eq(crl_buf_printf(&b, "-%d", 42), 0);
  cr_assert_str_eq(b.data, "abc-42");
  cr_assert_eq(b.len, 6);
  crl_buf_close(&b);
}

Test(crl_buf, append_past_max_fails_and_keeps_content) {
  struct crl_buf b;

  crl_buf_init(&b, 4);
  cr_assert_eq(crl_buf_append(&b, "abcd", 4), 0);
  cr_assert_eq(crl_buf_append(&b, "e", 1), CRL_ETOOBIG);
  cr_assert_str_eq(b.data, "abcd");
  crl_buf_close(&b);
}

Test(crl_buf, consume_drops_prefix) {
  struct crl_buf b;

  crl_buf_init(&b, 0);
  crl_buf_append(&b, "hello world", 11);
  crl_buf_consume(&b, 6);
  cr_assert_str_eq(b.data, "world");
  crl_buf_consume(&b, 100);
  cr_assert_eq(b.len, 0);
  crl_buf_close(&b);
}

Test(crl_escape, control_bytes_become_hex) {
  struct crl_buf b;

  crl_buf_init(&b, 0);
  crl_escape(&b, "a\x1b[2Jb\n", 7);
  cr_assert_str_eq(b.data, "a\\x1b[2Jb\\x0a");
  crl_buf_close(&b);
}
