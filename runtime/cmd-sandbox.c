/*
 * corral sandbox: placeholder until the sandbox module lands.
 */
#include "rt-int.h"

static int sandbox_exec(int argc, char **argv) {
  rt_errorf("sandbox: not implemented yet");
  return RT_EXIT_FAILED;
}

const struct rt_cmd rt_cmd_sandbox = {"sandbox", "sandbox",
                                      "(not implemented yet)", sandbox_exec};
