/* The AWS shared config and credentials files, read as the AWS SDKs read them
 * (the "shared config and credentials files" rules of the SDK reference guide,
 * as implemented by botocore and the Java SDK v2):
 *
 *  - paths: AWS_CONFIG_FILE (else ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE
 *    (else ~/.aws/credentials); a leading "~/" is expanded from $HOME (else the
 *    password database). A missing or unreadable file is simply empty.
 *  - config file: profiles are [default] and [profile NAME] (any blanks between
 *    "profile" and NAME); [profile default] wins over [default] when both exist;
 *    other sections ([NAME], [sso-session x], [services x]) are not profiles.
 *  - credentials file: profiles are [NAME], no prefix.
 *  - the same profile in both files is merged and the credentials file wins,
 *    key by key (botocore's Session.full_config does exactly this).
 *  - a section or key repeated within a file: the later one wins.
 *  - full-line comments start with '#' or ';'; on a section line anything after
 *    ']' is ignored; on a property line a '#' or ';' starts a comment only when
 *    preceded by a blank (so "secret#x" keeps its '#').
 *  - "key = value", blanks around both trimmed, key names compared
 *    case-insensitively (botocore lower-cases them); quotes are kept.
 *  - an indented line after a property continues its value ("s3 =\n  a = b"),
 *    joined with "\n" as the SDKs do for sub-properties.
 *  - an empty value counts as absent, wherever it is: "key =" on the last line
 *    with no final newline is read exactly like "key =\n" (every line is
 *    trimmed of its terminator before any other rule looks at it).
 *  - lines that are none of the above (no '=') are ignored.
 *  - a file larger than AWS_INI_MAX_BYTES (1 MiB) is refused as a whole:
 *    botocore has no cap, but a config or credentials file is a few KB and no
 *    lookup should read without bound. aws_ini_check() reports it; a lookup in
 *    a refused file finds nothing.
 * Time is linear in the file size: each line is read once, and a value built
 * from continuation lines grows in one buffer (not rebuilt per line).
 */
#include "aws/aws_ini.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"

/* What the current section of a file means for the lookup. */
enum section_match {
    SEC_OTHER = 0, /* some other profile or not a profile */
    SEC_MATCH,     /* the wanted profile */
    SEC_MATCH_WEAK /* [default] in the config file: loses to [profile default] */
};

/* A property's value as it is built: set by "key = v", extended by each
 * continuation line in place (amortised O(1) per byte). */
struct value {
    int set;
    struct buf text;
};

struct lookup {
    const char *profile;      /* the profile, or the name of a section_kind section */
    const char *section_kind; /* NULL: profiles; else e.g. "services" for [services NAME] */
    const char *key;          /* NULL: only checking existence */
    int is_config;
    int found_section;       /* any section naming the profile */
    int found_strong;        /* a SEC_MATCH section was seen */
    struct value value;      /* from SEC_MATCH sections */
    struct value weak_value; /* from SEC_MATCH_WEAK sections */
};

static char *home_path(const char *rel)
{
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw != NULL ? pw->pw_dir : NULL;
    }
    if (home == NULL)
        return NULL;
    return xasprintf("%s/%s", home, rel);
}

/* The file path, "~/" expanded. NULL if no home directory can be found. */
static char *ini_path(int is_config)
{
    const char *env = getenv(is_config ? "AWS_CONFIG_FILE" : "AWS_SHARED_CREDENTIALS_FILE");
    if (env != NULL && env[0] != '\0') {
        if (env[0] == '~' && env[1] == '/')
            return home_path(env + 2);
        return xstrdup(env);
    }
    return home_path(is_config ? ".aws/config" : ".aws/credentials");
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Classifies a section header's inner text (between the brackets, trimmed). */
static enum section_match classify(const struct lookup *lk, const char *name)
{
    if (lk->section_kind != NULL) {
        size_t kl = strlen(lk->section_kind);
        if (strncmp(name, lk->section_kind, kl) != 0 || (name[kl] != ' ' && name[kl] != '\t'))
            return SEC_OTHER;
        const char *p = name + kl;
        while (*p == ' ' || *p == '\t')
            p++;
        return strcmp(p, lk->profile) == 0 ? SEC_MATCH : SEC_OTHER;
    }
    if (!lk->is_config)
        return strcmp(name, lk->profile) == 0 ? SEC_MATCH : SEC_OTHER;
    if (strncmp(name, "profile", 7) == 0 && (name[7] == ' ' || name[7] == '\t')) {
        const char *p = name + 7;
        while (*p == ' ' || *p == '\t')
            p++;
        return strcmp(p, lk->profile) == 0 ? SEC_MATCH : SEC_OTHER;
    }
    if (strcmp(name, "default") == 0 && strcmp(lk->profile, "default") == 0)
        return SEC_MATCH_WEAK;
    return SEC_OTHER;
}

/* Cuts a property line's trailing comment: '#' or ';' preceded by a blank.
 * s may be empty ("key =" at the end of the file): nothing is read past its
 * terminator. */
static void cut_property_comment(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if (p > s && (*p == '#' || *p == ';') && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
    }
}

static void set_value(struct value *slot, const char *v)
{
    slot->set = 1;
    buf_reset(&slot->text);
    buf_puts(&slot->text, v);
}

static void append_continuation(struct value *slot, const char *v)
{
    if (slot->text.len > 0) /* "s3 =" then sub-properties: no leading newline */
        buf_putc(&slot->text, '\n');
    buf_puts(&slot->text, v);
}

/* The value, malloc'd, or NULL when absent or empty; frees the buffer. */
static char *value_take(struct value *slot)
{
    char *v = NULL;
    if (slot->set && slot->text.len > 0)
        v = buf_detach(&slot->text);
    buf_release(&slot->text);
    slot->set = 0;
    return v;
}

/* Scans a file's text (len bytes, NUL-terminated, edited in place) into lk,
 * line by line. Each line is cut at its '\n' before any rule reads it, so the
 * last line reads the same with or without a final newline; a NUL inside a
 * line ends that line only. */
static void scan_text(char *text, size_t len, struct lookup *lk)
{
    char *end = text + len;
    enum section_match cur = SEC_OTHER;
    int in_section = 0;
    struct value *last_slot = NULL; /* the wanted property a continuation line extends */
    int after_property = 0;         /* an indented line now continues a property */
    char *next;

    for (char *line = text; line != NULL; line = next) {
        next = memchr(line, '\n', (size_t)(end - line));
        if (next != NULL)
            *next++ = '\0';
        int indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line);
        if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
            continue;

        if (s[0] == '[') {
            last_slot = NULL;
            after_property = 0;
            char *close = strchr(s, ']');
            if (close == NULL) { /* malformed header: ignore its properties */
                in_section = 0;
                cur = SEC_OTHER;
                continue;
            }
            *close = '\0';
            char *name = trim(s + 1);
            in_section = 1;
            cur = classify(lk, name);
            if (cur != SEC_OTHER)
                lk->found_section = 1;
            if (cur == SEC_MATCH)
                lk->found_strong = 1;
            continue;
        }

        if (!in_section)
            continue;

        if (indented && after_property) {
            if (last_slot != NULL) {
                cut_property_comment(s);
                append_continuation(last_slot, trim(s));
            }
            continue;
        }

        last_slot = NULL;
        after_property = 0;
        char *eq = strchr(s, '=');
        if (eq == NULL)
            continue;
        after_property = 1;
        *eq = '\0';
        char *key = trim(s);
        char *val = eq + 1;
        cut_property_comment(val);
        val = trim(val);
        if (cur == SEC_OTHER || lk->key == NULL || strcasecmp(key, lk->key) != 0)
            continue;
        last_slot = cur == SEC_MATCH ? &lk->value : &lk->weak_value;
        set_value(last_slot, val);
    }
}

/* Scans one file into lk. Returns 0, or -1 when the file is larger than
 * AWS_INI_MAX_BYTES (lk then holds nothing from it). A missing or unreadable
 * file is empty. The whole file is read first, so no line, however long, is
 * read past the cap. */
static int scan_file(const char *path, struct lookup *lk)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    struct buf text = BUF_INIT;
    int r = buf_read_file(&text, f, AWS_INI_MAX_BYTES);
    fclose(f);
    if (r == 0 && text.data != NULL)
        scan_text(text.data, text.len, lk);
    buf_release(&text);
    return r == 1 ? -1 : 0;
}

/* Looks the key up in one file; returns malloc'd value or NULL. */
static char *lookup_file(int is_config, const char *profile, const char *key, int *exists)
{
    char *path = ini_path(is_config);
    if (path == NULL)
        return NULL;
    struct lookup lk = {.profile = profile, .key = key, .is_config = is_config};
    (void)scan_file(path, &lk); /* too large: nothing found; aws_ini_check says why */
    free(path);

    char *strong = value_take(&lk.value);
    char *weak = value_take(&lk.weak_value);
    if (exists != NULL && lk.found_section)
        *exists = 1;
    if (lk.found_strong) { /* [profile default] wins over [default] entirely */
        free(weak);
        return strong;
    }
    free(strong);
    return weak;
}

const char *aws_ini_profile_name(const char *explicit_profile)
{
    if (explicit_profile != NULL && explicit_profile[0] != '\0')
        return explicit_profile;
    const char *env = getenv("AWS_PROFILE");
    if (env != NULL && env[0] != '\0')
        return env;
    return "default";
}

char *aws_ini_get(const char *profile, const char *key)
{
    if (key == NULL)
        return NULL;
    profile = aws_ini_profile_name(profile);
    char *v = lookup_file(0, profile, key, NULL);
    if (v != NULL)
        return v;
    return lookup_file(1, profile, key, NULL);
}

char *aws_ini_get_section(const char *kind, const char *name, const char *key)
{
    if (kind == NULL || name == NULL || key == NULL)
        return NULL;
    char *path = ini_path(1);
    if (path == NULL)
        return NULL;
    struct lookup lk = {.profile = name, .section_kind = kind, .key = key, .is_config = 1};
    (void)scan_file(path, &lk);
    free(path);
    free(value_take(&lk.weak_value));
    return value_take(&lk.value);
}

char *aws_ini_subproperty(const char *value, const char *subkey)
{
    if (value == NULL || subkey == NULL)
        return NULL;
    char *copy = xstrdup(value);
    char *found = NULL;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        char *k = trim(line);
        char *v = trim(eq + 1);
        if (strcasecmp(k, subkey) == 0 && v[0] != '\0') {
            free(found);
            found = xstrdup(v); /* the later one wins, as for properties */
        }
    }
    free(copy);
    return found;
}

int aws_ini_profile_exists(const char *profile)
{
    int exists = 0;
    profile = aws_ini_profile_name(profile);
    free(lookup_file(0, profile, NULL, &exists));
    if (!exists)
        free(lookup_file(1, profile, NULL, &exists));
    return exists;
}

int aws_ini_check(struct err *e)
{
    for (int is_config = 1; is_config >= 0; is_config--) {
        char *path = ini_path(is_config);
        if (path == NULL)
            continue;
        struct lookup lk = {.profile = "", .is_config = is_config};
        int over = scan_file(path, &lk) != 0;
        free(value_take(&lk.value));
        free(value_take(&lk.weak_value));
        if (over) {
            int rc = err_set(e, ERR_CONFIG,
                             "AWS %s file %s: larger than %d bytes (1 MiB); "
                             "refused (an AWS config or credentials file is a few KB)",
                             is_config ? "config" : "credentials", path, AWS_INI_MAX_BYTES);
            free(path);
            return rc;
        }
        free(path);
    }
    return 0;
}
