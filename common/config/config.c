/* The configuration loader: libyaml's document API (so every node keeps its
 * line and column), a table of known keys per section, strict validation with
 * one-line `file:line:column: key: problem` errors, then the resolution of what
 * may come from the environment (region, endpoint, profile, maxAttempts).
 * docs/configuration.md is the user-facing description of every rule here. */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <yaml.h>
#include <cjson/cJSON.h>

#include "aws/aws_ini.h"
#include "config/yaml_depth.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/dupkeys.h"
#include "core/err.h"
#include "core/http.h"
#include "core/log.h"
#include "core/suggest.h"
#include "rds/clone.h"

#define CONFIG_MAX_BYTES   (1024 * 1024)
#define MAX_ATTEMPTS_LIMIT 20
#define MAX_USER_TAGS      40

enum kind {
    K_STRING,     /* optional string without blanks; "" = unset */
    K_TEXT,       /* optional string, blanks allowed (not control characters) */
    K_IDENTIFIER, /* an RDS DB instance / cluster identifier */
    K_SECRET,     /* string, literal secret or secretsmanager:/ssm: reference */
    K_SOURCE_TYPE,
    K_SNAPSHOT_TYPE,
    K_DURATION,
    K_BOOL,
    K_TRISTATE,
    K_PORT,
    K_MAX_ATTEMPTS,
    K_PARALLEL,
    K_SECURITY_GROUPS,
    K_TAGS,
    K_URL,
    K_INSTANCE_CLASS,
    K_FILE, /* path to a readable file, relative to the config file's directory */
    K_REGION,
    K_RESTORE_FROM,
    K_MASTER_PASSWORD,
    K_PIPELINE /* clone.pipeline: a pipeline name (clone.h) */
};

struct key_def {
    const char *name;
    enum kind kind;
    size_t off; /* offset of the field in struct config */
};

#define F(member) offsetof(struct config, member)

static const struct key_def source_keys[] = {
    {"type", K_SOURCE_TYPE, F(source.type)},
    {"identifier", K_IDENTIFIER, F(source.identifier)},
    {"snapshotIdentifier", K_STRING, F(source.snapshot_identifier)},
    {"snapshotType", K_SNAPSHOT_TYPE, F(source.snapshot_type)},
    {"maxSnapshotAge", K_DURATION, F(source.max_snapshot_age)},
    {"restoreFrom", K_RESTORE_FROM, F(source.restore_from)},
    {"dbName", K_TEXT, F(source.db_name)},
    {"username", K_TEXT, F(source.username)},
    {"password", K_SECRET, F(source.password)},
    {NULL, K_STRING, 0}};

static const struct key_def clone_keys[] = {
    {"instanceClass", K_INSTANCE_CLASS, F(clone.instance_class)},
    {"subnetGroup", K_TEXT, F(clone.subnet_group)},
    {"securityGroups", K_SECURITY_GROUPS, F(clone.security_groups)},
    {"publiclyAccessible", K_TRISTATE, F(clone.publicly_accessible)},
    {"enableIAMAuth", K_TRISTATE, F(clone.enable_iam_auth)},
    {"parameterGroup", K_STRING, F(clone.parameter_group)},
    {"optionGroup", K_STRING, F(clone.option_group)},
    {"clusterParameterGroup", K_STRING, F(clone.cluster_parameter_group)},
    {"port", K_PORT, F(clone.port)},
    {"storageType", K_STRING, F(clone.storage_type)},
    {"engineVersion", K_STRING, F(clone.engine_version)},
    {"deletionProtection", K_BOOL, F(clone.deletion_protection)},
    {"tags", K_TAGS, F(clone.tags)},
    {"maxAge", K_DURATION, F(clone.max_age)},
    {"waitTimeout", K_DURATION, F(clone.wait_timeout)},
    {"copyOnWrite", K_BOOL, F(clone.copy_on_write)},
    {"masterPassword", K_MASTER_PASSWORD, F(clone.master_password)},
    {"pipeline", K_PIPELINE, F(clone.pipeline)},
    {NULL, K_STRING, 0}};

static const struct key_def dblab_keys[] = {
    {"apiEndpoint", K_URL, F(dblab.api_endpoint)},
    {"token", K_SECRET, F(dblab.token)},
    {"insecure", K_BOOL, F(dblab.insecure)},
    {"caCert", K_FILE, F(dblab.ca_cert)},
    {"pollInterval", K_DURATION, F(dblab.poll_interval)},
    {"timeout", K_DURATION, F(dblab.timeout)},
    {"startTimeout", K_DURATION, F(dblab.start_timeout)},
    {"dumpParallelJobs", K_PARALLEL, F(dblab.dump_parallel_jobs)},
    {"restoreParallelJobs", K_PARALLEL, F(dblab.restore_parallel_jobs)},
    {NULL, K_STRING, 0}};

static const struct key_def aws_keys[] = {{"region", K_REGION, F(aws.region)},
                                          {"endpoint", K_URL, F(aws.endpoint)},
                                          {"profile", K_STRING, F(aws.profile)},
                                          {"maxAttempts", K_MAX_ATTEMPTS, F(aws.max_attempts)},
                                          {NULL, K_STRING, 0}};

#undef F

struct section_def {
    const char *name;
    const struct key_def *keys;
};

static const struct section_def section_defs[] = {
    {"source", source_keys},
    {"clone", clone_keys},
    {"dblab", dblab_keys},
    {"aws", aws_keys},
};
#define N_SECTIONS (sizeof section_defs / sizeof section_defs[0])
#define MAX_KEYS   24

static const char *const section_names[] = {"source", "clone", "dblab", "aws", NULL};

static const char *const source_type_names[] = {"rds", "aurora-cluster", NULL};
static const char *const snapshot_type_names[] = {"automated", "manual", "awsbackup",
                                                  "shared",    "any",    NULL};
static const char *const master_password_names[] = {"managed", "keep", NULL};

/* The loader's state. */
struct loader {
    const char *name;     /* file name for messages */
    const char *base_dir; /* for relative paths; NULL = the working directory */
    const char
        *literal_secret; /* a secret key written in the file itself, not $VAR or a reference */
    yaml_document_t *doc;
    struct config *cfg;
    struct err *e;
    /* Per section: its node (NULL if absent) and which keys were given. */
    yaml_node_t *section_node[N_SECTIONS];
    yaml_node_t *key_node[N_SECTIONS][MAX_KEYS]; /* the value node of each key given */
};

/* ---- small helpers ---------------------------------------------------- */

static int line_of(const yaml_node_t *n)
{
    return n != NULL ? (int)n->start_mark.line + 1 : 1;
}

static int col_of(const yaml_node_t *n)
{
    return n != NULL ? (int)n->start_mark.column + 1 : 1;
}

/* "file:line:column: key: problem". */
static int fail(struct loader *L, const yaml_node_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct loader *L, const yaml_node_t *at, const char *key, const char *fmt, ...)
{
    char problem[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    if (key != NULL)
        return err_set(L->e, ERR_CONFIG, "%s:%d:%d: %s: %s", L->name, line_of(at), col_of(at), key,
                       problem);
    return err_set(L->e, ERR_CONFIG, "%s:%d:%d: %s", L->name, line_of(at), col_of(at), problem);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static const char *scalar_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain scalar "", "~", "null", "Null", "NULL": YAML's null. */
static int is_null(const yaml_node_t *n)
{
    if (n == NULL)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = scalar_text(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* The scalar's text with ${VAR} expanded; malloc'd into *out. */
static int expand(struct loader *L, const yaml_node_t *n, const char *key, char **out)
{
    char *missing = NULL;
    int r = env_expand(scalar_text(n), out, &missing);
    if (r == 0)
        return 0;
    int rc;
    if (r == -1)
        rc = fail(L, n, key,
                  "environment variable %s is not set (set it, or write ${%s:-default}; "
                  "$$ is a literal '$')",
                  missing, missing);
    else
        rc = fail(L, n, key, "%s", missing);
    free(missing);
    return rc;
}

/* The scalar value of a key, expanded; *out NULL when null or empty. */
static int scalar_value(struct loader *L, const yaml_node_t *n, const char *key, char **out)
{
    *out = NULL;
    if (is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return fail(L, n, key, "must be a single value, got %s", node_kind(n));
    char *v;
    int rc = expand(L, n, key, &v);
    if (rc != 0)
        return rc;
    if (v[0] == '\0') {
        free(v);
        return 0;
    }
    *out = v;
    return 0;
}

static int has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if (iscntrl((unsigned char)*s))
            return 1;
    return 0;
}

/* RDS: 1-63 letters, digits or hyphens, a letter first, no trailing hyphen, no "--". */
static int rds_identifier_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > 63 || !isalpha((unsigned char)v[0]) || v[n - 1] == '-' ||
        strstr(v, "--") != NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)v[i]) || v[i] == '-'))
            return 0;
    return 1;
}

static int has_space(const char *s)
{
    for (; *s != '\0'; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return 1;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const t[] = {"true", "yes", "on", NULL};
    static const char *const f[] = {"false", "no", "off", NULL};
    for (size_t i = 0; t[i] != NULL; i++) {
        if (strcasecmp(s, t[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, f[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int parse_int(const char *s, long *out)
{
    if (*s == '\0')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+'))
        return -1;
    *out = v;
    return 0;
}

/* Unknown value of an enumeration: the one-line error with a suggestion. */
static int fail_enum(struct loader *L, const yaml_node_t *n, const char *key, const char *v,
                     const char *const *names)
{
    struct buf list = BUF_INIT;
    for (size_t i = 0; names[i] != NULL; i++)
        buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
    const char *sugg = suggest_closest(v, names);
    int rc;
    if (sugg != NULL)
        rc = fail(L, n, key, "unknown value \"%s\" (did you mean \"%s\"? one of: %s)", v, sugg,
                  buf_cstr(&list));
    else
        rc = fail(L, n, key, "unknown value \"%s\" (one of: %s)", v, buf_cstr(&list));
    buf_release(&list);
    return rc;
}

static int find_name(const char *v, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

int config_is_secret_reference(const char *v)
{
    if (v == NULL)
        return 0;
    return strncmp(v, "secretsmanager:", 15) == 0 || strncmp(v, "ssm:", 4) == 0;
}

static int check_secret_reference(struct loader *L, const yaml_node_t *n, const char *key,
                                  const char *v)
{
    if (strncmp(v, "secretsmanager:", 15) == 0) {
        const char *name = v + 15;
        const char *hash = strchr(name, '#');
        size_t name_len = hash != NULL ? (size_t)(hash - name) : strlen(name);
        if (name_len == 0 || has_space(name))
            return fail(L, n, key, "secret reference must be secretsmanager:NAME_OR_ARN[#jsonKey]");
        if (hash != NULL && hash[1] == '\0')
            return fail(L, n, key, "secret reference has an empty #jsonKey");
    } else if (strncmp(v, "ssm:", 4) == 0) {
        if (v[4] == '\0' || has_space(v + 4))
            return fail(L, n, key, "secret reference must be ssm:/PARAMETER/PATH");
    }
    return 0;
}

/* http(s)://host[:port][/path], trailing '/' removed. */
static int check_url(struct loader *L, const yaml_node_t *n, const char *key, char *v)
{
    const char *rest;
    if (strncasecmp(v, "https://", 8) == 0)
        rest = v + 8;
    else if (strncasecmp(v, "http://", 7) == 0)
        rest = v + 7;
    else
        return fail(L, n, key, "must be an http:// or https:// URL, got \"%s\"", v);
    if (has_space(v))
        return fail(L, n, key, "URL must not contain blanks");
    if (rest[0] == '\0' || rest[0] == '/' || rest[0] == ':' || rest[0] == '?' || rest[0] == '#')
        return fail(L, n, key, "URL has no host: \"%s\"", v);
    if (strchr(rest, '@') != NULL &&
        (strchr(rest, '/') == NULL || strchr(rest, '@') < strchr(rest, '/')))
        return fail(L, n, key, "URL must not contain credentials (user@host)");
    const char *colon = NULL;
    const char *hostend = rest + strcspn(rest, "/?#");
    if (rest[0] == '[') { /* [IPv6]:port */
        const char *rb = memchr(rest, ']', (size_t)(hostend - rest));
        if (rb == NULL)
            return fail(L, n, key, "URL has an unterminated IPv6 address");
        if (rb + 1 < hostend) {
            if (rb[1] != ':')
                return fail(L, n, key, "URL has junk after the IPv6 address");
            colon = rb + 1;
        }
    } else {
        colon = memchr(rest, ':', (size_t)(hostend - rest));
    }
    if (colon != NULL) {
        long port = 0;
        const char *p = colon + 1;
        if (p == hostend)
            return fail(L, n, key, "URL has an empty port");
        for (; p < hostend; p++) {
            if (!isdigit((unsigned char)*p))
                return fail(L, n, key, "URL port must be a number 1-65535");
            port = port * 10 + (*p - '0');
            if (port > 65535)
                break;
        }
        if (port < 1 || port > 65535)
            return fail(L, n, key, "URL port must be a number 1-65535");
    }
    size_t len = strlen(v);
    while (len > 0 && v[len - 1] == '/' && (size_t)(hostend - v) < len)
        v[--len] = '\0';
    return 0;
}

/* 1 when the URL's host is this machine: localhost, 127.0.0.0/8 or [::1]. */
static int url_host_is_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    h = h != NULL ? h + 3 : url;
    size_t n = strcspn(h, ":/?#");
    if (h[0] == '[')
        return strncmp(h, "[::1]", 5) == 0;
    if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
        return 1;
    if (strncmp(h, "127.", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!isdigit((unsigned char)h[i]) && h[i] != '.')
            return 0;
    return 1;
}

static int check_region(struct loader *L, const yaml_node_t *n, const char *key, const char *v)
{
    /* us-east-1, eu-central-2, us-gov-west-1, cn-north-1, eu-isoe-west-1 */
    size_t len = strlen(v);
    int ok =
        len >= 4 && len <= 32 && isalpha((unsigned char)v[0]) && isdigit((unsigned char)v[len - 1]);
    for (size_t i = 0; ok && i < len; i++)
        if (!(islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '-'))
            ok = 0;
    if (!ok || strchr(v, '-') == NULL)
        return fail(L, n, key, "\"%s\" is not an AWS region name (like us-east-1)", v);
    return 0;
}

/* ---- the typed setters ------------------------------------------------ */

static int set_security_groups(struct loader *L, const yaml_node_t *n, const char *key,
                               struct config *cfg)
{
    char **list = NULL;
    size_t count = 0;
    int rc = 0;

    if (n->type == YAML_SCALAR_NODE) {
        /* A comma-separated string, so that "${SECURITY_GROUPS}" works. */
        char *v;
        rc = scalar_value(L, n, key, &v);
        if (rc != 0 || v == NULL)
            return rc;
        char *save = NULL;
        for (char *tok = strtok_r(v, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*tok))
                tok++;
            size_t tl = strlen(tok);
            while (tl > 0 && isspace((unsigned char)tok[tl - 1]))
                tok[--tl] = '\0';
            if (tl == 0)
                continue;
            list = xrealloc(list, (count + 1) * sizeof *list);
            list[count++] = xstrdup(tok);
        }
        free(v);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = yaml_document_get_node(L->doc, *it);
            char *v = NULL;
            if (item == NULL || item->type != YAML_SCALAR_NODE)
                rc = fail(L, item != NULL ? item : n, key,
                          "list items must be security group IDs, got %s",
                          item != NULL ? node_kind(item) : "nothing");
            else if ((rc = scalar_value(L, item, key, &v)) == 0 && v == NULL)
                rc = fail(L, item, key, "empty security group ID");
            if (rc != 0) {
                free(v);
                break;
            }
            list = xrealloc(list, (count + 1) * sizeof *list);
            list[count++] = v;
        }
    } else {
        return fail(L, n, key, "must be a list of security group IDs, got %s", node_kind(n));
    }

    for (size_t i = 0; rc == 0 && i < count; i++)
        if (strncmp(list[i], "sg-", 3) != 0 || list[i][3] == '\0' || has_space(list[i]))
            rc = fail(L, n, key,
                      "\"%s\" is not a security group ID (sg-...); RDS needs VPC "
                      "security group IDs, not names",
                      list[i]);
    size_t first, twice;
    if (rc == 0 && dupkeys_find((const char *const *)list, count, &first, &twice))
        rc = fail(L, n, key, "\"%s\" is listed twice", list[twice]);
    if (rc == 0 && count > 0) {
        cfg->clone.security_groups = list;
        cfg->clone.n_security_groups = count;
        return 0;
    }
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
    return rc;
}

/* Tag keys the tool sets itself: a user tag must not be able to override them. */
static int reserved_tag(const char *k)
{
    return strncasecmp(k, "aws:", 4) == 0 || strcmp(k, "ManagedBy") == 0 ||
           strncmp(k, "dblab-rds-refresh:", 18) == 0;
}

static int set_tags(struct loader *L, const yaml_node_t *n, const char *key, struct config *cfg)
{
    if (is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return fail(L, n, key, "must be a mapping of tag names to values, got %s", node_kind(n));
    /* The limit first: the duplicate check below compares each tag with the
     * ones before it, which stays cheap only because there are at most 40. */
    if (n->data.mapping.pairs.top - n->data.mapping.pairs.start > MAX_USER_TAGS)
        return fail(L, n, key, "at most %d tags (RDS allows 50, the tool sets its own)",
                    MAX_USER_TAGS);
    int rc = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        if (k == NULL || k->type != YAML_SCALAR_NODE || scalar_text(k)[0] == '\0')
            return fail(L, k != NULL ? k : n, key, "tag names must be non-empty strings");
        const char *tk = scalar_text(k);
        char path[320];
        snprintf(path, sizeof path, "%.100s.%.200s", key, tk);
        if (strlen(tk) > 128)
            return fail(L, k, path, "tag name longer than 128 characters");
        if (reserved_tag(tk))
            return fail(
                L, k, path,
                "reserved tag name (aws:*, ManagedBy and dblab-rds-refresh:* are set by the tool)");
        for (size_t i = 0; i < cfg->clone.n_tags; i++)
            if (strcmp(cfg->clone.tags[i].key, tk) == 0)
                return fail(L, k, path, "duplicate tag");
        char *val = NULL;
        if (v != NULL && v->type != YAML_SCALAR_NODE)
            return fail(L, v, path, "tag value must be a single value, got %s", node_kind(v));
        if ((rc = scalar_value(L, v, path, &val)) != 0)
            return rc;
        if (val != NULL && strlen(val) > 256) {
            free(val);
            return fail(L, v, path, "tag value longer than 256 characters");
        }
        cfg->clone.tags =
            xrealloc(cfg->clone.tags, (cfg->clone.n_tags + 1) * sizeof *cfg->clone.tags);
        cfg->clone.tags[cfg->clone.n_tags].key = xstrdup(tk);
        cfg->clone.tags[cfg->clone.n_tags].value = val != NULL ? val : xstrdup("");
        cfg->clone.n_tags++;
    }
    return 0;
}

/* An enumeration key: the index of v in names, plus first, into the enum at
 * field (every enum of struct config is int-sized). */
_Static_assert(sizeof(enum source_type) == sizeof(int) &&
                   sizeof(enum snapshot_type) == sizeof(int) &&
                   sizeof(enum master_password) == sizeof(int),
               "set_enum writes an int");

static int set_enum(struct loader *L, const yaml_node_t *n, const char *path, const char *v,
                    const char *const *names, int first, void *field)
{
    int i = find_name(v, names);
    if (i < 0)
        return fail_enum(L, n, path, v, names);
    *(int *)field = i + first;
    return 0;
}

/* Sets one key from its value node. */
static int set_key(struct loader *L, const struct key_def *def, const char *path,
                   const yaml_node_t *n)
{
    struct config *cfg = L->cfg;
    void *field = (char *)cfg + def->off;

    if (def->kind == K_SECURITY_GROUPS) {
        if (is_null(n))
            return 0;
        return set_security_groups(L, n, path, cfg);
    }
    if (def->kind == K_TAGS)
        return set_tags(L, n, path, cfg);

    char *v;
    int rc = scalar_value(L, n, path, &v);
    if (rc != 0 || v == NULL)
        return rc; /* null / empty: the default stays */

    long iv;
    int b;
    int64_t d;
    switch (def->kind) {
    case K_TEXT:
        if (has_control(v)) {
            rc = fail(L, n, path, "must not contain control characters");
            break;
        }
        *(char **)field = v;
        return 0;
    case K_IDENTIFIER:
        if (!rds_identifier_ok(v)) {
            rc = fail(L, n, path,
                      "\"%.80s\" is not an RDS identifier (1-63 letters, digits or "
                      "hyphens, starting with a letter)",
                      v);
            break;
        }
        *(char **)field = v;
        return 0;
    case K_PIPELINE:
        if (!clone_pipeline_ok(v)) {
            rc = fail(L, n, path,
                      "\"%.80s\" is not a pipeline name (1-%d lower-case letters, "
                      "digits or single hyphens, starting with a letter)",
                      v, CLONE_PIPELINE_MAX);
            break;
        }
        *(char **)field = v;
        return 0;
    case K_FILE:
        if (has_control(v)) {
            rc = fail(L, n, path, "must not contain control characters");
            break;
        }
        if (v[0] != '/' && L->base_dir != NULL) {
            char *joined = xasprintf("%s/%s", L->base_dir, v);
            free(v);
            v = joined;
        }
        if (access(v, R_OK) != 0) {
            rc = fail(L, n, path, "cannot read %s: %s", v, strerror(errno));
            break;
        }
        *(char **)field = v;
        return 0;
    case K_STRING:
    case K_INSTANCE_CLASS:
    case K_REGION:
        if (has_space(v)) {
            rc = fail(L, n, path, "must not contain blanks or control characters");
            break;
        }
        if (def->kind == K_INSTANCE_CLASS && (strncmp(v, "db.", 3) != 0 || v[3] == '\0')) {
            rc = fail(L, n, path, "\"%s\" is not an RDS instance class (like db.t3.medium)", v);
            break;
        }
        if (def->kind == K_REGION && (rc = check_region(L, n, path, v)) != 0)
            break;
        *(char **)field = v;
        return 0;
    case K_SECRET:
        if ((rc = check_secret_reference(L, n, path, v)) != 0)
            break;
        /* dblab.token becomes an HTTP header: a CR or LF would inject headers. */
        if (strcmp(def->name, "token") == 0 && http_header_bad_byte(v) != NULL) {
            const char *bad = http_header_bad_byte(v);
            rc = fail(L, n, path,
                      "contains a control character (byte 0x%02x at offset %zu) "
                      "and cannot be sent as a header",
                      (unsigned char)*bad, (size_t)(bad - v));
            break;
        }
        if (!config_is_secret_reference(v) && !env_has_reference(scalar_text(n)))
            L->literal_secret = def->name;
        *(char **)field = v;
        return 0;
    case K_URL:
        if ((rc = check_url(L, n, path, v)) != 0)
            break;
        *(char **)field = v;
        return 0;
    case K_SOURCE_TYPE:
        rc = set_enum(L, n, path, v, source_type_names, 0, field);
        break;
    case K_SNAPSHOT_TYPE:
        rc = set_enum(L, n, path, v, snapshot_type_names, 0, field);
        break;
    case K_RESTORE_FROM:
        /* "snapshot", "latest", or an RFC 3339 time with its zone */
        if (strcmp(v, "snapshot") == 0) {
            cfg->source.restore_from = RESTORE_SNAPSHOT;
        } else if (strcmp(v, "latest") == 0) {
            cfg->source.restore_from = RESTORE_LATEST;
        } else if (isdigit((unsigned char)v[0]) && clock_parse_rfc3339(v, &d) == 0 && d > 0) {
            cfg->source.restore_from = RESTORE_TIME;
            cfg->source.restore_time = d;
        } else {
            rc = fail(L, n, path,
                      "\"%s\" is neither snapshot, latest nor an RFC 3339 time "
                      "(like 2026-11-26T02:00:00Z)",
                      v);
        }
        break;
    case K_MASTER_PASSWORD: /* 0 is MASTER_PASSWORD_DEFAULT: the names start at 1 */
        rc = set_enum(L, n, path, v, master_password_names, 1, field);
        break;
    case K_DURATION:
        /* Go's time.ParseDuration (the original's Duration type) plus "d". As the
         * original's SetDefaults, 0 means the default. Waits here count whole
         * seconds: a fraction is rounded up, and said so. */
        if (duration_parse_ns(v, &d) != 0)
            rc = fail(L, n, path,
                      "\"%s\" is not a duration (Go syntax: 500ms, 90s, 30m, "
                      "1h30m, 1.5h; or 7d)",
                      v);
        else if (d < 0)
            rc = fail(L, n, path, "\"%s\" is negative", v);
        else if (d > 0 && duration_ns_to_seconds(d) > (int64_t)100 * 365 * 86400)
            rc = fail(L, n, path, "\"%s\" is longer than 100 years", v);
        else if (d > 0) {
            int64_t secs = duration_ns_to_seconds(d);
            if (d % 1000000000 != 0)
                log_warn("%s:%d:%d: %s: %s rounded up to %llds (waits count whole seconds)",
                         L->name, line_of(n), col_of(n), path, v, (long long)secs);
            *(int64_t *)field = secs;
        }
        break;
    case K_BOOL:
    case K_TRISTATE:
        if (parse_bool(v, &b) != 0) {
            rc = fail(L, n, path, "must be true or false, got \"%s\"", v);
            break;
        }
        if (def->kind == K_TRISTATE)
            *(enum tristate *)field = b ? TRI_TRUE : TRI_FALSE;
        else
            *(int *)field = b;
        break;
    case K_PORT:
        if (parse_int(v, &iv) != 0 || iv < 1 || iv > 65535)
            rc = fail(L, n, path, "must be a port number 1-65535, got \"%s\"", v);
        else
            *(int *)field = (int)iv;
        break;
    case K_MAX_ATTEMPTS:
        if (parse_int(v, &iv) != 0 || iv < 1 || iv > MAX_ATTEMPTS_LIMIT)
            rc = fail(L, n, path, "must be an integer 1-%d, got \"%s\"", MAX_ATTEMPTS_LIMIT, v);
        else
            *(int *)field = (int)iv;
        break;
    case K_PARALLEL:
        if (strcasecmp(v, "auto") == 0)
            *(int *)field = PARALLEL_AUTO;
        else if (parse_int(v, &iv) != 0 || iv < 1 || iv > 1024)
            rc = fail(L, n, path, "must be an integer 1-1024 or \"auto\", got \"%s\"", v);
        else
            *(int *)field = (int)iv;
        break;
    case K_SECURITY_GROUPS:
    case K_TAGS:
        break;
    }
    free(v);
    return rc;
}

/* ---- structure -------------------------------------------------------- */

/* Every other key in the config, for "did you mean" across sections. */
static const char *other_section_of(const char *key, size_t not_section)
{
    for (size_t s = 0; s < N_SECTIONS; s++) {
        if (s == not_section)
            continue;
        for (const struct key_def *k = section_defs[s].keys; k->name != NULL; k++)
            if (strcmp(k->name, key) == 0)
                return section_defs[s].name;
    }
    return NULL;
}

/* Every key of a mapping must be a scalar, and none may repeat (libyaml keeps
 * both). Hashed, not pairwise: a section of many distinct keys stays linear
 * (issue 18: the pairwise loop took 40 s on a 1 MB file). */
static int check_duplicates(struct loader *L, const yaml_node_t *map, const char *prefix)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    const char **names = xcalloc(n ? n : 1, sizeof *names);
    const yaml_node_t **nodes = xcalloc(n ? n : 1, sizeof *nodes);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, map->data.mapping.pairs.start[i].key);
        if (k == NULL || k->type != YAML_SCALAR_NODE) {
            rc = fail(L, k != NULL ? k : map, prefix, "keys must be plain names, got %s",
                      k != NULL ? node_kind(k) : "nothing");
            break;
        }
        names[i] = scalar_text(k);
        nodes[i] = k;
    }
    size_t first, later;
    if (rc == 0 && dupkeys_find(names, n, &first, &later)) {
        char path[320];
        if (prefix != NULL)
            snprintf(path, sizeof path, "%s.%.200s", prefix, names[later]);
        else
            snprintf(path, sizeof path, "%.200s", names[later]);
        rc = fail(L, nodes[later], path, "duplicate key (first at line %d)", line_of(nodes[first]));
    }
    free(names);
    free(nodes);
    return rc;
}

static int load_section(struct loader *L, size_t s, yaml_node_t *map)
{
    const struct section_def *sd = &section_defs[s];
    if (is_null(map))
        return 0; /* "clone:" with nothing under it: an empty section */
    if (map->type != YAML_MAPPING_NODE)
        return fail(L, map, sd->name, "must be a mapping of keys, got %s", node_kind(map));
    int rc = check_duplicates(L, map, sd->name);
    if (rc != 0)
        return rc;

    const char *names[MAX_KEYS + 1];
    size_t nk = 0;
    for (const struct key_def *k = sd->keys; k->name != NULL; k++)
        names[nk++] = k->name;
    names[nk] = NULL;

    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const char *key = scalar_text(k);
        char path[320];
        snprintf(path, sizeof path, "%s.%.200s", sd->name, key);

        size_t i;
        for (i = 0; i < nk; i++)
            if (strcmp(names[i], key) == 0)
                break;
        if (i == nk) {
            const char *sugg = suggest_closest(key, names);
            const char *other = other_section_of(key, s);
            if (sugg != NULL)
                return fail(L, k, path, "unknown key (did you mean %s?)", sugg);
            if (other != NULL)
                return fail(L, k, path,
                            "unknown key (did you mean %s.%s? it belongs in the %s "
                            "section)",
                            other, key, other);
            struct buf list = BUF_INIT;
            for (size_t j = 0; j < nk; j++)
                buf_printf(&list, "%s%s", j ? ", " : "", names[j]);
            rc =
                fail(L, k, path, "unknown key (the %s section has: %s)", sd->name, buf_cstr(&list));
            buf_release(&list);
            return rc;
        }
        L->key_node[s][i] = v;
        rc = set_key(L, &sd->keys[i], path, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static size_t key_index(size_t s, const char *name)
{
    size_t i = 0;
    for (const struct key_def *k = section_defs[s].keys; k->name != NULL; k++, i++)
        if (strcmp(k->name, name) == 0)
            return i;
    abort(); /* a typo in this file */
}

enum { SEC_SOURCE = 0, SEC_CLONE, SEC_DBLAB, SEC_AWS };

/* The node of a key that was given (for positions), else its section, else NULL. */
static const yaml_node_t *where(struct loader *L, size_t s, const char *name)
{
    const yaml_node_t *n = L->key_node[s][key_index(s, name)];
    return n != NULL ? n : L->section_node[s];
}

static int require(struct loader *L, size_t s, const char *name, const void *value)
{
    if (value != NULL)
        return 0;
    char path[128];
    snprintf(path, sizeof path, "%s.%s", section_defs[s].name, name);
    if (L->section_node[s] == NULL) {
        yaml_node_t *root = yaml_document_get_root_node(L->doc);
        return fail(L, root, path, "required (there is no %s section)", section_defs[s].name);
    }
    return fail(L, where(L, s, name), path, "required");
}

/* The position-less error for values that came from the environment. */
static int fail_env(struct loader *L, const char *var, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_env(struct loader *L, const char *var, const char *fmt, ...)
{
    char problem[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return err_set(L->e, ERR_CONFIG, "%s: %s: %s", L->name, var, problem);
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Validates an endpoint that came from the environment or the AWS config file;
 * takes ownership of v. */
static int set_env_endpoint(struct loader *L, const char *source, char *v)
{
    struct err sub = {0};
    struct err *saved = L->e;
    L->e = &sub;
    int rc = check_url(L, NULL, source, v);
    L->e = saved;
    if (rc != 0) {
        rc = fail_env(L, source, "must be an http:// or https:// URL, got \"%s\"", v);
        free(v);
        return rc;
    }
    L->cfg->aws.endpoint = v;
    L->cfg->aws.endpoint_source = source;
    return 0;
}

/* The SDKs' order for a service endpoint: aws.endpoint, AWS_ENDPOINT_URL_RDS,
 * the profile's services section (rds = / endpoint_url = ...), AWS_ENDPOINT_URL,
 * the profile's endpoint_url; all but the first ignored when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
 * ignore_configured_endpoint_urls) is true. */
static int resolve_endpoint(struct loader *L)
{
    struct config *cfg = L->cfg;
    if (cfg->aws.endpoint != NULL) {
        cfg->aws.endpoint_source = "aws.endpoint";
        return 0;
    }
    const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (ignore != NULL && ignore[0] != '\0') {
        if (strcasecmp(ignore, "true") == 0)
            return 0;
    } else {
        char *pi = aws_ini_get(cfg->aws.profile, "ignore_configured_endpoint_urls");
        int ign = pi != NULL && strcasecmp(pi, "true") == 0;
        free(pi);
        if (ign)
            return 0;
    }

    const char *v = env_nonempty("AWS_ENDPOINT_URL_RDS");
    if (v != NULL)
        return set_env_endpoint(L, "AWS_ENDPOINT_URL_RDS", xstrdup(v));

    char *services = aws_ini_get(cfg->aws.profile, "services");
    if (services != NULL) {
        char *block = aws_ini_get_section("services", services, "rds");
        char *url = aws_ini_subproperty(block, "endpoint_url");
        free(block);
        free(services);
        if (url != NULL)
            return set_env_endpoint(L, "AWS config file (services rds endpoint_url)", url);
    }

    v = env_nonempty("AWS_ENDPOINT_URL");
    if (v != NULL)
        return set_env_endpoint(L, "AWS_ENDPOINT_URL", xstrdup(v));

    char *url = aws_ini_get(cfg->aws.profile, "endpoint_url");
    if (url != NULL)
        return set_env_endpoint(L, "AWS config file (profile endpoint_url)", url);
    return 0;
}

/* A clone key the configured source type does not use: the Go original ignored
 * it (its restore call for that type has no such parameter), so a Go config
 * that sets it stays valid; it is dropped with a warning naming it, never sent. */
static void ignore_key(struct loader *L, char **field, const char *key, const char *why)
{
    if (*field == NULL)
        return;
    const yaml_node_t *at = where(L, SEC_CLONE, key);
    log_warn("%s:%d:%d: clone.%s: ignored for source.type %s: %s", L->name, line_of(at), col_of(at),
             key, source_type_name(L->cfg->source.type), why);
    free(*field);
    *field = NULL;
}

static void ignore_inapplicable(struct loader *L)
{
    struct config *cfg = L->cfg;
    if (cfg->source.type == SOURCE_RDS) {
        ignore_key(L, &cfg->clone.cluster_parameter_group, "clusterParameterGroup",
                   "an RDS instance has no cluster parameter group (use clone.parameterGroup)");
        ignore_key(L, &cfg->clone.engine_version, "engineVersion",
                   "RestoreDBInstanceFromDBSnapshot takes no EngineVersion: the clone runs the "
                   "snapshot's engine version (as with the Go tool)");
        if (L->key_node[SEC_CLONE][key_index(SEC_CLONE, "copyOnWrite")] != NULL) {
            const yaml_node_t *at = where(L, SEC_CLONE, "copyOnWrite");
            log_warn("%s:%d:%d: clone.copyOnWrite: ignored for source.type rds: an RDS "
                     "instance restore is always a full copy",
                     L->name, line_of(at), col_of(at));
        }
    } else {
        ignore_key(L, &cfg->clone.storage_type, "storageType",
                   "the Aurora clone keeps the snapshot cluster's storage (the Go tool did not "
                   "send it either)");
    }
}

/* The validation across keys and the environment, after every key is set. */
static int resolve(struct loader *L)
{
    struct config *cfg = L->cfg;
    int rc;

    /* source.type stays out of range until a value is given */
    if (cfg->source.type != SOURCE_RDS && cfg->source.type != SOURCE_AURORA_CLUSTER)
        return require(L, SEC_SOURCE, "type", NULL);
    if ((rc = require(L, SEC_SOURCE, "identifier", cfg->source.identifier)) != 0 ||
        (rc = require(L, SEC_CLONE, "instanceClass", cfg->clone.instance_class)) != 0 ||
        (rc = require(L, SEC_DBLAB, "apiEndpoint", cfg->dblab.api_endpoint)) != 0 ||
        (rc = require(L, SEC_DBLAB, "token", cfg->dblab.token)) != 0)
        return rc;

    /* clone.pipeline: by default the source identifier (lower case), a valid name by
     * construction (K_IDENTIFIER) */
    if (cfg->clone.pipeline == NULL) {
        char pl[CLONE_PIPELINE_MAX + 1];
        clone_pipeline_default(cfg->source.identifier, pl, sizeof pl);
        cfg->clone.pipeline = xstrdup(pl);
    }

    ignore_inapplicable(L);
    if (cfg->source.restore_from != RESTORE_SNAPSHOT && cfg->source.snapshot_identifier != NULL)
        return fail(L, where(L, SEC_SOURCE, "restoreFrom"), "source.restoreFrom",
                    "a point-in-time restore names no snapshot: remove source.snapshotIdentifier "
                    "or set restoreFrom: snapshot");
    if (cfg->source.restore_from != RESTORE_SNAPSHOT && cfg->clone.engine_version != NULL)
        return fail(L, where(L, SEC_CLONE, "engineVersion"), "clone.engineVersion",
                    "a point-in-time clone runs the source's engine version "
                    "(RestoreDBClusterToPointInTime takes no EngineVersion): remove it, or set "
                    "source.restoreFrom: snapshot");
    if (cfg->source.type == SOURCE_AURORA_CLUSTER && cfg->source.restore_from == RESTORE_TIME &&
        cfg->clone.copy_on_write)
        return fail(L, where(L, SEC_SOURCE, "restoreFrom"), "source.restoreFrom",
                    "Aurora restores a copy-on-write clone only at the latest restorable time "
                    "(RestoreToTime cannot go with RestoreType copy-on-write): use latest, or "
                    "set clone.copyOnWrite: false for a full copy at that time");
    if (cfg->clone.master_password == MASTER_PASSWORD_MANAGED &&
        cfg->clone.enable_iam_auth == TRI_TRUE)
        return fail(L, where(L, SEC_CLONE, "masterPassword"), "clone.masterPassword",
                    "managed does not apply with clone.enableIAMAuth: true (DBLab then connects "
                    "with an IAM token, not a password)");
    if (cfg->clone.master_password == MASTER_PASSWORD_MANAGED && cfg->source.password != NULL)
        log_warn("%s: clone.masterPassword is managed: source.password is not used (DBLab gets "
                 "the clone's own master password)",
                 L->name);
    if (cfg->dblab.poll_interval > cfg->dblab.timeout)
        return fail(L, where(L, SEC_DBLAB, "pollInterval"), "dblab.pollInterval",
                    "longer than dblab.timeout");
    /* Plain http:// carries the token in clear: only to this machine, unless
     * the operator says so (dblab.insecure: true, e.g. a private network). */
    if (strncasecmp(cfg->dblab.api_endpoint, "http://", 7) == 0 &&
        !url_host_is_loopback(cfg->dblab.api_endpoint)) {
        if (!cfg->dblab.insecure)
            return fail(L, where(L, SEC_DBLAB, "apiEndpoint"), "dblab.apiEndpoint",
                        "plain http:// to a host that is not this machine would send the token "
                        "in clear: use https://, or set dblab.insecure: true to accept it");
        log_warn("%s: dblab.apiEndpoint is plain http:// to another host (dblab.insecure: true): "
                 "the token travels in clear",
                 L->name);
    }
    if (cfg->dblab.insecure && strncasecmp(cfg->dblab.api_endpoint, "https://", 8) == 0)
        log_warn("%s: dblab.insecure is true: the DBLab Engine's TLS certificate is not "
                 "verified%s",
                 L->name, cfg->dblab.ca_cert != NULL ? " (dblab.caCert is ignored)" : "");

    /* Everything below may read the AWS config and credentials files. */
    if ((rc = aws_ini_check(L->e)) != 0)
        return rc;

    /* aws.profile, else AWS_PROFILE */
    if (cfg->aws.profile == NULL && env_nonempty("AWS_PROFILE") != NULL)
        cfg->aws.profile = xstrdup(getenv("AWS_PROFILE"));
    else if (cfg->aws.profile != NULL && strcmp(cfg->aws.profile, "default") != 0 &&
             !aws_ini_profile_exists(cfg->aws.profile))
        return fail(L, where(L, SEC_AWS, "profile"), "aws.profile",
                    "profile \"%s\" not found in the AWS config or credentials file",
                    cfg->aws.profile);

    /* region: aws.region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region */
    if (cfg->aws.region != NULL)
        cfg->aws.region_source = "aws.region";
    if (cfg->aws.region == NULL) {
        static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
        for (size_t i = 0; i < 2 && cfg->aws.region == NULL; i++) {
            const char *v = env_nonempty(vars[i]);
            if (v == NULL)
                continue;
            if ((rc = check_region(L, NULL, vars[i], v)) != 0)
                return fail_env(L, vars[i], "\"%s\" is not an AWS region name (like us-east-1)", v);
            cfg->aws.region = xstrdup(v);
            cfg->aws.region_source = vars[i];
        }
        if (cfg->aws.region == NULL) {
            char *v = aws_ini_get(cfg->aws.profile, "region");
            if (v != NULL && check_region(L, NULL, "region", v) != 0) {
                rc = fail_env(L, "region",
                              "the AWS profile \"%s\" has region \"%s\", not an AWS "
                              "region name",
                              aws_ini_profile_name(cfg->aws.profile), v);
                free(v);
                return rc;
            }
            cfg->aws.region = v;
            if (v != NULL)
                cfg->aws.region_source = "AWS config file (profile region)";
        }
        if (cfg->aws.region == NULL)
            return fail(L,
                        L->section_node[SEC_AWS] != NULL ? L->section_node[SEC_AWS]
                                                         : yaml_document_get_root_node(L->doc),
                        "aws.region",
                        "required (set aws.region, AWS_REGION or "
                        "AWS_DEFAULT_REGION, or a region in the AWS profile)");
    }

    if ((rc = resolve_endpoint(L)) != 0)
        return rc;
    if (cfg->aws.endpoint != NULL && strncasecmp(cfg->aws.endpoint, "http://", 7) == 0 &&
        !url_host_is_loopback(cfg->aws.endpoint))
        log_warn("%s: the RDS endpoint %s (from %s) is plain http:// to another host: requests "
                 "are signed (the secret key never travels) but answers and the session token "
                 "can be read or changed on the way",
                 L->name, cfg->aws.endpoint,
                 cfg->aws.endpoint_source != NULL ? cfg->aws.endpoint_source : "aws.endpoint");

    /* maxAttempts: aws.maxAttempts, AWS_MAX_ATTEMPTS, the profile's max_attempts */
    if (cfg->aws.max_attempts > 0)
        cfg->aws.max_attempts_source = "aws.maxAttempts";
    if (cfg->aws.max_attempts <= 0) {
        long iv;
        const char *v = env_nonempty("AWS_MAX_ATTEMPTS");
        if (v != NULL) {
            if (parse_int(v, &iv) != 0 || iv < 1 || iv > MAX_ATTEMPTS_LIMIT)
                return fail_env(L, "AWS_MAX_ATTEMPTS", "must be an integer 1-%d, got \"%s\"",
                                MAX_ATTEMPTS_LIMIT, v);
            cfg->aws.max_attempts = (int)iv;
            cfg->aws.max_attempts_source = "AWS_MAX_ATTEMPTS";
        } else {
            char *pv = aws_ini_get(cfg->aws.profile, "max_attempts");
            if (pv != NULL) {
                if (parse_int(pv, &iv) != 0 || iv < 1 || iv > MAX_ATTEMPTS_LIMIT) {
                    rc = fail_env(L, "max_attempts",
                                  "the AWS profile \"%s\" has max_attempts "
                                  "\"%s\", not an integer 1-%d",
                                  aws_ini_profile_name(cfg->aws.profile), pv, MAX_ATTEMPTS_LIMIT);
                    free(pv);
                    return rc;
                }
                cfg->aws.max_attempts = (int)iv;
                cfg->aws.max_attempts_source = "AWS config file (profile max_attempts)";
                free(pv);
            } else {
                cfg->aws.max_attempts = CONFIG_DEFAULT_MAX_ATTEMPTS;
                cfg->aws.max_attempts_source = "default";
            }
        }
    }
    return 0;
}

static void set_defaults(struct config *cfg)
{
    cfg->source.type = (enum source_type) - 1; /* required: "unset" until given */
    cfg->source.snapshot_type = SNAPSHOT_AUTOMATED;
    cfg->clone.publicly_accessible = TRI_UNSET;
    cfg->clone.enable_iam_auth = TRI_UNSET;
    cfg->clone.max_age = 48 * 3600;
    cfg->clone.wait_timeout = 2 * 3600;
    cfg->clone.copy_on_write = 1;
    cfg->dblab.poll_interval = 30;
    cfg->dblab.timeout = 4 * 3600;
    cfg->dblab.start_timeout = 5 * 60;
    cfg->dblab.dump_parallel_jobs = PARALLEL_UNSET;
    cfg->dblab.restore_parallel_jobs = PARALLEL_UNSET;
    cfg->aws.max_attempts = 0;
}

static int load_root(struct loader *L)
{
    yaml_node_t *root = yaml_document_get_root_node(L->doc);
    if (root == NULL || is_null(root))
        return err_set(L->e, ERR_CONFIG,
                       "%s: empty configuration (expected the source, clone, dblab and aws "
                       "sections)",
                       L->name);
    if (root->type != YAML_MAPPING_NODE)
        return fail(L, root, NULL,
                    "the configuration must be a mapping of sections (source, "
                    "clone, dblab, aws), got %s",
                    node_kind(root));
    int rc = check_duplicates(L, root, NULL);
    if (rc != 0)
        return rc;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const char *key = scalar_text(k);
        size_t s;
        for (s = 0; s < N_SECTIONS; s++)
            if (strcmp(section_defs[s].name, key) == 0)
                break;
        if (s == N_SECTIONS) {
            const char *sugg = suggest_closest(key, section_names);
            for (size_t t = 0; sugg == NULL && t < N_SECTIONS; t++)
                for (const struct key_def *kd = section_defs[t].keys; kd->name != NULL; kd++)
                    if (strcmp(kd->name, key) == 0)
                        return fail(L, k, key,
                                    "unknown section (did you mean %s.%s? keys go "
                                    "under their section)",
                                    section_defs[t].name, key);
            if (sugg != NULL)
                return fail(L, k, key, "unknown section (did you mean %s?)", sugg);
            return fail(L, k, key, "unknown section (the sections are source, clone, dblab, aws)");
        }
        L->section_node[s] = v;
        if ((rc = load_section(L, s, v)) != 0)
            return rc;
    }
    return resolve(L);
}

/* ---- entry points ----------------------------------------------------- */

static int load_string(const char *yaml, const char *name, const char *base_dir,
                       const char **literal_secret, struct config *cfg, struct err *e)
{
    memset(cfg, 0, sizeof *cfg);
    set_defaults(cfg);
    if (name == NULL)
        name = "config";
    cfg->path = xstrdup(name);

    int depth_rc = yaml_depth_check(yaml, strlen(yaml), name, YAML_MAX_DEPTH, e);
    if (depth_rc != 0)
        return depth_rc;

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return err_set(e, ERR_INTERNAL, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));

    if (!yaml_parser_load(&parser, &doc)) {
        int rc;
        const char *problem = parser.problem != NULL ? parser.problem : "invalid YAML";
        if (parser.context != NULL)
            rc = err_set(e, ERR_CONFIG, "%s:%zu:%zu: YAML syntax error: %s %s (line %zu)", name,
                         parser.problem_mark.line + 1, parser.problem_mark.column + 1, problem,
                         parser.context, parser.context_mark.line + 1);
        else
            rc = err_set(e, ERR_CONFIG, "%s:%zu:%zu: YAML syntax error: %s", name,
                         parser.problem_mark.line + 1, parser.problem_mark.column + 1, problem);
        yaml_parser_delete(&parser);
        return rc;
    }

    struct loader L = {.name = name, .base_dir = base_dir, .doc = &doc, .cfg = cfg, .e = e};
    int rc = load_root(&L);
    if (literal_secret != NULL)
        *literal_secret = L.literal_secret;

    if (rc == 0) {
        /* A second document in the stream ("---" twice) would be silently ignored. */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            rc = err_set(e, ERR_CONFIG, "%s:%zu:%zu: YAML syntax error: %s", name,
                         parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                         parser.problem != NULL ? parser.problem : "invalid YAML");
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&next);
            if (r != NULL)
                rc = err_set(e, ERR_CONFIG,
                             "%s:%zu:%zu: a second YAML document; the "
                             "configuration is one document",
                             name, r->start_mark.line + 1, r->start_mark.column + 1);
            yaml_document_delete(&next);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int config_load_string(const char *yaml, const char *name, struct config *cfg, struct err *e)
{
    return load_string(yaml, name, NULL, NULL, cfg, e);
}

/* ---- trust in the file (the rule ssh applies to its own files) ---------- */

/* Why someone other than the running user could change what st describes, or
 * NULL. A world-writable directory with the sticky bit (/tmp) is fine when the
 * file in it is the user's or root's: others cannot rename or replace it. */
static const char *untrusted(const struct stat *st, const struct stat *file_in_dir, uid_t me,
                             char *why, size_t whylen)
{
    int sticky_ok = file_in_dir != NULL && (st->st_mode & S_ISVTX) != 0 &&
                    (file_in_dir->st_uid == me || file_in_dir->st_uid == 0);
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if ((st->st_mode & S_IWOTH) != 0 && !sticky_ok)
        snprintf(why, whylen, "writable by others (mode %04o)", mode);
    else if ((st->st_mode & S_IWGRP) != 0 && st->st_uid != me && !sticky_ok)
        snprintf(why, whylen,
                 "writable by group %u (mode %04o) and owned by uid %u, not by you "
                 "(uid %u)",
                 (unsigned)st->st_gid, mode, (unsigned)st->st_uid, (unsigned)me);
    else if (me == 0 && st->st_uid != 0)
        snprintf(why, whylen,
                 "owned by uid %u: running as root, what another user can change "
                 "is refused",
                 (unsigned)st->st_uid);
    else
        return NULL;
    return why;
}

static int read_only_fs(int fd)
{
    struct statvfs v;
    return fstatvfs(fd, &v) == 0 && (v.f_flag & ST_RDONLY) != 0;
}

/* The configuration decides where secrets go (dblab.apiEndpoint, aws.endpoint)
 * and which commands run: a file, or a directory holding it, that another user
 * can change is refused (exit 78), as ssh refuses its config and keys. A file on
 * a read-only file system (a Kubernetes ConfigMap mount) is as its owner left it. */
static int check_trust(const char *path, FILE *f, struct err *e)
{
    uid_t me = geteuid();
    struct stat st, dst;
    char why[160];
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return 0; /* a pipe (-config <(...)) is the caller's own */
    if (!read_only_fs(fileno(f)) && untrusted(&st, NULL, me, why, sizeof why) != NULL)
        return err_set(e, ERR_CONFIG,
                       "%s: %s; refusing it: whoever can change it can point "
                       "dblab.apiEndpoint or aws.endpoint elsewhere and collect the secrets "
                       "(chmod go-w / chown it)",
                       path, why);
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? xstrdup(".")
                : slash == path ? xstrdup("/")
                                : xstrndup(path, (size_t)(slash - path));
    int rc = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0 && fstat(dfd, &dst) == 0 && !read_only_fs(dfd) &&
        untrusted(&dst, &st, me, why, sizeof why) != NULL)
        rc = err_set(e, ERR_CONFIG,
                     "%s: its directory %s is %s; refusing the file: whoever "
                     "can change the directory can replace it (chmod go-w / chown the directory, "
                     "or move the file)",
                     path, dir, why);
    if (dfd >= 0)
        close(dfd);
    free(dir);
    return rc;
}

int config_load(const char *path, struct config *cfg, struct err *e)
{
    memset(cfg, 0, sizeof *cfg);
    set_defaults(cfg);
    cfg->path = xstrdup(path);

    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
    int trust = check_trust(path, f, e);
    if (trust != 0) {
        fclose(f);
        return trust;
    }
    struct buf b = BUF_INIT;
    int got = buf_read_file(&b, f, CONFIG_MAX_BYTES);
    int read_err = got < 0 ? errno : 0;
    fclose(f);

    int rc;
    if (got < 0)
        rc = err_set(e, ERR_CONFIG, "%s: cannot read: %s", path, strerror(read_err));
    else if (got > 0)
        rc = err_set(e, ERR_CONFIG, "%s: larger than %d bytes (not a configuration file)", path,
                     CONFIG_MAX_BYTES);
    else if (b.len == 0)
        rc = err_set(e, ERR_CONFIG,
                     "%s: empty configuration (expected the source, clone, "
                     "dblab and aws sections)",
                     path);
    else if (strlen(b.data) != b.len)
        rc = err_set(e, ERR_CONFIG, "%s: contains a NUL byte (not a YAML file)", path);
    else {
        config_release(cfg); /* load_string starts afresh */
        const char *slash = strrchr(path, '/');
        char *dir = slash == NULL   ? NULL
                    : slash == path ? xstrdup("/")
                                    : xstrndup(path, (size_t)(slash - path));
        const char *literal = NULL;
        rc = load_string(b.data, path, dir, &literal, cfg, e);
        free(dir);
        /* Like ssh with a private key: a secret in a file others can read. */
        struct stat st;
        if (rc == 0 && literal != NULL && stat(path, &st) == 0 && (st.st_mode & 0044) != 0)
            log_warn("%s: holds a literal %s and is readable by others (mode %04o): chmod 600 "
                     "it, or use ${VARIABLE} or a secretsmanager:/ssm: reference",
                     path, strcmp(literal, "token") == 0 ? "dblab.token" : "source.password",
                     (unsigned)(st.st_mode & 07777));
    }
    buf_release(&b);
    return rc;
}

void config_release(struct config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->source.identifier);
    free(cfg->source.snapshot_identifier);
    free(cfg->source.db_name);
    free(cfg->source.username);
    free_secret(cfg->source.password);
    free(cfg->clone.instance_class);
    free(cfg->clone.subnet_group);
    for (size_t i = 0; i < cfg->clone.n_security_groups; i++)
        free(cfg->clone.security_groups[i]);
    free(cfg->clone.security_groups);
    free(cfg->clone.parameter_group);
    free(cfg->clone.option_group);
    free(cfg->clone.cluster_parameter_group);
    free(cfg->clone.storage_type);
    free(cfg->clone.pipeline);
    free(cfg->clone.engine_version);
    for (size_t i = 0; i < cfg->clone.n_tags; i++) {
        free(cfg->clone.tags[i].key);
        free(cfg->clone.tags[i].value);
    }
    free(cfg->clone.tags);
    free(cfg->dblab.api_endpoint);
    free_secret(cfg->dblab.token);
    free(cfg->dblab.ca_cert);
    free(cfg->aws.region);
    free(cfg->aws.endpoint);
    free(cfg->aws.profile);
    memset(cfg, 0, sizeof *cfg);
}

const char *source_type_name(enum source_type t)
{
    return (unsigned)t < 2 ? source_type_names[t] : "unknown";
}

const char *snapshot_type_name(enum snapshot_type t)
{
    return (unsigned)t < 5 ? snapshot_type_names[t] : "unknown";
}

/* ---- the effective configuration as JSON ------------------------------- */

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

/* A secret: "[REDACTED]" when it is a literal value, the reference itself when
 * it is a secretsmanager:/ssm: reference (a name is not a secret, and seeing it
 * is what a user checking the config needs). */
static void add_secret(cJSON *o, const char *k, const char *v)
{
    if (v == NULL)
        cJSON_AddNullToObject(o, k);
    else if (config_is_secret_reference(v))
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddStringToObject(o, k, "[REDACTED]");
}

static void add_duration(cJSON *o, const char *k, int64_t v)
{
    char key[64];
    snprintf(key, sizeof key, "%sSeconds", k);
    if (v <= 0) {
        cJSON_AddNullToObject(o, k);
        cJSON_AddNullToObject(o, key);
        return;
    }
    char text[64];
    duration_format(v, text, sizeof text);
    cJSON_AddStringToObject(o, k, text);
    cJSON_AddNumberToObject(o, key, (double)v);
}

static void add_tristate(cJSON *o, const char *k, enum tristate t)
{
    if (t == TRI_UNSET)
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddBoolToObject(o, k, t == TRI_TRUE);
}

static void add_parallel(cJSON *o, const char *k, int v)
{
    if (v == PARALLEL_UNSET)
        cJSON_AddNullToObject(o, k);
    else if (v == PARALLEL_AUTO)
        cJSON_AddStringToObject(o, k, "auto");
    else
        cJSON_AddNumberToObject(o, k, v);
}

enum master_password config_master_password(const struct config *cfg)
{
    if (cfg->clone.master_password != MASTER_PASSWORD_DEFAULT)
        return cfg->clone.master_password;
    if (cfg->source.password == NULL && cfg->clone.enable_iam_auth != TRI_TRUE)
        return MASTER_PASSWORD_MANAGED;
    return MASTER_PASSWORD_KEEP;
}

const char *master_password_name(enum master_password m)
{
    return m == MASTER_PASSWORD_MANAGED ? "managed" : "keep";
}

const char *restore_from_name(const struct config *cfg, char *buf, size_t buflen)
{
    switch (cfg->source.restore_from) {
    case RESTORE_LATEST:
        return "latest";
    case RESTORE_TIME:
        clock_format_rfc3339(cfg->source.restore_time, buf, buflen);
        return buf;
    default:
        return "snapshot";
    }
}

void *config_to_json(const struct config *cfg)
{
    cJSON *root = cJSON_CreateObject();
    add_str(root, "configFile", cfg->path);

    cJSON *s = cJSON_AddObjectToObject(root, "source");
    add_str(s, "type", source_type_name(cfg->source.type));
    add_str(s, "identifier", cfg->source.identifier);
    add_str(s, "snapshotIdentifier", cfg->source.snapshot_identifier);
    add_str(s, "snapshotType", snapshot_type_name(cfg->source.snapshot_type));
    add_duration(s, "maxSnapshotAge", cfg->source.max_snapshot_age);
    char rbuf[32];
    add_str(s, "restoreFrom", restore_from_name(cfg, rbuf, sizeof rbuf));
    add_str(s, "dbName", cfg->source.db_name);
    add_str(s, "username", cfg->source.username);
    add_secret(s, "password", cfg->source.password);

    cJSON *c = cJSON_AddObjectToObject(root, "clone");
    add_str(c, "instanceClass", cfg->clone.instance_class);
    add_str(c, "subnetGroup", cfg->clone.subnet_group);
    cJSON *sgs = cJSON_AddArrayToObject(c, "securityGroups");
    for (size_t i = 0; i < cfg->clone.n_security_groups; i++)
        cJSON_AddItemToArray(sgs, cJSON_CreateString(cfg->clone.security_groups[i]));
    add_tristate(c, "publiclyAccessible", cfg->clone.publicly_accessible);
    add_tristate(c, "enableIAMAuth", cfg->clone.enable_iam_auth);
    add_str(c, "parameterGroup", cfg->clone.parameter_group);
    add_str(c, "optionGroup", cfg->clone.option_group);
    add_str(c, "clusterParameterGroup", cfg->clone.cluster_parameter_group);
    if (cfg->clone.port > 0)
        cJSON_AddNumberToObject(c, "port", cfg->clone.port);
    else
        cJSON_AddNullToObject(c, "port");
    add_str(c, "storageType", cfg->clone.storage_type);
    add_str(c, "engineVersion", cfg->clone.engine_version);
    cJSON_AddBoolToObject(c, "deletionProtection", cfg->clone.deletion_protection != 0);
    cJSON *tags = cJSON_AddObjectToObject(c, "tags");
    for (size_t i = 0; i < cfg->clone.n_tags; i++)
        cJSON_AddStringToObject(tags, cfg->clone.tags[i].key, cfg->clone.tags[i].value);
    add_duration(c, "maxAge", cfg->clone.max_age);
    add_duration(c, "waitTimeout", cfg->clone.wait_timeout);
    cJSON_AddBoolToObject(c, "copyOnWrite", cfg->clone.copy_on_write != 0);
    add_str(c, "masterPassword", master_password_name(config_master_password(cfg)));
    add_str(c, "pipeline", cfg->clone.pipeline);

    cJSON *d = cJSON_AddObjectToObject(root, "dblab");
    add_str(d, "apiEndpoint", cfg->dblab.api_endpoint);
    add_secret(d, "token", cfg->dblab.token);
    cJSON_AddBoolToObject(d, "insecure", cfg->dblab.insecure != 0);
    add_str(d, "caCert", cfg->dblab.ca_cert);
    add_duration(d, "pollInterval", cfg->dblab.poll_interval);
    add_duration(d, "timeout", cfg->dblab.timeout);
    add_duration(d, "startTimeout", cfg->dblab.start_timeout);
    add_parallel(d, "dumpParallelJobs", cfg->dblab.dump_parallel_jobs);
    add_parallel(d, "restoreParallelJobs", cfg->dblab.restore_parallel_jobs);

    cJSON *a = cJSON_AddObjectToObject(root, "aws");
    add_str(a, "region", cfg->aws.region);
    add_str(a, "regionFrom", cfg->aws.region_source);
    add_str(a, "endpoint", cfg->aws.endpoint);
    add_str(a, "endpointFrom", cfg->aws.endpoint_source);
    add_str(a, "profile", cfg->aws.profile);
    cJSON_AddNumberToObject(a, "maxAttempts", cfg->aws.max_attempts);
    add_str(a, "maxAttemptsFrom", cfg->aws.max_attempts_source);
    return root;
}
