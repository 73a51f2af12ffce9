/* The one AWS request engine: every signed (or, for AssumeRoleWithWebIdentity,
 * deliberately unsigned) AWS API call -- RDS and STS over the Query protocol,
 * Secrets Manager, SSM and Step Functions over awsJson -- goes through
 * aws_transport_call, which per attempt:
 *   - checks the owner's cancellation (core/cancel.h) and fetches credentials
 *     (a refresh during a multi-hour wait is picked up);
 *   - signs with SigV4 at the local clock plus the learnt skew (aws_skew.h):
 *     after a clock-skew rejection it re-signs at once with AWS's time;
 *   - sends through the one libcurl client (core/http.h), which the same
 *     cancellation aborts mid-transfer and whose deadline bounds it;
 *   - decodes a 2xx with the protocol's decoder, reads an error answer with the
 *     protocol's error reader, and retries per aws_retry.h on the shared policy
 *     (core/retry.h: capped full-jitter backoff, attempts, one quota for the
 *     process), the backoff itself cancellable;
 *   - counts calls, attempts and retries (the driver's report).
 * The protocols (aws_client.c: Query, awsJson; aws_creds_sts.c: STS's
 * credentials) only say how a body is built and an answer read. */
#ifndef DRR_AWS_TRANSPORT_H
#define DRR_AWS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws_creds.h"
#include "aws/aws_endpoint.h"
#include "aws/aws_xml.h"
#include "core/cancel.h"
#include "core/err.h"

struct http_response;
struct retry;
struct aws_transport;

/* Where credentials come from: returns 0 and *out (valid until the next call), or
 * an error kind with e set. */
typedef int (*aws_creds_fn)(void *ctx, const struct aws_credentials **out, struct err *e);

struct aws_transport_options {
    long connect_timeout_ms; /* > 0 */
    long request_timeout_ms; /* > 0 */
    int max_attempts;        /* <= 0: CONFIG_DEFAULT_MAX_ATTEMPTS */
    const char *ca_bundle;   /* AWS_CA_BUNDLE, or NULL for the system's */
};

/* 0, or ERR_INTERNAL when libcurl cannot start. */
int aws_transport_new(const struct aws_transport_options *o, struct aws_transport **out,
                      struct err *e);
void aws_transport_free(struct aws_transport *t);

/* The owner's cancellation of every attempt, transfer and backoff (none by
 * default); copied. The pointer aws_transport_cancel returns stays valid for
 * the transport's life and always holds the current one (the credential chain's
 * IMDS and container requests follow it). */
void aws_transport_set_cancel(struct aws_transport *t, struct cancel cancel);
const struct cancel *aws_transport_cancel(const struct aws_transport *t);

/* The retry policy, shared by every call through t (tests seed it, inject its
 * sleep and random; rds_cli.c scales its delays with the emulator's clock). */
struct retry *aws_transport_retry(struct aws_transport *t);

struct aws_counters {
    unsigned long calls;    /* API calls made */
    unsigned long attempts; /* HTTP requests sent, retries included */
    unsigned long retries;
};
struct aws_counters aws_transport_counters(const struct aws_transport *t);
/* Seconds added to the local clock when signing (learnt after a skew error). */
int64_t aws_transport_clock_offset(const struct aws_transport *t);

/* How an answer becomes the result. decode: 0 (the result is in out),
 * AWS_ANSWER_ERROR_DOCUMENT when a 2xx body is an AWS error document, or an
 * error kind with e set when the body is not the operation's answer.
 * parse_error: an error answer (any status) into ae, in the protocol's format. */
#define AWS_ANSWER_ERROR_DOCUMENT (-2)
struct aws_answer {
    int (*decode)(struct http_response *resp, const struct aws_answer *a, struct err *e);
    void (*parse_error)(const struct http_response *resp, const char *request_id,
                        struct aws_error *ae);
    void *out;
    const char *action;
    int read_only;      /* an unusable 2xx to a read-only action is asked for again */
    size_t spill_above; /* http_request.spill_above: only pages read as a stream */
};

struct aws_request {
    const char *what; /* names the call in messages: "rds DescribeDBInstances" */
    const struct aws_endpoint *ep;
    const char *content_type;
    const char *target; /* X-Amz-Target, or NULL */
    const char *body;
    size_t body_len;
    aws_creds_fn creds; /* NULL: sent unsigned */
    void *creds_ctx;
};

/* One AWS API call, retried until a 2xx answer decodes (0), or the error is
 * final: ERR_AWS_REJECTED or ERR_AWS_UNAUTHORIZED (AWS rejected it,
 * aws_error_kind; ae holds status, Code, Message, RequestId), ERR_AWS_BAD_ANSWER
 * (a 2xx that is not the answer, after its retries; an empty ae code),
 * ERR_TRANSIENT (throttling / 5xx / network errors after the retries or the
 * quota), ERR_TLS / ERR_CONFIG (TLS, URL), the credential source's kind, or the
 * cancellation's (cancel_err: ERR_INTERRUPTED for a signal, ERR_TIMEOUT for the
 * deadline). resp holds the last answer (the caller releases and wipes it). */
int aws_transport_call(struct aws_transport *t, const struct aws_request *req,
                       const struct aws_answer *ans, struct http_response *resp,
                       struct aws_error *ae, struct err *e);

#endif
