/* Static credentials (profile keys, aws_creds_provider_new_static) and the
 * environment provider: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION. */
#include "aws/aws_creds_internal.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

struct static_source {
    struct creds_source base;
    struct aws_credentials creds;
};

static int static_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    (void)e;
    struct static_source *st = (struct static_source *)s;
    creds_set(out, st->creds.access_key_id, st->creds.secret_access_key, st->creds.session_token,
              st->creds.expiration, NULL);
    return 0;
}

static void static_source_free(struct creds_source *s)
{
    struct static_source *st = (struct static_source *)s;
    aws_credentials_release(&st->creds);
    free(st);
}

struct creds_source *creds_static_new(const char *name, const char *akid, const char *secret,
                                      const char *token)
{
    struct static_source *st = xcalloc(1, sizeof *st);
    st->base.name = xstrdup(name);
    st->base.fetch = static_fetch;
    st->base.free = static_source_free;
    creds_set(&st->creds, akid, secret, token, 0, NULL);
    return &st->base;
}

/* The environment is read again at each fetch: the values are the process's
 * own, so a "refresh" of expired environment credentials fails plainly. */
static int env_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    (void)s;
    const char *akid = creds_getenv("AWS_ACCESS_KEY_ID");
    const char *secret = creds_getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = creds_getenv("AWS_SESSION_TOKEN");
    const char *exp = creds_getenv("AWS_CREDENTIAL_EXPIRATION");
    if (secret)
        redact_add_secret(secret);
    if (token)
        redact_add_secret(token);
    if (!akid || !secret)
        return err_set(e, ERR_CONFIG, "%s is set but %s is not",
                       akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                       akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    int64_t expiration = 0;
    if (exp && clock_parse_rfc3339(exp, &expiration) != 0)
        return err_set(e, ERR_CONFIG, "AWS_CREDENTIAL_EXPIRATION: \"%s\" is not an RFC 3339 time",
                       exp);
    creds_set(out, akid, secret, token, expiration, NULL);
    return 0;
}

static void env_source_free(struct creds_source *s)
{
    free(s);
}

int creds_env_detect(struct creds_ctx *c, struct creds_source **out, struct err *e)
{
    (void)c;
    *out = NULL;
    const char *akid = creds_getenv("AWS_ACCESS_KEY_ID");
    const char *secret = creds_getenv("AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret)
        return 0;
    if (secret)
        redact_add_secret(secret);
    if (!akid || !secret)
        return err_set(e, ERR_CONFIG, "%s is set but %s is not",
                       akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                       akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    struct creds_source *s = xcalloc(1, sizeof *s);
    s->name = xstrdup("environment");
    s->fetch = env_fetch;
    s->free = env_source_free;
    *out = s;
    return 0;
}
