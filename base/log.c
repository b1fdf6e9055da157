/*
 * Logging to stderr with a level chosen by CORRAL_LOG, and escaping of
 * untrusted bytes before they reach a log or a terminal (tmux stravis).
 */
#include "crl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum crl_log_level log_level = CRL_LOG_WARN;

static const char *const log_names[] = {"error", "warn", "info", "debug"};

void crl_log_init(void) {
  const char *s = getenv("CORRAL_LOG");

  if (s == NULL)
    return;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(log_names); i++)
    if (strcmp(s, log_names[i]) == 0)
      log_level = (enum crl_log_level)i;
}

void crl_log_set_level(enum crl_log_level level) {
  log_level = level;
}

int crl_log_enabled(enum crl_log_level level) {
  return level <= log_level;
}

void crl_log(enum crl_log_level level, const char *fmt, ...) {
  va_list ap;

  if (!crl_log_enabled(level))
    return;
  fprintf(stderr, "corral: %s: ", log_names[level]);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void crl_escape(struct crl_buf *out, const char *s, size_t n) {
  char hex[5];

  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];

    if ((c >= 0x20 && c < 0x7f) || c == '\t' || c >= 0x80) {
      (void)crl_buf_append(out, &s[i], 1);
      continue;
    }
    snprintf(hex, sizeof(hex), "\\x%02x", c);
    (void)crl_buf_append(out, hex, 4);
  }
}
