/* The AWS client: context, signed calls with retries, Query and awsJson1_1
 * protocols, pagination. See aws_client.h. */
#include "aws/aws_client.h"
#include "core/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "aws/aws_sigv4.h"
#include "aws/aws_skew.h"
#include "aws/aws_xml_stream.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/http.h"
#include "core/log.h"
#include "core/signals.h"

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

int aws_ctx_init(struct aws_ctx *ctx, const struct aws_ctx_options *opt, struct err *e)
{
    memset(ctx, 0, sizeof *ctx);
    aws_retry_init(&ctx->retry, opt ? opt->max_attempts : 0);
    if (!opt || !opt->region || !*opt->region)
        return err_set(e, ERR_CONFIG,
                       "aws.region: not set (set aws.region, AWS_REGION or AWS_DEFAULT_REGION)");
    ctx->region = xstrdup(opt->region);
    ctx->rds_endpoint = opt->rds_endpoint && *opt->rds_endpoint ? xstrdup(opt->rds_endpoint) : NULL;
    if (ctx->rds_endpoint && opt->rds_endpoint_source && *opt->rds_endpoint_source)
        ctx->rds_endpoint_source = xstrdup(opt->rds_endpoint_source);

    const char *ca = getenv("AWS_CA_BUNDLE");
    if (ca && *ca) {
        if (access(ca, R_OK) != 0)
            return err_set(e, ERR_CONFIG, "AWS_CA_BUNDLE: cannot read %s: %s", ca, strerror(errno));
        ctx->ca_bundle = xstrdup(ca);
    }
    struct http_tls tls = {ctx->ca_bundle, 0};
    ctx->http = http_client_new(
        &tls,
        opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : AWS_DEFAULT_CONNECT_TIMEOUT_MS,
        opt->request_timeout_ms > 0 ? opt->request_timeout_ms : AWS_DEFAULT_REQUEST_TIMEOUT_MS);
    if (!ctx->http)
        return err_set(e, ERR_INTERNAL, "aws: cannot create the HTTP client");
    /* Resolve RDS now so a bad region or endpoint is reported before any work. */
    const struct aws_endpoint *ep;
    return aws_ctx_endpoint(ctx, "rds", &ep, e);
}

void aws_ctx_set_credentials_fn(struct aws_ctx *ctx, aws_creds_fn fn, void *fn_ctx)
{
    ctx->creds_fn = fn;
    ctx->creds_ctx = fn_ctx;
}

void aws_ctx_free(struct aws_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->creds_free)
        ctx->creds_free(ctx->creds_ctx);
    for (int i = 0; i < AWS_SVC_COUNT; i++)
        aws_endpoint_release(&ctx->endpoints[i]);
    http_client_free(ctx->http);
    free(ctx->region);
    free(ctx->rds_endpoint);
    free(ctx->rds_endpoint_source);
    free(ctx->ca_bundle);
    free(ctx->sts_endpoint);
    memset(ctx, 0, sizeof *ctx);
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

static void copy_one_line(char *dst, size_t dstlen, const char *src)
{
    snprintf(dst, dstlen, "%s", src ? src : "");
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

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
    copy_one_line(ae->request_id, sizeof ae->request_id, rid);
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
        copy_one_line(ae->message, sizeof ae->message, msg);
    else if (!j || !cJSON_IsObject(j))
        copy_one_line(ae->message, sizeof ae->message,
                      resp->body.len ? "error body is not JSON" : "empty error body");
    free(hdr_type);
    cJSON_Delete(j);
}

/* ---- the signed request with retries ---- */

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

/* How a 2xx answer becomes a result: decode returns 0, DECODE_ERROR_DOCUMENT
 * when the body is an AWS error document (a proxy or service answered an error
 * with a 2xx status), or an exit code with e set when the body is not the
 * operation's answer (wrong content type, not XML / JSON, another document). */
#define DECODE_ERROR_DOCUMENT (-2)
struct decoder {
    int (*decode)(struct http_response *resp, const struct decoder *dec, struct err *e);
    void *out;
    const char *action;
    int read_only;      /* an unusable answer to a read-only action is asked for again */
    size_t spill_above; /* http_request.spill_above: only pages read as a stream */
};

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

/* The operation's answer: <ActionResponse> with its <ActionResult> (unless the
 * operation has no output), checked as a stream before anything is built.
 * Anything else -- an error document, another operation's answer, an HTML page
 * -- is never taken for an empty result. */
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
static int check_query_answer(const struct http_response *resp, const struct decoder *dec,
                              struct err *e)
{
    int rc = query_media_type(resp, e);
    if (rc == 0) {
        struct aws_xml_src src = src_of(resp);
        rc = aws_xml_check_answer(&src, dec->action, has_result_element(dec->action), e);
    }
    return rc == AWS_XML_ERROR_DOCUMENT ? DECODE_ERROR_DOCUMENT : rc;
}

/* A single answer as a tree (small: one DBInstance, one set of tags). */
static int decode_xml(struct http_response *resp, const struct decoder *dec, struct err *e)
{
    int rc = check_query_answer(resp, dec, e);
    if (rc == 0)
        rc = aws_xml_parse(resp->body.data, resp->body.len, "the answer", (xmlDoc **)dec->out, e);
    return rc;
}

/* A page of a describe, kept for aws_xml_stream_items: the text (or the file
 * it spilled to) moves to dec->out. */
static int decode_page(struct http_response *resp, const struct decoder *dec, struct err *e)
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

static int decode_json(struct http_response *resp, const struct decoder *dec, struct err *e)
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
        return DECODE_ERROR_DOCUMENT;
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

/* An AWS error answer (any status) into ae, in the protocol's format. */
static void parse_error(const struct http_response *resp, enum protocol proto, const char *rid,
                        struct aws_error *ae)
{
    if (proto == PROTO_JSON) {
        aws_error_from_json(resp->status, resp, rid, ae);
        return;
    }
    struct buf tmp = BUF_INIT;
    size_t len;
    const char *text = error_body(resp, &tmp, &len);
    aws_error_from_xml(resp->status, text, len, rid, ae);
    buf_release(&tmp);
}

static int interrupted(struct err *e, const char *svc, const char *op, int sig, const char *when)
{
    return err_interrupted(e, sig, "%s %s: interrupted by signal %d %s", svc, op, sig, when);
}

/* Sends one signed request per attempt until a 2xx answer arrives and decodes
 * (0: dec->out holds the result) or the error is final. */
static int perform(struct aws_ctx *ctx, int svc, const char *op, enum protocol proto,
                   const char *target, const char *body, size_t body_len, const struct decoder *dec,
                   struct http_response *resp, struct aws_error *ae, struct err *e)
{
    const char *sname = svc_names[svc];
    const struct aws_endpoint *ep;
    int rc = aws_ctx_endpoint(ctx, sname, &ep, e);
    if (rc)
        return rc;
    if (!ctx->creds_fn)
        return err_set(e, ERR_INTERNAL, "%s %s: no credential source configured", sname, op);
    ctx->calls++;
    stats_add(STATS_AWS_CALLS, 1);
    int last_cost = 0, skew_corrected = 0;
    int damaged = 0; /* the last answer was a 2xx that is not the operation's answer */
    for (int attempt = 1;; attempt++) {
        int sig = signals_pending();
        if (sig)
            return interrupted(e, sname, op, sig, "before the request");

        const struct aws_credentials *cr = NULL;
        rc = ctx->creds_fn(ctx->creds_ctx, &cr, e);
        if (rc)
            return err_prefix(e, "%s %s", sname, op);
        /* Registered here too, whatever the source did: these never reach a log. */
        redact_add_secret(cr->secret_access_key);
        redact_add_secret(cr->session_token);

        struct http_header hdrs[3 + SIGV4_MAX_ADDED_HEADERS];
        size_t nh = 0;
        hdrs[nh++] = (struct http_header){"Host", ep->host};
        hdrs[nh++] = (struct http_header){
            "Content-Type",
            proto == PROTO_QUERY    ? "application/x-www-form-urlencoded; charset=utf-8"
            : svc == AWS_SVC_STATES ? "application/x-amz-json-1.0" /* its jsonVersion */
                                    : "application/x-amz-json-1.1"};
        if (target)
            hdrs[nh++] = (struct http_header){"X-Amz-Target", target};
        struct sigv4_request sreq = {"POST", ep->path, NULL, hdrs, nh, body, body_len};
        struct sigv4_credentials sc = {cr->access_key_id, cr->secret_access_key, cr->session_token};
        int64_t signed_at = clock_now() + ctx->clock_offset;
        struct sigv4_options so = {ep->region, ep->signing_name, signed_at, 1, 0, 0};
        struct sigv4_signed sig4;
        rc = sigv4_sign(&sreq, &sc, &so, &sig4, e);
        if (rc) {
            sigv4_signed_release(&sig4);
            return err_prefix(e, "%s %s", sname, op);
        }
        for (size_t i = 0; i < sig4.n_headers; i++)
            hdrs[nh++] = sig4.headers[i];

        struct http_request req = {"POST", ep->url, hdrs, nh, body, body_len, 0, dec->spill_above};
        struct err he = {0};
        double t0 = clock_monotonic();
        int hrc = http_do(ctx->http, &req, resp, &he);
        sigv4_signed_release(&sig4);
        ctx->attempts++;
        stats_add(STATS_AWS_ATTEMPTS, 1);

        enum aws_retry_class cls;
        if (hrc != 0) {
            sig = signals_pending();
            if (sig)
                return interrupted(e, sname, op, sig, "during the request");
            if (hrc != ERR_TRANSIENT) /* TLS verification, bad URL: not transient */
                return err_set(e, hrc, "%s %s: %s", sname, op, he.msg);
            aws_error_clear(ae);
            snprintf(ae->message, sizeof ae->message, "no answer from %s: %s", ep->host,
                     resp->error[0] ? resp->error : "connection failed");
            cls = aws_retry_classify(0, NULL, resp->curl_code == CURLE_OPERATION_TIMEDOUT);
            damaged = 0;
        } else {
            char *rid = http_response_header(resp, "x-amzn-RequestId");
            if (!rid)
                rid = http_response_header(resp, "x-amz-request-id");
            log_debug("aws: %s %s: HTTP %ld in %.0f ms (attempt %d, RequestId %s)", sname, op,
                      resp->status, (clock_monotonic() - t0) * 1000.0, attempt, rid ? rid : "-");
            if (resp->status >= 200 && resp->status < 300) {
                struct err de = {0};
                int drc = dec->decode(resp, dec, &de);
                if (drc == 0) {
                    free(rid);
                    aws_retry_on_success(&ctx->retry, last_cost);
                    return 0;
                }
                damaged = 1;
                if (drc == DECODE_ERROR_DOCUMENT) {
                    /* An error in a 2xx: AWS's own rules (botocore's retry
                     * checkers look at the code, whatever the status) decide. */
                    parse_error(resp, proto, rid, ae);
                    cls = aws_retry_classify(resp->status, ae->code, 0);
                } else {
                    aws_error_clear(ae);
                    ae->http_status = resp->status;
                    copy_one_line(ae->request_id, sizeof ae->request_id, rid);
                    copy_one_line(ae->message, sizeof ae->message, de.msg);
                    cls = dec->read_only ? AWS_RETRY_TRANSIENT : AWS_RETRY_NONE;
                }
            } else {
                damaged = 0;
                parse_error(resp, proto, rid, ae);
                cls = aws_retry_classify(resp->status, ae->code, 0);
                if (!skew_corrected && attempt < ctx->retry.max_attempts &&
                    aws_clock_skew_correct(&ctx->clock_offset, resp, ae->code, signed_at)) {
                    skew_corrected = 1;
                    free(rid);
                    continue; /* signed again at once with the corrected time */
                }
            }
            free(rid);
        }

        char msg[900];
        aws_error_format(ae, msg, sizeof msg);
        double delay;
        int cost;
        const char *why;
        if (!aws_retry_next(&ctx->retry, cls, attempt, &delay, &cost, &why)) {
            /* A 2xx that is not the operation's answer stays an AWS error
             * after its retries: never "empty", never a network hiccup. */
            if (cls == AWS_RETRY_NONE || damaged) {
                int kind = aws_error_kind(ae);
                if (attempt == 1)
                    return err_set(e, kind, "%s %s: %s", sname, op, msg);
                return err_set(e, kind, "%s %s: %s; %s after %d attempts", sname, op, msg, why,
                               attempt);
            }
            return err_set(e, ERR_TRANSIENT, "%s %s: %s; %s after %d attempt%s", sname, op, msg,
                           why, attempt, attempt == 1 ? "" : "s");
        }
        last_cost = cost;
        ctx->retries++;
        log_warn("aws: %s %s: %s; retry %d of %d in %.2fs", sname, op, msg, attempt,
                 ctx->retry.max_attempts - 1, delay);
        sig = aws_retry_sleep(&ctx->retry, delay);
        if (sig)
            return interrupted(e, sname, op, sig, "while waiting to retry");
    }
}

/* perform, then wipe and release the raw answer (it may hold a secret value). */
static int call_service(struct aws_ctx *ctx, int svc, const char *op, enum protocol proto,
                        const char *target, const char *body, size_t body_len,
                        const struct decoder *dec, struct aws_error *ae, struct err *e)
{
    struct http_response resp = {0};
    int rc = perform(ctx, svc, op, proto, target, body, body_len, dec, &resp, ae, e);
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    http_response_release(&resp);
    return rc;
}

/* A Query-protocol request (form-encoded body, XML answer) decoded by dec: the one
 * path of aws_query_call's whole documents and the paginator's streamed pages. */
static int query_request(struct aws_ctx *ctx, const char *service, const char *action,
                         const struct aws_params *params, struct decoder *dec, struct aws_error *ae,
                         struct err *e)
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
    struct decoder dec = {decode_xml, out_doc, action, read_only_action(action), 0};
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
    struct decoder dec = {decode_json, out, op, read_only_action(op), 0};
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
    struct decoder dec = {decode_page, page, action, 1, AWS_PAGE_IN_MEMORY_MAX};
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
