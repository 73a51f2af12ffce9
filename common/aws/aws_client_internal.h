/* The AWS client's context, for aws/ and the unit tests only: everything else
 * uses aws_client.h's functions. */
#ifndef DRR_AWS_CLIENT_INTERNAL_H
#define DRR_AWS_CLIENT_INTERNAL_H

#include "aws/aws_client.h"
#include "aws/aws_transport.h"

enum aws_svc {
    AWS_SVC_RDS = 0,
    AWS_SVC_STS,
    AWS_SVC_SECRETSMANAGER,
    AWS_SVC_SSM,
    AWS_SVC_STATES,
    AWS_SVC_COUNT
};

struct aws_ctx {
    char *region;
    char *rds_endpoint;                           /* override, or NULL */
    char *rds_endpoint_source;                    /* where the override came from, or NULL */
    struct aws_transport *transport;              /* signing, skew, retries, cancellation */
    struct aws_endpoint endpoints[AWS_SVC_COUNT]; /* resolved on first use */
    int endpoint_resolved[AWS_SVC_COUNT];
    aws_creds_fn creds_fn;
    void *creds_ctx;
    void (*creds_free)(void *creds_ctx); /* called by aws_ctx_free when set */
    struct aws_creds_provider *provider; /* the default chain (aws_ctx_new_from_config) */
    char *sts_endpoint;                  /* kept alive for the provider */
    /* Bounds of aws_query_paginate; 0 = AWS_MAX_PAGES / AWS_PAGINATE_SECONDS. */
    int max_pages;
    double paginate_seconds;
};

#endif
