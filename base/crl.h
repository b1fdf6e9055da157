/*
 * base: the leaf library every corral module links. It owns the error table
 * (one X-macro that also feeds the control socket's stable codes), the
 * detail struct that carries a human message beside a code, bounded byte
 * buffers, allocation that aborts on exhaustion, logging, durations and
 * clocks. Nothing here knows about missions, processes or SQL.
 */
#ifndef CRL_H
#define CRL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define CRL_VERSION "0.1.0"

/*
 * Error codes. Functions return 0 or a negative code: a failed syscall
 * returns -errno, corral's own conditions return CRL_E<NAME>. The second
 * column is the stable string used on the wire and in JSON output.
 */
#define CRL_ERRNO_MAP(XX)                              \
  XX(BAD_REQUEST, "bad request")                       \
  XX(UNAUTHORIZED, "unauthorized")                     \
  XX(NOT_FOUND, "not found")                           \
  XX(MISSION_NOT_FOUND, "mission not found")           \
  XX(TASK_NOT_FOUND, "task not found")                 \
  XX(METHOD_NOT_ALLOWED, "method not allowed")         \
  XX(INVALID_TRANSITION, "invalid state transition")   \
  XX(VALIDATION_FAILED, "validation failed")           \
  XX(AGENT_BUSY, "agent busy")                         \
  XX(BUDGET_EXCEEDED, "budget exceeded")               \
  XX(PAYLOAD_TOO_LARGE, "payload too large")           \
  XX(INTERNAL, "internal error")                       \
  XX(CYCLE, "dependency cycle")                        \
  XX(DUPLICATE, "duplicate identifier")                \
  XX(PARSE, "parse error")                             \
  XX(TOOBIG, "buffer limit reached")                   \
  XX(LOCKED, "run already locked by a live shim")      \
  XX(STORE, "store error")                             \
  XX(SCHEMA, "store schema is newer than this corral") \
  XX(SPAWN, "spawn failed")                            \
  XX(SANDBOX, "the host cannot enforce the sandbox profile")

enum {
  CRL_E__BASE = -1000,
#define CRL_XX(name, msg) CRL_E##name##__IDX,
  CRL_E__FIRST_IDX = -1,
  CRL_ERRNO_MAP(CRL_XX)
#undef CRL_XX
};

/* CRL_EBAD_REQUEST == -1000, CRL_EUNAUTHORIZED == -1001, ... */
enum {
#define CRL_XX(name, msg) CRL_E##name = CRL_E__BASE - CRL_E##name##__IDX,
  CRL_ERRNO_MAP(CRL_XX)
#undef CRL_XX
};

/* Returns a static, human string for any code: corral's own or -errno. */
const char *crl_strerror(int code);
/* Returns the stable upper-case name ("TASK_NOT_FOUND"); -errno maps to its
 * errno name ("ENOENT"). Never NULL. */
const char *crl_err_name(int code);

/*
 * Detail for humans travels beside the code. Every function that takes a
 * `struct crl_err *err` accepts NULL.
 */
struct crl_err {
  int code;
  char msg[1024];
};

#define CRL_ERR_INIT \
  {                  \
    0, {             \
      0              \
    }                \
  }

/* Records code and a formatted message in err (when not NULL); returns code so
 * callers can write `return crl_err_set(err, CRL_EPARSE, "...")`. */
int crl_err_set(struct crl_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void crl_err_clear(struct crl_err *err);

/* Allocation aborts the process on exhaustion (tmux xmalloc). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A growable byte buffer with a hard maximum (curl dynbuf). `data` is always
 * NUL-terminated when not NULL. Appending past `max` fails with CRL_ETOOBIG
 * and leaves the buffer unchanged.
 */
struct crl_buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max;
};

void crl_buf_init(struct crl_buf *b, size_t max);
void crl_buf_close(struct crl_buf *b);
void crl_buf_reset(struct crl_buf *b);
int crl_buf_append(struct crl_buf *b, const void *p, size_t n);
int crl_buf_printf(struct crl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void crl_buf_consume(struct crl_buf *b, size_t n);

/* Logging to stderr. The level comes from CORRAL_LOG (error, warn, info,
 * debug); the default is warn. */
enum crl_log_level { CRL_LOG_ERROR, CRL_LOG_WARN, CRL_LOG_INFO, CRL_LOG_DEBUG };

void crl_log_init(void);
void crl_log_set_level(enum crl_log_level level);
int crl_log_enabled(enum crl_log_level level);
void crl_log(enum crl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) crl_log(CRL_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) crl_log(CRL_LOG_WARN, __VA_ARGS__)
#define log_info(...) crl_log(CRL_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                     \
  do {                                     \
    if (crl_log_enabled(CRL_LOG_DEBUG))    \
      crl_log(CRL_LOG_DEBUG, __VA_ARGS__); \
  } while (0)

/* Writes a copy of the n bytes at s into out with control and non-UTF-8
 * bytes escaped as \xNN (tmux stravis), so untrusted bytes are safe in logs
 * and terminals. */
void crl_escape(struct crl_buf *out, const char *s, size_t n);

/*
 * Durations: "500ms", "90s", "5m", "2h", "1d" and sums such as "1h30m".
 * Returns 0 and the value in milliseconds, or CRL_EPARSE.
 */
int crl_duration_parse(int64_t *out_ms, const char *s);
/* Formats ms compactly ("1h02m", "3.4s", "120ms") into out. */
void crl_duration_format(char *out, size_t outlen, int64_t ms);

/* Clocks, in milliseconds. Only the runtime calls these; the scheduler is
 * always given `now`. */
int64_t crl_time_mono_ms(void);
int64_t crl_time_wall_ms(void);

/* Sends fd over the Unix socket sock (SCM_RIGHTS, a one-byte message,
 * MSG_NOSIGNAL | flags); fd stays the caller's. 0 or -errno. */
int crl_fd_send(int sock, int fd, int flags);
/* Receives one such fd (close-on-exec; flags such as MSG_PEEK or
 * MSG_DONTWAIT), or -1 when there is none. */
int crl_fd_recv(int sock, int flags);

/* 64-bit FNV-1a, used for deterministic jitter and ids. */
uint64_t crl_hash64(const void *p, size_t n, uint64_t seed);

#define crl_container_of(ptr, type, member) \
  ((type *)((char *)(ptr)-offsetof(type, member)))

#define CRL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
