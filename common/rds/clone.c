/* Clone naming, tags, the ownership guard and the gc verdict: pure logic, no AWS
 * call (see clone_delete.c). */
#include "rds/clone.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/err.h"

int clone_pipeline_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > CLONE_PIPELINE_MAX || !islower((unsigned char)name[0]) || name[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isascii(c) && (islower(c) || isdigit(c) || c == '-')))
            return 0;
        if (c == '-' && name[i - 1] == '-')
            return 0;
    }
    return 1;
}

void clone_pipeline_default(const char *source_id, char *out, size_t outlen)
{
    size_t i = 0;
    for (; source_id[i] && i + 1 < outlen && i < CLONE_PIPELINE_MAX; i++)
        out[i] = (char)tolower((unsigned char)source_id[i]);
    out[i] = '\0';
}

/* Appends a slug of s (lower-case letters and digits, any other run of characters
 * as one hyphen, no hyphen first or last) to out[*n], at most room characters. */
static void append_slug(char *out, size_t *n, const char *s, size_t room)
{
    size_t start = *n, k = *n;
    for (const char *p = s; *p && k - start < room; p++) {
        unsigned char c = (unsigned char)*p;
        if (isascii(c) && isalnum(c))
            out[k++] = (char)tolower(c);
        else if (k > start && out[k - 1] != '-')
            out[k++] = '-';
    }
    while (k > start && out[k - 1] == '-')
        k--;
    out[k] = '\0';
    *n = k;
}

#define NAME_HASH_HEX      16 /* 64 bits: see docs/commands.md for the collision math */
#define NAME_PIPELINE_ROOM 14

void clone_name(const char *pipeline, const char *run_id, char *out, size_t outlen)
{
    /* SHA-256 over both, with a separator no pipeline name contains, so that
     * ("a", "b-c") and ("a-b", "c") differ. */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, pipeline, strlen(pipeline) + 1) != 1 ||
        EVP_DigestUpdate(md, run_id, strlen(run_id)) != 1 ||
        EVP_DigestFinal_ex(md, h, &hlen) != 1) {
        /* only out of memory: abort like every other allocation failure (buf.h) */
        fprintf(stderr, "clone_name: SHA-256 failed\n");
        abort();
    }
    EVP_MD_CTX_free(md);

    char name[CLONE_NAME_MAX + 1];
    size_t n = strlen(CLONE_PREFIX);
    memcpy(name, CLONE_PREFIX, n + 1);
    /* room for the readable part, "P-" and "R-", between the prefix and H */
    size_t room = CLONE_NAME_MAX - n - NAME_HASH_HEX;
    append_slug(name, &n, pipeline, NAME_PIPELINE_ROOM);
    if (n > strlen(CLONE_PREFIX))
        name[n++] = '-';
    size_t used = n - strlen(CLONE_PREFIX);
    if (used + 1 < room) {
        size_t before = n;
        append_slug(name, &n, run_id, room - used - 1);
        if (n > before)
            name[n++] = '-';
    }
    for (int i = 0; i < NAME_HASH_HEX / 2; i++)
        n += (size_t)snprintf(name + n, sizeof name - n, "%02x", h[i]);
    snprintf(out, outlen, "%s", name);
}

int clone_name_check(const char *name, struct err *e)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return err_set(e, ERR_USAGE, "clone id: empty");
    if (strncmp(name, CLONE_PREFIX, strlen(CLONE_PREFIX)) != 0)
        return err_set(e, ERR_USAGE, "clone id %s: must start with \"%s\"", name, CLONE_PREFIX);
    if (len > CLONE_NAME_MAX)
        return err_set(e, ERR_USAGE,
                       "clone id %s: longer than %d characters (room is kept for \"%s\")", name,
                       CLONE_NAME_MAX, CLONE_INSTANCE_SUFFIX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(isascii(c) && (islower(c) || isdigit(c) || c == '-')))
            return err_set(e, ERR_USAGE,
                           "clone id %s: only lower-case letters, digits and hyphens are allowed",
                           name);
        if (c == '-' && i > 0 && name[i - 1] == '-')
            return err_set(e, ERR_USAGE, "clone id %s: two consecutive hyphens", name);
    }
    if (name[len - 1] == '-')
        return err_set(e, ERR_USAGE, "clone id %s: ends with a hyphen", name);
    return 0;
}

void clone_owner_of(struct clone_owner *o, const struct config *cfg, const char *run_id)
{
    /* every other field zero: no exception to the guard */
    *o = (struct clone_owner){.config_source = cfg->source.identifier,
                              .source = cfg->source.identifier,
                              .pipeline = cfg->clone.pipeline,
                              .run_id = run_id};
}

void clone_tags_build(struct rds_tags *out, const struct config *cfg, const char *snapshot_id,
                      const char *run_id, int64_t now)
{
    char after[32];
    clock_format_rfc3339(now + cfg->clone.max_age, after, sizeof after);
    rds_tags_add(out, CLONE_TAG_MANAGED_BY, CLONE_MANAGED_BY);
    rds_tags_add(out, CLONE_TAG_AUTO_DELETE, "true");
    rds_tags_add(out, CLONE_TAG_DELETE_AFTER, after);
    rds_tags_add(out, CLONE_TAG_SOURCE, cfg->source.identifier);
    rds_tags_add(out, CLONE_TAG_PIPELINE, cfg->clone.pipeline);
    rds_tags_add(out, CLONE_TAG_SNAPSHOT, snapshot_id);
    rds_tags_add(out, CLONE_TAG_RUN_ID, run_id); /* run_id_check: fits a tag value */
    for (size_t i = 0; i < cfg->clone.n_tags; i++) {
        const char *k = cfg->clone.tags[i].key;
        if (rds_tags_get(out, k))
            continue; /* the reserved tags are the guard's: a user tag never overrides them */
        rds_tags_add(out, k, cfg->clone.tags[i].value);
    }
}

/* 0 when tag `key` equals want (case-insensitively when icase), else the guard's
 * refusal naming the tag, what it says and what this caller is. */
static int tag_is(const char *kind_name, const char *id, const struct rds_tags *tags,
                  const char *key, const char *want, int icase, const char *whose, struct err *e)
{
    const char *v = rds_tags_get(tags, key);
    if (!v)
        return err_set(e, ERR_GUARD,
                       "refusing to touch %s %s: it has no %s tag (%s is \"%.80s\"); a clone "
                       "made before pipelines existed is collected only by rds-clone-gc "
                       "-all-pipelines, after its own DeleteAfter",
                       kind_name, id, key, whose, want);
    if (icase ? strcasecmp(v, want) != 0 : strcmp(v, want) != 0)
        return err_set(e, ERR_GUARD,
                       "refusing to touch %s %s: its tag %s is \"%.80s\", %s is \"%.80s\"",
                       kind_name, id, key, v, whose, want);
    return 0;
}

int clone_guard_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const struct clone_owner *owner, struct err *e)
{
    if (!id || !*id)
        return err_set(e, ERR_GUARD, "refusing to touch a %s without an identifier", kind_name);
    if (owner->config_source && strcasecmp(id, owner->config_source) == 0)
        return err_set(e, ERR_GUARD,
                       "refusing to touch %s %s: it is the configured source (source.identifier)",
                       kind_name, id);
    if (strncmp(id, CLONE_PREFIX, strlen(CLONE_PREFIX)) != 0)
        return err_set(e, ERR_GUARD, "refusing to touch %s %s: its name does not start with \"%s\"",
                       kind_name, id, CLONE_PREFIX);
    const char *mb = rds_tags_get(tags, CLONE_TAG_MANAGED_BY);
    if (!mb || strcmp(mb, CLONE_MANAGED_BY) != 0)
        return err_set(e, ERR_GUARD, "refusing to touch %s %s: it is not tagged %s=%s (%s)",
                       kind_name, id, CLONE_TAG_MANAGED_BY, CLONE_MANAGED_BY,
                       mb ? "the tag has another value" : "the tag is missing");
    if (owner->expired_by > 0) {
        const char *ad = rds_tags_get(tags, CLONE_TAG_AUTO_DELETE);
        const char *da = rds_tags_get(tags, CLONE_TAG_DELETE_AFTER);
        int64_t t;
        if (!ad || strcmp(ad, "true") != 0)
            return err_set(e, ERR_GUARD, "refusing to touch %s %s: its tag %s is not true",
                           kind_name, id, CLONE_TAG_AUTO_DELETE);
        if (!da || clock_parse_rfc3339(da, &t) != 0 || t > owner->expired_by)
            return err_set(e, ERR_GUARD,
                           "refusing to touch %s %s: its tag %s (%.40s) has not passed", kind_name,
                           id, CLONE_TAG_DELETE_AFTER, da ? da : "missing");
    }
    if (owner->untagged_ok && !rds_tags_get(tags, CLONE_TAG_PIPELINE) &&
        !rds_tags_get(tags, CLONE_TAG_RUN_ID))
        return 0;
    int rc = 0;
    if (owner->pipeline)
        rc = tag_is(kind_name, id, tags, CLONE_TAG_PIPELINE, owner->pipeline, 0,
                    "this pipeline (clone.pipeline)", e);
    if (rc == 0 && owner->source)
        rc = tag_is(kind_name, id, tags, CLONE_TAG_SOURCE, owner->source, 1,
                    "this pipeline's source", e);
    if (rc == 0 && owner->run_id)
        rc = tag_is(kind_name, id, tags, CLONE_TAG_RUN_ID, owner->run_id, 0, "this run", e);
    return rc;
}

int clone_adopt_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const struct clone_owner *owner, const char *snapshot_id, struct err *e)
{
    if (!owner->pipeline || !owner->source || !owner->run_id)
        return err_set(e, ERR_INTERNAL, "%s %s: adoption needs the pipeline and the run id",
                       kind_name, id);
    int rc = clone_guard_check(kind_name, id, tags, owner, e);
    if (rc)
        return err_prefix(e, "%s %s already exists and cannot be adopted", kind_name, id);
    const char *snap = rds_tags_get(tags, CLONE_TAG_SNAPSHOT);
    if (!snap || strcmp(snap, snapshot_id) != 0)
        return err_set(e, ERR_GUARD,
                       "%s %s already exists and cannot be adopted: it was restored from %s%s%s, "
                       "not from %s",
                       kind_name, id, snap ? "snapshot \"" : "an unknown snapshot",
                       snap ? snap : "", snap ? "\"" : "", snapshot_id);
    return 0;
}

enum clone_gc_verdict clone_gc_judge(const char *id, const struct rds_tags *tags,
                                     int64_t create_time, const struct clone_gc_policy *p,
                                     int *foreign, const char **why)
{
    struct err e;
    err_clear(&e);
    *foreign = 0;
    /* prefix, ManagedBy, never the configured source */
    struct clone_owner any = {.config_source = p->own->config_source};
    if (clone_guard_check("resource", id, tags, &any, &e) != 0) {
        *why = "not a managed clone";
        return CLONE_GC_IGNORE;
    }
    const char *ad = rds_tags_get(tags, CLONE_TAG_AUTO_DELETE);
    if (!ad || strcmp(ad, "true") != 0) {
        *why = "AutoDelete is not true";
        return CLONE_GC_KEEP;
    }
    const char *da = rds_tags_get(tags, CLONE_TAG_DELETE_AFTER);
    int64_t t;
    int has_deadline = da && clock_parse_rfc3339(da, &t) == 0;
    int expired = has_deadline && t <= p->now;
    const char *pl = rds_tags_get(tags, CLONE_TAG_PIPELINE);
    const char *src = rds_tags_get(tags, CLONE_TAG_SOURCE);
    int mine =
        pl && strcmp(pl, p->own->pipeline) == 0 && src && strcasecmp(src, p->own->source) == 0;
    if (mine) {
        if (expired) {
            *why = "this pipeline's clone: its DeleteAfter has passed";
            return CLONE_GC_COLLECT;
        }
        if (p->max_age > 0 && create_time > 0 && create_time + p->max_age <= p->now) {
            *why = "this pipeline's clone: older than the maximum age";
            return CLONE_GC_COLLECT;
        }
        *why = "this pipeline's clone: not expired";
        return CLONE_GC_KEEP;
    }
    if (!p->all_pipelines) {
        *why = !pl ? "no pipeline tag (made before pipelines existed): only -all-pipelines "
                     "collects it, after its own DeleteAfter"
               : strcmp(pl, p->own->pipeline) == 0
                   ? "tagged with this pipeline's name but another source: not this pipeline's"
                   : "another pipeline's clone: only -all-pipelines collects it, after its own "
                     "DeleteAfter";
        return CLONE_GC_KEEP;
    }
    if (!has_deadline) {
        *why = "another pipeline's clone without a valid DeleteAfter (-all-pipelines goes only "
               "by a clone's own DeleteAfter)";
        return CLONE_GC_KEEP;
    }
    if (!expired) {
        *why = "another pipeline's clone: its own DeleteAfter is ahead";
        return CLONE_GC_KEEP;
    }
    *foreign = 1;
    *why = "another pipeline's clone: its own DeleteAfter has passed (-all-pipelines)";
    return CLONE_GC_COLLECT;
}
