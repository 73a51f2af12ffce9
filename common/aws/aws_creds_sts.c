/* STS for the chain: the regional endpoint, AssumeRole (signed with the
 * source credentials) and AssumeRoleWithWebIdentity (unsigned), both Query
 * protocol form POSTs answered in XML and sent through the one AWS transport
 * (aws_transport.h), and the two sources built on them. */
#include "aws/aws_creds_internal.h"
#include "aws/aws_endpoint.h"
#include "aws/aws_ini.h"
#include "aws/aws_query.h"
#include "aws/aws_transport.h"
#include "aws/aws_xml.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"

#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STS_API_VERSION "2011-06-15"

/* ---- endpoint -------------------------------------------------------------- */

static char *resolve_region(const char *region, const char *profile)
{
    if (region && *region)
        return xstrdup(region);
    const char *v = creds_getenv("AWS_REGION");
    if (!v)
        v = creds_getenv("AWS_DEFAULT_REGION");
    if (v)
        return xstrdup(v);
    return aws_ini_get(aws_ini_profile_name(profile), "region");
}

/* The STS endpoint through aws_endpoint.h (override, AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL, the regional default), so STS is reached and signed exactly
 * as the AWS client reaches every service. Without any region, us-east-1 (the
 * SDKs' choice for STS; the global endpoint lives there). */
static int sts_resolve(const char *override, const char *region_opt, const char *profile,
                       struct aws_endpoint *ep, struct err *e)
{
    char *region = resolve_region(region_opt, profile);
    int rc = aws_endpoint_resolve("sts", region ? region : "us-east-1", override, ep, e);
    free(region);
    return rc;
}

char *aws_creds_sts_endpoint(const struct aws_creds_options *opt, char **signing_region)
{
    struct aws_endpoint ep;
    struct err e = {0};
    char *url = NULL;
    if (signing_region)
        *signing_region = NULL;
    if (sts_resolve(opt ? opt->sts_endpoint : NULL, opt ? opt->region : NULL,
                    opt ? opt->profile : NULL, &ep, &e) == 0) {
        url = xstrdup(ep.url);
        if (signing_region)
            *signing_region = xstrdup(ep.region);
    }
    aws_endpoint_release(&ep);
    return url;
}

static void sts_error(const struct http_response *resp, const char *rid, struct aws_error *ae)
{
    aws_error_from_xml(resp->status, buf_cstr(&resp->body), resp->body.len, rid, ae);
}

int creds_sts_parse_credentials(const char *action, const struct http_response *resp,
                                struct aws_credentials *out, const char *what, struct err *e)
{
    xmlDoc *doc = NULL;
    int rc = aws_xml_parse(buf_cstr(&resp->body), resp->body.len, what, &doc, e);
    if (rc != 0)
        return rc;
    xmlNode *creds = aws_xml_path(aws_xml_result(doc, action), "Credentials");
    const char *akid = aws_xml_text(creds, "AccessKeyId");
    const char *secret = aws_xml_text(creds, "SecretAccessKey");
    const char *token = aws_xml_text(creds, "SessionToken");
    if (secret)
        redact_add_secret(secret);
    if (token)
        redact_add_secret(token);
    int64_t expiration = 0;
    int trc = aws_xml_time(creds, "Expiration", &expiration);
    if (!akid || !*akid || !secret || !*secret || !token || !*token || trc == 1)
        rc = err_set(e, ERR_AWS_BAD_ANSWER,
                     "%s: the answer has no complete %sResult/Credentials "
                     "element",
                     what, action);
    else if (trc != 0)
        rc = err_set(e, ERR_AWS_BAD_ANSWER,
                     "%s: Credentials/Expiration \"%s\" is not an ISO 8601 time", what,
                     aws_xml_text(creds, "Expiration"));
    else
        creds_set(out, akid, secret, token, expiration, NULL);
    xmlFreeDoc(doc);
    return rc;
}

/* A 200 answer's Credentials into dec->out. */
static int sts_decode(struct http_response *resp, const struct aws_answer *dec, struct err *e)
{
    return creds_sts_parse_credentials(dec->action, resp, dec->out, "STS", e);
}

/* The source credentials that sign an AssumeRole. */
static int signer_creds(void *signer, const struct aws_credentials **out, struct err *e)
{
    (void)e;
    *out = signer;
    return 0;
}

int creds_sts_call(struct creds_ctx *c, const char *action, const char *const *params,
                   size_t n_params, const struct aws_credentials *signer,
                   struct aws_credentials *out, const char *source_name, struct err *e)
{
    struct aws_endpoint ep;
    int rc = sts_resolve(c->sts_endpoint, c->region, c->profile, &ep, e);
    struct aws_transport *t = rc == 0 ? creds_transport(c, e) : NULL;
    if (!t) {
        aws_endpoint_release(&ep);
        return err_prefix(e, "%s: STS %s", source_name, action);
    }
    struct aws_params qp = AWS_PARAMS_INIT;
    for (size_t i = 0; i + 1 < n_params; i += 2)
        aws_params_add(&qp, params[i], params[i + 1]);
    struct buf body = BUF_INIT;
    aws_query_encode(&body, action, STS_API_VERSION, &qp);
    aws_params_release(&qp); /* may hold the web identity token: the body is freed as a secret */
    char what[512];
    snprintf(what, sizeof what, "%s: STS %s at %s", source_name, action, ep.url);

    /* Through the one transport: signed (unless signer is NULL:
     * AssumeRoleWithWebIdentity), skew-corrected, retried, cancellable. A 200
     * without credentials is not asked for again. */
    struct aws_request req = {
        .what = what,
        .ep = &ep,
        .content_type = "application/x-www-form-urlencoded; charset=utf-8",
        .body = body.data,
        .body_len = body.len,
        .creds = signer ? signer_creds : NULL,
        .creds_ctx = (void *)signer,
    };
    struct aws_answer dec = {sts_decode, sts_error, out, action, 0, 0};
    struct http_response resp = {0};
    struct aws_error ae;
    aws_error_clear(&ae);
    rc = aws_transport_call(t, &req, &dec, &resp, &ae, e);
    if (rc == ERR_AWS_REJECTED) /* STS refusing credentials leaves us with none */
        rc = err_reclassify(e, ERR_AWS_UNAUTHORIZED);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len); /* it held the new secret */
    http_response_release(&resp);
    free_secret(buf_detach(&body));
    aws_endpoint_release(&ep);
    return rc;
}

/* ---- AssumeRole ------------------------------------------------------------ */

struct assume_source {
    struct creds_source base;
    struct creds_ctx *c;
    struct creds_cache source; /* credentials that sign the AssumeRole */
    char *role_arn, *session_name, *external_id;
    int duration_seconds;
};

static char *default_session_name(void)
{
    return xasprintf("dblab-rds-refresh-%lld", (long long)clock_now());
}

static int assume_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    struct assume_source *as = (struct assume_source *)s;
    const struct aws_credentials *signer = NULL;
    int rc = creds_cache_get(&as->source, &signer, e);
    if (rc != 0)
        return err_prefix(e, "source credentials for role %s", as->role_arn);
    char *session = as->session_name ? xstrdup(as->session_name) : default_session_name();
    char duration[16];
    snprintf(duration, sizeof duration, "%d", as->duration_seconds);
    const char *params[] = {
        "RoleArn",         as->role_arn,
        "RoleSessionName", session,
        "ExternalId",      as->external_id,
        "DurationSeconds", as->duration_seconds > 0 ? duration : NULL,
    };
    rc = creds_sts_call(as->c, "AssumeRole", params, sizeof params / sizeof params[0], signer, out,
                        s->name, e);
    free(session);
    return rc;
}

static void assume_source_free(struct creds_source *s)
{
    struct assume_source *as = (struct assume_source *)s;
    creds_cache_release(&as->source);
    free(as->role_arn);
    free(as->session_name);
    free(as->external_id);
    free(as);
}

struct creds_source *creds_assume_role_new(struct creds_ctx *c, const char *name,
                                           const struct creds_assume_params *p,
                                           struct creds_source *source)
{
    struct assume_source *as = xcalloc(1, sizeof *as);
    as->base.name = xstrdup(name);
    as->base.fetch = assume_fetch;
    as->base.free = assume_source_free;
    as->c = c;
    as->source.src = source;
    as->role_arn = xstrdup(p->role_arn);
    as->session_name = xstrdup(p->session_name);
    as->external_id = xstrdup(p->external_id);
    as->duration_seconds = p->duration_seconds;
    return &as->base;
}

/* ---- AssumeRoleWithWebIdentity ---------------------------------------------- */

struct webid_source {
    struct creds_source base;
    struct creds_ctx *c;
    char *token_file, *role_arn, *session_name;
};

static int webid_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    struct webid_source *ws = (struct webid_source *)s;
    char *token = NULL;
    /* Re-read every time: the kubelet rotates the projected token. */
    int rc = creds_read_token_file(ws->token_file, "web identity token file", &token, e);
    if (rc != 0)
        return err_prefix(e, "%s", s->name);
    char *session = ws->session_name ? xstrdup(ws->session_name) : default_session_name();
    const char *params[] = {
        "RoleArn", ws->role_arn, "RoleSessionName", session, "WebIdentityToken", token,
    };
    rc = creds_sts_call(ws->c, "AssumeRoleWithWebIdentity", params,
                        sizeof params / sizeof params[0], NULL, out, s->name, e);
    free(session);
    free_secret(token);
    return rc;
}

static void webid_source_free(struct creds_source *s)
{
    struct webid_source *ws = (struct webid_source *)s;
    free(ws->token_file);
    free(ws->role_arn);
    free(ws->session_name);
    free(ws);
}

struct creds_source *creds_webid_new(struct creds_ctx *c, const char *name, const char *token_file,
                                     const char *role_arn, const char *session_name)
{
    struct webid_source *ws = xcalloc(1, sizeof *ws);
    ws->base.name = xstrdup(name);
    ws->base.fetch = webid_fetch;
    ws->base.free = webid_source_free;
    ws->c = c;
    ws->token_file = xstrdup(token_file);
    ws->role_arn = xstrdup(role_arn);
    ws->session_name = xstrdup(session_name);
    return &ws->base;
}

int creds_webid_detect(struct creds_ctx *c, struct creds_source **out, struct err *e)
{
    *out = NULL;
    const char *file = creds_getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role = creds_getenv("AWS_ROLE_ARN");
    if (!file)
        return 0;
    if (!role)
        return err_set(e, ERR_CONFIG, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    *out = creds_webid_new(c, "web-identity", file, role, creds_getenv("AWS_ROLE_SESSION_NAME"));
    return 0;
}
