/*
 * The error table: one X-macro gives every corral code its stable name and
 * its human message; -errno codes fall through to strerror. The detail
 * struct carries a formatted message for humans beside the code.
 */
#include "crl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
  int code;
  const char *name;
  const char *msg;
};

static const struct err_entry err_table[] = {
#define CRL_XX(name, msg) {CRL_E##name, #name, msg},
    CRL_ERRNO_MAP(CRL_XX)
#undef CRL_XX
};

static const struct err_entry *err_lookup(int code) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(err_table); i++)
    if (err_table[i].code == code)
      return &err_table[i];
  return NULL;
}

const char *crl_strerror(int code) {
  const struct err_entry *e = err_lookup(code);

  if (e != NULL)
    return e->msg;
  if (code < 0 && code > CRL_E__BASE)
    return strerror(-code);
  return "unknown error";
}

const char *crl_err_name(int code) {
  const struct err_entry *e = err_lookup(code);

  if (e != NULL)
    return e->name;
  if (code < 0 && code > CRL_E__BASE && strerrorname_np(-code) != NULL)
    return strerrorname_np(-code);
  return "INTERNAL";
}

int crl_err_set(struct crl_err *err, int code, const char *fmt, ...) {
  va_list ap;

  if (err == NULL)
    return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return code;
}

void crl_err_clear(struct crl_err *err) {
  if (err == NULL)
    return;
  err->code = 0;
  err->msg[0] = '\0';
}
