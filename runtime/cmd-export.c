/*
 * corral export: a mission as one trace file (the default format), or as a
 * report other tools read: OpenTelemetry JSON, ATIF trajectories, JUnit XML,
 * a Markdown summary. The source is a state dir, or a trace with --trace.
 */
#include "rt-int.h"
#include "rt-trace.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void export_usage(FILE *fp) {
  fputs("usage: corral export [--state-dir DIR | --trace FILE]\n"
        "                     [--format trace|otel|atif|junit|md]\n"
        "                     [-o, --output FILE] [MISSION]\n\n"
        "Writes MISSION (default: the most recent) in one format:\n"
        "  trace  one self-contained file: the mission's rows, events, run\n"
        "         logs, mission file and a git bundle of its branches,\n"
        "         versioned and checksummed (default; -o FILE required)\n"
        "  otel   OpenTelemetry JSON (OTLP resourceSpans, GenAI names)\n"
        "  atif   one ATIF trajectory per run (JSON)\n"
        "  junit  JUnit XML: the mission is a suite, each task a case\n"
        "  md     a Markdown summary\n"
        "Reports go to stdout unless -o names a file.\n",
        fp);
}

struct export_args {
  const char *state_dir, *trace, *format, *out, *mission;
};

static int export_parse(struct export_args *a, int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"trace", required_argument, 0, 't'},
                                       {"format", required_argument, 0, 'f'},
                                       {"output", required_argument, 0, 'o'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  a->format = "trace";
  while ((c = getopt_long(argc, argv, "s:t:f:o:h", opts, NULL)) != -1) {
    if (c == 's')
      a->state_dir = optarg;
    else if (c == 't')
      a->trace = optarg;
    else if (c == 'f')
      a->format = optarg;
    else if (c == 'o')
      a->out = optarg;
    else
      return export_usage(c == 'h' ? stdout : stderr), c == 'h' ? 1 : -1;
  }
  if (argc - optind > 1)
    return export_usage(stderr), -1;
  a->mission = argv[optind];
  if (strcmp(a->format, "trace") == 0 && a->out == NULL)
    return rt_errorf("export: the trace format needs -o FILE"), -1;
  return 0;
}

typedef int (*export_fn)(FILE *fp, struct store *st, const char *mission,
                         struct crl_err *err);

static const struct {
  const char *name;
  export_fn fn;
} export_formats[] = {{"otel", rt_report_otel},
                      {"atif", rt_report_atif},
                      {"junit", rt_report_junit},
                      {"md", rt_report_md}};

static int export_report(const struct export_args *a, struct store *st,
                         const char *id, struct crl_err *err) {
  FILE *fp = stdout;
  int rc = CRL_EBAD_REQUEST;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(export_formats); i++) {
    if (strcmp(a->format, export_formats[i].name) != 0)
      continue;
    if (a->out != NULL && (fp = fopen(a->out, "w")) == NULL)
      return crl_err_set(err, -errno, "unable to create %s: %s", a->out,
                         strerror(errno));
    rc = export_formats[i].fn(fp, st, id, err);
    if (fp != stdout && fclose(fp) != 0 && rc == 0)
      rc = crl_err_set(err, -errno, "unable to write %s", a->out);
    return rc;
  }
  return crl_err_set(err, rc,
                     "unknown format '%s' (trace, otel, atif, "
                     "junit, md)",
                     a->format);
}

static int export_open(struct store **st, const struct export_args *a,
                       struct crl_err *err) {
  char *dir = NULL;
  int rc;

  if (a->trace != NULL)
    return store_trace_open(st, a->trace, 1, err);
  if ((rc = rt_statedir(&dir, a->state_dir, err)) == 0)
    rc = rt_store_open(st, dir, err);
  free(dir);
  return rc;
}

static int export_exec(int argc, char **argv) {
  struct crl_err err = CRL_ERR_INIT;
  struct export_args a = {0};
  struct store *st = NULL;
  char *id = NULL;
  int rc;

  if ((rc = export_parse(&a, argc, argv)) != 0)
    return rc > 0 ? RT_EXIT_OK : RT_EXIT_USAGE;
  if ((rc = export_open(&st, &a, &err)) < 0 ||
      (rc = rt_mission_pick(&id, st, a.mission, &err)) < 0)
    goto out;
  if (strcmp(a.format, "trace") == 0)
    rc = rt_trace_export(st, id, a.out, &err);
  else
    rc = export_report(&a, st, id, &err);
out:
  if (rc < 0)
    rt_errorf("fatal: %s", err.msg[0] ? err.msg : crl_strerror(rc));
  store_close(st);
  free(id);
  if (rc == CRL_EBAD_REQUEST)
    return RT_EXIT_USAGE;
  return rc < 0 ? RT_EXIT_FAILED : RT_EXIT_OK;
}

const struct rt_cmd rt_cmd_export = {
    "export", "export [--format F] [-o FILE] [MISSION]",
    "export a mission as a trace file or a report", export_exec};
