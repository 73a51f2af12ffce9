/* The temporary clone: its name, its tags, the ownership guard, and the one guarded
 * delete path shared by rds-clone-delete, rds-clone-gc and rds-clone-create's
 * roll-back.
 *
 * A PIPELINE is (AWS account, region, source, name): the name is clone.pipeline,
 * by default the source identifier. A RUN is one execution of it (run_id.h). Every
 * clone carries both in its tags, and its name is derived from both, here only.
 *
 * Safety rule: nothing is ever changed or deleted unless, checked against AWS just
 * before, its identifier starts with CLONE_PREFIX AND it carries
 * ManagedBy=dblab-rds-refresh AND the caller's pipeline and source tags AND, when
 * the caller names a run, that run id tag; the configured source identifier is
 * refused whatever its tags say. */
#ifndef DRR_CLONE_H
#define DRR_CLONE_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "rds/rds.h"

struct aws_ctx;
struct config;

/* The prefix the IAM policy of the original documentation allows (db:dblab-refresh-*). */
#define CLONE_PREFIX          "dblab-refresh-"
/* An Aurora clone's writer instance is "<name>-instance", and an RDS identifier is at
 * most 63 characters, so a clone name is at most 63 - 9. */
#define CLONE_INSTANCE_SUFFIX "-instance"
#define CLONE_NAME_MAX        54

#define CLONE_TAG_MANAGED_BY   "ManagedBy"
#define CLONE_MANAGED_BY       "dblab-rds-refresh"
#define CLONE_TAG_AUTO_DELETE  "AutoDelete"
#define CLONE_TAG_DELETE_AFTER "DeleteAfter"
#define CLONE_TAG_SOURCE       "dblab-rds-refresh:source"
#define CLONE_TAG_SNAPSHOT     "dblab-rds-refresh:snapshot"
#define CLONE_TAG_RUN_ID       "dblab-rds-refresh:run-id"
#define CLONE_TAG_PIPELINE     "dblab-rds-refresh:pipeline"

/* A pipeline name: like a lower-case RDS identifier (what the default, the source
 * identifier, always is). */
#define CLONE_PIPELINE_MAX 63

/* 1 when name is a pipeline name: 1-CLONE_PIPELINE_MAX characters, a lower-case
 * letter first, then lower-case letters, digits and single hyphens, no hyphen last. */
int clone_pipeline_ok(const char *name);
/* The default pipeline name of a source: its identifier in lower case (RDS
 * identifiers are case-insensitive). out: CLONE_PIPELINE_MAX + 1 bytes. */
void clone_pipeline_default(const char *source_id, char *out, size_t outlen);

/* THE naming rule (docs/commands.md, "The clone's name"): one name per
 * (pipeline, run id), the same every time, so a retried step and a clean-up by
 * run id find the clone without being told its name:
 *
 *   CLONE_PREFIX + P + "-" + [R + "-"] + H
 *
 *   H = the first 16 hex digits (64 bits) of SHA-256(pipeline "\0" run_id)
 *   P = the pipeline name cut to 14 characters, R = a slug of the run id (lower-case
 *       letters, digits, single hyphens) in the room left: readable hints only;
 *       H alone keeps two different (pipeline, run id) pairs apart.
 *
 * At most CLONE_NAME_MAX; out: CLONE_NAME_MAX + 1 bytes. */
void clone_name(const char *pipeline, const char *run_id, char *out, size_t outlen);
/* 0 when name is a valid DB identifier (letter first; letters, digits, single hyphens;
 * no trailing hyphen; <= CLONE_NAME_MAX) with CLONE_PREFIX; else ERR_USAGE. */
int clone_name_check(const char *name, struct err *e);

/* Whose clone the caller may touch: what AWS's tags must say. */
struct clone_owner {
    const char *config_source; /* the configured source: refused whatever its tags */
    const char *pipeline;      /* required dblab-rds-refresh:pipeline; NULL = any pipeline
                                  (only rds-clone-gc -all-pipelines, on expired clones) */
    const char *source;        /* required dblab-rds-refresh:source (case-insensitive);
                                  NULL = not checked (same) */
    const char *run_id;        /* required dblab-rds-refresh:run-id; NULL = any run */
    int untagged_ok;           /* a clone with NO pipeline and NO run-id tag (made before
                                  pipelines, e.g. by the Go tool) passes the three checks
                                  above: only rds-clone-delete -go-state, whose file is the
                                  Go tool's own record of that clone */
    int64_t expired_by;        /* > 0: AutoDelete=true and its own DeleteAfter <= this
                                  (rds-clone-gc -all-pipelines: re-proven just before
                                  another pipeline's clone is deleted) */
};

/* This configuration's pipeline: config_source = source = source.identifier,
 * pipeline = clone.pipeline, run_id as given (may be NULL). */
void clone_owner_of(struct clone_owner *o, const struct config *cfg, const char *run_id);

/* The tag set of everything created: ManagedBy, AutoDelete=true, DeleteAfter
 * (now + max_age, RFC 3339), source, pipeline, snapshot, run id, then the user's
 * clone.tags (which cannot override the reserved keys). */
void clone_tags_build(struct rds_tags *out, const struct config *cfg, const char *snapshot_id,
                      const char *run_id, int64_t now);

/* The guard on what AWS says about a resource: 0 when it may be changed or deleted
 * by owner, else ERR_GUARD with e naming the resource and the tag that differs.
 * kind_name is "DB instance" / "DB cluster" for messages. */
int clone_guard_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const struct clone_owner *owner, struct err *e);
/* Adoption of an existing resource by a retried create: 0 when it passes the guard
 * for owner (whose run_id must be set: adoption is by the same pipeline AND run)
 * AND was restored from snapshot_id, else ERR_GUARD. */
int clone_adopt_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const struct clone_owner *owner, const char *snapshot_id, struct err *e);

/* What rds-clone-gc collects (docs/commands.md, rds-clone-gc). */
struct clone_gc_policy {
    const struct clone_owner *own; /* this pipeline (run_id NULL) */
    int all_pipelines;             /* also other pipelines' clones, by their own DeleteAfter */
    int64_t max_age;               /* seconds; applied to this pipeline's clones only; 0 = none */
    int64_t now;
};
enum clone_gc_verdict {
    CLONE_GC_IGNORE = 0, /* not a managed clone at all: not reported */
    CLONE_GC_KEEP,       /* a managed clone that stays: *why says why */
    CLONE_GC_COLLECT     /* delete it: *why says why */
};
/* The verdict on one resource; *why is a static string either way. *foreign is set
 * to 1 when it is collected as another pipeline's clone (-all-pipelines): its
 * delete then re-checks the pipeline and source tags the scan saw. */
enum clone_gc_verdict clone_gc_judge(const char *id, const struct rds_tags *tags,
                                     int64_t create_time, const struct clone_gc_policy *p,
                                     int *foreign, const char **why);
struct clone_delete_opts {
    const struct clone_owner *owner; /* whose clone may be deleted (the guard) */
    int dry_run;                     /* reads and guard only */
    int wait;                        /* wait until the resource is gone */
    int64_t wait_timeout;            /* seconds, for wait */
    double not_found_grace;          /* seconds: a clone whose create answer was lost may not be
                                 visible yet; look again for this long before "not found" */
};

struct clone_delete_result {
    int already_gone; /* nothing to delete: not found or already deleting/deleted */
    char **instances; /* Aurora member instances handled */
    size_t n_instances;
    char *arn;
};

void clone_delete_result_release(struct clone_delete_result *r);

/* The guarded delete. RDS instance: deletion protection off when on, then
 * DeleteDBInstance SkipFinalSnapshot=true DeleteAutomatedBackups=true. Aurora
 * cluster: every member instance (each guarded), then DeleteDBCluster
 * SkipFinalSnapshot=true. Not found / already deleting is success (already_gone). */
int clone_delete(struct aws_ctx *aws, enum rds_kind kind, const char *name,
                 const struct clone_delete_opts *o, struct clone_delete_result *r, struct err *e);

#endif
