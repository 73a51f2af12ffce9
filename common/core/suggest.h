/* "Did you mean" suggestions for misspelt names (config keys, enum values). */
#ifndef DRR_SUGGEST_H
#define DRR_SUGGEST_H

#include <stddef.h>

/* Edit distance (Damerau: insert, delete, substitute, swap two adjacent) between
 * a and b, compared case-insensitively and ignoring '_' and '-', so that
 * "instance_class" and "InstanceClass" are both 0 from "instanceClass". */
size_t suggest_distance(const char *a, const char *b);

/* The candidate closest to word if it is close enough to be a plausible typo
 * (distance <= 1 for names up to 4 characters, 2 up to 8, else 3), else the one
 * candidate that word (3+ characters) is the beginning of, else NULL.
 * candidates is NULL-terminated. */
const char *suggest_closest(const char *word, const char *const *candidates);

#endif
