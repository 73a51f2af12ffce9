/* The run document: strict reading, section access, one-line writing.
 *
 * Reading is strict so that a broken pipeline fails at the step that received
 * garbage, naming it: the input must be exactly one JSON object (whitespace
 * around it allowed, nothing else), without NUL bytes, without duplicate keys at
 * any depth, with apiVersion "dblab-rds-refresh/v1", runId a string and dryRun a
 * boolean when present, every known section that is present an object, and
 * every required section present. */
#include "app/rundoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "core/buf.h"
#include "core/dupkeys.h"
#include "core/err.h"
#include "core/exitcodes.h"
#include "core/json_type.h"
#include "core/log.h"

/* A run document is small (a few KiB); anything huge is not one. */
#define RUNDOC_MAX_BYTES (1024 * 1024)

struct section_info {
    const char *name;
    const char *producer; /* the command that adds it, for "run X first" */
};

static const struct section_info sections[] = {
    {"source", "rds-snapshot-latest"},  {"snapshot", "rds-snapshot-latest"},
    {"restore", "rds-snapshot-latest"}, {"clone", "rds-clone-create"},
    {"wait", "rds-clone-wait -once"},   {"endpoint", "rds-clone-wait"},
    {"refresh", "dblab-refresh"},       {"deleted", "rds-clone-delete"},
};

static const char *producer_of(const char *section)
{
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strcmp(sections[i].name, section) == 0)
            return sections[i].producer;
    return NULL;
}

cJSON *rundoc_new(void)
{
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL || cJSON_AddStringToObject(doc, "apiVersion", RUNDOC_API_VERSION) == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(err_exit_code(ERR_INTERNAL, 0)); /* the process ends here: its edge */
    }
    return doc;
}

/* The position of the first member of object v whose key an earlier member
 * already has, or (size_t)-1 (dupkeys.c: hashed, linear in the keys). */
static size_t first_repeat(const cJSON *v)
{
    size_t n = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next)
        n++;
    if (n < 2)
        return (size_t)-1;
    const char **names = xcalloc(n, sizeof *names);
    size_t i = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next, i++)
        names[i] = c->string != NULL ? c->string : "";
    size_t first, later = (size_t)-1;
    if (!dupkeys_find(names, n, &first, &later))
        later = (size_t)-1;
    free(names);
    return later;
}

static void path_truncate(struct buf *path, size_t len)
{
    path->len = len;
    if (path->data != NULL)
        path->data[len] = '\0';
}

/* Finds the first key repeated inside an object, at any depth (in document
 * order: a member that repeats an earlier key, or the first duplicate inside
 * a member); fills path. */
static int find_duplicate(const cJSON *v, struct buf *path)
{
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return 0;
    size_t base = path->len;
    size_t repeat = cJSON_IsObject(v) ? first_repeat(v) : (size_t)-1;
    size_t idx = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next, idx++) {
        path_truncate(path, base);
        if (cJSON_IsObject(v)) {
            if (base > 0)
                buf_putc(path, '.');
            buf_puts(path, c->string);
            if (idx == repeat)
                return 1;
        } else {
            buf_printf(path, "[%zu]", idx);
        }
        if (find_duplicate(c, path))
            return 1;
    }
    path_truncate(path, base);
    return 0;
}

/* 1 when a JSON string of text (a key or a value) holds the escape \u0000: cJSON
 * would cut it there, so "dblab-refresh-\u0000production-db" would be read as
 * "dblab-refresh-". *at receives the offset of the backslash. */
static int has_escaped_nul(const char *text, size_t len, size_t *at)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            if (text[i] == '"')
                in_string = 1;
            continue;
        }
        if (text[i] == '"') {
            in_string = 0;
        } else if (text[i] == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len && strncmp(text + i + 2, "0000", 4) == 0) {
                *at = i;
                return 1;
            }
            i++; /* the escaped character, whatever it is */
        }
    }
    return 0;
}

/* Line and column (1-based) of offset in text. */
static void position(const char *text, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && text[i] != '\0'; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int parse_len(const char *text, size_t len, const char *name, const char *const *required,
                     cJSON **out, struct err *e)
{
    *out = NULL;
    if (strlen(text) != len)
        return err_set(e, ERR_INPUT, "%s: contains a NUL byte at offset %zu (not JSON)", name,
                       strlen(text));
    size_t i = 0;
    while (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
        i++;
    if (text[i] == '\0')
        return err_set(e, ERR_INPUT,
                       "%s: empty input (expected the run document of the previous step)", name);

    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithOpts(text, &end, 1);
    if (doc == NULL) {
        size_t off = end != NULL && end >= text ? (size_t)(end - text) : 0;
        const char *ep = cJSON_GetErrorPtr();
        if (ep != NULL && ep >= text && ep <= text + len)
            off = (size_t)(ep - text);
        /* cJSON stops before the blanks that precede the offending token */
        while (off < len &&
               (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r'))
            off++;
        int line, col;
        position(text, off, &line, &col);
        return err_set(e, ERR_INPUT, "%s:%d:%d: malformed JSON (offset %zu)", name, line, col, off);
    }
    size_t nul_at;
    if (has_escaped_nul(text, len, &nul_at)) {
        int line, col;
        position(text, nul_at, &line, &col);
        cJSON_Delete(doc);
        return err_set(e, ERR_INPUT,
                       "%s:%d:%d: a string holds \\u0000 (NUL): no field of a "
                       "run document may",
                       name, line, col);
    }
    if (!cJSON_IsObject(doc)) {
        err_set(e, ERR_INPUT, "%s: the run document must be a JSON object, got %s", name,
                json_type_name(doc));
        cJSON_Delete(doc);
        return ERR_INPUT;
    }

    struct buf path = BUF_INIT;
    if (find_duplicate(doc, &path)) {
        err_set(e, ERR_INPUT, "%s: %s: duplicate key", name, buf_cstr(&path));
        buf_release(&path);
        cJSON_Delete(doc);
        return ERR_INPUT;
    }
    buf_release(&path);

    const cJSON *av = cJSON_GetObjectItemCaseSensitive(doc, "apiVersion");
    int rc = 0;
    if (av == NULL)
        rc = err_set(e, ERR_INPUT, "%s: apiVersion: missing (not a dblab-rds-refresh run document)",
                     name);
    else if (!cJSON_IsString(av))
        rc = err_set(e, ERR_INPUT, "%s: apiVersion: must be a string, got %s", name,
                     json_type_name(av));
    else if (strcmp(av->valuestring, RUNDOC_API_VERSION) != 0)
        rc = err_set(e, ERR_INPUT, "%s: apiVersion: unsupported \"%.100s\" (expected \"%s\")", name,
                     av->valuestring, RUNDOC_API_VERSION);
    if (rc == 0) {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(doc, "runId");
        const cJSON *dry = cJSON_GetObjectItemCaseSensitive(doc, "dryRun");
        if (rid != NULL && !cJSON_IsString(rid))
            rc = err_set(e, ERR_INPUT, "%s: runId: must be a string, got %s", name,
                         json_type_name(rid));
        else if (dry != NULL && !cJSON_IsBool(dry))
            rc = err_set(e, ERR_INPUT, "%s: dryRun: must be a boolean, got %s", name,
                         json_type_name(dry));
    }
    for (size_t s = 0; rc == 0 && s < sizeof sections / sizeof sections[0]; s++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(doc, sections[s].name);
        if (sec != NULL && !cJSON_IsObject(sec))
            rc = err_set(e, ERR_INPUT, "%s: %s: must be an object, got %s", name, sections[s].name,
                         json_type_name(sec));
    }
    for (size_t r = 0; rc == 0 && required != NULL && required[r] != NULL; r++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(doc, required[r]);
        if (sec == NULL) {
            const char *prod = producer_of(required[r]);
            if (prod != NULL)
                rc = err_set(e, ERR_INPUT, "%s: %s: missing section (run %s first)", name,
                             required[r], prod);
            else
                rc = err_set(e, ERR_INPUT, "%s: %s: missing section", name, required[r]);
        } else if (!cJSON_IsObject(sec)) {
            rc = err_set(e, ERR_INPUT, "%s: %s: must be an object, got %s", name, required[r],
                         json_type_name(sec));
        }
    }
    if (rc != 0) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int rundoc_parse(const char *text, const char *name, const char *const *required, cJSON **out,
                 struct err *e)
{
    if (name == NULL)
        name = "input";
    if (text == NULL) {
        *out = NULL;
        return err_set(e, ERR_INPUT, "%s: empty input", name);
    }
    return parse_len(text, strlen(text), name, required, out, e);
}

int rundoc_read(const char *path, const char *const *required, cJSON **out, struct err *e)
{
    *out = NULL;
    int use_stdin = path == NULL || strcmp(path, "-") == 0;
    const char *name = use_stdin ? "stdin" : path;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_INPUT, "%s: cannot open: %s", name, strerror(errno));

    struct buf b = BUF_INIT;
    int got = buf_read_file(&b, f, RUNDOC_MAX_BYTES);
    int saved = errno;
    if (!use_stdin)
        fclose(f);

    int rc;
    if (got < 0)
        rc = err_set(e, ERR_INPUT, "%s: read error: %s", name, strerror(saved));
    else if (got > 0)
        rc = err_set(e, ERR_INPUT, "%s: larger than %d bytes (not a run document)", name,
                     RUNDOC_MAX_BYTES);
    else
        rc = parse_len(b.data != NULL ? b.data : "", b.len, name, required, out, e);
    buf_release(&b);
    return rc;
}

void rundoc_set_section(cJSON *doc, const char *name, cJSON *obj)
{
    if (cJSON_GetObjectItemCaseSensitive(doc, name) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(doc, name, obj);
    else
        cJSON_AddItemToObject(doc, name, obj);
}

cJSON *rundoc_section(const cJSON *doc, const char *name)
{
    cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, name);
    return cJSON_IsObject(s) ? s : NULL;
}

static int get_field(const cJSON *doc, const char *section, const char *field, const cJSON **out,
                     struct err *e)
{
    const cJSON *sec = rundoc_section(doc, section);
    if (sec == NULL) {
        const char *prod = producer_of(section);
        if (prod != NULL)
            return err_set(e, ERR_INPUT, "%s: missing section (run %s first)", section, prod);
        return err_set(e, ERR_INPUT, "%s: missing section", section);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, field);
    if (v == NULL || cJSON_IsNull(v))
        return err_set(e, ERR_INPUT, "%s.%s: missing", section, field);
    *out = v;
    return 0;
}

int rundoc_get_string(const cJSON *doc, const char *section, const char *field, const char **out,
                      struct err *e)
{
    const cJSON *v;
    int rc = get_field(doc, section, field, &v, e);
    if (rc != 0)
        return rc;
    if (!cJSON_IsString(v))
        return err_set(e, ERR_INPUT, "%s.%s: must be a string, got %s", section, field,
                       json_type_name(v));
    if (v->valuestring[0] == '\0')
        return err_set(e, ERR_INPUT, "%s.%s: must not be empty", section, field);
    *out = v->valuestring;
    return 0;
}

int rundoc_get_int(const cJSON *doc, const char *section, const char *field, long long *out,
                   struct err *e)
{
    const cJSON *v;
    int rc = get_field(doc, section, field, &v, e);
    if (rc != 0)
        return rc;
    if (!cJSON_IsNumber(v))
        return err_set(e, ERR_INPUT, "%s.%s: must be a number, got %s", section, field,
                       json_type_name(v));
    if (json_integer(v, out) != 0)
        return err_set(e, ERR_INPUT, "%s.%s: must be an integer", section, field);
    return 0;
}

int rundoc_write(const cJSON *doc)
{
    char *text = cJSON_PrintUnformatted(doc);
    if (text == NULL) {
        log_error("run document: cannot serialise (out of memory)");
        return ERR_INTERNAL;
    }
    errno = 0;
    int bad = fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0;
    cJSON_free(text);
    if (bad) {
        /* Said here, once for every command: a full disk or a closed pipe must not
         * end a step with only an exit code. */
        log_error("stdout: write failed: %s", errno ? strerror(errno) : "I/O error");
        return ERR_INTERNAL;
    }
    return 0;
}
