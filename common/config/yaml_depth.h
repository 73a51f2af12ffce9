/* A bound on YAML nesting, checked on libyaml's events BEFORE the document is
 * composed: 200 KB of "[" would otherwise cost minutes in libyaml (and no
 * signal interrupts it). The configuration nests three levels deep. */
#ifndef DRR_YAML_DEPTH_H
#define DRR_YAML_DEPTH_H

#include <stddef.h>
#include "core/err.h"

#define YAML_MAX_DEPTH 32

/* 0 when yaml nests at most max_depth sequences/mappings (or has a syntax
 * error, which the loader then reports), else ERR_CONFIG with e naming
 * "name:line:column" of the collection that goes one level too deep. Stops at
 * that point: the cost is bounded by the depth, not the input. */
int yaml_depth_check(const char *yaml, size_t len, const char *name, int max_depth, struct err *e);

#endif
