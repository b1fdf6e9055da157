/*
 * Import: loads a trace's mission into this store, under its own name or a
 * new one. Rows keep their content; what names a row in this store is made
 * fresh: run, commit and question ids move past every id this store has
 * used (AUTOINCREMENT's sqlite_sequence included), events get new sequence
 * numbers in their recorded order, and the run ids inside event data
 * ({"run": N}) and run directories follow. Everything happens in the
 * caller's turn transaction, so a failed import leaves nothing behind once
 * the caller rolls back by not committing.
 */
#include "store-int.h"

#include <stdio.h>
#include <string.h>

/* ?1 the new mission id, ?2 the run id offset, ?3 the runs directory,
 * ?4 the commit id offset, ?5 the question id offset. */
static const char *const import_sql[] = {
    "INSERT INTO missions (id, file, state, created_at, updated_at, repo,"
    " base) SELECT ?1, file, state, created_at, updated_at, repo, base"
    " FROM tr.missions",
    "INSERT INTO tickets (mission_id, id, title, priority, state, branch,"
    " head, merged, detail) SELECT ?1, id, title, priority, state, branch,"
    " head, merged, detail FROM tr.tickets",
    "INSERT INTO tasks (mission_id, id, ticket_id, agent, position, state,"
    " attempts, reason, started_at, ended_at, feedback, phase) SELECT ?1, id,"
    " ticket_id, agent, position, state, attempts, reason, started_at,"
    " ended_at, feedback, phase FROM tr.tasks",
    "INSERT INTO deps (mission_id, task_id, needs_id) SELECT ?1, task_id,"
    " needs_id FROM tr.deps",
    "INSERT INTO runs (id, mission_id, task_id, attempt, state, dir, shim_pid,"
    " shim_start, pid, exit_code, signal, reason, err_no, log_offset,"
    " started_at, ended_at) SELECT id + ?2, ?1, task_id, attempt, state,"
    " ?3 || '/' || (id + ?2), 0, 0, 0, exit_code, signal, reason, err_no,"
    " log_offset, started_at, ended_at FROM tr.runs ORDER BY id",
    "INSERT INTO events (ts, mission_id, task_id, run_id, kind, data) SELECT"
    " ts, ?1, task_id, CASE run_id WHEN 0 THEN 0 ELSE run_id + ?2 END, kind,"
    " CASE WHEN json_valid(data) AND json_type(data, '$.run') = 'integer'"
    " THEN json_set(data, '$.run', json_extract(data, '$.run') + ?2)"
    " ELSE data END FROM tr.events ORDER BY seq",
    "INSERT INTO commits (id, mission_id, ticket_id, task_id, run_id, agent,"
    " branch, sha, parent, files, insertions, deletions, created_at) SELECT"
    " id + ?4, ?1, ticket_id, task_id, CASE run_id WHEN 0 THEN 0 ELSE"
    " run_id + ?2 END, agent, branch, sha, parent, files, insertions,"
    " deletions, created_at FROM tr.commits ORDER BY id",
    "INSERT INTO commit_files (commit_id, path, insertions, deletions) SELECT"
    " commit_id + ?4, path, insertions, deletions FROM tr.commit_files",
    "INSERT INTO questions (id, mission_id, task_id, run_id, kind, text,"
    " state, answer, default_answer, deadline, created_at, answered_at)"
    " SELECT id + ?5, ?1, task_id, CASE run_id WHEN 0 THEN 0 ELSE"
    " run_id + ?2 END, kind, text, state, answer, default_answer, deadline,"
    " created_at, answered_at FROM tr.questions ORDER BY id",
    "INSERT INTO llm_calls SELECT ?1, task_id, run_id + ?2, seq, ts, provider,"
    " api, method, path, model, status, stream, refused, replayed,"
    " content_type, request, request_truncated, response, response_truncated,"
    " input, output, cache_read, cache_write, reasoning, usage_seen, usd,"
    " unpriced, latency_ms, ttfb_ms, error FROM tr.llm_calls"
    " ORDER BY run_id, seq",
};

/* The first id free in `table` for good: past its rows and past
 * sqlite_sequence, which remembers ids of deleted rows. */
static int import_offset(struct store *st, const char *table, int64_t *out,
                         struct crl_err *err) {
  char sql[256];
  sqlite3_stmt *s = NULL;
  int rc = 0;

  snprintf(sql, sizeof(sql),
           "SELECT max(ifnull((SELECT max(id) FROM main.%s), 0),"
           " ifnull((SELECT seq FROM main.sqlite_sequence WHERE name = '%s'),"
           " 0))",
           table, table);
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW)
    rc = store__fail(st, "unable to read ids", err);
  else
    *out = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc;
}

static int import_one(struct store *st, const char *sql,
                      const struct store_import *im, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return store__fail(st, "unable to import", err);
  store__bind_text(s, 1, im->as);
  store__bind_int(s, 2, im->run_offset);
  store__bind_text(s, 3, im->runs_dir);
  store__bind_int(s, 4, im->commit_offset);
  store__bind_int(s, 5, im->question_offset);
  rc = store__step_done(st, s, "unable to import", err);
  sqlite3_finalize(s);
  return rc;
}

static int import_attach(struct store *st, const char *path, int attach,
                         struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if (sqlite3_prepare_v2(
          st->db, attach ? "ATTACH DATABASE ?1 AS tr" : "DETACH DATABASE tr",
          -1, &s, NULL) != SQLITE_OK)
    return store__fail(st, "unable to attach the trace", err);
  if (attach)
    store__bind_text(s, 1, path);
  rc = store__step_done(st, s, "unable to attach the trace", err);
  sqlite3_finalize(s);
  return rc;
}

static int import_rows(struct store *st, struct store_import *im,
                       struct crl_err *err) {
  int rc;

  if ((rc = import_offset(st, "runs", &im->run_offset, err)) < 0 ||
      (rc = import_offset(st, "commits", &im->commit_offset, err)) < 0 ||
      (rc = import_offset(st, "questions", &im->question_offset, err)) < 0 ||
      (rc = store__begin(st, err)) < 0)
    return rc;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(import_sql); i++)
    if ((rc = import_one(st, import_sql[i], im, err)) < 0)
      return rc;
  return 0;
}

int store_trace_import(struct store *st, const char *path,
                       struct store_import *im, struct crl_err *err) {
  int rc;

  if (store__mission_exists(st, im->as))
    return crl_err_set(err, CRL_EDUPLICATE,
                       "mission '%s' exists in this state dir (import it "
                       "under another name with --as NEW)",
                       im->as);
  /* ATTACH is refused inside a transaction. */
  if ((rc = store_commit(st, err)) < 0 ||
      (rc = import_attach(st, path, 1, err)) < 0)
    return rc;
  rc = import_rows(st, im, err);
  if (rc == 0)
    rc = store_commit(st, err);
  else if (store_dirty(st))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  if (import_attach(st, NULL, 0, NULL) < 0)
    log_warn("%s: unable to detach %s", __func__, path);
  return rc;
}
