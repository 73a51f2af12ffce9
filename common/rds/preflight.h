/* The preflight: before anything costs money (and in every dry run), the AWS
 * names the real run will use are checked against AWS, so that a dry run that
 * passes means the restore will not fail on them. A mistake in the config is
 * ERR_CONFIG (78) with the key, the name and what AWS has instead; an
 * unknown source is ERR_NOT_FOUND (86). A check the credentials may not
 * make (AccessDenied: an IAM policy written for the Go tool lacks the describes)
 * is skipped with a warning naming the permission, never taken as a pass or a
 * failure of the config. See docs/preflight.md. */
#ifndef DRR_PREFLIGHT_H
#define DRR_PREFLIGHT_H

#include "core/err.h"

struct aws_ctx;
struct config;

/* source.identifier is a DB instance (type rds) / DB cluster (aurora-cluster).
 * 0 when it is; ERR_CONFIG when it is the other kind ("did you mean
 * source.type: aurora-cluster?"), or an Aurora member instance named as an rds
 * source ("its cluster is C"); ERR_NOT_FOUND when neither exists (e->msg
 * says so). */
int preflight_source(struct aws_ctx *aws, const struct config *cfg, struct err *e);

/* The clone's settings against the snapshot's engine and version (version: the
 * Aurora clone.engineVersion when set, else the snapshot's): subnet group,
 * parameter group, cluster parameter group and option group exist and fit the
 * engine family, the instance class is orderable. 0 or an error kind. */
int preflight_clone(struct aws_ctx *aws, const struct config *cfg, const char *engine,
                    const char *version, struct err *e);

#endif
