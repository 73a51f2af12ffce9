/* aws_ctx_from_config: the client as every command builds it, with the default
 * credential chain. Kept apart from aws_client.c so that code (and its unit
 * tests) can use the client with any credential source. */
#include "aws/aws_client.h"

#include <string.h>

#include "config/config.h"
#include "core/err.h"

static int chain_get(void *provider, const struct aws_credentials **out, struct err *e)
{
    return aws_creds_get(provider, out, e);
}

static void chain_release(void *provider)
{
    aws_creds_provider_free(provider);
}

int aws_ctx_from_config(struct aws_ctx *ctx, const struct config *cfg, struct err *e)
{
    struct aws_ctx_options o = {
        .region = cfg->aws.region,
        .rds_endpoint = cfg->aws.endpoint,
        .max_attempts = cfg->aws.max_attempts,
        .rds_endpoint_source = cfg->aws.endpoint_source,
    };
    int rc = aws_ctx_init(ctx, &o, e);
    if (rc)
        return rc;
    const struct aws_endpoint *sts;
    rc = aws_ctx_endpoint(ctx, "sts", &sts, e);
    if (rc)
        return rc;
    if (strcmp(sts->source, "default") != 0)
        ctx->sts_endpoint = xstrdup(sts->url);
    struct aws_creds_options co = {
        .profile = cfg->aws.profile,
        .region = ctx->region,
        .sts_endpoint = ctx->sts_endpoint,
        .http = ctx->http,
        .max_attempts = ctx->retry.max_attempts,
    };
    ctx->provider = aws_creds_provider_new(&co);
    if (!ctx->provider)
        return err_set(e, ERR_INTERNAL, "aws: cannot create the credential chain");
    aws_ctx_set_credentials_fn(ctx, chain_get, ctx->provider);
    ctx->creds_free = chain_release;
    return 0;
}
