/*
 * Trace files: one mission's rows in a database of their own. A trace has
 * the store's schema at this build's version (so every getter of store.h
 * reads it), plus two tables of its own: trace_meta (format version, the
 * mission, the checksum) and trace_blobs (the mission file's text, each
 * run's output.log, the git bundle of the ticket branches). Export copies
 * the rows with ATTACH and INSERT … SELECT, so a 10 000-task mission is one
 * statement per table. The checksum covers every row of every table in a
 * fixed order; opening verifies the SQLite header against the file size (a
 * truncated copy is caught before SQLite reads it) and then the checksum, so
 * a damaged trace is refused rather than replayed. A trace is written in
 * rollback-journal mode, so it is one file at rest.
 */
#include "store-int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char trace_schema[] =
    "CREATE TABLE trace_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE trace_blobs (name TEXT PRIMARY KEY, data BLOB NOT NULL);";

/* Copies one mission (?1) from the attached "src". Same schema version on
 * both sides, so SELECT * lines up column for column. */
static const char *const trace_copy[] = {
    "INSERT INTO missions SELECT * FROM src.missions WHERE id = ?1",
    "INSERT INTO tickets SELECT * FROM src.tickets WHERE mission_id = ?1",
    "INSERT INTO tasks SELECT * FROM src.tasks WHERE mission_id = ?1",
    "INSERT INTO deps SELECT * FROM src.deps WHERE mission_id = ?1",
    "INSERT INTO runs SELECT * FROM src.runs WHERE mission_id = ?1",
    "INSERT INTO events SELECT * FROM src.events WHERE mission_id = ?1",
    "INSERT INTO commits SELECT * FROM src.commits WHERE mission_id = ?1",
    "INSERT INTO commit_files SELECT * FROM src.commit_files WHERE commit_id"
    " IN (SELECT id FROM src.commits WHERE mission_id = ?1)",
    "INSERT INTO questions SELECT * FROM src.questions WHERE mission_id = ?1",
    "INSERT INTO llm_calls SELECT * FROM src.llm_calls WHERE mission_id = ?1",
};

/* What the checksum covers, each table in a total order. */
static const char *const trace_sum_sql[] = {
    "SELECT * FROM missions ORDER BY id",
    "SELECT * FROM tickets ORDER BY mission_id, id",
    "SELECT * FROM tasks ORDER BY mission_id, id",
    "SELECT * FROM deps ORDER BY mission_id, task_id, needs_id",
    "SELECT * FROM runs ORDER BY id",
    "SELECT * FROM events ORDER BY seq",
    "SELECT * FROM commits ORDER BY id",
    "SELECT * FROM commit_files ORDER BY commit_id, path",
    "SELECT * FROM questions ORDER BY id",
    "SELECT * FROM llm_calls ORDER BY run_id, seq",
    "SELECT * FROM trace_blobs ORDER BY name",
    "SELECT * FROM trace_meta WHERE key <> 'checksum' ORDER BY key",
};

/* Runs one statement with up to one text parameter. */
static int trace_exec1(struct store *st, const char *sql, const char *p1,
                       const char *what, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0, step;

  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return store__fail(st, what, err);
  if (p1 != NULL)
    store__bind_text(s, 1, p1);
  while ((step = sqlite3_step(s)) == SQLITE_ROW)
    ;
  if (step != SQLITE_DONE)
    rc = store__fail(st, what, err);
  sqlite3_finalize(s);
  return rc;
}

static int trace_schema_create(struct store *tr, struct crl_err *err) {
  if (sqlite3_exec(tr->db, trace_schema, NULL, NULL, NULL) != SQLITE_OK)
    return store__fail(tr, "unable to create the trace tables", err);
  return 0;
}

static int trace_meta_put(struct store *st, const char *key, const char *value,
                          struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0;

  if (sqlite3_prepare_v2(st->db,
                         "INSERT OR REPLACE INTO trace_meta VALUES (?1, ?2)",
                         -1, &s, NULL) != SQLITE_OK)
    return store__fail(st, "unable to write trace_meta", err);
  store__bind_text(s, 1, key);
  store__bind_text(s, 2, value);
  rc = store__step_done(st, s, "unable to write trace_meta", err);
  sqlite3_finalize(s);
  return rc;
}

/* Feeds one column, tagged with its type, into the two hash lanes. */
static void trace_sum_col(uint64_t h[2], sqlite3_stmt *s, int i) {
  int type = sqlite3_column_type(s, i);
  int64_t v;
  const void *p;
  int64_t n;

  h[0] = crl_hash64(&type, sizeof(type), h[0]);
  h[1] = crl_hash64(&type, sizeof(type), h[1]);
  if (type == SQLITE_NULL)
    return;
  if (type == SQLITE_INTEGER) {
    v = sqlite3_column_int64(s, i);
    p = &v;
    n = (int64_t)sizeof(v);
  } else {
    p = sqlite3_column_blob(s, i);
    n = sqlite3_column_bytes(s, i);
  }
  h[0] = crl_hash64(&n, sizeof(n), h[0]);
  h[1] = crl_hash64(&n, sizeof(n), h[1]);
  h[0] = crl_hash64(p, (size_t)n, h[0]);
  h[1] = crl_hash64(p, (size_t)n, h[1]);
}

static int trace_sum_table(struct store *st, const char *sql, uint64_t h[2],
                           struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0, step;

  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return store__fail(st, "unable to read the trace", err);
  while ((step = sqlite3_step(s)) == SQLITE_ROW)
    for (int i = 0; i < sqlite3_column_count(s); i++)
      trace_sum_col(h, s, i);
  if (step != SQLITE_DONE)
    rc = store__fail(st, "unable to read the trace", err);
  sqlite3_finalize(s);
  return rc;
}

/* Two FNV-1a lanes with different seeds: 128 bits as 32 hex digits. */
static int trace_checksum(struct store *st, char out[33], struct crl_err *err) {
  uint64_t h[2] = {0, 0x9e3779b97f4a7c15ULL};
  int rc;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(trace_sum_sql); i++)
    if ((rc = trace_sum_table(st, trace_sum_sql[i], h, err)) < 0)
      return rc;
  snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, h[0], h[1]);
  return 0;
}

static int trace_copy_rows(struct store *tr, const char *src_path,
                           const char *mission, struct crl_err *err) {
  int rc;

  if ((rc = trace_exec1(tr, "ATTACH DATABASE ?1 AS src", src_path,
                        "unable to attach the store", err)) < 0)
    return rc;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(trace_copy) && rc == 0; i++)
    rc = trace_exec1(tr, trace_copy[i], mission, "unable to copy rows", err);
  if (rc == 0)
    rc = store_commit(tr, err);
  if (trace_exec1(tr, "DETACH DATABASE src", NULL, "detach", NULL) < 0)
    log_warn("%s: unable to detach the store", __func__);
  return rc;
}

int store_trace_create(struct store **out, const char *path, struct store *src,
                       const char *mission, struct crl_err *err) {
  struct store *tr = NULL;
  char version[16];
  int rc;

  *out = NULL;
  if (!store__mission_exists(src, mission))
    return crl_err_set(err, CRL_EMISSION_NOT_FOUND, "no mission '%s'", mission);
  if ((rc = store_commit(src, err)) < 0 ||
      (rc = store_open(&tr, path, err)) < 0)
    goto out;
  snprintf(version, sizeof(version), "%d", STORE_TRACE_FORMAT);
  if ((rc = store__begin(tr, err)) < 0 ||
      (rc = trace_schema_create(tr, err)) < 0 ||
      (rc = trace_meta_put(tr, "format", version, err)) < 0 ||
      (rc = trace_meta_put(tr, "mission", mission, err)) < 0 ||
      (rc = store_commit(tr, err)) < 0 ||
      (rc = trace_copy_rows(tr, sqlite3_db_filename(src->db, "main"), mission,
                            err)) < 0)
    goto out;
  *out = tr;
  tr = NULL;
out:
  store_close(tr);
  return rc;
}

int store_trace_blob_put(struct store *tr, const char *name, const void *data,
                         size_t len, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc;

  if ((rc = store__begin(tr, err)) < 0)
    return rc;
  if (sqlite3_prepare_v2(tr->db,
                         "INSERT OR REPLACE INTO trace_blobs VALUES (?1, ?2)",
                         -1, &s, NULL) != SQLITE_OK)
    return store__fail(tr, "unable to write a trace blob", err);
  store__bind_text(s, 1, name);
  sqlite3_bind_blob64(s, 2, len ? data : "", len, SQLITE_STATIC);
  rc = store__step_done(tr, s, "unable to write a trace blob", err);
  sqlite3_finalize(s);
  return rc;
}

int store_trace_seal(struct store *tr, struct crl_err *err) {
  char sum[33];
  int rc;

  if ((rc = store_commit(tr, err)) < 0 ||
      (rc = trace_checksum(tr, sum, err)) < 0 ||
      (rc = trace_meta_put(tr, "checksum", sum, err)) < 0 ||
      (rc = trace_exec1(tr, "VACUUM", NULL, "unable to compact the trace",
                        err)) < 0)
    return rc;
  /* One file at rest: leave WAL so the -wal and -shm files go away. */
  return trace_exec1(tr, "PRAGMA journal_mode = DELETE", NULL,
                     "unable to leave WAL mode", err);
}

static uint32_t trace_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* The SQLite header names the page size and the page count: a file of
 * another size was cut short (or grown) on its way here. */
static int trace_check_size(const char *path, struct crl_err *err) {
  unsigned char h[100];
  struct stat sb;
  uint32_t psize;
  uint64_t want;
  FILE *fp = fopen(path, "rb");
  size_t n;

  if (fp == NULL)
    return crl_err_set(err, -errno, "unable to open %s: %s", path,
                       strerror(errno));
  n = fread(h, 1, sizeof(h), fp);
  if (fstat(fileno(fp), &sb) < 0)
    sb.st_size = 0;
  fclose(fp);
  if (n < sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
    return crl_err_set(err, CRL_EPARSE,
                       "%s is not a corral trace (no SQLite header)", path);
  psize = (uint32_t)h[16] << 8 | h[17];
  want = (uint64_t)(psize == 1 ? 65536 : psize) * trace_be32(h + 28);
  if ((uint64_t)sb.st_size != want)
    return crl_err_set(err, CRL_EPARSE,
                       "%s is truncated or damaged: %lld bytes, its header "
                       "says %llu",
                       path, (long long)sb.st_size, (unsigned long long)want);
  return 0;
}

static int trace_meta_get(struct store *st, const char *key, char *out,
                          size_t len, struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0;

  if (sqlite3_prepare_v2(st->db, "SELECT value FROM trace_meta WHERE key = ?1",
                         -1, &s, NULL) != SQLITE_OK)
    return store__fail(st, "not a corral trace", err);
  store__bind_text(s, 1, key);
  if (sqlite3_step(s) == SQLITE_ROW)
    snprintf(out, len, "%s", store__col_text(s, 0));
  else
    rc = crl_err_set(err, CRL_EPARSE, "not a corral trace: no %s", key);
  sqlite3_finalize(s);
  return rc;
}

/* Format, schema and checksum, in that order. */
static int trace_verify(struct store *tr, const char *path,
                        struct crl_err *err) {
  char format[16], stored[64], sum[33];
  int rc;

  if ((rc = trace_meta_get(tr, "format", format, sizeof(format), err)) < 0)
    return crl_err_set(err, rc, "%s: %s", path, err->msg);
  if (atoi(format) != STORE_TRACE_FORMAT)
    return crl_err_set(err, CRL_ESCHEMA,
                       "%s: trace format %s, this corral reads %d", path,
                       format, STORE_TRACE_FORMAT);
  if ((rc = trace_meta_get(tr, "checksum", stored, sizeof(stored), err)) < 0 ||
      (rc = trace_checksum(tr, sum, err)) < 0)
    return crl_err_set(err, rc, "%s: %s", path, err->msg);
  if (strcmp(stored, sum) != 0)
    return crl_err_set(err, CRL_EPARSE,
                       "%s: checksum mismatch (recorded %s, computed %s): the "
                       "trace was altered or damaged",
                       path, stored, sum);
  return 0;
}

static int trace_read_version(struct store *tr, const char *path,
                              struct crl_err *err) {
  sqlite3_stmt *s = NULL;
  int rc = 0;

  if (sqlite3_prepare_v2(tr->db, "PRAGMA user_version", -1, &s, NULL) !=
          SQLITE_OK ||
      sqlite3_step(s) != SQLITE_ROW) {
    rc = crl_err_set(err, CRL_EPARSE, "%s is not a corral trace: %s", path,
                     sqlite3_errmsg(tr->db));
    goto out;
  }
  tr->version = sqlite3_column_int(s, 0);
  if (tr->version != store__migration_count())
    rc =
        crl_err_set(err, CRL_ESCHEMA, "%s: trace schema %d, this corral has %d",
                    path, tr->version, store__migration_count());
out:
  sqlite3_finalize(s);
  return rc;
}

int store_trace_open(struct store **out, const char *path, int verify,
                     struct crl_err *err) {
  struct store *tr = xcalloc(1, sizeof(*tr));
  int rc;

  *out = NULL;
  if ((rc = trace_check_size(path, err)) < 0)
    goto out;
  if (sqlite3_open_v2(path, &tr->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    rc = crl_err_set(err, CRL_ESTORE, "unable to open %s: %s", path,
                     tr->db ? sqlite3_errmsg(tr->db) : "out of memory");
    goto out;
  }
  if ((rc = trace_read_version(tr, path, err)) < 0 ||
      (verify && (rc = trace_verify(tr, path, err)) < 0) ||
      (rc = store__stmt_prepare_all(tr, err)) < 0)
    goto out;
  *out = tr;
  tr = NULL;
out:
  store_close(tr);
  return rc;
}

int store_trace_meta(struct store *tr, const char *key, char *out, size_t len,
                     struct crl_err *err) {
  return trace_meta_get(tr, key, out, len, err);
}

int store_trace_blob_list(struct store *tr, const char *prefix,
                          store_trace_blob_cb cb, void *payload) {
  sqlite3_stmt *s = NULL;
  int rc = 0, step = SQLITE_DONE;

  if (sqlite3_prepare_v2(tr->db,
                         "SELECT name, data FROM trace_blobs WHERE"
                         " substr(name, 1, length(?1)) = ?1 ORDER BY name",
                         -1, &s, NULL) != SQLITE_OK)
    return store__fail(tr, "unable to read trace blobs", NULL);
  store__bind_text(s, 1, prefix);
  while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW)
    rc = cb(store__col_text(s, 0), sqlite3_column_blob(s, 1),
            (size_t)sqlite3_column_bytes(s, 1), payload);
  if (rc == 0)
    rc = store__walk_end(tr, step, "unable to read trace blobs");
  sqlite3_finalize(s);
  return rc;
}
