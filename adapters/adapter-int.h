/*
 * adapters-internal: symbols the adapter files share but the rest of corral
 * reaches only through adapter_find(). Each adapter kind exports one
 * `const struct adapter_ops`, listed in the table in adapter.c.
 */
#ifndef ADAPTER_INT_H
#define ADAPTER_INT_H

#include "adapter.h"

extern const struct adapter_ops adapter_exec;

#endif
