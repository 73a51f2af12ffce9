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

static int set(struct err *e, enum err_kind kind, int signo, const char *fmt, va_list ap)
{
    if (!e)
        return kind;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    flatten(e->msg);
    /* Re-wording a callee's interruption (err_set(e, rc, ...)) keeps its signal. */
    if (kind == ERR_INTERRUPTED && signo == 0 && e->kind == ERR_INTERRUPTED)
        signo = e->signo;
    e->kind = kind;
    e->signo = signo;
    return kind;
}

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = set(e, kind, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int err_interrupted(struct err *e, int signo, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = set(e, ERR_INTERRUPTED, signo, fmt, ap);
    va_end(ap);
    return rc;
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
    return e->kind;
}

int err_reclassify(struct err *e, enum err_kind kind)
{
    if (e) {
        e->kind = kind;
        e->signo = 0;
    }
    return kind;
}

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->kind = ERR_OK;
    e->signo = 0;
    e->msg[0] = '\0';
}

const char *err_kind_name(int kind)
{
    static const char *const names[ERR_KIND_COUNT] = {
        [ERR_OK] = "ok",
        [ERR_USAGE] = "usage",
        [ERR_INPUT] = "input",
        [ERR_INTERNAL] = "internal",
        [ERR_TRANSIENT] = "transient",
        [ERR_CONFIG] = "config",
        [ERR_TLS] = "tls",
        [ERR_AWS_REJECTED] = "aws-rejected",
        [ERR_AWS_UNAUTHORIZED] = "aws-unauthorized",
        [ERR_AWS_BAD_ANSWER] = "aws-bad-answer",
        [ERR_DBLAB_REJECTED] = "dblab-rejected",
        [ERR_DBLAB_UNAUTHORIZED] = "dblab-unauthorized",
        [ERR_DBLAB_BAD_ANSWER] = "dblab-bad-answer",
        [ERR_TIMEOUT] = "timeout",
        [ERR_GUARD] = "guard",
        [ERR_BUSY] = "busy",
        [ERR_STALE] = "stale",
        [ERR_NOT_FOUND] = "not-found",
        [ERR_CLONE_FAILED] = "clone-failed",
        [ERR_REFRESH_FAILED] = "refresh-failed",
        [ERR_NOTHING_TO_DO] = "nothing-to-do",
        [ERR_INTERRUPTED] = "interrupted",
    };
    if (kind < 0 || kind >= ERR_KIND_COUNT)
        return "unknown";
    return names[kind];
}

void err_excerpt(const char *text, size_t len, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    size_t max = outlen > 4 ? outlen - 4 : 0, o = 0, i = 0;
    int space = 0;
    for (; text && i < len && o < max; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = o > 0;
            continue;
        }
        if (space) {
            if (o + 1 >= max)
                break;
            out[o++] = ' ';
            space = 0;
        }
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (text && i < len && outlen >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
