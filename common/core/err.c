#include "core/buf.h"
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Keeps messages to one line: a newline inside a formatted value (an AWS
 * message, a YAML scalar) would break the one-line error contract. */
static void flatten(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    flatten(e->msg);
    e->code = code;
    return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e)
        return 0;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s: %s", prefix, e->msg);
    /* Truncation is fine: the context comes first and the message stays one line. */
    size_t n = b.len < sizeof e->msg - 1 ? b.len : sizeof e->msg - 1;
    memcpy(e->msg, b.data, n);
    e->msg[n] = '\0';
    buf_release(&b);
    flatten(e->msg);
    return e->code;
}

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = 0;
    e->msg[0] = '\0';
}
