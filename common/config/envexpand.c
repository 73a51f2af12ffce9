/* Environment variable expansion for configuration values: Go's os.ExpandEnv
 * (what the Go original applies to its whole config file), with the project's
 * safety rules on top. docs/configuration.md is the user-facing description.
 *
 * Ported from Go's src/os/env.go (Expand, getShellName, isShellSpecialVar,
 * isAlphaNum):
 *  - $NAME            NAME is the longest run of [A-Za-z0-9_] after the '$'
 *                     (Expand + getShellName's "Scan alphanumerics")
 *  - $C, ${C}         C one of * # $ @ ! ? - 0-9: a one-character name
 *                     (isShellSpecialVar), so "$1abc" is $1 then "abc"
 *  - ${NAME}          the text up to '}'
 *  - '$' followed by anything else, or last in the string, stays literal
 *                     (Expand: "Valid syntax, but $ was not followed by a name")
 * Where this project differs from Go, on purpose:
 *  - an unset variable is an error naming it (Go: the empty string), so that a
 *    missing secret or a '$' meant literally never becomes "" silently; set but
 *    empty gives "";
 *  - "$$" is a literal '$' (Go: the variable named "$", empty in practice), the
 *    way to write a '$' that must not start a name ("pa$$word");
 *  - ${NAME:-default}: NAME's value when set and non-empty, else default (taken
 *    literally, up to the first '}');
 *  - inside ${...} NAME must be [A-Za-z_][A-Za-z0-9_]* or one special
 *    character, and an unterminated "${" or an empty "${}" is an error (Go eats
 *    the characters): a typo must not become a literal.
 * The expansion is done once: a variable's value is never expanded again.
 *
 * Time is linear in the input: every byte is looked at a bounded number of
 * times (Go's own getShellName rescans to the end for every unterminated "${";
 * here the first one ends the expansion with an error). */
#include "config/config.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Go's isShellSpecialVar (src/os/env.go). */
static int is_shell_special(unsigned char c)
{
    return strchr("*#$@!?-0123456789", c) != NULL && c != '\0';
}

/* Go's isAlphaNum (src/os/env.go): ASCII letter, digit or underscore. */
static int is_alnum(unsigned char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct expansion {
    env_lookup_fn lookup;
    void *ctx;
    struct buf out;
    char **missing;
    int refs; /* variables referenced */
};

static int fail(struct expansion *x, int rc, char *why)
{
    if (x->missing != NULL)
        *x->missing = why;
    else
        free(why);
    buf_release(&x->out);
    return rc;
}

/* Appends the value of name[0..len-1]; fallback (len flen) when given and the
 * value is unset or empty. Returns 0 or -1 (unset, no fallback). */
static int substitute(struct expansion *x, const char *name, size_t len, const char *fallback,
                      size_t flen)
{
    char *n = xstrndup(name, len);
    const char *val = x->lookup(n, x->ctx);
    x->refs++;
    if (fallback != NULL && (val == NULL || val[0] == '\0')) {
        buf_append(&x->out, fallback, flen);
    } else if (val == NULL) {
        return fail(x, -1, n);
    } else {
        buf_puts(&x->out, val);
    }
    free(n);
    return 0;
}

/* "${" at s: expands it; *used = bytes consumed. */
static int braced(struct expansion *x, const char *s, size_t *used)
{
    const char *p = s + 2;
    size_t n = 0;
    if (is_shell_special((unsigned char)p[0]) && (p[1] == '}' || (p[1] == ':' && p[2] == '-'))) {
        n = 1; /* ${1}, ${*}: getShellName's special case (and ${1:-x}) */
    } else if (is_name_start((unsigned char)p[0])) {
        while (is_alnum((unsigned char)p[n]))
            n++;
    }
    if (n > 0 && p[n] == '}') {
        *used = 2 + n + 1;
        return substitute(x, p, n, NULL, 0);
    }
    if (n > 0 && p[n] == ':' && p[n + 1] == '-') {
        const char *def = p + n + 2;
        const char *close = strchr(def, '}');
        if (close != NULL) {
            *used = (size_t)(close - s) + 1;
            return substitute(x, p, n, def, (size_t)(close - def));
        }
    }
    /* Malformed: name the reference as written, up to its '}' if any. One
     * strchr, then the expansion stops: linear. */
    const char *close = strchr(p, '}');
    if (close == NULL)
        return fail(x, -2, xstrdup("unterminated \"${\" (write \"$${\" for a literal \"${\")"));
    return fail(x, -2,
                xasprintf("invalid variable reference \"${%.*s}\" (expected ${NAME} "
                          "or ${NAME:-default})",
                          (int)(close - p), p));
}

int env_expand_with(const char *s, env_lookup_fn lookup, void *ctx, char **out, char **missing,
                    int *refs)
{
    struct expansion x = {.lookup = lookup, .ctx = ctx, .out = BUF_INIT, .missing = missing};
    *out = NULL;
    if (missing != NULL)
        *missing = NULL;

    size_t i = 0;
    while (s[i] != '\0') {
        const char *dollar = strchr(s + i, '$');
        if (dollar == NULL) {
            buf_puts(&x.out, s + i);
            break;
        }
        buf_append(&x.out, s + i, (size_t)(dollar - (s + i)));
        i = (size_t)(dollar - s);
        unsigned char c = (unsigned char)s[i + 1];
        size_t used;
        int rc = 0;
        if (c == '$') { /* project rule: a literal '$' */
            buf_putc(&x.out, '$');
            used = 2;
        } else if (c == '{') {
            rc = braced(&x, s + i, &used);
        } else if (is_shell_special(c)) { /* $1, $*, ... */
            rc = substitute(&x, s + i + 1, 1, NULL, 0);
            used = 2;
        } else if (is_alnum(c)) { /* $NAME (c is not a digit here) */
            size_t n = 1;
            while (is_alnum((unsigned char)s[i + 1 + n]))
                n++;
            rc = substitute(&x, s + i + 1, n, NULL, 0);
            used = 1 + n;
        } else { /* "$ ", "$}", "$" at the end */
            buf_putc(&x.out, '$');
            used = 1;
        }
        if (rc != 0)
            return rc;
        i += used;
    }
    if (refs != NULL)
        *refs = x.refs;
    *out = buf_detach(&x.out);
    return 0;
}

static const char *lookup_environ(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int env_expand(const char *s, char **out, char **missing)
{
    return env_expand_with(s, lookup_environ, NULL, out, missing, NULL);
}

int env_has_reference(const char *s)
{
    char *out = NULL;
    int refs = 0;
    int rc = env_expand_with(s, lookup_environ, NULL, &out, NULL, &refs);
    free(out);
    return rc != 0 || refs > 0;
}
