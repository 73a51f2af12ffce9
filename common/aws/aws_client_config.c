/* aws_ctx_new_from_config: the client as every command builds it, with the default
 * credential chain. Kept apart from aws_client.c so that code (and its unit
 * tests) can use the client with any credential source. */
#include "aws/aws_client.h"

#include <string.h>

#include "aws/aws_client_internal.h"
#include "core/retry.h"

#include "config/config.h"

static int chain_get(void *provider, const struct aws_credentials **out, struct err *e)
{
    return aws_creds_get(provider, out, e);
}

static void chain_free(void *provider)
{
    aws_creds_provider_free(provider);
}

int aws_ctx_new_from_config(const struct config *cfg, struct aws_ctx **out, struct err *e)
{
    struct aws_ctx_options o = {
        .region = cfg->aws.region,
        .rds_endpoint = cfg->aws.endpoint,
        .max_attempts = cfg->aws.max_attempts,
        .rds_endpoint_source = cfg->aws.endpoint_source,
    };
    struct aws_ctx *ctx;
    int rc = aws_ctx_new(&o, &ctx, e);
    if (rc)
        return rc;
    const struct aws_endpoint *sts;
    rc = aws_ctx_endpoint(ctx, "sts", &sts, e);
    if (rc) {
        aws_ctx_free(ctx);
        return rc;
    }
    if (strcmp(sts->source, "default") != 0)
        ctx->sts_endpoint = xstrdup(sts->url);
    struct aws_creds_options co = {
        .profile = cfg->aws.profile,
        .region = ctx->region,
        .sts_endpoint = ctx->sts_endpoint,
        .transport = ctx->transport,
        .max_attempts = aws_transport_retry(ctx->transport)->max_attempts,
    };
    ctx->provider = aws_creds_provider_new(&co);
    aws_ctx_set_credentials_fn(ctx, chain_get, ctx->provider);
    ctx->creds_free = chain_free;
    *out = ctx;
    return 0;
}
