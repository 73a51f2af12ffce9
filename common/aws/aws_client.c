/* The AWS client: the context, the Query and awsJson protocols over the one
 * transport (aws_transport.c), pagination. See aws_client.h. */
#include "aws/aws_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_client_internal.h"
#include "aws/aws_transport.h"
#include "aws/aws_xml_stream.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/log.h"
#include "core/retry.h"

static const char *const svc_names[AWS_SVC_COUNT] = {"rds", "sts", "secretsmanager", "ssm",
                                                     "states"};

static int svc_from_name(const char *name)
{
    for (int i = 0; i < AWS_SVC_COUNT; i++)
        if (name && strcmp(svc_names[i], name) == 0)
            return i;
    return -1;
}

static const char *query_api_version(int svc)
{
    switch (svc) {
    case AWS_SVC_RDS:
        return AWS_RDS_API_VERSION;
    case AWS_SVC_STS:
        return AWS_STS_API_VERSION;
    default:
        return NULL; /* Secrets Manager and SSM speak awsJson1_1 */
    }
}

int aws_ctx_new(const struct aws_ctx_options *opt, struct aws_ctx **out, struct err *e)
{
    *out = NULL;
    if (!opt || !opt->region || !*opt->region)
        return err_set(e, ERR_CONFIG,
                       "aws.region: not set (set aws.region, AWS_REGION or AWS_DEFAULT_REGION)");
    struct aws_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->region = xstrdup(opt->region);
    ctx->rds_endpoint = opt->rds_endpoint && *opt->rds_endpoint ? xstrdup(opt->rds_endpoint) : NULL;
    if (ctx->rds_endpoint && opt->rds_endpoint_source && *opt->rds_endpoint_source)
        ctx->rds_endpoint_source = xstrdup(opt->rds_endpoint_source);

    const char *ca = getenv("AWS_CA_BUNDLE");
    int rc = 0;
    if (ca && *ca && access(ca, R_OK) != 0)
        rc = err_set(e, ERR_CONFIG, "AWS_CA_BUNDLE: cannot read %s: %s", ca, strerror(errno));
    if (rc == 0) {
        struct aws_transport_options to = {
            opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : AWS_DEFAULT_CONNECT_TIMEOUT_MS,
            opt->request_timeout_ms > 0 ? opt->request_timeout_ms : AWS_DEFAULT_REQUEST_TIMEOUT_MS,
            opt->max_attempts, ca && *ca ? ca : NULL};
        rc = aws_transport_new(&to, &ctx->transport, e);
    }
    /* Resolve RDS now so a bad region or endpoint is reported before any work. */
    const struct aws_endpoint *ep;
    if (rc == 0)
        rc = aws_ctx_endpoint(ctx, "rds", &ep, e);
    if (rc) {
        aws_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void aws_ctx_set_credentials_fn(struct aws_ctx *ctx, aws_creds_fn fn, void *fn_ctx)
{
    ctx->creds_fn = fn;
    ctx->creds_ctx = fn_ctx;
}

void aws_ctx_set_cancel(struct aws_ctx *ctx, struct cancel cancel)
{
    aws_transport_set_cancel(ctx->transport, cancel);
}

struct cancel aws_ctx_cancel(const struct aws_ctx *ctx)
{
    return *aws_transport_cancel(ctx->transport);
}

int aws_ctx_sleep(const struct aws_ctx *ctx, double seconds)
{
    return cancel_sleep(aws_transport_cancel(ctx->transport), seconds);
}

int aws_ctx_cancelled(const struct aws_ctx *ctx)
{
    return cancel_check(aws_transport_cancel(ctx->transport));
}

void aws_ctx_scale_backoff(struct aws_ctx *ctx, double factor)
{
    struct retry *r = aws_transport_retry(ctx->transport);
    r->base_delay *= factor;
    r->max_delay *= factor;
}

struct aws_counters aws_ctx_counters(const struct aws_ctx *ctx)
{
    return aws_transport_counters(ctx->transport);
}

void aws_ctx_free(struct aws_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->creds_free)
        ctx->creds_free(ctx->creds_ctx);
    for (int i = 0; i < AWS_SVC_COUNT; i++)
        aws_endpoint_release(&ctx->endpoints[i]);
    aws_transport_free(ctx->transport);
    free(ctx->region);
    free(ctx->rds_endpoint);
    free(ctx->rds_endpoint_source);
    free(ctx->sts_endpoint);
    free(ctx);
}

int aws_ctx_endpoint(struct aws_ctx *ctx, const char *service, const struct aws_endpoint **out,
                     struct err *e)
{
    int svc = svc_from_name(service);
    if (svc < 0)
        return err_set(e, ERR_INTERNAL, "aws: unknown service \"%s\"", service ? service : "");
    if (!ctx->endpoint_resolved[svc]) {
        int rc = aws_endpoint_resolve(service, ctx->region,
                                      svc == AWS_SVC_RDS ? ctx->rds_endpoint : NULL,
                                      &ctx->endpoints[svc], e);
        if (rc) {
            aws_endpoint_release(&ctx->endpoints[svc]);
            return rc;
        }
        ctx->endpoint_resolved[svc] = 1;
        /* The RDS override is the config's resolved endpoint: it may have come from
         * aws.endpoint, the environment or the AWS config file; say which. */
        const char *from = ctx->endpoints[svc].source;
        if (svc == AWS_SVC_RDS && strcmp(from, "config") == 0 && ctx->rds_endpoint_source)
            from = ctx->rds_endpoint_source;
        if (strcmp(from, "default") != 0)
            log_info("aws: %s endpoint %s (from %s)", service, ctx->endpoints[svc].url, from);
    }
    *out = &ctx->endpoints[svc];
    return 0;
}

/* ---- errors of the awsJson1_1 protocol ---- */

/* "com.amazonaws.secretsmanager#ResourceNotFoundException" or
 * "ResourceNotFoundException:http://internal.amazon.com/..." -> the bare code. */
static void json_error_code(char *dst, size_t dstlen, const char *type)
{
    const char *hash = strrchr(type, '#');
    const char *start = hash ? hash + 1 : type;
    size_t len = strcspn(start, ":");
    if (len >= dstlen)
        len = dstlen - 1;
    memcpy(dst, start, len);
    dst[len] = '\0';
}

static void aws_error_from_json(long status, const struct http_response *resp, const char *rid,
                                struct aws_error *ae)
{
    aws_error_clear(ae);
    ae->http_status = status;
    aws_error_field(ae->request_id, sizeof ae->request_id, rid);
    cJSON *j = cJSON_ParseWithLength(resp->body.data ? resp->body.data : "", resp->body.len);
    const char *type = NULL, *msg = NULL;
    if (cJSON_IsObject(j)) {
        type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "__type"));
        msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
        if (!msg)
            msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Message"));
    }
    char *hdr_type = type ? NULL : http_response_header(resp, "x-amzn-ErrorType");
    if (type || hdr_type)
        json_error_code(ae->code, sizeof ae->code, type ? type : hdr_type);
    if (msg)
        aws_error_field(ae->message, sizeof ae->message, msg);
    else if (!j || !cJSON_IsObject(j))
        aws_error_field(ae->message, sizeof ae->message,
                        resp->body.len ? "error body is not JSON" : "empty error body");
    free(hdr_type);
    cJSON_Delete(j);
}

/* ---- answers: decoding a 2xx, reading an error ---- */

/* A paged describe's answer: its text, or the unlinked file it spilled to. */
struct aws_page {
    struct buf text;
    int fd; /* >= 0: the answer is in this file, not in text */
    size_t len;
};

static void aws_page_release(struct aws_page *pg)
{
    if (pg->fd >= 0)
        close(pg->fd);
    pg->fd = -1;
    buf_release(&pg->text);
}

/* An error body in memory: a spilled one contributes its first 64 KiB (an AWS
 * error document is a few hundred bytes). */
static const char *error_body(const struct http_response *resp, struct buf *tmp, size_t *len)
{
    if (!resp->spilled) {
        *len = resp->body.len;
        return resp->body.data;
    }
    char chunk[65536];
    ssize_t got = pread(resp->body_fd, chunk, sizeof chunk, 0);
    buf_reset(tmp);
    if (got > 0)
        buf_append(tmp, chunk, (size_t)got);
    *len = tmp->len;
    return tmp->data;
}

enum protocol { PROTO_QUERY, PROTO_JSON };

/* Operations of the Query services whose botocore model has no "output": their
 * answer is <ActionResponse><ResponseMetadata/></ActionResponse> without an
 * <ActionResult> (botocore/data/rds/2014-10-31/service-2.json; every STS
 * operation has an output). Every other answer must carry its Result element. */
static const char *const no_result_actions[] = {
    "AddRoleToDBCluster",      "AddRoleToDBInstance",
    "AddTagsToResource",       "DeleteDBClusterParameterGroup",
    "DeleteDBParameterGroup",  "DeleteDBSecurityGroup",
    "DeleteDBSubnetGroup",     "DeleteOptionGroup",
    "RemoveRoleFromDBCluster", "RemoveRoleFromDBInstance",
    "RemoveTagsFromResource",  NULL,
};

static int has_result_element(const char *action)
{
    for (size_t i = 0; no_result_actions[i]; i++)
        if (strcmp(no_result_actions[i], action) == 0)
            return 0;
    return 1;
}

/* The media type of the answer ("text/xml"), lower-cased, without parameters. */
static void media_type(const struct http_response *resp, char *out, size_t outlen)
{
    char *ct = http_response_header(resp, "Content-Type");
    size_t n = ct ? strcspn(ct, "; \t") : 0;
    if (n >= outlen)
        n = outlen - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    out[n] = '\0';
    free(ct);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A Query answer is XML (text/xml from AWS; application/xml or +xml from some
 * front ends). A proxy's HTML login page or a captive portal is not. */
static int query_media_type(const struct http_response *resp, struct err *e)
{
    char mt[96];
    media_type(resp, mt, sizeof mt);
    if (strcmp(mt, "text/xml") == 0 || strcmp(mt, "application/xml") == 0 || ends_with(mt, "+xml"))
        return 0;
    return err_set(e, ERR_AWS_BAD_ANSWER, "the answer is not XML (Content-Type %s)",
                   mt[0] ? mt : "missing");
}

/* Where the answer's text is: memory, or the file a large page spilled to. */
static struct aws_xml_src src_of(const struct http_response *resp)
{
    if (resp->spilled)
        return (struct aws_xml_src){NULL, resp->body_len, resp->body_fd};
    return (struct aws_xml_src){resp->body.data, resp->body.len, -1};
}

/* The operation's answer: <ActionResponse> with its <ActionResult> (unless the
 * operation has no output), checked as a stream before anything is built.
 * Anything else -- an error document, another operation's answer, an HTML page
 * -- is never taken for an empty result. */
static int check_query_answer(const struct http_response *resp, const struct aws_answer *dec,
                              struct err *e)
{
    int rc = query_media_type(resp, e);
    if (rc == 0) {
        struct aws_xml_src src = src_of(resp);
        rc = aws_xml_check_answer(&src, dec->action, has_result_element(dec->action), e);
    }
    return rc == AWS_XML_ERROR_DOCUMENT ? AWS_ANSWER_ERROR_DOCUMENT : rc;
}

/* A single answer as a tree (small: one DBInstance, one set of tags). */
static int decode_xml(struct http_response *resp, const struct aws_answer *dec, struct err *e)
{
    int rc = check_query_answer(resp, dec, e);
    if (rc == 0)
        rc = aws_xml_parse(resp->body.data, resp->body.len, "the answer", (xmlDoc **)dec->out, e);
    return rc;
}

/* A page of a describe, kept for aws_xml_stream_items: the text (or the file
 * it spilled to) moves to dec->out. */
static int decode_page(struct http_response *resp, const struct aws_answer *dec, struct err *e)
{
    int rc = check_query_answer(resp, dec, e);
    if (rc == 0) {
        struct aws_page *pg = dec->out;
        pg->text = resp->body;
        resp->body = (struct buf)BUF_INIT;
        pg->fd = resp->spilled ? resp->body_fd : -1;
        pg->len = resp->spilled ? resp->body_len : pg->text.len;
        resp->spilled = 0;
    }
    return rc;
}

static int decode_json(struct http_response *resp, const struct aws_answer *dec, struct err *e)
{
    char mt[96];
    media_type(resp, mt, sizeof mt);
    if (strncmp(mt, "application/x-amz-json-", 23) != 0 && strcmp(mt, "application/json") != 0)
        return err_set(e, ERR_AWS_BAD_ANSWER, "the answer is not JSON (Content-Type %s)",
                       mt[0] ? mt : "missing");
    cJSON *j = cJSON_ParseWithLength(resp->body.data ? resp->body.data : "", resp->body.len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return err_set(e, ERR_AWS_BAD_ANSWER, "the answer is not a JSON object");
    }
    if (cJSON_GetObjectItemCaseSensitive(j, "__type")) {
        cJSON_Delete(j);
        return AWS_ANSWER_ERROR_DOCUMENT;
    }
    *(cJSON **)dec->out = j;
    return 0;
}

/* Actions that change nothing, so an answer damaged on the way is simply asked
 * for again. A damaged answer to anything else is returned (exit 80, ae with the
 * 2xx status and no code): the caller re-reads state, the client never re-sends. */
static int read_only_action(const char *op)
{
    return strncmp(op, "Describe", 8) == 0 || strncmp(op, "List", 4) == 0 ||
           strncmp(op, "Get", 3) == 0;
}

/* An AWS error answer (any status) into ae, in each protocol's format. */
static void parse_json_error(const struct http_response *resp, const char *rid,
                             struct aws_error *ae)
{
    aws_error_from_json(resp->status, resp, rid, ae);
}

static void parse_xml_error(const struct http_response *resp, const char *rid, struct aws_error *ae)
{
    struct buf tmp = BUF_INIT;
    size_t len;
    const char *text = error_body(resp, &tmp, &len);
    aws_error_from_xml(resp->status, text, len, rid, ae);
    buf_release(&tmp);
}

/* One call of the service through the transport, signed with the context's
 * credentials; then the raw answer is wiped and released (it may hold a secret
 * value). */
static int call_service(struct aws_ctx *ctx, int svc, const char *op, enum protocol proto,
                        const char *target, const char *body, size_t body_len,
                        struct aws_answer *dec, struct aws_error *ae, struct err *e)
{
    const char *sname = svc_names[svc];
    const struct aws_endpoint *ep;
    int rc = aws_ctx_endpoint(ctx, sname, &ep, e);
    if (rc)
        return rc;
    if (!ctx->creds_fn)
        return err_set(e, ERR_INTERNAL, "%s %s: no credential source configured", sname, op);
    char what[256];
    snprintf(what, sizeof what, "%s %s", sname, op);
    struct aws_request req = {
        .what = what,
        .ep = ep,
        .content_type = proto == PROTO_QUERY    ? "application/x-www-form-urlencoded; charset=utf-8"
                        : svc == AWS_SVC_STATES ? "application/x-amz-json-1.0" /* its jsonVersion */
                                                : "application/x-amz-json-1.1",
        .target = target,
        .body = body,
        .body_len = body_len,
        .creds = ctx->creds_fn,
        .creds_ctx = ctx->creds_ctx,
    };
    dec->parse_error = proto == PROTO_JSON ? parse_json_error : parse_xml_error;
    struct http_response resp = {0};
    rc = aws_transport_call(ctx->transport, &req, dec, &resp, ae, e);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_release(&resp);
    return rc;
}

/* A Query-protocol request (form-encoded body, XML answer) decoded by dec: the one
 * path of aws_query_call's whole documents and the paginator's streamed pages. */
static int query_request(struct aws_ctx *ctx, const char *service, const char *action,
                         const struct aws_params *params, struct aws_answer *dec,
                         struct aws_error *ae, struct err *e)
{
    int svc = svc_from_name(service);
    const char *version = svc >= 0 ? query_api_version(svc) : NULL;
    if (!version)
        return err_set(e, ERR_INTERNAL, "aws: %s does not speak the Query protocol",
                       service ? service : "(null)");
    struct buf body = BUF_INIT;
    aws_query_encode(&body, action, version, params);
    int rc = call_service(ctx, svc, action, PROTO_QUERY, NULL, body.data, body.len, dec, ae, e);
    /* The body may carry secrets (a master password, a web identity token). */
    if (body.data)
        explicit_bzero(body.data, body.len);
    buf_release(&body);
    return rc;
}

int aws_query_call(struct aws_ctx *ctx, const char *service, const char *action,
                   const struct aws_params *params, xmlDoc **out_doc, struct aws_error *ae,
                   struct err *e)
{
    struct aws_error local;
    if (!ae)
        ae = &local;
    aws_error_clear(ae);
    *out_doc = NULL;
    struct aws_answer dec = {decode_xml, NULL, out_doc, action, read_only_action(action), 0};
    return query_request(ctx, service, action, params, &dec, ae, e);
}

int aws_json_call(struct aws_ctx *ctx, const char *service, const char *target,
                  const char *json_body, cJSON **out, struct aws_error *ae, struct err *e)
{
    struct aws_error local;
    if (!ae)
        ae = &local;
    aws_error_clear(ae);
    *out = NULL;
    int svc = svc_from_name(service);
    if (svc != AWS_SVC_SECRETSMANAGER && svc != AWS_SVC_SSM && svc != AWS_SVC_STATES)
        return err_set(e, ERR_INTERNAL, "aws: %s does not speak awsJson1_1",
                       service ? service : "(null)");
    const char *op = strchr(target, '.') ? strchr(target, '.') + 1 : target;
    const char *body = json_body ? json_body : "{}";
    struct aws_answer dec = {decode_json, NULL, out, op, read_only_action(op), 0};
    return call_service(ctx, svc, op, PROTO_JSON, target, body, strlen(body), &dec, ae, e);
}

/* Pages larger than this are read from an unlinked temporary file, not memory:
 * a normal page (MaxRecords 100) is 50-300 KB and stays in memory. */
#define AWS_PAGE_IN_MEMORY_MAX (1024u * 1024u)

/* One page of a describe (the checked answer's text, or its file). */
static int query_page(struct aws_ctx *ctx, const char *service, const char *action,
                      const struct aws_params *params, struct aws_page *page, struct aws_error *ae,
                      struct err *e)
{
    aws_error_clear(ae);
    struct aws_answer dec = {decode_page, NULL, page, action, 1, AWS_PAGE_IN_MEMORY_MAX};
    return query_request(ctx, service, action, params, &dec, ae, e);
}

int aws_query_paginate(struct aws_ctx *ctx, const char *service, const char *action,
                       const struct aws_params *params, int max_records, const char *list_name,
                       const char *item_name, aws_item_fn on_item, void *ud, int *pages,
                       struct aws_error *ae, struct err *e)
{
    struct aws_error local;
    if (!ae)
        ae = &local;
    struct aws_params p = AWS_PARAMS_INIT;
    for (size_t i = 0; params && i < params->n; i++)
        if (strcmp(params->items[i].key, "Marker") != 0)
            aws_params_add(&p, params->items[i].key, params->items[i].value);
    if (max_records > 0) {
        aws_params_remove(&p, "MaxRecords");
        aws_params_add_int(&p, "MaxRecords", max_records);
    }
    if (pages)
        *pages = 0;
    int max_pages = ctx->max_pages > 0 ? ctx->max_pages : AWS_MAX_PAGES;
    double budget = ctx->paginate_seconds > 0 ? ctx->paginate_seconds : AWS_PAGINATE_SECONDS;
    double deadline = clock_monotonic() + budget;
    char *marker = NULL;
    int rc = 0, n = 0;
    for (;;) {
        if (n >= max_pages) {
            rc = err_set(e, ERR_AWS_BAD_ANSWER,
                         "%s %s: still a Marker after %d pages; stopping at the "
                         "cap instead of paging on",
                         service, action, max_pages);
            break;
        }
        if (n > 0 && clock_monotonic() > deadline) {
            rc = err_set(e, ERR_TRANSIENT,
                         "%s %s: paging took longer than %g s (%d pages); "
                         "stopping",
                         service, action, budget, n);
            break;
        }
        if (marker)
            aws_params_set(&p, "Marker", marker);
        struct aws_page page = {BUF_INIT, -1, 0};
        rc = query_page(ctx, service, action, &p, &page, ae, e);
        if (rc) {
            aws_page_release(&page);
            break;
        }
        n++;
        if (pages)
            *pages = n;
        char *next_marker = NULL;
        struct aws_xml_src src = {page.text.data, page.len, page.fd};
        rc = aws_xml_stream_items(&src, action, list_name, item_name, on_item, ud, &next_marker, e);
        aws_page_release(&page);
        if (rc == AWS_PAGE_STOP) {
            rc = 0;
            free(next_marker);
            break;
        }
        if (rc) {
            free(next_marker);
            break;
        }
        if (!next_marker)
            break;
        if (marker && strcmp(marker, next_marker) == 0) {
            rc = err_set(e, ERR_AWS_BAD_ANSWER,
                         "%s %s: the service returned the same Marker twice; "
                         "stopping instead of looping",
                         service, action);
            free(next_marker);
            break;
        }
        free(marker);
        marker = next_marker;
    }
    free(marker);
    aws_params_release(&p);
    return rc;
}
