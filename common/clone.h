/* The temporary clone: its name, its tags, the safety guard, and the one guarded
 * delete path shared by rds-clone-delete and rds-clone-gc.
 *
 * Safety rule: nothing is ever deleted unless, checked against AWS just before,
 * its identifier starts with CLONE_PREFIX AND it carries ManagedBy=dblab-rds-refresh;
 * the configured source identifier is refused whatever its tags say. */
#ifndef DRR_CLONE_H
#define DRR_CLONE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "rds.h"

struct aws_ctx;
struct config;

/* The prefix the IAM policy of the original documentation allows (db:dblab-refresh-*). */
#define CLONE_PREFIX "dblab-refresh-"
/* An Aurora clone's writer instance is "<name>-instance", and an RDS identifier is at
 * most 63 characters, so a clone name is at most 63 - 9. */
#define CLONE_INSTANCE_SUFFIX "-instance"
#define CLONE_NAME_MAX 54

#define CLONE_TAG_MANAGED_BY "ManagedBy"
#define CLONE_MANAGED_BY "dblab-rds-refresh"
#define CLONE_TAG_AUTO_DELETE "AutoDelete"
#define CLONE_TAG_DELETE_AFTER "DeleteAfter"
#define CLONE_TAG_SOURCE "dblab-rds-refresh:source"
#define CLONE_TAG_SNAPSHOT "dblab-rds-refresh:snapshot"
#define CLONE_TAG_RUN_ID "dblab-rds-refresh:run-id"

/* "dblab-refresh-YYYYMMDD-HHMMSS" (UTC) into out (>= CLONE_NAME_MAX + 1 bytes). */
void clone_name_for_time(int64_t t, char *out, size_t outlen);
/* Deterministic name for a run id, so a retried step computes the same name:
 * CLONE_PREFIX + a slug of the run id (lower-case letters, digits, single hyphens)
 * + "-" + the first 8 hex digits of SHA-256(run id); at most CLONE_NAME_MAX. */
void clone_name_for_run_id(const char *run_id, char *out, size_t outlen);
/* 0 when name is a valid DB identifier (letter first; letters, digits, single hyphens;
 * no trailing hyphen; <= CLONE_NAME_MAX) with CLONE_PREFIX; else DRR_EXIT_USAGE. */
int clone_name_check(const char *name, struct err *e);

/* The scheduler's run id: AIRFLOW_CTX_DAG_RUN_ID, then NOMAD_JOB_ID when it names a
 * periodic/dispatched child job (contains '/'), else NOMAD_ALLOC_ID, then
 * RD_JOB_EXECID (Rundeck). NULL when none is set. Also returns which variable. */
const char *clone_run_id_from_env(const char **var_name);

/* The tag set of everything created: ManagedBy, AutoDelete=true, DeleteAfter
 * (now + max_age, RFC 3339), source, snapshot, run id (when set), then the user's
 * clone.tags (which cannot override the reserved keys: validated by config). */
void clone_tags_build(struct rds_tags *out, const struct config *cfg, const char *source_id,
                      const char *snapshot_id, const char *run_id, int64_t now);

/* The guard on what AWS says about a resource: 0 when it may be changed or deleted,
 * else DRR_EXIT_GUARD with e naming the resource and the reason. kind_name is
 * "instance" / "cluster" for messages. */
int clone_guard_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const char *source_id, struct err *e);
/* Adoption of an existing resource by a retried create: 0 when it passes the guard
 * AND was restored from snapshot_id (the snapshot tag), else DRR_EXIT_GUARD. */
int clone_adopt_check(const char *kind_name, const char *id, const struct rds_tags *tags,
                      const char *source_id, const char *snapshot_id, struct err *e);

/* For the garbage collector: 1 when a resource is expired and may be collected
 * (guard passes, AutoDelete=true, and DeleteAfter <= now or create_time + max_age <=
 * now). *why gets a static reason string either way. */
int clone_gc_eligible(const char *id, const struct rds_tags *tags, int64_t create_time,
                      const char *source_id, int64_t max_age, int64_t now, const char **why);

struct clone_delete_opts {
    const char *source_id;    /* the configured source: always refused */
    int dry_run;              /* reads and guard only */
    int wait;                 /* wait until the resource is gone */
    int64_t wait_timeout;     /* seconds, for wait */
    double not_found_grace;   /* seconds: a clone whose create answer was lost may not be
                                 visible yet; look again for this long before "not found" */
};

struct clone_delete_result {
    int already_gone;         /* nothing to delete: not found or already deleting/deleted */
    char **instances;         /* Aurora member instances handled */
    size_t n_instances;
    char *arn;
};

void clone_delete_result_free(struct clone_delete_result *r);

/* The guarded delete. RDS instance: deletion protection off when on, then
 * DeleteDBInstance SkipFinalSnapshot=true DeleteAutomatedBackups=true. Aurora
 * cluster: every member instance (each guarded), then DeleteDBCluster
 * SkipFinalSnapshot=true. Not found / already deleting is success (already_gone). */
int clone_delete(struct aws_ctx *aws, enum rds_kind kind, const char *name,
                 const struct clone_delete_opts *o, struct clone_delete_result *r, struct err *e);

#endif
