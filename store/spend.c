/*
 * LLM spending, read back from the event log: the gateway records every
 * call as an "llm.call" event with its usage and price, and an engine that
 * starts again on the same store sums them per task to learn what its
 * budgets have left. The sum runs in SQL (json_extract), one row per task.
 */
#include "store-int.h"

#include <assert.h>

int store_spend_list(struct store *st, const char *mission, store_spend_cb cb,
                     void *payload, struct crl_err *err) {
  struct store_spend sp;
  sqlite3_stmt *s = NULL;
  int rc;

  assert(mission != NULL && cb != NULL);
  if ((rc = store__stmt_get(st, STORE_STMT_SPEND_LIST, &s, err)) < 0)
    return rc;
  store__bind_text(s, 1, mission);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    sp.task = store__col_text(s, 0);
    sp.calls = sqlite3_column_int64(s, 1);
    sp.tokens = sqlite3_column_int64(s, 2);
    sp.usd = sqlite3_column_double(s, 3);
    if ((rc = cb(&sp, payload)) != 0)
      goto out;
  }
  if ((rc = store__walk_end(st, rc, __func__)) < 0)
    crl_err_set(err, rc, "unable to sum the LLM spending of %s", mission);
out:
  store__stmt_put(st, STORE_STMT_SPEND_LIST, s);
  return rc;
}
