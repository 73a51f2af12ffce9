#include "rds/rds_cli.h"

#include <stdlib.h>
#include <string.h>

#include "app/rundoc.h"
#include "aws/aws_client.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/signals.h"
#include "rds/clone_poll.h"

int rds_cli_aws_new(const struct config *cfg, struct aws_ctx **out, struct err *e)
{
    int rc = aws_ctx_new_from_config(cfg, out, e);
    if (rc)
        return rc;
    /* The command's requests stop when a signal arrives (create's roll-back
     * swaps in its own budget: aws_ctx_set_cancel). */
    aws_ctx_set_cancel(*out, signals_cancel());
    /* Tests against a fast emulator clock scale the retry backoff like every other
     * wait (clone_poll.h); in production poll_scale() is 1. */
    aws_ctx_scale_backoff(*out, poll_scale());
    return 0;
}

void rds_cli_aws_free(struct aws_ctx *aws)
{
    if (!aws)
        return;
    struct aws_counters n = aws_ctx_counters(aws);
    log_debug("AWS: %lu call(s), %lu HTTP request(s), %lu retr%s", n.calls, n.attempts, n.retries,
              n.retries == 1 ? "y" : "ies");
    aws_ctx_free(aws);
}

long rds_cli_aws_calls(const struct aws_ctx *aws)
{
    return aws ? (long)aws_ctx_counters(aws).attempts : 0;
}

enum rds_kind rds_cli_source_kind(const struct config *cfg)
{
    return cfg->source.type == SOURCE_AURORA_CLUSTER ? RDS_KIND_CLUSTER : RDS_KIND_INSTANCE;
}

int rds_cli_check_engine(const struct config *cfg, const char *what, const char *engine,
                         struct err *e)
{
    const char *want =
        rds_cli_source_kind(cfg) == RDS_KIND_CLUSTER ? "aurora-postgresql" : "postgres";
    if (!engine || strcmp(engine, want) != 0)
        return err_set(e, ERR_NOT_FOUND,
                       "%s: engine %s is not of the %s family that a source of type %s restores",
                       what, engine ? engine : "(unknown)", want,
                       source_type_name(cfg->source.type));
    return 0;
}

const char *rds_cli_kind_name(enum rds_kind k)
{
    return k == RDS_KIND_CLUSTER ? "cluster" : "instance";
}

int rds_cli_parse_kind(const char *s, enum rds_kind *out)
{
    if (s && strcmp(s, "instance") == 0)
        *out = RDS_KIND_INSTANCE;
    else if (s && strcmp(s, "cluster") == 0)
        *out = RDS_KIND_CLUSTER;
    else
        return -1;
    return 0;
}

void rds_cli_add_string(cJSON *obj, const char *key, const char *v)
{
    if (v)
        cJSON_AddStringToObject(obj, key, v);
}

void rds_cli_add_int(cJSON *obj, const char *key, long long v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(obj, key, (double)v);
}

void rds_cli_add_time(cJSON *obj, const char *key, int64_t t)
{
    if (t <= 0)
        return;
    char buf[32];
    clock_format_rfc3339(t, buf, sizeof buf);
    cJSON_AddStringToObject(obj, key, buf);
}

void rds_cli_set_data_as_of(cJSON *doc, int64_t t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "dataAsOf");
    rds_cli_add_time(doc, "dataAsOf", t);
}

static const char *opt_string(const cJSON *sec, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int rds_cli_read_snapshot(const cJSON *doc, struct rds_cli_snapshot *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int rc = rundoc_get_string(doc, "snapshot", "id", &out->id, e);
    if (rc)
        return rc;
    const char *kind;
    rc = rundoc_get_string(doc, "snapshot", "kind", &kind, e);
    if (rc)
        return rc;
    if (rds_cli_parse_kind(kind, &out->kind) != 0)
        return err_set(e, ERR_INPUT, "snapshot.kind: \"%s\" is neither instance nor cluster", kind);
    const cJSON *sec = rundoc_section(doc, "snapshot");
    out->arn = opt_string(sec, "arn");
    out->type = opt_string(sec, "type");
    out->engine = opt_string(sec, "engine");
    out->engine_version = opt_string(sec, "engineVersion");
    return 0;
}

int rds_cli_check_pipeline(cJSON *doc, const struct config *cfg, struct err *e)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(doc, "pipeline");
    if (!p) {
        cJSON_AddStringToObject(doc, "pipeline", cfg->clone.pipeline);
        return 0;
    }
    if (!cJSON_IsString(p))
        return err_set(e, ERR_INPUT, "pipeline: must be a string");
    if (strcmp(p->valuestring, cfg->clone.pipeline) != 0)
        return err_set(e, ERR_INPUT,
                       "pipeline: the document is for pipeline \"%.80s\", the configuration for "
                       "\"%s\" (clone.pipeline)",
                       p->valuestring, cfg->clone.pipeline);
    return 0;
}
