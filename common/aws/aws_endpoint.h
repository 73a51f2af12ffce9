/* Where an AWS service is reached and how it is signed.
 *
 * Resolution order, per service (the SDKs' "service-specific endpoints"):
 *   1. the explicit override (for RDS: the config's resolved aws.endpoint, which
 *      already folds in AWS_ENDPOINT_URL_RDS and AWS_ENDPOINT_URL);
 *   2. AWS_ENDPOINT_URL_<SERVICE>: _RDS, _STS, _SECRETS_MANAGER, _SSM;
 *   3. AWS_ENDPOINT_URL;
 *   4. https://{service}.{region}.amazonaws.com, amazonaws.com.cn in cn-* regions,
 *      {service}-fips.{region}... when AWS_USE_FIPS_ENDPOINT=true.
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips 2 and 3 (as the SDKs do).
 * The signing name is the service's (rds, sts, secretsmanager, ssm) and the
 * signing region the configured region, whatever the URL says. */
#ifndef DRR_AWS_ENDPOINT_H
#define DRR_AWS_ENDPOINT_H

#include "core/err.h"

struct aws_endpoint {
    char *url;          /* what libcurl is given: "https://rds.eu-west-1.amazonaws.com/" */
    char *host;         /* the Host header, as signed: "rds.eu-west-1.amazonaws.com",
                             "127.0.0.1:4566" (default ports are omitted) */
    char *path;         /* request path, un-encoded, ends with '/': "/" or "/base/" */
    char *signing_name; /* "rds" */
    char *region;       /* signing region */
    const char *source; /* "config", "AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL", "default" */
};

/* service: "rds", "sts", "secretsmanager" or "ssm". override may be NULL.
 * Returns 0, or ERR_CONFIG for an unknown service, a missing region or an
 * invalid URL (naming the variable it came from). out must be released with
 * aws_endpoint_release whatever the result. */
int aws_endpoint_resolve(const char *service, const char *region, const char *override,
                         struct aws_endpoint *out, struct err *e);
void aws_endpoint_release(struct aws_endpoint *ep);

/* "amazonaws.com" or "amazonaws.com.cn" for the region's partition. */
const char *aws_endpoint_dns_suffix(const char *region);

#endif
