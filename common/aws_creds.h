/* AWS credentials: the SDKs' default chain, in their order:
 *   1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 *   2. profile (static keys, role_arn + source_profile / credential_source, credential_process)
 *   3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), token file re-read each refresh
 *   4. container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI + authorization token)
 *   5. EC2 IMDSv2
 * Temporary credentials are refreshed before they expire: advisory refresh when
 * under 15 minutes remain (a failure keeps the old ones), mandatory under 10.
 * The source used is logged; a secret never is. */
#ifndef DRR_AWS_CREDS_H
#define DRR_AWS_CREDS_H

#include <stdint.h>
#include "err.h"

struct http_client;

struct aws_credentials {
    char *access_key_id;
    char *secret_access_key;   /* secret: registered with redact_add_secret */
    char *session_token;       /* secret; NULL for long-term keys */
    int64_t expiration;        /* epoch seconds; 0 = does not expire */
    const char *source;        /* "environment", "profile:NAME", "assume-role", "web-identity",
                                  "credential-process", "container", "imds" */
};

struct aws_creds_provider;

struct aws_creds_options {
    const char *profile;       /* aws.profile; NULL = AWS_PROFILE / default */
    const char *region;        /* for the regional STS endpoint */
    const char *sts_endpoint;  /* override (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL resolved by caller); NULL = default */
    struct http_client *http;  /* shared client for STS / IMDS / container calls */
    int max_attempts;
};

/* Builds the default chain. Nothing is fetched until aws_creds_get. */
struct aws_creds_provider *aws_creds_provider_new(const struct aws_creds_options *opt);
void aws_creds_provider_free(struct aws_creds_provider *p);

/* Current valid credentials, resolving or refreshing as needed. The returned
 * pointer stays valid until the next aws_creds_get or free. Returns 0 or
 * DRR_EXIT_AWS (no credentials anywhere, STS refused) / DRR_EXIT_TEMPFAIL. */
int aws_creds_get(struct aws_creds_provider *p, const struct aws_credentials **out, struct err *e);

#endif
