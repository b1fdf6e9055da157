/*
 * test-suggest.c: the did-you-mean distance (optimal string alignment) and
 * the rules for when a suggestion is offered.
 */
#include <criterion/criterion.h>

#include "mission-int.h"

static const char *const task_keys[] = {
    "id",       "needs",   "agent",        "prompt", "command",
    "env",      "timeout", "idle_timeout", "grace",  "retries",
    "estimate", "review",  "sandbox"};

Test(msn_suggest, distance_counts_edits) {
  cr_assert_eq(msn__distance("needs", "needs", 2), 0);
  cr_assert_eq(msn__distance("neeeds", "needs", 2), 1); /* insertion */
  cr_assert_eq(msn__distance("neds", "needs", 2), 1);   /* deletion */
  cr_assert_eq(msn__distance("meeds", "needs", 2), 1);  /* substitution */
  cr_assert_eq(msn__distance("nedes", "needs", 2), 1);  /* swap */
  cr_assert_eq(msn__distance("tiemuot", "timeout", 2), 2);
  cr_assert_eq(msn__distance("", "ab", 2), 2);
}

Test(msn_suggest, distance_is_capped) {
  cr_assert_eq(msn__distance("kitten", "sitting", 2), 3);
  cr_assert_eq(msn__distance("kitten", "sitting", 3), 3);
  cr_assert_eq(msn__distance("a", "abcdef", 2), 3);
  cr_assert_eq(msn__distance("frobnicate", "needs", 2), 3);
}

Test(msn_suggest, long_words_only_match_exactly) {
  char a[300], b[300];

  memset(a, 'x', sizeof(a) - 1);
  a[sizeof(a) - 1] = '\0';
  memcpy(b, a, sizeof(b));
  cr_assert_eq(msn__distance(a, b, 2), 0);
  b[5] = 'y';
  cr_assert_eq(msn__distance(a, b, 2), 3);
}

Test(msn_suggest, picks_nearest_known_key) {
  size_t n = CRL_ARRAY_SIZE(task_keys);

  cr_assert_str_eq(msn__suggest("neeeds", task_keys, n), "needs");
  cr_assert_str_eq(msn__suggest("tiemout", task_keys, n), "timeout");
  cr_assert_str_eq(msn__suggest("idle-timeout", task_keys, n), "idle_timeout");
  cr_assert_str_eq(msn__suggest("reviwe", task_keys, n), "review");
  cr_assert_str_eq(msn__suggest("Agent", task_keys, n), "agent");
  cr_assert_null(msn__suggest("frobnicate", task_keys, n));
  cr_assert_null(msn__suggest("depends_on", task_keys, n));
}

Test(msn_suggest, short_words_need_one_edit) {
  size_t n = CRL_ARRAY_SIZE(task_keys);

  cr_assert_str_eq(msn__suggest("ib", task_keys, n), "id");
  cr_assert_null(msn__suggest("xy", task_keys, n));
  cr_assert_null(msn__suggest("e", task_keys, n));
}

Test(msn_suggest, ties_go_to_the_first_candidate) {
  const char *const cands[] = {"high", "nigh", "sigh"};

  cr_assert_str_eq(msn__suggest("xigh", cands, 3), "high");
  cr_assert_str_eq(msn__suggest("nigh", cands, 3), "nigh");
  cr_assert_null(msn__suggest("high", cands, 0));
}
