/*
 * Shared fixture of the mission tests that load small missions from memory:
 * the diagnostics and mission of the current test (Criterion runs each test
 * in its own process), load() for a mission that must be valid, fails() for
 * one whose printed diagnostics must match exactly.
 */
#ifndef MISSION_FIXTURE_H
#define MISSION_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

static struct msn_diags diags;
static struct msn_mission *mission;

static void setup(void) {
  msn_diags_init(&diags);
  mission = NULL;
}

static void teardown(void) {
  msn_mission_free(mission);
  msn_diags_close(&diags);
}

/* Prints every diagnostic; the caller frees. */
static char *printed(void) {
  char *s = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&s, &n);

  msn_diags_print(&diags, fp);
  fclose(fp);
  return s;
}

static struct msn_mission *load(const char *text) {
  int rc = msn_load_buffer(&mission, "t.yaml", DATA_DIR, text, strlen(text), 0,
                           &diags);
  char *out = printed();

  cr_assert_eq(rc, 0, "load failed:\n%s", out);
  free(out);
  return mission;
}

/* Loads text expecting failure and compares the printed diagnostics. */
static void fails(const char *text, const char *want) {
  int rc = msn_load_buffer(&mission, "t.yaml", DATA_DIR, text, strlen(text), 0,
                           &diags);
  char *out = printed();

  cr_assert_eq(rc, CRL_EVALIDATION_FAILED);
  cr_assert_null(mission);
  cr_expect_str_eq(out, want);
  free(out);
}

#endif
