/* AWS credentials: the SDKs' default chain, in their order:
 *   1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 *   2. profile (static keys, role_arn + source_profile / credential_source, credential_process)
 *   3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), token file re-read each refresh
 *   4. container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI + authorization token)
 *   5. EC2 IMDSv2
 * Temporary credentials are refreshed before they expire: advisory refresh when
 * under 15 minutes remain (a failure keeps the old ones), mandatory under 10.
 * The source used is logged; a secret never is. See docs/credentials.md. */
#ifndef DRR_AWS_CREDS_H
#define DRR_AWS_CREDS_H

#include <stdint.h>
#include "core/err.h"

struct aws_transport;

struct aws_credentials {
    char *access_key_id;
    char *secret_access_key; /* secret: registered with redact_add_secret */
    char *session_token;     /* secret; NULL for long-term keys */
    int64_t expiration;      /* epoch seconds; 0 = does not expire */
    const char *source;      /* for logs, owned by the provider: "environment", "static",
                                  "profile:NAME", "assume-role ARN (profile:NAME via SOURCE)",
                                  "web-identity", "web-identity (profile:NAME)",
                                  "credential-process (profile:NAME)", "container", "imds" */
};

struct aws_creds_provider;

struct aws_creds_options {
    /* aws.profile; NULL = AWS_PROFILE / default. A profile named here is what
     * the user asked for, so (as botocore and the Go SDK do for a profile chosen
     * in code) it wins over AWS_ACCESS_KEY_ID in the environment; a profile named
     * only by AWS_PROFILE does not (a value equal to $AWS_PROFILE counts as that). */
    const char *profile;
    const char *region;       /* for the regional STS endpoint; NULL = AWS_REGION,
                                  AWS_DEFAULT_REGION, the profile's region */
    const char *sts_endpoint; /* override; NULL = AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
                                  else https://sts.{region}.amazonaws.com */
    /* The AWS transport STS calls go through (aws_transport.h: signing, skew,
     * retries, cancellation), borrowed; NULL = the provider makes its own. Its
     * cancellation also stops the IMDS and container requests. */
    struct aws_transport *transport;
    int max_attempts; /* attempts per credential call without a transport given; <= 0 = 3 */
};

/* Refresh windows (seconds before expiration). */
#define AWS_CREDS_ADVISORY_REFRESH  (15 * 60)
#define AWS_CREDS_MANDATORY_REFRESH (10 * 60)
/* After a failed advisory refresh, the next attempt waits this long. */
#define AWS_CREDS_ADVISORY_RETRY    60

/* Builds the default chain. Nothing is fetched until aws_creds_get. */
struct aws_creds_provider *aws_creds_provider_new(const struct aws_creds_options *opt);
/* A provider that always returns these long-term or session keys (tests, and
 * callers that already hold credentials). The strings are copied and registered
 * as secrets. */
struct aws_creds_provider *aws_creds_provider_new_static(const char *access_key_id,
                                                         const char *secret_access_key,
                                                         const char *session_token);
void aws_creds_provider_free(struct aws_creds_provider *p);
/* Base URL for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI instead of
 * http://169.254.170.2. Only tests use it (the link-local address cannot be
 * served locally); call before the first aws_creds_get. */
void aws_creds_provider_set_container_endpoint(struct aws_creds_provider *p, const char *base_url);

/* Current valid credentials, resolving or refreshing as needed. The returned
 * pointer stays valid until the next aws_creds_get or free. Returns 0 or
 * ERR_AWS_UNAUTHORIZED (no credentials anywhere, STS refused, a provider failed),
 * ERR_TRANSIENT (network trouble reaching STS / IMDS / the container
 * endpoint), ERR_CONFIG (invalid credential configuration: partial keys,
 * unknown profile, source_profile cycle, bad credential_source). */
int aws_creds_get(struct aws_creds_provider *p, const struct aws_credentials **out, struct err *e);

/* The STS endpoint the chain uses for these options (malloc'd), and the region
 * it signs for (malloc'd, "us-east-1" for the global endpoint). */
char *aws_creds_sts_endpoint(const struct aws_creds_options *opt, char **signing_region);

/* 1 if uri may serve container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI):
 * https, or http to a loopback address, 169.254.170.2, 169.254.170.23 or
 * fd00:ec2::23. */
int aws_creds_container_uri_allowed(const char *uri);

/* Releases the strings of c (secrets are overwritten) and zeroes it. */
void aws_credentials_release(struct aws_credentials *c);

#endif
