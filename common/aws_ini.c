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
 *  - an empty value counts as absent.
 *  - lines that are none of the above (no '=') are ignored.
 */
#include "aws_ini.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"

/* What the current section of a file means for the lookup. */
enum section_match {
    SEC_OTHER = 0,      /* some other profile or not a profile */
    SEC_MATCH,          /* the wanted profile */
    SEC_MATCH_WEAK      /* [default] in the config file: loses to [profile default] */
};

struct lookup {
    const char *profile;    /* the profile, or the name of a section_kind section */
    const char *section_kind; /* NULL: profiles; else e.g. "services" for [services NAME] */
    const char *key;        /* NULL: only checking existence */
    int is_config;
    int found_section;      /* any section naming the profile */
    int found_strong;       /* a SEC_MATCH section was seen */
    char *value;            /* from SEC_MATCH sections */
    char *weak_value;       /* from SEC_MATCH_WEAK sections */
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

/* Cuts a property line's trailing comment: '#' or ';' preceded by a blank. */
static void cut_property_comment(char *s)
{
    for (char *p = s + 1; *p != '\0'; p++) {
        if ((*p == '#' || *p == ';') && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
    }
}

static void set_value(char **slot, const char *v)
{
    free(*slot);
    *slot = xstrdup(v);
}

static void append_continuation(char **slot, const char *v)
{
    if (*slot == NULL)
        return;
    if ((*slot)[0] == '\0') {  /* "s3 =" then sub-properties: no leading newline */
        set_value(slot, v);
        return;
    }
    char *joined = xasprintf("%s\n%s", *slot, v);
    free(*slot);
    *slot = joined;
}

static void scan_file(const char *path, struct lookup *lk)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;

    enum section_match cur = SEC_OTHER;
    int in_section = 0;
    char **last_slot = NULL;    /* the wanted property a continuation line extends */
    int after_property = 0;     /* an indented line now continues a property */
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, f)) >= 0) {
        int indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line);
        if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
            continue;

        if (s[0] == '[') {
            last_slot = NULL;
            after_property = 0;
            char *close = strchr(s, ']');
            if (close == NULL) {        /* malformed header: ignore its properties */
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
    free(line);
    fclose(f);
}

/* Looks the key up in one file; returns malloc'd value or NULL. */
static char *lookup_file(int is_config, const char *profile, const char *key, int *exists)
{
    char *path = ini_path(is_config);
    if (path == NULL)
        return NULL;
    struct lookup lk = { .profile = profile, .key = key, .is_config = is_config };
    scan_file(path, &lk);
    free(path);

    char *v;
    if (lk.found_strong) {      /* [profile default] wins over [default] entirely */
        v = lk.value;
        free(lk.weak_value);
    } else {
        v = lk.weak_value;
        free(lk.value);
    }
    if (exists != NULL && lk.found_section)
        *exists = 1;
    if (v != NULL && v[0] == '\0') {
        free(v);
        v = NULL;
    }
    return v;
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
    struct lookup lk = { .profile = name, .section_kind = kind, .key = key, .is_config = 1 };
    scan_file(path, &lk);
    free(path);
    free(lk.weak_value);
    if (lk.value != NULL && lk.value[0] == '\0') {
        free(lk.value);
        return NULL;
    }
    return lk.value;
}

char *aws_ini_subproperty(const char *value, const char *subkey)
{
    if (value == NULL || subkey == NULL)
        return NULL;
    char *copy = xstrdup(value);
    char *found = NULL;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        char *k = trim(line);
        char *v = trim(eq + 1);
        if (strcasecmp(k, subkey) == 0 && v[0] != '\0') {
            free(found);
            found = xstrdup(v);     /* the later one wins, as for properties */
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
