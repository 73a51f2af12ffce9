/* The one signed, skew-corrected, retried AWS transport. See aws_transport.h. */
#include "aws/aws_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_retry.h"
#include "aws/aws_sigv4.h"
#include "aws/aws_skew.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/log.h"
#include "core/retry.h"
#include "core/stats.h"

struct aws_transport {
    struct http_client *http; /* one client: its connections are reused */
    struct retry retry;       /* one policy and quota for every call */
    struct cancel cancel;     /* the owner's; the http client points here */
    struct aws_counters counters;
    /* Seconds added to the local clock when signing, learnt from AWS's Date
     * header after a clock-skew rejection (as the Java and Go SDKs do). */
    int64_t clock_offset;
};

int aws_transport_new(const struct aws_transport_options *o, struct aws_transport **out,
                      struct err *e)
{
    *out = NULL;
    struct aws_transport *t = xcalloc(1, sizeof *t);
    struct http_tls tls = {o->ca_bundle, 0};
    t->http = http_client_new(&tls, o->connect_timeout_ms, o->request_timeout_ms);
    if (!t->http) {
        free(t);
        return err_set(e, ERR_INTERNAL, "aws: cannot create the HTTP client");
    }
    http_client_set_cancel(t->http, &t->cancel);
    aws_retry_init(&t->retry, o->max_attempts);
    *out = t;
    return 0;
}

void aws_transport_free(struct aws_transport *t)
{
    if (!t)
        return;
    http_client_free(t->http);
    free(t);
}

void aws_transport_set_cancel(struct aws_transport *t, struct cancel cancel)
{
    t->cancel = cancel;
}

const struct cancel *aws_transport_cancel(const struct aws_transport *t)
{
    return &t->cancel;
}

struct retry *aws_transport_retry(struct aws_transport *t)
{
    return &t->retry;
}

struct aws_counters aws_transport_counters(const struct aws_transport *t)
{
    return t->counters;
}

int64_t aws_transport_clock_offset(const struct aws_transport *t)
{
    return t->clock_offset;
}

/* Signs req at signed_at into hdrs (Host, Content-Type, X-Amz-Target, then what
 * SigV4 adds); *nh is how many. Unsigned requests get the first ones only. */
static int build_headers(const struct aws_request *req, const struct aws_credentials *cr,
                         int64_t signed_at, struct sigv4_signed *sig, struct http_header *hdrs,
                         size_t *nh, struct err *e)
{
    size_t n = 0;
    hdrs[n++] = (struct http_header){"Host", req->ep->host};
    hdrs[n++] = (struct http_header){"Content-Type", req->content_type};
    if (req->target)
        hdrs[n++] = (struct http_header){"X-Amz-Target", req->target};
    *nh = n;
    if (!cr)
        return 0;
    struct sigv4_request sreq = {"POST", req->ep->path, NULL, hdrs, n, req->body, req->body_len};
    struct sigv4_credentials sc = {cr->access_key_id, cr->secret_access_key, cr->session_token};
    struct sigv4_options so = {req->ep->region, req->ep->signing_name, signed_at, 1, 0, 0};
    int rc = sigv4_sign(&sreq, &sc, &so, sig, e);
    if (rc)
        return rc;
    for (size_t i = 0; i < sig->n_headers; i++)
        hdrs[(*nh)++] = sig->headers[i];
    return 0;
}

/* The final error of a call whose last attempt was classified cls. */
static int final_error(const struct aws_request *req, const struct aws_error *ae,
                       enum retry_class cls, int damaged, int attempt, const char *why,
                       struct err *e)
{
    char msg[900];
    aws_error_format(ae, msg, sizeof msg);
    /* A 2xx that is not the operation's answer stays an AWS error after its
     * retries: never "empty", never a network hiccup. */
    if (cls == RETRY_NONE || damaged) {
        int kind = aws_error_kind(ae); /* rejected, unauthorized, or a 2xx non-answer */
        if (attempt == 1)
            return err_set(e, kind, "%s: %s", req->what, msg);
        return err_set(e, kind, "%s: %s; %s after %d attempts", req->what, msg, why, attempt);
    }
    return err_set(e, ERR_TRANSIENT, "%s: %s; %s after %d attempt%s", req->what, msg, why, attempt,
                   attempt == 1 ? "" : "s");
}

int aws_transport_call(struct aws_transport *t, const struct aws_request *req,
                       const struct aws_answer *ans, struct http_response *resp,
                       struct aws_error *ae, struct err *e)
{
    t->counters.calls++;
    stats_add(STATS_AWS_CALLS, 1);
    int last_cost = 0, skew_corrected = 0;
    int damaged = 0; /* the last answer was a 2xx that is not the operation's answer */
    for (int attempt = 1;; attempt++) {
        int stop = cancel_check(&t->cancel);
        if (stop)
            return cancel_err(e, stop, req->what, "before the request");

        const struct aws_credentials *cr = NULL;
        if (req->creds) {
            int rc = req->creds(req->creds_ctx, &cr, e);
            if (rc)
                return err_prefix(e, "%s", req->what);
            /* Registered here too, whatever the source did: these never reach a log. */
            redact_add_secret(cr->secret_access_key);
            redact_add_secret(cr->session_token);
        }
        struct http_header hdrs[3 + SIGV4_MAX_ADDED_HEADERS];
        size_t nh = 0;
        struct sigv4_signed sig4;
        memset(&sig4, 0, sizeof sig4);
        int64_t signed_at = clock_now() + t->clock_offset;
        int rc = build_headers(req, cr, signed_at, &sig4, hdrs, &nh, e);
        if (rc) {
            sigv4_signed_release(&sig4);
            return err_prefix(e, "%s", req->what);
        }

        struct http_request hreq = {"POST",    req->ep->url,  hdrs, nh,
                                    req->body, req->body_len, 0,    ans->spill_above};
        struct err he = {0};
        double t0 = clock_monotonic();
        int hrc = http_do(t->http, &hreq, resp, &he);
        sigv4_signed_release(&sig4);
        t->counters.attempts++;
        stats_add(STATS_AWS_ATTEMPTS, 1);

        enum retry_class cls;
        if (hrc != 0) {
            if ((stop = cancel_check(&t->cancel)) != 0)
                return cancel_err(e, stop, req->what, "during the request");
            if (hrc != ERR_TRANSIENT) /* TLS verification, bad URL: not transient */
                return err_set(e, hrc, "%s: %s", req->what, he.msg);
            aws_error_clear(ae);
            snprintf(ae->message, sizeof ae->message, "no answer from %s: %s", req->ep->host,
                     resp->error[0] ? resp->error : "connection failed");
            cls = aws_retry_classify(0, NULL, resp->timed_out);
            damaged = 0;
        } else {
            char *rid = http_response_header(resp, "x-amzn-RequestId");
            if (!rid)
                rid = http_response_header(resp, "x-amz-request-id");
            log_debug("aws: %s: HTTP %ld in %.0f ms (attempt %d, RequestId %s)", req->what,
                      resp->status, (clock_monotonic() - t0) * 1000.0, attempt, rid ? rid : "-");
            if (resp->status >= 200 && resp->status < 300) {
                struct err de = {0};
                int drc = ans->decode(resp, ans, &de);
                if (drc == 0) {
                    free(rid);
                    retry_on_success(&t->retry, last_cost);
                    return 0;
                }
                damaged = 1;
                if (drc == AWS_ANSWER_ERROR_DOCUMENT) {
                    /* An error in a 2xx: AWS's own rules (botocore's retry
                     * checkers look at the code, whatever the status) decide. */
                    ans->parse_error(resp, rid, ae);
                    cls = aws_retry_classify(resp->status, ae->code, 0);
                } else {
                    aws_error_clear(ae);
                    ae->http_status = resp->status;
                    aws_error_field(ae->request_id, sizeof ae->request_id, rid);
                    aws_error_field(ae->message, sizeof ae->message, de.msg);
                    cls = ans->read_only ? RETRY_TRANSIENT : RETRY_NONE;
                }
            } else {
                damaged = 0;
                ans->parse_error(resp, rid, ae);
                cls = aws_retry_classify(resp->status, ae->code, 0);
                if (cr && !skew_corrected && attempt < t->retry.max_attempts &&
                    aws_clock_skew_correct(&t->clock_offset, resp, ae->code, signed_at)) {
                    skew_corrected = 1;
                    free(rid);
                    continue; /* signed again at once with the corrected time */
                }
            }
            free(rid);
        }

        double delay;
        int cost;
        const char *why;
        if (!retry_next(&t->retry, cls, attempt, &delay, &cost, &why))
            return final_error(req, ae, cls, damaged, attempt, why, e);
        last_cost = cost;
        t->counters.retries++;
        char msg[900];
        aws_error_format(ae, msg, sizeof msg);
        log_warn("aws: %s: %s; retry %d of %d in %.2fs", req->what, msg, attempt,
                 t->retry.max_attempts - 1, delay);
        stop = retry_sleep(&t->retry, &t->cancel, delay);
        if (stop)
            return cancel_err(e, stop, req->what, "while waiting to retry");
    }
}
