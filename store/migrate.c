/*
 * Schema migrations. The schema is the list of numbered forward migrations
 * below; PRAGMA user_version holds how many of them the database has seen.
 * Opening applies the missing ones in order, each in its own IMMEDIATE
 * transaction that re-reads the version under the write lock, so two
 * processes opening one fresh database never apply a migration twice and a
 * crash mid-migration leaves the previous version intact. A database whose
 * version is beyond this list was written by a newer corral and is refused
 * with CRL_ESCHEMA rather than guessed at. Migrations are append-only: never
 * edit one that has shipped, add the next.
 */
#include "store-int.h"

#include <stdio.h>

/*
 * 1: missions, tickets, tasks and their dependencies, runs, events.
 * tickets/tasks/deps are WITHOUT ROWID: their key is the (mission, id) pair
 * every statement looks up, so the table is its own index. runs and events
 * use AUTOINCREMENT so an id is never reused after a cleanup: run ids name
 * directories, and event seqs are resumable cursors (Last-Event-ID).
 */
static const char migration_1[] =
    "CREATE TABLE missions ("
    " id TEXT PRIMARY KEY,"
    " file TEXT,"
    " state TEXT NOT NULL DEFAULT 'pending',"
    " created_at INTEGER,"
    " updated_at INTEGER);"

    "CREATE TABLE tickets ("
    " mission_id TEXT NOT NULL REFERENCES missions (id) ON DELETE CASCADE,"
    " id TEXT NOT NULL,"
    " title TEXT,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (mission_id, id)) WITHOUT ROWID;"

    "CREATE TABLE tasks ("
    " mission_id TEXT NOT NULL REFERENCES missions (id) ON DELETE CASCADE,"
    " id TEXT NOT NULL,"
    " ticket_id TEXT,"
    " agent TEXT,"
    " position INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " ended_at INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (mission_id, id),"
    " FOREIGN KEY (mission_id, ticket_id)"
    "  REFERENCES tickets (mission_id, id) ON DELETE CASCADE) WITHOUT ROWID;"

    "CREATE TABLE deps ("
    " mission_id TEXT NOT NULL,"
    " task_id TEXT NOT NULL,"
    " needs_id TEXT NOT NULL,"
    " PRIMARY KEY (mission_id, task_id, needs_id),"
    " FOREIGN KEY (mission_id, task_id)"
    "  REFERENCES tasks (mission_id, id) ON DELETE CASCADE,"
    " FOREIGN KEY (mission_id, needs_id)"
    "  REFERENCES tasks (mission_id, id) ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE INDEX deps_needs ON deps (mission_id, needs_id);"

    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " mission_id TEXT NOT NULL,"
    " task_id TEXT NOT NULL,"
    " attempt INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'starting',"
    " dir TEXT,"
    " shim_pid INTEGER NOT NULL DEFAULT 0,"
    " shim_start INTEGER NOT NULL DEFAULT 0,"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT -1,"
    " signal INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " err_no INTEGER NOT NULL DEFAULT 0,"
    " log_offset INTEGER NOT NULL DEFAULT 0,"
    " started_at INTEGER,"
    " ended_at INTEGER NOT NULL DEFAULT 0,"
    " FOREIGN KEY (mission_id, task_id)"
    "  REFERENCES tasks (mission_id, id) ON DELETE CASCADE);"
    "CREATE INDEX runs_mission_state ON runs (mission_id, state);"
    "CREATE INDEX runs_task ON runs (mission_id, task_id);"

    /* No foreign keys: events outlive what they describe, and some (daemon
     * start, socket errors) belong to no mission. */
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts INTEGER NOT NULL DEFAULT 0,"
    " mission_id TEXT,"
    " task_id TEXT,"
    " run_id INTEGER NOT NULL DEFAULT 0,"
    " kind TEXT NOT NULL,"
    " data TEXT);"
    "CREATE INDEX events_mission_seq ON events (mission_id, seq);"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;";

/*
 * 2: commits on ticket branches, linked to the run that produced them, with
 * their diff stats, and the per-file stats beside them.
 */
static const char migration_2[] =
    "CREATE TABLE commits ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " mission_id TEXT NOT NULL,"
    " ticket_id TEXT,"
    " task_id TEXT,"
    " run_id INTEGER NOT NULL DEFAULT 0,"
    " agent TEXT,"
    " branch TEXT,"
    " sha TEXT NOT NULL,"
    " parent TEXT,"
    " files INTEGER NOT NULL DEFAULT 0,"
    " insertions INTEGER NOT NULL DEFAULT 0,"
    " deletions INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL DEFAULT 0,"
    " FOREIGN KEY (mission_id, task_id)"
    "  REFERENCES tasks (mission_id, id) ON DELETE CASCADE);"
    "CREATE INDEX commits_ticket ON commits (mission_id, ticket_id, id);"
    "CREATE TABLE commit_files ("
    " commit_id INTEGER NOT NULL REFERENCES commits (id) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " insertions INTEGER NOT NULL DEFAULT 0,"
    " deletions INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (commit_id, path)) WITHOUT ROWID;";

/*
 * 3: the git side of tickets and missions (issue 8): the repository and base
 * a mission merges into; per ticket its branch, the head corral last
 * recorded (what the force-push policy holds the branch to), its merge state
 * (open, merged, conflict, unmerged) with a JSON detail (conflicting paths,
 * the error) and the merged head; per task the feedback of the last
 * rejection, handed to its next run.
 */
static const char migration_3[] =
    "ALTER TABLE missions ADD COLUMN repo TEXT;"
    "ALTER TABLE missions ADD COLUMN base TEXT;"
    "ALTER TABLE tickets ADD COLUMN state TEXT NOT NULL DEFAULT 'open';"
    "ALTER TABLE tickets ADD COLUMN branch TEXT;"
    "ALTER TABLE tickets ADD COLUMN head TEXT;"
    "ALTER TABLE tickets ADD COLUMN merged TEXT;"
    "ALTER TABLE tickets ADD COLUMN detail TEXT;"
    "ALTER TABLE tasks ADD COLUMN feedback TEXT;";

/*
 * 4: the human gates an agent raises through its channel: a question or an
 * action approval, open until answered, answered by a human or by its
 * default when its deadline passes; and the phase of a task whose plan
 * needs approval first ("plan", then "work").
 */
static const char migration_4[] =
    "CREATE TABLE questions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " mission_id TEXT NOT NULL,"
    " task_id TEXT NOT NULL,"
    " run_id INTEGER NOT NULL DEFAULT 0,"
    " kind TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'open',"
    " answer TEXT,"
    " default_answer TEXT,"
    " deadline INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL DEFAULT 0,"
    " answered_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX questions_state ON questions (state, id);"
    "ALTER TABLE tasks ADD COLUMN phase TEXT;";

/*
 * 5: a resume the user asked for (`corral resume TASK --turns N`): the
 * number of turns the task's next run gets to go on with its agent CLI's
 * session, 0 when none is asked. The next run takes it and clears it.
 */
static const char migration_5[] =
    "ALTER TABLE tasks ADD COLUMN resume_turns INTEGER NOT NULL DEFAULT 0;";

/*
 * 6: the LLM calls the gateway answered for each run, with their bodies as
 * recorded (up to the gateway's record_body_max, the truncated flags say
 * when cut), so a trace can be read call by call and replayed against the
 * recorded answers. seq numbers a run's calls from 1, as its llm.call
 * events do.
 */
static const char migration_6[] =
    "CREATE TABLE llm_calls ("
    " mission_id TEXT NOT NULL,"
    " task_id TEXT,"
    " run_id INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " ts INTEGER NOT NULL DEFAULT 0,"
    " provider TEXT,"
    " api TEXT,"
    " method TEXT,"
    " path TEXT,"
    " model TEXT,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " stream INTEGER NOT NULL DEFAULT 0,"
    " refused INTEGER NOT NULL DEFAULT 0,"
    " replayed INTEGER NOT NULL DEFAULT 0,"
    " content_type TEXT,"
    " request BLOB,"
    " request_truncated INTEGER NOT NULL DEFAULT 0,"
    " response BLOB,"
    " response_truncated INTEGER NOT NULL DEFAULT 0,"
    " input INTEGER NOT NULL DEFAULT 0,"
    " output INTEGER NOT NULL DEFAULT 0,"
    " cache_read INTEGER NOT NULL DEFAULT 0,"
    " cache_write INTEGER NOT NULL DEFAULT 0,"
    " reasoning INTEGER NOT NULL DEFAULT 0,"
    " usage_seen INTEGER NOT NULL DEFAULT 0,"
    " usd REAL NOT NULL DEFAULT 0,"
    " unpriced INTEGER NOT NULL DEFAULT 0,"
    " latency_ms REAL NOT NULL DEFAULT 0,"
    " ttfb_ms REAL NOT NULL DEFAULT -1,"
    " error TEXT,"
    " PRIMARY KEY (run_id, seq));"
    "CREATE INDEX llm_calls_mission ON llm_calls (mission_id, task_id);";

static const char *const migrations[] = {
    migration_1, migration_2, migration_3,
    migration_4, migration_5, migration_6,
};

int store__migration_count(void) {
  return (int)CRL_ARRAY_SIZE(migrations);
}

static int migrate_exec(struct store *st, const char *sql, const char *what,
                        struct crl_err *err) {
  if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return store__fail(st, what, err);
  return 0;
}

static int migrate_read_version(struct store *st, int *out,
                                struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0;

  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
          SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    rc = store__fail(st, "unable to read the schema version", err);
    goto out;
  }
  *out = sqlite3_column_int(s, 0);
  if (*out > store__migration_count())
    rc = crl_err_set(err, CRL_ESCHEMA,
                     "store schema version %d is newer than this corral's %d",
                     *out, store__migration_count());
out:
  sqlite3_finalize(s);
  return rc;
}

/* Applies the migration after the version found under the write lock, if
 * any; *version is updated to what the database now holds. */
static int migrate_one(struct store *st, int *version, struct crl_err *err) {
  char bump[64];
  int rc;

  if ((rc = migrate_exec(st, "BEGIN IMMEDIATE", "unable to begin migration",
                         err)) < 0)
    return rc;
  if ((rc = migrate_read_version(st, version, err)) < 0)
    goto out;
  if (*version == store__migration_count())
    goto out; /* another process got here first */
  snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", *version + 1);
  if ((rc = migrate_exec(st, migrations[*version], "migration failed", err)) <
          0 ||
      (rc = migrate_exec(st, bump, "unable to set the schema version", err)) <
          0)
    goto out;
  rc = migrate_exec(st, "COMMIT", "unable to commit migration", err);
  if (rc == 0)
    *version += 1;
out:
  if (!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int store__migrate(struct store *st, struct crl_err *err) {
  int version;
  int rc;

  if ((rc = migrate_read_version(st, &version, err)) < 0)
    return rc;
  while (version < store__migration_count()) {
    if ((rc = migrate_one(st, &version, err)) < 0)
      return rc;
    log_debug("%s: store schema now at version %d", __func__, version);
  }
  st->version = version;
  return 0;
}
