#include "dupkeys.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct entry {
    const char *name;
    size_t index;
};

/* By name, then by position: equal names end up adjacent, the first one first. */
static int by_name_then_index(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

int dupkeys_find(const char *const *names, size_t n, size_t *first, size_t *later)
{
    struct entry *e = xcalloc(n ? n : 1, sizeof *e);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i] != NULL)
            e[m++] = (struct entry){ names[i], i };
    qsort(e, m, sizeof *e, by_name_then_index);
    int found = 0;
    /* In each run of equal names, its second entry is the first repeat; the
     * earliest such repeat over all runs is what an in-order scan meets first. */
    for (size_t i = 1; i < m; i++) {
        if (strcmp(e[i].name, e[i - 1].name) != 0)
            continue;
        size_t start = i - 1;
        if (!found || e[i].index < *later) {
            *first = e[start].index;
            *later = e[i].index;
            found = 1;
        }
        while (i + 1 < m && strcmp(e[i + 1].name, e[start].name) == 0)
            i++;
    }
    free(e);
    return found;
}
