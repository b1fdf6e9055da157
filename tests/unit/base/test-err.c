#include <criterion/criterion.h>
#include <errno.h>

#include "crl.h"

Test(crl_err, codes_are_distinct_and_below_errno_range) {
  cr_assert_eq(CRL_EBAD_REQUEST, -1000);
  cr_assert_lt(CRL_ETASK_NOT_FOUND, CRL_EBAD_REQUEST);
  cr_assert_str_eq(crl_err_name(CRL_ETASK_NOT_FOUND), "TASK_NOT_FOUND");
  cr_assert_str_eq(crl_err_name(CRL_EINVALID_TRANSITION), "INVALID_TRANSITION");
  cr_assert_str_eq(crl_strerror(CRL_ECYCLE), "dependency cycle");
}

Test(crl_err, errno_codes_fall_through) {
  cr_assert_str_eq(crl_err_name(-ENOENT), "ENOENT");
  cr_assert_str_eq(crl_strerror(-ENOENT), "No such file or directory");
}

Test(crl_err, set_formats_and_returns_code) {
  struct crl_err e = CRL_ERR_INIT;

  cr_assert_eq(crl_err_set(&e, CRL_EPARSE, "at %d:%d", 3, 4), CRL_EPARSE);
  cr_assert_eq(e.code, CRL_EPARSE);
  cr_assert_str_eq(e.msg, "at 3:4");
  cr_assert_eq(crl_err_set(NULL, CRL_EPARSE, "x"), CRL_EPARSE);
}
