#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REDACTED    "[REDACTED]"
#define MAX_SECRETS 64

static const char *log_component = "dblab-rds-refresh";
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_LEVEL_INFO;
static FILE *log_stream;

static char *secrets[MAX_SECRETS];
static size_t n_secrets;

void log_init(const char *component, enum log_format fmt, enum log_level min_level)
{
    if (component)
        log_component = component;
    log_fmt = fmt;
    log_min = min_level;
}

enum log_format log_current_format(void)
{
    return log_fmt;
}

int log_parse_format(const char *s, enum log_format *out)
{
    if (!s)
        return -1;
    if (strcmp(s, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

void log_set_stream(void *stdio_file)
{
    log_stream = stdio_file;
}

int log_enabled(enum log_level lvl)
{
    return lvl >= log_min && lvl < LOG_LEVEL_OFF;
}

void redact_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4)
        return;
    for (size_t i = 0; i < n_secrets; i++)
        if (strcmp(secrets[i], secret) == 0)
            return;
    if (n_secrets == MAX_SECRETS) {
        /* Drop the oldest: rotated credentials replace older ones. */
        free_secret(secrets[0]);
        memmove(secrets, secrets + 1, (MAX_SECRETS - 1) * sizeof secrets[0]);
        n_secrets--;
    }
    secrets[n_secrets++] = xstrdup(secret);
}

void redact_clear(void)
{
    for (size_t i = 0; i < n_secrets; i++)
        free_secret(secrets[i]);
    n_secrets = 0;
}

/* Field and header names whose values are always secret, wherever they appear
 * ("Name: value", "name=value", "\"name\": \"value\""). Authorization takes the
 * rest of its line because its value has spaces. */
static const char *const sensitive_names[] = {
    "authorization",
    "verification-token",
    "x-amz-security-token",
    "x-aws-ec2-metadata-token",
    "secretaccesskey",
    "secret_access_key",
    "aws_secret_access_key",
    "sessiontoken",
    "session_token",
    "aws_session_token",
    "password",
    "token",
    "secretstring",
};

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* If s[i..] starts a sensitive "name<sep>value", returns the value's [start,end)
 * and whether it runs to the end of the line. */
static int match_sensitive(const char *s, size_t i, size_t *vstart, size_t *vend)
{
    /* Inside a longer name ("mytoken") or a dotted config key path ("dblab.token:
     * required" is an error about the key, not the key's value). */
    if (i > 0 && (is_name_char(s[i - 1]) || s[i - 1] == '.'))
        return 0;
    for (size_t k = 0; k < sizeof sensitive_names / sizeof sensitive_names[0]; k++) {
        const char *name = sensitive_names[k];
        size_t n = strlen(name);
        if (strncasecmp(s + i, name, n) != 0 || is_name_char(s[i + n]))
            continue;
        size_t j = i + n;
        if (s[j] == '"' || s[j] == '\'')
            j++;
        while (s[j] == ' ' || s[j] == '\t')
            j++;
        if (s[j] != ':' && s[j] != '=')
            continue;
        j++;
        while (s[j] == ' ' || s[j] == '\t')
            j++;
        char quote = 0;
        if (s[j] == '"' || s[j] == '\'')
            quote = s[j++];
        size_t e = j;
        int whole_line = strcmp(name, "authorization") == 0;
        while (s[e] && s[e] != '\n' && s[e] != '\r') {
            if (quote) {
                if (s[e] == '\\' && s[e + 1]) {
                    e += 2;
                    continue;
                }
                if (s[e] == quote)
                    break;
            } else if (!whole_line && (isspace((unsigned char)s[e]) || s[e] == ',' || s[e] == ';' ||
                                       s[e] == '&' || s[e] == '}')) {
                break;
            }
            e++;
        }
        if (e == j)
            return 0;
        if (strncmp(s + j, REDACTED, strlen(REDACTED)) == 0)
            return 0;
        *vstart = j;
        *vend = e;
        return 1;
    }
    return 0;
}

char *redact_apply(const char *s)
{
    struct buf out = BUF_INIT;
    if (!s)
        return buf_detach(&out);
    size_t len = strlen(s);
    size_t i = 0;
    while (i < len) {
        size_t vs, ve;
        int hit = 0;
        for (size_t k = 0; k < n_secrets; k++) {
            size_t n = strlen(secrets[k]);
            if (strncmp(s + i, secrets[k], n) == 0) {
                buf_puts(&out, REDACTED);
                i += n;
                hit = 1;
                break;
            }
        }
        if (hit)
            continue;
        if (match_sensitive(s, i, &vs, &ve)) {
            buf_append(&out, s + i, vs - i);
            buf_puts(&out, REDACTED);
            i = ve;
            continue;
        }
        buf_putc(&out, s[i]);
        i++;
    }
    return buf_detach(&out);
}

static const char *level_name(enum log_level lvl)
{
    switch (lvl) {
    case LOG_LEVEL_DEBUG:
        return "debug";
    case LOG_LEVEL_INFO:
        return "info";
    case LOG_LEVEL_WARN:
        return "warn";
    case LOG_LEVEL_ERROR:
        return "error";
    default:
        return "off";
    }
}

char *log_escape_controls(const char *s)
{
    struct buf b = BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\t') {
            buf_putc(&b, ' ');
        } else if (*p < 0x20 || *p == 0x7f) {
            buf_printf(&b, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            /* A C1 control in UTF-8 (U+009B is a CSI to many terminals). */
            buf_printf(&b, "\\u%04x", p[1]);
            p++;
        } else {
            buf_putc(&b, (char)*p);
        }
    }
    return buf_detach(&b);
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    if (!log_enabled(lvl))
        return;
    struct buf raw = BUF_INIT;
    buf_vprintf(&raw, fmt, ap);
    char *msg = redact_apply(buf_cstr(&raw));
    buf_release(&raw);
    /* One event, one line: fold embedded newlines. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (log_fmt != LOG_FORMAT_JSON) {
        /* A text line goes to a terminal: a control character from a remote
         * message (an ESC[2J in a DBLab error) is shown, never obeyed. JSON
         * lines need nothing: cJSON escapes control characters itself. */
        char *esc = log_escape_controls(msg);
        free(msg);
        msg = esc;
    }

    char ts[32];
    clock_format_rfc3339(clock_now(), ts, sizeof ts);
    FILE *f = log_stream ? log_stream : stderr;
    if (log_fmt == LOG_FORMAT_JSON) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "time", ts);
        cJSON_AddStringToObject(o, "level", level_name(lvl));
        cJSON_AddStringToObject(o, "component", log_component);
        cJSON_AddStringToObject(o, "msg", msg);
        char *line = cJSON_PrintUnformatted(o);
        if (line) {
            fprintf(f, "%s\n", line);
            free(line);
        }
        cJSON_Delete(o);
    } else {
        char upper[8];
        const char *ln = level_name(lvl);
        size_t k = 0;
        for (; ln[k] && k < sizeof upper - 1; k++)
            upper[k] = (char)toupper((unsigned char)ln[k]);
        upper[k] = '\0';
        fprintf(f, "%s %-5s %s: %s\n", ts, upper, log_component, msg);
    }
    fflush(f);
    free(msg);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

#define DEFINE_LEVEL(fn, lvl)                                                                      \
    void fn(const char *fmt, ...)                                                                  \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vmsg(lvl, fmt, ap);                                                                    \
        va_end(ap);                                                                                \
    }

DEFINE_LEVEL(log_debug, LOG_LEVEL_DEBUG)
DEFINE_LEVEL(log_info, LOG_LEVEL_INFO)
DEFINE_LEVEL(log_warn, LOG_LEVEL_WARN)
DEFINE_LEVEL(log_error, LOG_LEVEL_ERROR)
