/* Internals of the credential chain (aws_creds*.c only).
 *
 * A creds_source is one configured provider: fetch() asks it for fresh
 * credentials (re-reading token files, calling STS, the container endpoint or
 * IMDS). A creds_cache holds the last credentials of a source and decides when
 * to refresh them (advisory / mandatory windows, driven by clock_now()).
 * Providers whose own source expires (AssumeRole on top of IMDS or another role)
 * hold a nested creds_cache for it. */
#ifndef DRR_AWS_CREDS_INTERNAL_H
#define DRR_AWS_CREDS_INTERNAL_H

#include <stdint.h>
#include "aws/aws_creds.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"

/* Shared, resolved settings of one provider chain. */
struct creds_ctx {
    char *profile;            /* explicit profile (options.profile), NULL = AWS_PROFILE/default */
    int profile_from_config;  /* profile named by aws.profile (not only AWS_PROFILE) */
    char *region;             /* options.region, may be NULL */
    char *sts_endpoint;       /* options.sts_endpoint, may be NULL */
    char *container_endpoint; /* base for the relative container URI */
    int max_attempts;
    struct aws_transport *transport; /* STS calls (borrowed, or owned: lazy) */
    int owns_transport;
    struct http_client *meta_http; /* short timeouts for IMDS / container, owned, lazy */
};

struct creds_source {
    /* Log name and aws_credentials.source: "environment", "profile:dev", ... */
    char *name;
    /* Fresh credentials into out (zeroed by the caller). 0 or an error kind. */
    int (*fetch)(struct creds_source *s, struct aws_credentials *out, struct err *e);
    void (*free)(struct creds_source *s);
};

void creds_source_free(struct creds_source *s);

struct creds_cache {
    struct creds_source *src; /* owned */
    struct aws_credentials cur;
    int have;
    int64_t next_advisory_try; /* after a failed advisory refresh: no new try before this */
    int64_t short_until;       /* fresh credentials already inside the window: keep until */
};

/* Valid credentials from the cache, refreshing per the windows in aws_creds.h. */
int creds_cache_get(struct creds_cache *c, const struct aws_credentials **out, struct err *e);
void creds_cache_release(struct creds_cache *c);

/* Helpers for providers. */
void creds_set(struct aws_credentials *out, const char *akid, const char *secret, const char *token,
               int64_t expiration, const char *source);
/* Parses {"AccessKeyId","SecretAccessKey",token_key,"Expiration"} (container,
 * IMDS, credential_process). what names the source in errors. */
int creds_from_json(const char *json, const char *token_key, int require_version,
                    struct aws_credentials *out, const char *what, struct err *e);
/* Reads a whole small file (token files) with trailing whitespace trimmed.
 * 0 or ERR_AWS_UNAUTHORIZED with e naming what and the path. */
int creds_read_token_file(const char *path, const char *what, char **out, struct err *e);
/* Non-empty environment variable or NULL. */
const char *creds_getenv(const char *name);

/* The cancellation of the provider's work (the transport's: its owner's), or
 * NULL when it has no transport yet (never cancelled). */
const struct cancel *creds_cancel(struct creds_ctx *c);
/* The transport for STS calls: the one given in the options, else the
 * provider's own (made on first use). NULL only when libcurl cannot start. */
struct aws_transport *creds_transport(struct creds_ctx *c, struct err *e);
/* One IMDS or container request (not a signed AWS API call) on the shared retry
 * policy (core/http_retry.h): network errors, timeouts, 429 and 5xx are retried
 * with capped jittered backoff, up to attempts; the transport's cancellation
 * stops it. 0 when a final HTTP answer arrived (the caller checks the status),
 * else ERR_TRANSIENT (ERR_CONFIG for TLS / URL trouble, the
 * cancellation's code) with e prefixed by what. */
int creds_meta_call(struct creds_ctx *c, const struct http_request *req, int attempts,
                    struct http_response *resp, const char *what, struct err *e);

/* Providers. Each *_detect returns 0 with *out NULL when not configured, 0 with
 * a source when configured, or an error for an invalid configuration. */
int creds_env_detect(struct creds_ctx *c, struct creds_source **out, struct err *e);
int creds_profile_detect(struct creds_ctx *c, struct creds_source **out, struct err *e);
int creds_webid_detect(struct creds_ctx *c, struct creds_source **out, struct err *e);
int creds_container_detect(struct creds_ctx *c, struct creds_source **out, struct err *e);
int creds_imds_detect(struct creds_ctx *c, struct creds_source **out, struct err *e);

struct creds_source *creds_static_new(const char *name, const char *akid, const char *secret,
                                      const char *token);
struct creds_source *creds_process_new(struct creds_ctx *c, const char *profile,
                                       const char *command);
struct creds_source *creds_webid_new(struct creds_ctx *c, const char *name, const char *token_file,
                                     const char *role_arn, const char *session_name);
struct creds_assume_params {
    const char *role_arn;
    const char *session_name; /* NULL = dblab-rds-refresh-<time> */
    const char *external_id;  /* may be NULL */
    int duration_seconds;     /* 0 = STS default (3600) */
};
/* Takes ownership of source. */
struct creds_source *creds_assume_role_new(struct creds_ctx *c, const char *name,
                                           const struct creds_assume_params *p,
                                           struct creds_source *source);

/* The Credentials of an STS <actionResult> answer into out; 0, or ERR_AWS_BAD_ANSWER
 * naming what. Each secret read is added to the log redaction list. */
int creds_sts_parse_credentials(const char *action, const struct http_response *resp,
                                struct aws_credentials *out, const char *what, struct err *e);
/* STS. signer NULL = unsigned (AssumeRoleWithWebIdentity). params are
 * name/value pairs after Action and Version. Parses the Credentials element. */
int creds_sts_call(struct creds_ctx *c, const char *action, const char *const *params,
                   size_t n_params, const struct aws_credentials *signer,
                   struct aws_credentials *out, const char *source_name, struct err *e);

#endif
