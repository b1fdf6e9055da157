/*
 * The adapter table: every agent kind corral knows, looked up by the name a
 * mission file gives in `adapter:`. Variation by kind is data (STYLE rule
 * 19), so adding an adapter means one new file and one row here. The file
 * also owns the helpers every adapter shares: event kind names and the
 * NULL-terminated argv vectors adapters hand to the runtime.
 */
#include "adapter-int.h"

#include <stdlib.h>
#include <string.h>

static const struct adapter_ops *const adapter_table[] = {
    &adapter_exec,   &adapter_claude_code, &adapter_codex,
    &adapter_gemini, &adapter_qwen_code,   &adapter_opencode,
};

static const char *const adapter_table_names[] = {
    "exec", "claude-code", "codex", "gemini", "qwen-code", "opencode", NULL,
};

static const char *const adapter_kind_names[] = {
    [ADAPTER_EV_MESSAGE] = "message",
    [ADAPTER_EV_TOOL_CALL] = "tool_call",
    [ADAPTER_EV_TOOL_RESULT] = "tool_result",
    [ADAPTER_EV_USAGE] = "usage",
    [ADAPTER_EV_ERROR] = "error",
    [ADAPTER_EV_SESSION] = "session",
};

const struct adapter_ops *adapter_find(const char *name) {
  size_t i;

  if (name == NULL)
    return NULL;
  for (i = 0; i < CRL_ARRAY_SIZE(adapter_table); i++)
    if (strcmp(adapter_table[i]->name, name) == 0)
      return adapter_table[i];
  return NULL;
}

const char *const *adapter_names(void) {
  return adapter_table_names;
}

const char *adapter_event_kind_name(enum adapter_event_kind k) {
  if ((size_t)k >= CRL_ARRAY_SIZE(adapter_kind_names) ||
      adapter_kind_names[k] == NULL)
    return "unknown";
  return adapter_kind_names[k];
}

/* Returns a deep copy of argv, owned by the caller (adapter_argv_free), or
 * NULL when argv is NULL. */
char **adapter_argv_dup(char *const *argv) {
  char **out;
  size_t n, i;

  if (argv == NULL)
    return NULL;
  for (n = 0; argv[n] != NULL; n++)
    ;
  out = xcalloc(n + 1, sizeof(*out));
  for (i = 0; i < n; i++)
    out[i] = xstrdup(argv[i]);
  return out;
}

void adapter_argv_free(char **argv) {
  size_t i;

  if (argv == NULL)
    return;
  for (i = 0; argv[i] != NULL; i++)
    free(argv[i]);
  free(argv);
}
