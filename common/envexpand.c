/* ${VAR} and ${VAR:-default} expansion for configuration values.
 *
 * Rules (docs/configuration.md):
 *  - ${VAR}           the value of VAR; unset is an error naming VAR (set but
 *                     empty gives the empty string)
 *  - ${VAR:-default}  VAR's value when set and non-empty, else default (taken
 *                     literally, up to the first '}')
 *  - $$               a literal '$' (for secrets or commands containing "${")
 *  - any other '$'    literal, so "pa$word" needs no escaping
 *  - VAR is [A-Za-z_][A-Za-z0-9_]*; anything else inside ${...}, or an
 *    unterminated "${", is an error (a typo must not become a literal).
 * The expansion is done once: a variable's value is never expanded again. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

int env_expand(const char *s, char **out, char **missing)
{
    struct buf b = BUF_INIT;
    *out = NULL;
    if (missing != NULL)
        *missing = NULL;

    for (size_t i = 0; s[i] != '\0';) {
        if (s[i] != '$') {
            buf_putc(&b, s[i++]);
            continue;
        }
        if (s[i + 1] == '$') {
            buf_putc(&b, '$');
            i += 2;
            continue;
        }
        if (s[i + 1] != '{') {
            buf_putc(&b, s[i++]);
            continue;
        }
        const char *start = s + i + 2;
        const char *close = strchr(start, '}');
        if (close == NULL) {
            if (missing != NULL)
                *missing = xstrdup("unterminated \"${\" (write \"$${\" for a literal \"${\")");
            buf_free(&b);
            return -2;
        }
        const char *sep = strstr(start, ":-");
        size_t name_len = (sep != NULL && sep < close) ? (size_t)(sep - start)
                                                      : (size_t)(close - start);
        if (!name_ok(start, name_len)) {
            if (missing != NULL)
                *missing = xasprintf("invalid variable reference \"${%.*s}\" (expected ${NAME} "
                                     "or ${NAME:-default})", (int)(close - start), start);
            buf_free(&b);
            return -2;
        }
        char *name = xstrndup(start, name_len);
        const char *val = getenv(name);
        if (sep != NULL && sep < close) {
            if (val == NULL || val[0] == '\0')
                buf_append(&b, sep + 2, (size_t)(close - (sep + 2)));
            else
                buf_puts(&b, val);
        } else if (val == NULL) {
            if (missing != NULL)
                *missing = name;
            else
                free(name);
            buf_free(&b);
            return -1;
        } else {
            buf_puts(&b, val);
        }
        free(name);
        i = (size_t)(close - s) + 1;
    }
    *out = buf_detach(&b);
    return 0;
}
