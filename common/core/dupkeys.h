/* Finding a repeated name in a list (YAML mapping keys, security group IDs) in
 * linear expected time: a hash table instead of comparing every pair (issue
 * 18: the pairwise loops took 12-40 s on a 1 MB config), so that a list of
 * many distinct names under the input caps is checked in milliseconds. */
#ifndef DRR_DUPKEYS_H
#define DRR_DUPKEYS_H

#include <stddef.h>

/* Looks for a name that appears twice among names[0..n-1] (NULL entries are
 * skipped). Returns 1 and sets *later to the smallest index that repeats an
 * earlier name and *first to that earlier name's first index -- the pair a
 * scan in order would report first; returns 0 when all names differ. */
int dupkeys_find(const char *const *names, size_t n, size_t *first, size_t *later);

#endif
