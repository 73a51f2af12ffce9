#include "core/suggest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Lower-cased copy without '_' and '-'. */
static char *normalise(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_' || s[i] == '-')
            continue;
        out[k++] = (char)tolower((unsigned char)s[i]);
    }
    out[k] = '\0';
    return out;
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t suggest_distance(const char *a0, const char *b0)
{
    char *a = normalise(a0);
    char *b = normalise(b0);
    size_t n = strlen(a), m = strlen(b);
    /* Three rows of the Damerau-Levenshtein (optimal string alignment) table. */
    size_t *prev2 = xcalloc(m + 1, sizeof *prev2);
    size_t *prev = xcalloc(m + 1, sizeof *prev);
    size_t *cur = xcalloc(m + 1, sizeof *cur);
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    size_t d = prev[m];
    free(prev2);
    free(prev);
    free(cur);
    free(a);
    free(b);
    return d;
}

const char *suggest_closest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; candidates[i] != NULL; i++) {
        size_t d = suggest_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    if (best == NULL)
        return NULL;
    size_t len = strlen(best);
    size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    if (best_d <= limit)
        return best;

    /* A shortened name ("aurora" for "aurora-cluster"): the one candidate it starts. */
    char *w = normalise(word);
    size_t wl = strlen(w);
    const char *only = NULL;
    int count = 0;
    for (size_t i = 0; wl >= 3 && candidates[i] != NULL; i++) {
        char *c = normalise(candidates[i]);
        if (strncmp(c, w, wl) == 0) {
            only = candidates[i];
            count++;
        }
        free(c);
    }
    free(w);
    return count == 1 ? only : NULL;
}
