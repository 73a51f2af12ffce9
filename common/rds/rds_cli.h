/* What the RDS commands share beyond app.h: the AWS context from the
 * configuration, the source kind, the run document's snapshot and clone sections,
 * and the one way a command ends (log the one-line error, return its code). */
#ifndef DRR_RDS_CLI_H
#define DRR_RDS_CLI_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "config/config.h"
#include "core/err.h"
#include "rds/rds.h"

struct aws_ctx;

/* The AWS client for RDS as the configuration says (region, endpoint, profile,
 * maxAttempts) with the default credential chain. */
int rds_cli_aws_new(const struct config *cfg, struct aws_ctx **out, struct err *e);
void rds_cli_aws_free(struct aws_ctx *aws);
/* Number of AWS requests sent so far (retries included), for the logs. */
long rds_cli_aws_calls(const struct aws_ctx *aws);

enum rds_kind rds_cli_source_kind(const struct config *cfg);
const char *rds_cli_kind_name(enum rds_kind k);            /* "instance" / "cluster" */
int rds_cli_parse_kind(const char *s, enum rds_kind *out); /* 0 ok, -1 unknown */

/* DBLab Engine restores PostgreSQL: engine must be of the family a source of the
 * configured type restores ("postgres" for rds, "aurora-postgresql" for Aurora).
 * ERR_NOT_FOUND otherwise, the message starting with what ("snapshot NAME",
 * "source NAME"). */
int rds_cli_check_engine(const struct config *cfg, const char *what, const char *engine,
                         struct err *e);

/* JSON helpers: NULL strings and negative ints are left out. */
void rds_cli_add_string(cJSON *obj, const char *key, const char *v);
void rds_cli_add_int(cJSON *obj, const char *key, long long v);
void rds_cli_add_time(cJSON *obj, const char *key, int64_t t); /* 0 = left out */

/* The top-level dataAsOf: the time the clone's data is from (the snapshot's
 * creation time or the restore time), for the summary and its age metric. */
void rds_cli_set_data_as_of(cJSON *doc, int64_t t);

/* The doc's snapshot section as rds-snapshot-latest wrote it. */
struct rds_cli_snapshot {
    const char *id;
    const char *arn;
    const char *type;
    const char *engine;
    const char *engine_version;
    enum rds_kind kind;
};
int rds_cli_read_snapshot(const cJSON *doc, struct rds_cli_snapshot *out, struct err *e);

/* The document's top-level pipeline against the configuration's clone.pipeline:
 * absent (a document from before pipelines) is added; another pipeline's document
 * is ERR_INPUT naming both. */
int rds_cli_check_pipeline(cJSON *doc, const struct config *cfg, struct err *e);

#endif
