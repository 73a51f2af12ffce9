/* Point-in-time restore: the window, the checks, the `restore` section (pitr.h). */
#include "rds/pitr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/rundoc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "rds/rds_cli.h"

void pitr_choice_release(struct pitr_choice *c)
{
    if (!c)
        return;
    free(c->engine);
    free(c->engine_version);
    memset(c, 0, sizeof *c);
}

static void fmt(int64_t t, char *out, size_t n)
{
    if (t > 0)
        clock_format_rfc3339(t, out, n);
    else
        snprintf(out, n, "unknown");
}

/* The source as AWS describes it in this region: engine, retention, window. */
static int describe_source(struct aws_ctx *aws, const struct config *cfg, struct pitr_choice *c,
                           int *retention, struct err *e)
{
    const char *id = cfg->source.identifier;
    int rc;
    if (c->kind == RDS_KIND_CLUSTER) {
        struct rds_cluster cl;
        rc = rds_get_cluster(aws, id, &cl, NULL, e);
        if (rc == 0) {
            c->engine = xstrdup(cl.engine);
            c->engine_version = xstrdup(cl.engine_version);
            *retention = cl.backup_retention;
            c->earliest = cl.earliest_restorable_time;
            c->latest = cl.latest_restorable_time;
        }
        rds_cluster_release(&cl);
    } else {
        struct rds_instance inst;
        rc = rds_get_instance(aws, id, &inst, NULL, e);
        if (rc == 0 && inst.cluster_id)
            rc = err_set(e, ERR_CONFIG,
                         "source.identifier: DB instance %s is a member of Aurora cluster %s: "
                         "set source.type aurora-cluster and source.identifier %s",
                         id, inst.cluster_id, inst.cluster_id);
        if (rc == 0) {
            c->engine = xstrdup(inst.engine);
            c->engine_version = xstrdup(inst.engine_version);
            *retention = inst.backup_retention;
            c->latest = inst.latest_restorable_time;
        }
        rds_instance_release(&inst);
        /* An instance describe has no earliest time: its automated backups do. */
        if (rc == 0 && *retention > 0) {
            int64_t latest = 0;
            rc = rds_instance_restore_window(aws, id, &c->earliest, &latest, NULL, e);
            if (rc == 0 && latest > 0 && (c->latest == 0 || latest < c->latest))
                c->latest = latest;
        }
    }
    if (rc == ERR_NOT_FOUND)
        return err_set(e, ERR_NOT_FOUND,
                       "source.identifier: %s %s not found in region %s (a point-in-time restore "
                       "is made from the source's own backups, in the source's region: aws.region "
                       "must be it)",
                       rds_cli_kind_name(c->kind), id, cfg->aws.region);
    return rc;
}

int pitr_choose(struct aws_ctx *aws, const struct config *cfg, struct pitr_choice *out,
                struct err *e)
{
    memset(out, 0, sizeof *out);
    out->kind = rds_cli_source_kind(cfg);
    const char *id = cfg->source.identifier;
    int retention = -1;
    int rc = describe_source(aws, cfg, out, &retention, e);
    if (rc)
        return rc;
    char what[300];
    snprintf(what, sizeof what, "source %s", id);
    rc = rds_cli_check_engine(cfg, what, out->engine, e);
    if (rc)
        return rc;
    if (retention <= 0)
        return err_set(e, ERR_NOT_FOUND,
                       "source %s: automated backups are off (BackupRetentionPeriod %d): there is "
                       "no point in time to restore; turn them on, or use source.restoreFrom: "
                       "snapshot",
                       id, retention < 0 ? 0 : retention);
    char ebuf[32], lbuf[32], tbuf[32];
    fmt(out->earliest, ebuf, sizeof ebuf);
    fmt(out->latest, lbuf, sizeof lbuf);
    if (out->latest <= 0 || out->earliest <= 0 || out->earliest > out->latest)
        return err_set(e, ERR_NOT_FOUND,
                       "source %s: no restorable window yet (earliest %s, latest %s): the first "
                       "automated backup has not completed",
                       id, ebuf, lbuf);
    if (out->kind == RDS_KIND_CLUSTER)
        out->restore_type = cfg->clone.copy_on_write ? PITR_COPY_ON_WRITE : PITR_FULL_COPY;
    if (cfg->source.restore_from == RESTORE_TIME) {
        out->time = cfg->source.restore_time;
        fmt(out->time, tbuf, sizeof tbuf);
        if (out->time < out->earliest || out->time > out->latest)
            return err_set(e, ERR_CONFIG,
                           "source.restoreFrom: %s is outside the restorable window of %s "
                           "[%s, %s]",
                           tbuf, id, ebuf, lbuf);
    } else {
        out->time = out->latest;
        /* Aurora clones copy-on-write only at the latest time (RestoreToTime
         * cannot go with RestoreType copy-on-write); the others get the time
         * read here, so the document says exactly what the clone holds. */
        out->use_latest = out->kind == RDS_KIND_CLUSTER && cfg->clone.copy_on_write;
        int64_t age = clock_now() - out->latest;
        if (cfg->source.max_snapshot_age > 0 && age > cfg->source.max_snapshot_age) {
            char agebuf[32], maxbuf[32];
            duration_format(age, agebuf, sizeof agebuf);
            duration_format(cfg->source.max_snapshot_age, maxbuf, sizeof maxbuf);
            return err_set(e, ERR_STALE,
                           "source %s: the latest restorable time %s is %s old, more than "
                           "source.maxSnapshotAge %s: are backups stuck? refusing to load stale "
                           "data",
                           id, lbuf, agebuf, maxbuf);
        }
    }
    return 0;
}

cJSON *pitr_section(const struct pitr_choice *c)
{
    cJSON *o = cJSON_CreateObject();
    rds_cli_add_string(o, "kind", rds_cli_kind_name(c->kind));
    rds_cli_add_time(o, "time", c->time);
    cJSON_AddBoolToObject(o, "useLatestRestorableTime", c->use_latest);
    rds_cli_add_string(o, "restoreType", c->restore_type);
    rds_cli_add_time(o, "earliestRestorableTime", c->earliest);
    rds_cli_add_time(o, "latestRestorableTime", c->latest);
    rds_cli_add_string(o, "engine", c->engine);
    rds_cli_add_string(o, "engineVersion", c->engine_version);
    return o;
}

static int read_time(const cJSON *doc, const char *field, int64_t *out, struct err *e)
{
    const char *s;
    int rc = rundoc_get_string(doc, PITR_SECTION, field, &s, e);
    if (rc)
        return rc;
    if (clock_parse_rfc3339(s, out) != 0 || *out <= 0)
        return err_set(e, ERR_INPUT, "%s.%s: \"%s\" is not an RFC 3339 time", PITR_SECTION, field,
                       s);
    return 0;
}

int pitr_read(const cJSON *doc, struct pitr_choice *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    const char *kind, *engine;
    int rc = rundoc_get_string(doc, PITR_SECTION, "kind", &kind, e);
    if (rc == 0 && rds_cli_parse_kind(kind, &out->kind) != 0)
        rc = err_set(e, ERR_INPUT, "%s.kind: \"%s\" is neither instance nor cluster", PITR_SECTION,
                     kind);
    if (rc == 0)
        rc = read_time(doc, "time", &out->time, e);
    if (rc == 0)
        rc = rundoc_get_string(doc, PITR_SECTION, "engine", &engine, e);
    if (rc)
        return rc;
    out->engine = xstrdup(engine);
    const cJSON *sec = rundoc_section(doc, PITR_SECTION);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, "engineVersion");
    out->engine_version = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
    v = cJSON_GetObjectItemCaseSensitive(sec, "useLatestRestorableTime");
    out->use_latest = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(sec, "restoreType");
    if (out->kind == RDS_KIND_CLUSTER) {
        if (!cJSON_IsString(v) || (strcmp(v->valuestring, PITR_COPY_ON_WRITE) != 0 &&
                                   strcmp(v->valuestring, PITR_FULL_COPY) != 0))
            return err_set(e, ERR_INPUT, "%s.restoreType: must be %s or %s for a cluster",
                           PITR_SECTION, PITR_COPY_ON_WRITE, PITR_FULL_COPY);
        out->restore_type =
            strcmp(v->valuestring, PITR_COPY_ON_WRITE) == 0 ? PITR_COPY_ON_WRITE : PITR_FULL_COPY;
    }
    if (out->use_latest &&
        !(out->restore_type && strcmp(out->restore_type, PITR_COPY_ON_WRITE) == 0))
        return err_set(e, ERR_INPUT,
                       "%s.useLatestRestorableTime: only a copy-on-write clone uses it",
                       PITR_SECTION);
    return 0;
}

void pitr_ref(const struct pitr_choice *c, char *out, size_t outlen)
{
    char t[32];
    clock_format_rfc3339(c->time, t, sizeof t);
    snprintf(out, outlen, "pitr:%s", t);
}
