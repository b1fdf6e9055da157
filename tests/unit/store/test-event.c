#include "store-fixture.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

TestSuite(store_event, .init = fx_setup, .fini = fx_teardown);

static int64_t append(const char *mission, const char *task, const char *kind,
                      const char *data) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_event ev = {
      .ts = 1, .mission = mission, .task = task, .kind = kind, .data = data};

  cr_assert_eq(store_event_append(fx_st, &ev, &err), 0, "%s", err.msg);
  return ev.seq;
}

struct seen {
  int64_t seq[16];
  char kind[16][16];
  int n;
};

static int collect_event(const struct store_event *ev, void *payload) {
  struct seen *seen = payload;

  cr_assert_lt(seen->n, 16);
  seen->seq[seen->n] = ev->seq;
  snprintf(seen->kind[seen->n++], sizeof(seen->kind[0]), "%s", ev->kind);
  return 0;
}

Test(store_event, append_assigns_increasing_seq_across_commits_and_reopen) {
  int64_t last = 0;
  int64_t seq;

  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 4; i++) {
      seq = append("m", NULL, "state", "{}");
      cr_assert_gt(seq, last);
      last = seq;
    }
    cr_assert_eq(store_commit(fx_st, NULL), 0);
    if (round == 1)
      fx_reopen();
  }
  cr_assert_eq(last, 12);
}

Test(store_event, list_filters_by_after_mission_and_task) {
  struct seen seen = {.n = 0};

  append("m", NULL, "state", NULL);
  append("m", "a", "message", "{\"text\":\"hi\"}");
  append("other", "a", "message", NULL);
  append(NULL, NULL, "daemon.start", NULL);
  append("m", "b", "run.end", NULL);
  cr_assert_eq(store_event_list(fx_st, NULL, NULL, 0, collect_event, &seen), 0);
  cr_assert_eq(seen.n, 5);
  seen.n = 0;
  cr_assert_eq(store_event_list(fx_st, "m", NULL, 1, collect_event, &seen), 0);
  cr_assert_eq(seen.n, 2);
  cr_assert_eq(seen.seq[0], 2);
  cr_assert_eq(seen.seq[1], 5);
  seen.n = 0;
  cr_assert_eq(store_event_list(fx_st, "m", "a", 0, collect_event, &seen), 0);
  cr_assert_eq(seen.n, 1);
  cr_assert_str_eq(seen.kind[0], "message");
  seen.n = 0;
  cr_assert_eq(store_event_list(fx_st, NULL, "a", 0, collect_event, &seen), 0);
  cr_assert_eq(seen.n, 2);
}

static int check_fields(const struct store_event *ev, void *payload) {
  cr_assert_eq(ev->ts, 77);
  cr_assert_str_eq(ev->mission, "m");
  cr_assert_null(ev->task);
  cr_assert_eq(ev->run, 5);
  cr_assert_str_eq(ev->kind, "usage");
  cr_assert_str_eq(ev->data, "{\"tokens\":3}");
  return 7;
}

Test(store_event, list_hands_back_every_field_and_stops_on_nonzero) {
  struct store_event ev = {.ts = 77,
                           .mission = "m",
                           .run = 5,
                           .kind = "usage",
                           .data = "{\"tokens\":3}"};

  cr_assert_eq(store_event_append(fx_st, &ev, NULL), 0);
  cr_assert_eq(store_event_append(fx_st, &ev, NULL), 0);
  cr_assert_eq(store_event_list(fx_st, "m", NULL, 0, check_fields, NULL), 7);
}

Test(store_event, events_cannot_be_updated_or_deleted) {
  sqlite3 *db;

  append("m", NULL, "state", NULL);
  cr_assert_eq(store_commit(fx_st, NULL), 0);
  db = fx_raw_open();
  cr_assert_eq(
      sqlite3_exec(db, "UPDATE events SET kind = 'x'", NULL, NULL, NULL),
      SQLITE_CONSTRAINT);
  cr_assert_not_null(strstr(sqlite3_errmsg(db), "append-only"));
  cr_assert_eq(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL),
               SQLITE_CONSTRAINT);
  cr_assert_eq(fx_raw_int(db, "SELECT count(*) FROM events"), 1);
  sqlite3_close(db);
}

/*
 * Crash safety. A child appends events in batches of CRASH_BATCH, committing
 * each batch and then acknowledging the total over a pipe, the way the
 * daemon acknowledges a client only after store_commit. The parent kills it
 * with SIGKILL at a random point; every acknowledged event must survive,
 * whole batches only, with gapless sequence numbers. Several rounds run on
 * the same file so that recovery from one crash is itself crashed into.
 */
#define CRASH_BATCH 7
#define CRASH_ROUNDS 5

static void crash_child(int fd, int64_t base) {
  struct store *st = NULL;
  struct store_event ev = {.mission = "m", .kind = "message"};
  char data[64];
  int64_t n = base;

  if (store_open(&st, fx_path, NULL) < 0)
    _exit(2);
  for (int batch = 0; batch < 100000; batch++) {
    for (int i = 0; i < CRASH_BATCH; i++) {
      snprintf(data, sizeof(data), "{\"n\":%lld}", (long long)++n);
      ev.data = data;
      ev.ts = n;
      if (store_event_append(st, &ev, NULL) < 0)
        _exit(3);
    }
    if (store_commit(st, NULL) < 0)
      _exit(4);
    if (write(fd, &n, sizeof(n)) != sizeof(n))
      _exit(5);
  }
  _exit(0);
}

/* Runs one child, kills it after `acks` acknowledgements plus a random
 * delay; returns the last total it acknowledged. */
static int64_t crash_round(int64_t base, int acks) {
  int64_t acked = base;
  int64_t n;
  int fds[2];
  pid_t pid;

  cr_assert_eq(pipe(fds), 0);
  pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    crash_child(fds[1], base);
  }
  close(fds[1]);
  for (int i = 0; i < acks && read(fds[0], &n, sizeof(n)) == sizeof(n); i++)
    acked = n;
  usleep(rand() % 3000);
  kill(pid, SIGKILL);
  cr_assert_eq(waitpid(pid, NULL, 0), pid);
  /* Acknowledgements already in the pipe were sent after their commit. */
  while (read(fds[0], &n, sizeof(n)) == sizeof(n))
    acked = n;
  close(fds[0]);
  return acked;
}

struct crash_check {
  int64_t count;
  int ok;
};

static int crash_check_event(const struct store_event *ev, void *payload) {
  struct crash_check *c = payload;
  char want[64];

  c->count++;
  snprintf(want, sizeof(want), "{\"n\":%lld}", (long long)c->count);
  if (ev->seq != c->count || ev->ts != c->count || ev->data == NULL ||
      strcmp(ev->data, want) != 0) {
    c->ok = 0;
    return 1;
  }
  return 0;
}

Test(store_event, killed_writer_loses_nothing_acknowledged, .timeout = 120) {
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  struct crash_check c;
  int64_t acked = 0;
  char ok[64];
  sqlite3 *db;

  cr_log_info("crash test seed %u", seed);
  srand(seed);
  store_close(fx_st);
  fx_st = NULL;
  for (int round = 0; round < CRASH_ROUNDS; round++) {
    int64_t before = acked;

    acked = crash_round(acked, 1 + rand() % 40);
    cr_assert_gt(acked, before, "seed %u: child acknowledged nothing", seed);
    db = fx_raw_open();
    fx_raw_text(db, "PRAGMA integrity_check", ok, sizeof(ok));
    cr_assert_str_eq(ok, "ok", "seed %u", seed);
    sqlite3_close(db);
    fx_open();
    c = (struct crash_check){.count = 0, .ok = 1};
    cr_assert_eq(store_event_list(fx_st, NULL, NULL, 0, crash_check_event, &c),
                 0, "seed %u: seq gap at %lld", seed, (long long)c.count);
    cr_assert(c.ok);
    cr_assert_geq(c.count, acked, "seed %u: lost acknowledged events", seed);
    cr_assert_eq(c.count % CRASH_BATCH, 0, "seed %u: torn batch", seed);
    /* The next child continues from what survived. */
    acked = c.count;
    store_close(fx_st);
    fx_st = NULL;
  }
}
