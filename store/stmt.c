/*
 * The prepared-statement cache. Every SQL statement the store runs is
 * listed once here, in a table indexed by enum store_stmt, and prepared once
 * when the store opens (so a typo fails at open, not mid-mission). Callers
 * borrow a statement, bind, step, and hand it back, which resets it: a
 * statement left stepping would hold a read snapshot open and hide other
 * connections' commits. Positional parameters (?1, ?2, ...) are documented
 * by the functions that bind them.
 */
#include "store-int.h"

#include <assert.h>

#define RUN_COLS                                                         \
  "id, mission_id, task_id, attempt, state, dir, shim_pid, shim_start, " \
  "pid, exit_code, signal, reason, err_no, log_offset, started_at, "     \
  "ended_at"

#define TASK_COLS                                                         \
  "mission_id, id, ticket_id, agent, state, reason, attempts, position, " \
  "started_at, ended_at, feedback, phase, resume_turns"

#define QUESTION_COLS                                            \
  "id, mission_id, task_id, run_id, kind, text, state, answer, " \
  "default_answer, deadline, created_at, answered_at"

#define LLM_COLS                                                        \
  "mission_id, task_id, run_id, seq, ts, provider, api, method, path, " \
  "model, status, stream, refused, replayed, content_type, request, "   \
  "request_truncated, response, response_truncated, input, output, "    \
  "cache_read, cache_write, reasoning, usage_seen, usd, unpriced, "     \
  "latency_ms, ttfb_ms, error"

#define TICKET_COLS                                                    \
  "t.mission_id, t.id, t.title, t.state, t.branch, t.head, t.merged, " \
  "t.detail, m.repo, m.base"

static const char *const stmt_sql[STORE_STMT__COUNT] = {
    [STORE_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STORE_STMT_COMMIT] = "COMMIT",

    [STORE_STMT_MISSION_UPSERT] =
        "INSERT INTO missions (id, file, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (id) DO UPDATE SET "
        "file = excluded.file, updated_at = excluded.updated_at",
    [STORE_STMT_MISSION_SET_STATE] =
        "UPDATE missions SET state = ?2, updated_at = ?3 WHERE id = ?1",
    [STORE_STMT_MISSION_GET] = "SELECT id, file, state, created_at, "
                               "updated_at, repo, base FROM missions "
                               "WHERE id = ?1",
    [STORE_STMT_MISSION_LIST] =
        "SELECT id, file, state, created_at, updated_at, repo, base "
        "FROM missions "
        "ORDER BY created_at DESC, rowid DESC",

    [STORE_STMT_TICKET_UPSERT] =
        "INSERT INTO tickets (mission_id, id, title, priority) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (mission_id, id) DO UPDATE SET "
        "title = excluded.title, priority = excluded.priority",
    [STORE_STMT_TASK_UPSERT] =
        "INSERT INTO tasks (mission_id, id, ticket_id, agent, position) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (mission_id, id) DO UPDATE "
        "SET ticket_id = excluded.ticket_id, agent = excluded.agent, "
        "position = excluded.position",
    [STORE_STMT_DEP_ADD] = "INSERT INTO deps (mission_id, task_id, needs_id) "
                           "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    [STORE_STMT_TASK_SET_STATE] =
        "UPDATE tasks SET state = ?3, attempts = ?4, "
        "reason = coalesce(?5, reason), "
        "started_at = CASE WHEN ?6 < 0 THEN started_at ELSE ?6 END, "
        "ended_at = CASE WHEN ?7 < 0 THEN ended_at ELSE ?7 END "
        "WHERE mission_id = ?1 AND id = ?2",
    [STORE_STMT_TASK_GET] =
        "SELECT " TASK_COLS " FROM tasks WHERE mission_id = ?1 AND id = ?2",
    [STORE_STMT_TASK_LIST] = "SELECT " TASK_COLS " FROM tasks "
                             "WHERE mission_id = ?1 ORDER BY position, id",

    [STORE_STMT_RUN_INSERT] =
        "INSERT INTO runs (mission_id, task_id, attempt, state, dir, "
        "started_at) VALUES (?1, ?2, ?3, 'starting', ?4, ?5)",
    [STORE_STMT_RUN_SET_DIR] = "UPDATE runs SET dir = ?2 WHERE id = ?1",
    [STORE_STMT_RUN_SET_SPAWNED] =
        "UPDATE runs SET state = 'running', shim_pid = ?2, shim_start = ?3, "
        "pid = ?4 WHERE id = ?1",
    [STORE_STMT_RUN_SET_OFFSET] =
        "UPDATE runs SET log_offset = ?2 WHERE id = ?1",
    [STORE_STMT_COMMIT_ADD] =
        "INSERT INTO commits (mission_id, ticket_id, task_id, run_id, agent, "
        "branch, sha, parent, files, insertions, deletions, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [STORE_STMT_COMMIT_FILE_ADD] =
        "INSERT OR REPLACE INTO commit_files (commit_id, path, insertions, "
        "deletions) VALUES (?1, ?2, ?3, ?4)",
    [STORE_STMT_COMMIT_LIST] =
        "SELECT id, mission_id, ticket_id, task_id, run_id, agent, branch, "
        "sha, parent, files, insertions, deletions, created_at FROM commits "
        "WHERE mission_id = ?1 ORDER BY id",
    [STORE_STMT_RUN_END] =
        "UPDATE runs SET state = 'ended', exit_code = ?2, signal = ?3, "
        "reason = ?4, err_no = ?5, ended_at = ?6 WHERE id = ?1",
    [STORE_STMT_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?1",
    [STORE_STMT_RUN_LIST_LIVE] = "SELECT " RUN_COLS " FROM runs "
                                 "WHERE mission_id = ?1 AND state <> 'ended' "
                                 "ORDER BY id",
    [STORE_STMT_RUN_LIST] = "SELECT " RUN_COLS " FROM runs "
                            "WHERE mission_id = ?1 ORDER BY id",
    /* One task's runs: its own statement, so runs_task serves it. */
    [STORE_STMT_RUN_LIST_TASK] = "SELECT " RUN_COLS " FROM runs "
                                 "WHERE mission_id = ?1 AND task_id = ?2 "
                                 "ORDER BY id",

    [STORE_STMT_EVENT_APPEND] =
        "INSERT INTO events (ts, mission_id, task_id, run_id, kind, data) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* Two list statements so that a mission's listing walks the
     * (mission_id, seq) index instead of every event. */
    [STORE_STMT_EVENT_LIST_ALL] =
        "SELECT seq, ts, mission_id, task_id, run_id, kind, data FROM events "
        "WHERE seq > ?1 AND (?2 IS NULL OR task_id = ?2) ORDER BY seq",
    [STORE_STMT_EVENT_LIST_MISSION] =
        "SELECT seq, ts, mission_id, task_id, run_id, kind, data FROM events "
        "WHERE mission_id = ?3 AND seq > ?1 "
        "AND (?2 IS NULL OR task_id = ?2) ORDER BY seq",

    /* LLM spending per task, from the gateway's llm.call events: tokens of
     * every class when the answer had usage, dollars of priced calls. */
    [STORE_STMT_SPEND_LIST] =
        "SELECT task_id, count(*), "
        "sum(CASE WHEN json_extract(data, '$.usage_seen') THEN "
        "coalesce(json_extract(data, '$.input'), 0) + "
        "coalesce(json_extract(data, '$.output'), 0) + "
        "coalesce(json_extract(data, '$.cache_read'), 0) + "
        "coalesce(json_extract(data, '$.cache_write'), 0) ELSE 0 END), "
        "sum(CASE WHEN json_extract(data, '$.usage_seen') THEN "
        "coalesce(json_extract(data, '$.usd'), 0) ELSE 0 END) "
        "FROM events WHERE mission_id = ?1 AND kind = 'llm.call' "
        "AND json_valid(data) GROUP BY task_id ORDER BY task_id",

    [STORE_STMT_MISSION_SET_REPO] =
        "UPDATE missions SET repo = ?2, base = ?3 WHERE id = ?1",
    [STORE_STMT_TICKET_SET_HEAD] = "UPDATE tickets SET branch = ?3, head = ?4 "
                                   "WHERE mission_id = ?1 AND id = ?2",
    [STORE_STMT_TICKET_SET_STATE] =
        "UPDATE tickets SET state = ?3, detail = ?4, "
        "merged = coalesce(?5, merged) WHERE mission_id = ?1 AND id = ?2",
    [STORE_STMT_TICKET_GET] =
        "SELECT " TICKET_COLS " FROM tickets t JOIN missions m "
        "ON m.id = t.mission_id WHERE t.mission_id = ?1 AND t.id = ?2",
    [STORE_STMT_TICKET_LIST] =
        "SELECT " TICKET_COLS " FROM tickets t JOIN missions m "
        "ON m.id = t.mission_id WHERE ?1 IS NULL OR t.mission_id = ?1 "
        "ORDER BY t.mission_id, t.id",
    [STORE_STMT_TASK_SET_PHASE] =
        "UPDATE tasks SET phase = ?3 WHERE mission_id = ?1 AND id = ?2",
    [STORE_STMT_QUESTION_ADD] =
        "INSERT INTO questions (mission_id, task_id, run_id, kind, text, "
        "default_answer, deadline, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [STORE_STMT_QUESTION_ANSWER] =
        "UPDATE questions SET state = ?2, answer = ?3, answered_at = ?4 "
        "WHERE id = ?1 AND state = 'open'",
    [STORE_STMT_QUESTION_GET] =
        "SELECT " QUESTION_COLS " FROM questions WHERE id = ?1",
    [STORE_STMT_QUESTION_LIST] =
        "SELECT " QUESTION_COLS " FROM questions WHERE "
        "(?1 IS NULL OR mission_id = ?1) AND (?2 IS NULL OR state = ?2) AND "
        "(?3 IS NULL OR kind = ?3) ORDER BY id",
    [STORE_STMT_LLM_CALL_ADD] =
        "INSERT INTO llm_calls (" LLM_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
        "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
    [STORE_STMT_LLM_CALL_LIST] =
        "SELECT " LLM_COLS " FROM llm_calls WHERE mission_id = ?1 AND "
        "(?2 = 0 OR run_id = ?2) ORDER BY run_id, seq",
    [STORE_STMT_LLM_CALL_TOTALS] =
        "SELECT count(*), total(input), total(output), total(cache_read), "
        "total(cache_write), total(reasoning), total(usd), total(unpriced) "
        "FROM llm_calls WHERE mission_id = ?1 AND (?2 IS NULL OR task_id = "
        "?2) AND (?3 = 0 OR run_id = ?3)",
    [STORE_STMT_TASK_SET_FEEDBACK] =
        "UPDATE tasks SET feedback = ?3 WHERE mission_id = ?1 AND id = ?2",
    [STORE_STMT_TASK_SET_RESUME] =
        "UPDATE tasks SET resume_turns = ?3 WHERE mission_id = ?1 AND id = ?2",
};

static int stmt_prepare(struct store *st, enum store_stmt id,
                        sqlite3_stmt **out, struct crl_err *err) {
  if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                         out, NULL) != SQLITE_OK)
    return crl_err_set(err, CRL_ESTORE, "unable to prepare statement %d: %s",
                       (int)id, sqlite3_errmsg(st->db));
  return 0;
}

int store__stmt_prepare_all(struct store *st, struct crl_err *err) {
  int rc;

  for (int i = 0; i < STORE_STMT__COUNT; i++) {
    assert(stmt_sql[i] != NULL);
    if ((rc = stmt_prepare(st, i, &st->stmts[i], err)) < 0)
      return rc;
  }
  return 0;
}

void store__stmt_finalize_all(struct store *st) {
  for (int i = 0; i < STORE_STMT__COUNT; i++) {
    sqlite3_finalize(st->stmts[i]);
    st->stmts[i] = NULL;
  }
}

int store__stmt_get(struct store *st, enum store_stmt id, sqlite3_stmt **out,
                    struct crl_err *err) {
  assert(id >= 0 && id < STORE_STMT__COUNT && st->stmts[id] != NULL);
  /* A callback of a list walk may call back into the store, even into the
   * same list; the walk's statement must not be reset under it. */
  if (sqlite3_stmt_busy(st->stmts[id]))
    return stmt_prepare(st, id, out, err);
  *out = st->stmts[id];
  return 0;
}

void store__stmt_put(struct store *st, enum store_stmt id, sqlite3_stmt *s) {
  if (s == NULL)
    return;
  if (s != st->stmts[id]) {
    sqlite3_finalize(s);
    return;
  }
  sqlite3_reset(s);
}
