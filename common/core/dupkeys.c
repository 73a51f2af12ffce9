#include "core/dupkeys.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* FNV-1a: a fixed hash is enough here -- the table only speeds up finding a
 * repeat; equal hashes are always confirmed with strcmp. */
static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int dupkeys_find(const char *const *names, size_t n, size_t *first, size_t *later)
{
    /* Open addressing, at most half full: each name is inserted in order, so
     * the first one that finds its equal is the first repeat a scan in order
     * meets, and the equal one found is its first occurrence. */
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t *slot = xmalloc(cap * sizeof *slot); /* index + 1; 0 = empty */
    memset(slot, 0, cap * sizeof *slot);
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (names[i] == NULL)
            continue;
        size_t h = (size_t)hash_name(names[i]) & (cap - 1);
        for (;; h = (h + 1) & (cap - 1)) {
            if (slot[h] == 0) {
                slot[h] = i + 1;
                break;
            }
            if (strcmp(names[slot[h] - 1], names[i]) == 0) {
                *first = slot[h] - 1;
                *later = i;
                found = 1;
                break;
            }
        }
    }
    free(slot);
    return found;
}
