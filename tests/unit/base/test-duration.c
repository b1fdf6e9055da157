#include <criterion/criterion.h>

#include "crl.h"

Test(crl_duration, parses_units_and_sums) {
  int64_t ms;

  cr_assert_eq(crl_duration_parse(&ms, "90s"), 0);
  cr_assert_eq(ms, 90000);
  cr_assert_eq(crl_duration_parse(&ms, "5m"), 0);
  cr_assert_eq(ms, 300000);
  cr_assert_eq(crl_duration_parse(&ms, "2h"), 0);
  cr_assert_eq(ms, 7200000);
  cr_assert_eq(crl_duration_parse(&ms, "1h30m"), 0);
  cr_assert_eq(ms, 5400000);
  cr_assert_eq(crl_duration_parse(&ms, "250ms"), 0);
  cr_assert_eq(ms, 250);
  cr_assert_eq(crl_duration_parse(&ms, "1d"), 0);
  cr_assert_eq(ms, 86400000);
}

Test(crl_duration, rejects_malformed) {
  int64_t ms = 7;
  const char *bad[] = {
      "", "10", "s", "5x", "1.5s", "-3s", "5 m", "m5", "99999999999999999999s"};

  for (size_t i = 0; i < CRL_ARRAY_SIZE(bad); i++)
    cr_assert_eq(crl_duration_parse(&ms, bad[i]), CRL_EPARSE, "%s", bad[i]);
  cr_assert_eq(ms, 7);
}

Test(crl_duration, formats_compactly) {
  char s[32];

  crl_duration_format(s, sizeof(s), 120);
  cr_assert_str_eq(s, "120ms");
  crl_duration_format(s, sizeof(s), 3400);
  cr_assert_str_eq(s, "3.4s");
  crl_duration_format(s, sizeof(s), 62000);
  cr_assert_str_eq(s, "1m02s");
  crl_duration_format(s, sizeof(s), 3720000);
  cr_assert_str_eq(s, "1h02m");
}
