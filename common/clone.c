/* Clone naming, tags and the guard: pure logic, no AWS call (see clone_delete.c). */
#include "clone.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "exitcodes.h"

void clone_name_for_time(int64_t t, char *out, size_t outlen)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, outlen, "%s%s", CLONE_PREFIX, stamp);
}

void clone_name_for_run_id(const char *run_id, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(run_id, strlen(run_id), md, &mdlen, EVP_sha256(), NULL);
    char hash[9];
    snprintf(hash, sizeof hash, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);

    /* prefix + slug + "-" + hash <= CLONE_NAME_MAX */
    size_t room = CLONE_NAME_MAX - strlen(CLONE_PREFIX) - 1 - 8;
    char slug[CLONE_NAME_MAX + 1];
    size_t n = 0;
    for (const char *p = run_id; *p && n < room; p++) {
        unsigned char c = (unsigned char)*p;
        if (isascii(c) && isalnum(c))
            slug[n++] = (char)tolower(c);
        else if (n > 0 && slug[n - 1] != '-')
            slug[n++] = '-';
    }
    while (n > 0 && slug[n - 1] == '-')
        n--;
    slug[n] = '\0';
    if (n > 0)
        snprintf(out, outlen, "%s%s-%s", CLONE_PREFIX, slug, hash);
    else
        snprintf(out, outlen, "%s%s", CLONE_PREFIX, hash);
}

int clone_name_check(const char *name, struct err *e)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return err_set(e, DRR_EXIT_USAGE, "clone id: empty");
    if (strncmp(name, CLONE_PREFIX, strlen(CLONE_PREFIX)) != 0)
        return err_set(e, DRR_EXIT_USAGE, "clone id %s: must start with \"%s\"", name,
                       CLONE_PREFIX);
    if (len > CLONE_NAME_MAX)
        return err_set(e, DRR_EXIT_USAGE,
                       "clone id %s: longer than %d characters (room is kept for \"%s\")", name,
                       CLONE_NAME_MAX, CLONE_INSTANCE_SUFFIX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isascii(c) && (islower(c) || isdigit(c) || c == '-')))
            return err_set(e, DRR_EXIT_USAGE,
                           "clone id %s: only lower-case letters, digits and hyphens are allowed",
                           name);
        if (c == '-' && i > 0 && name[i - 1] == '-')
            return err_set(e, DRR_EXIT_USAGE, "clone id %s: two consecutive hyphens", name);
    }
    if (name[len - 1] == '-')
        return err_set(e, DRR_EXIT_USAGE, "clone id %s: ends with a hyphen", name);
    return 0;
}

const char *clone_run_id_from_env(const char **var_name)
{
    const char *v;
    const char *which = NULL;
    if ((v = getenv("AIRFLOW_CTX_DAG_RUN_ID")) && *v) {
        which = "AIRFLOW_CTX_DAG_RUN_ID";
    } else if ((v = getenv("NOMAD_JOB_ID")) && *v && strchr(v, '/')) {
        /* "name/periodic-1700000000" or "name/dispatch-...": one per launch */
        which = "NOMAD_JOB_ID";
    } else if ((v = getenv("NOMAD_ALLOC_ID")) && *v) {
        which = "NOMAD_ALLOC_ID";
    } else if ((v = getenv("RD_JOB_EXECID")) && *v) {
        which = "RD_JOB_EXECID";
    } else {
        v = NULL;
    }
    if (var_name)
        *var_name = which;
    return v;
}

void clone_tags_build(struct rds_tags *out, const struct config *cfg, const char *source_id,
                      const char *snapshot_id, const char *run_id, int64_t now)
{
    char after[32];
    clock_format_rfc3339(now + cfg->clone.max_age, after, sizeof after);
    rds_tags_add(out, CLONE_TAG_MANAGED_BY, CLONE_MANAGED_BY);
    rds_tags_add(out, CLONE_TAG_AUTO_DELETE, "true");
    rds_tags_add(out, CLONE_TAG_DELETE_AFTER, after);
    rds_tags_add(out, CLONE_TAG_SOURCE, source_id);
    rds_tags_add(out, CLONE_TAG_SNAPSHOT, snapshot_id);
    if (run_id && *run_id) {
        /* a tag value is at most 256 characters */
        char v[257];
        snprintf(v, sizeof v, "%s", run_id);
        rds_tags_add(out, CLONE_TAG_RUN_ID, v);
    }
    for (size_t i = 0; i < cfg->clone.n_tags; i++) {
        const char *k = cfg->clone.tags[i].key;
        if (rds_tags_get(out, k))
            continue; /* the reserved tags are the guard's: a user tag never overrides them */
        rds_tags_add(out, k, cfg->clone.tags[i].value);
    }
}

int clone_guard_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const char *source_id, struct err *e)
{
    if (!id || !*id)
        return err_set(e, DRR_EXIT_GUARD, "refusing to touch a %s without an identifier",
                       kind_name);
    if (source_id && strcasecmp(id, source_id) == 0)
        return err_set(e, DRR_EXIT_GUARD,
                       "refusing to touch %s %s: it is the configured source (source.identifier)",
                       kind_name, id);
    if (strncmp(id, CLONE_PREFIX, strlen(CLONE_PREFIX)) != 0)
        return err_set(e, DRR_EXIT_GUARD,
                       "refusing to touch %s %s: its name does not start with \"%s\"", kind_name,
                       id, CLONE_PREFIX);
    const char *mb = rds_tags_get(tags, CLONE_TAG_MANAGED_BY);
    if (!mb || strcmp(mb, CLONE_MANAGED_BY) != 0)
        return err_set(e, DRR_EXIT_GUARD,
                       "refusing to touch %s %s: it is not tagged %s=%s (%s)", kind_name, id,
                       CLONE_TAG_MANAGED_BY, CLONE_MANAGED_BY,
                       mb ? "the tag has another value" : "the tag is missing");
    return 0;
}

int clone_adopt_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const char *source_id, const char *snapshot_id, struct err *e)
{
    int rc = clone_guard_check(kind_name, id, tags, source_id, e);
    if (rc)
        return err_prefix(e, "%s %s already exists and cannot be adopted", kind_name, id);
    const char *snap = rds_tags_get(tags, CLONE_TAG_SNAPSHOT);
    if (!snap || strcmp(snap, snapshot_id) != 0)
        return err_set(e, DRR_EXIT_GUARD,
                       "%s %s already exists and cannot be adopted: it was restored from %s%s%s, "
                       "not from %s",
                       kind_name, id, snap ? "snapshot \"" : "an unknown snapshot",
                       snap ? snap : "", snap ? "\"" : "", snapshot_id);
    return 0;
}

int clone_gc_eligible(const char *id, const struct rds_tags *tags, int64_t create_time,
                      const char *source_id, int64_t max_age, int64_t now, const char **why)
{
    struct err e;
    err_clear(&e);
    if (clone_guard_check("resource", id, tags, source_id, &e) != 0) {
        *why = "not a managed clone";
        return 0;
    }
    const char *ad = rds_tags_get(tags, CLONE_TAG_AUTO_DELETE);
    if (!ad || strcmp(ad, "true") != 0) {
        *why = "AutoDelete is not true";
        return 0;
    }
    const char *da = rds_tags_get(tags, CLONE_TAG_DELETE_AFTER);
    int64_t t;
    if (da && clock_parse_rfc3339(da, &t) == 0 && t <= now) {
        *why = "DeleteAfter has passed";
        return 1;
    }
    if (max_age > 0 && create_time > 0 && create_time + max_age <= now) {
        *why = "older than the maximum age";
        return 1;
    }
    *why = "not expired";
    return 0;
}
