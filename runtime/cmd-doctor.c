/*
 * corral doctor: placeholder until the sandbox module lands.
 */
#include "rt-int.h"

static int doctor_exec(int argc, char **argv) {
  rt_errorf("doctor: not implemented yet");
  return RT_EXIT_FAILED;
}

const struct rt_cmd rt_cmd_doctor = {"doctor", "doctor",
                                     "(not implemented yet)", doctor_exec};
