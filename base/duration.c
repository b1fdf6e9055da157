/*
 * Durations as people write them in mission files: a sum of integer
 * quantities with units, "500ms", "90s", "5m", "2h", "1d", "1h30m".
 */
#include "crl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct duration_unit {
  const char *name;
  int64_t ms;
};

/* "ms" precedes "m" so the longest unit wins. */
static const struct duration_unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

static int duration_unit(const char **p, int64_t *out) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(duration_units); i++) {
    size_t n = strlen(duration_units[i].name);

    if (strncmp(*p, duration_units[i].name, n) == 0 && !isalpha((*p)[n])) {
      *p += n;
      *out = duration_units[i].ms;
      return 0;
    }
  }
  return CRL_EPARSE;
}

int crl_duration_parse(int64_t *out_ms, const char *s) {
  const char *p = s;
  int64_t total = 0, unit, n;

  if (s == NULL || *s == '\0')
    return CRL_EPARSE;
  while (*p != '\0') {
    if (!isdigit((unsigned char)*p))
      return CRL_EPARSE;
    for (n = 0; isdigit((unsigned char)*p); p++) {
      if (n > INT64_MAX / 10 - 9)
        return CRL_EPARSE;
      n = n * 10 + (*p - '0');
    }
    if (duration_unit(&p, &unit) < 0 || n > INT64_MAX / unit - total)
      return CRL_EPARSE;
    total += n * unit;
  }
  *out_ms = total;
  return 0;
}

void crl_duration_format(char *out, size_t outlen, int64_t ms) {
  if (ms < 1000)
    snprintf(out, outlen, "%lldms", (long long)ms);
  else if (ms < 60000)
    snprintf(out, outlen, "%.1fs", (double)ms / 1000.0);
  else if (ms < 3600000)
    snprintf(out, outlen, "%lldm%02llds", (long long)(ms / 60000),
             (long long)(ms % 60000 / 1000));
  else
    snprintf(out, outlen, "%lldh%02lldm", (long long)(ms / 3600000),
             (long long)(ms % 3600000 / 60000));
}
