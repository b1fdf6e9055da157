/*
 * The pricing table: the shipped data file loads and prices the main
 * models, dated model names find their base entry (and never a shorter
 * different model), a user file overrides entries, bad files leave the
 * table alone, and an unknown model is CRL_ENOT_FOUND, never $0.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "price.h"

static struct rt_price_table *load(void) {
  struct rt_price_table *t = rt_price_table_new();
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(rt_price_table_load(t, PRICING_PATH, &err), 0, "%s", err.msg);
  return t;
}

static char *write_tmp(const char *text) {
  static char path[64];
  int fd;

  strcpy(path, "/tmp/corral-price-XXXXXX");
  fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

Test(price, shipped_table_prices_main_models) {
  struct rt_price_table *t = load();
  struct rt_usage u = {.input = 1000000,
                       .output = 1000000,
                       .cache_read = 1000000,
                       .cache_write = 1000000};
  double usd;

  cr_assert_geq(rt_price_table_count(t), 20);
  cr_assert_eq(rt_price_cost(t, "claude-sonnet-4-5", &u, &usd), 0);
  cr_assert_float_eq(usd, 3.0 + 15.0 + 0.3 + 3.75, 1e-9);
  cr_assert_eq(rt_price_cost(t, "gpt-5", &u, &usd), 0);
  cr_assert_eq(rt_price_cost(t, "gemini-2.5-pro", &u, &usd), 0);
  cr_assert_eq(rt_price_cost(t, "local-model", &u, &usd), 0);
  cr_assert_float_eq(usd, 1.0 + 2.0 + 0.1 + 1.25, 1e-9);
  rt_price_table_free(t);
}

Test(price, dated_names_find_their_base_entry) {
  struct rt_price_table *t = load();

  cr_assert_eq(rt_price_find(t, "claude-sonnet-4-5-20250929"),
               rt_price_find(t, "claude-sonnet-4-5"));
  cr_assert_eq(rt_price_find(t, "gpt-4o-2024-08-06"),
               rt_price_find(t, "gpt-4o"));
  cr_assert_eq(rt_price_find(t, "gpt-4o-mini-2024-07-18"),
               rt_price_find(t, "gpt-4o-mini"));
  cr_assert_neq(rt_price_find(t, "gpt-4o-mini"), rt_price_find(t, "gpt-4o"));
  cr_assert_null(rt_price_find(t, "gpt-4o-audio-preview"));
  cr_assert_null(rt_price_find(t, "claude-sonnet-4-5-x"));
  rt_price_table_free(t);
}

Test(price, unknown_model_is_not_found_never_free) {
  struct rt_price_table *t = load();
  struct rt_usage u = {.input = 10, .output = 10};
  double usd = 42;

  cr_assert_eq(rt_price_cost(t, "mystery-model", &u, &usd), CRL_ENOT_FOUND);
  cr_assert_eq(usd, 0.0);
  cr_assert_eq(rt_price_cost(t, NULL, &u, &usd), CRL_ENOT_FOUND);
  rt_price_table_free(t);
}

Test(price, user_file_overrides_and_adds) {
  struct rt_price_table *t = load();
  struct crl_err err = CRL_ERR_INIT;
  struct rt_usage u = {.input = 1000000};
  char *path = write_tmp("{\"version\":1,\"models\":{\"gpt-5\":{\"input\":9,"
                         "\"output\":9},\"my-model\":{\"input\":2,"
                         "\"output\":4}}}");
  double usd;

  cr_assert_eq(rt_price_table_load(t, path, &err), 0, "%s", err.msg);
  cr_assert_eq(rt_price_cost(t, "gpt-5", &u, &usd), 0);
  cr_assert_float_eq(usd, 9.0, 1e-9);
  u.cache_read = 1000000; /* cache prices default to the input price */
  cr_assert_eq(rt_price_cost(t, "my-model", &u, &usd), 0);
  cr_assert_float_eq(usd, 4.0, 1e-9);
  unlink(path);
  rt_price_table_free(t);
}

Test(price, bad_files_leave_the_table_alone) {
  struct rt_price_table *t = load();
  struct crl_err err = CRL_ERR_INIT;
  size_t n = rt_price_table_count(t);
  char *path;

  path = write_tmp("{\"version\":2,\"models\":{}}");
  cr_assert_eq(rt_price_table_load(t, path, &err), CRL_EPARSE);
  cr_assert_not_null(strstr(err.msg, "version"));
  unlink(path);
  path = write_tmp("{\"version\":1,\"models\":{\"new\":{\"input\":1,"
                   "\"output\":1},\"gpt-5\":{\"input\":-1,\"output\":1}}}");
  cr_assert_eq(rt_price_table_load(t, path, &err), CRL_EPARSE);
  cr_assert_null(rt_price_find(t, "new"));
  unlink(path);
  cr_assert_lt(rt_price_table_load(t, "/nonexistent/pricing.json", &err), 0);
  cr_assert_eq(rt_price_table_count(t), n);
  rt_price_table_free(t);
}
