/* The configuration file: the original component's YAML (`source`, `clone`,
 * `dblab`, `aws`), loaded with libyaml, `${VAR}` / `${VAR:-default}` expanded
 * from the environment, validated strictly (unknown keys are errors with a
 * "did you mean"), errors reported as `file:line:column: key: problem`.
 * Durations are stored in seconds. Unset optional values are NULL / -1 / 0 as
 * documented per field. See docs/configuration.md. */
#ifndef DRR_CONFIG_H
#define DRR_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include "core/duration.h"
#include "core/err.h"

enum source_type { SOURCE_RDS = 0, SOURCE_AURORA_CLUSTER };
enum snapshot_type {
    SNAPSHOT_AUTOMATED = 0,
    SNAPSHOT_MANUAL,
    SNAPSHOT_AWSBACKUP,
    SNAPSHOT_SHARED,
    SNAPSHOT_ANY
};

/* source.restoreFrom: the newest snapshot (the original's behaviour), the source's
 * latest restorable time, or a given time (point-in-time restore). */
enum restore_from { RESTORE_SNAPSHOT = 0, RESTORE_LATEST, RESTORE_TIME };
/* clone.masterPassword: MASTER_PASSWORD_DEFAULT until resolved by
 * config_master_password(). */
enum master_password { MASTER_PASSWORD_DEFAULT = 0, MASTER_PASSWORD_MANAGED, MASTER_PASSWORD_KEEP };

/* A tri-state boolean: unset lets AWS apply its own default. */
enum tristate { TRI_UNSET = -1, TRI_FALSE = 0, TRI_TRUE = 1 };

/* dblab.*ParallelJobs: PARALLEL_UNSET (engine's own setting), PARALLEL_AUTO, or N >= 1. */
#define PARALLEL_UNSET 0
#define PARALLEL_AUTO  (-1)

struct config_tag {
    char *key;
    char *value;
};

struct config {
    char *path; /* the file it was loaded from */

    struct {
        enum source_type type;            /* required */
        char *identifier;                 /* required: instance or cluster id */
        char *snapshot_identifier;        /* name or ARN; NULL = latest */
        enum snapshot_type snapshot_type; /* default automated */
        int64_t max_snapshot_age;         /* seconds; 0 = no limit */
        enum restore_from restore_from;   /* default RESTORE_SNAPSHOT */
        int64_t restore_time;             /* RESTORE_TIME: the time (UTC seconds) */
        char *db_name;                    /* optional */
        char *username;                   /* optional */
        char *password;                   /* optional secret (may be secretsmanager:/ssm: ref) */
    } source;

    struct {
        char *instance_class; /* required */
        char *subnet_group;
        char **security_groups;
        size_t n_security_groups;
        enum tristate publicly_accessible;
        enum tristate enable_iam_auth;
        char *parameter_group;
        char *option_group;
        char *cluster_parameter_group;
        int port; /* 0 = snapshot's port */
        char *storage_type;
        char *engine_version;    /* Aurora only: RestoreDBClusterFromSnapshot EngineVersion */
        int deletion_protection; /* the Go meaning: set on the clone at restore; the
                                         guarded delete turns it off just before deleting */
        struct config_tag *tags;
        size_t n_tags;
        int64_t max_age;      /* default 48h */
        int64_t wait_timeout; /* default 2h */
        int copy_on_write;    /* Aurora point-in-time: default 1 (RestoreType copy-on-write) */
        enum master_password master_password; /* as written; see config_master_password() */
        char *pipeline;                       /* the pipeline name (clone.h); default: the
                                         source identifier in lower case; never NULL
                                         after a successful load */
    } clone;

    struct {
        char *api_endpoint;        /* required, http(s)://host[:port][/path] */
        char *token;               /* required secret (may be secretsmanager:/ssm: ref) */
        int insecure;              /* default 0 */
        char *ca_cert;             /* path to PEM */
        int64_t poll_interval;     /* default 30s */
        int64_t timeout;           /* default 4h */
        int64_t start_timeout;     /* default 5m */
        int dump_parallel_jobs;    /* PARALLEL_UNSET / PARALLEL_AUTO / N */
        int restore_parallel_jobs; /* PARALLEL_UNSET / PARALLEL_AUTO / N */
    } dblab;

    struct {
        char *region; /* resolved: aws.region, AWS_REGION, AWS_DEFAULT_REGION, profile */
        char *
            endpoint; /* resolved: aws.endpoint, AWS_ENDPOINT_URL_RDS, AWS_ENDPOINT_URL; NULL = default */
        char *profile;    /* aws.profile, else AWS_PROFILE; NULL = default */
        int max_attempts; /* aws.maxAttempts, else AWS_MAX_ATTEMPTS, else default */
        /* Where each resolved value came from, for logs and dblab-rds-config:
         * "aws.region", "AWS_REGION", "profile default", "AWS config file", "default"...
         * Static strings; NULL when the value is unset. */
        const char *region_source;
        const char *endpoint_source;
        const char *max_attempts_source;
    } aws;
};

#define CONFIG_DEFAULT_MAX_ATTEMPTS 8

/* Loads and validates path. On error returns ERR_CONFIG with e->msg like
 * "config.yaml:12:3: clone.instanceClass: required". cfg is zeroed first and
 * must be released with config_release() whatever the result. */
int config_load(const char *path, struct config *cfg, struct err *e);
/* Same, from a string (tests); name is used in messages. */
int config_load_string(const char *yaml, const char *name, struct config *cfg, struct err *e);
void config_release(struct config *cfg);

/* The effective configuration as a cJSON object (returned as void* to keep cJSON
 * out of this header), every secret replaced by "[REDACTED]". Caller frees with
 * cJSON_Delete. */
void *config_to_json(const struct config *cfg);

/* The effective clone.masterPassword: as written, else managed when DBLab
 * connects with a password the configuration does not give (no source.password,
 * no clone.enableIAMAuth), else keep. */
enum master_password config_master_password(const struct config *cfg);
const char *master_password_name(enum master_password m); /* "managed" / "keep" */
/* "snapshot", "latest", or the time in RFC 3339 (into buf, >= 32 bytes). */
const char *restore_from_name(const struct config *cfg, char *buf, size_t buflen);

const char *source_type_name(enum source_type t);     /* "rds" / "aurora-cluster" */
const char *snapshot_type_name(enum snapshot_type t); /* "automated", ... */

/* 1 if v is a secret reference resolved at run time (secrets.h):
 * "secretsmanager:NAME_OR_ARN[#jsonKey]" or "ssm:/path". */
int config_is_secret_reference(const char *v);

/* Durations (duration_parse, duration_format, ...) are core/duration.h's. */

/* Expands $VAR, ${VAR} and ${VAR:-default} in s as Go's os.ExpandEnv does,
 * except that an unset variable is an error and "$$" is a literal '$' (the
 * rules: common/config/envexpand.c, docs/configuration.md). Returns 0 with the
 * malloc'd result in *out; -1 on an unset variable without default, *missing =
 * malloc'd variable name; -2 on a malformed reference ("${" unterminated, bad
 * name), *missing = malloc'd description. missing may be NULL. */
int env_expand(const char *s, char **out, char **missing);
/* The variable lookup env_expand uses (getenv); NULL = unset. */
typedef const char *(*env_lookup_fn)(const char *name, void *ctx);
/* env_expand with another lookup; *refs (if non-NULL) = variables referenced. */
int env_expand_with(const char *s, env_lookup_fn lookup, void *ctx, char **out, char **missing,
                    int *refs);
/* 1 if s refers to any environment variable (so it is not a literal). */
int env_has_reference(const char *s);

#endif
