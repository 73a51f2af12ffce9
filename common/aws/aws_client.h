/* The AWS client: one opaque context per process (region, endpoints,
 * credentials, and the one transport: HTTP client, retry state, clock skew,
 * counters, cancellation), the Query protocol call (RDS, STS) and the awsJson
 * call (Secrets Manager, SSM, Step Functions).
 *
 * Typical use (rds.c):
 *
 *   struct aws_ctx *aws;
 *   if ((rc = aws_ctx_new_from_config(&cfg, &aws, &e)) != 0) return rc;
 *   aws_ctx_set_cancel(aws, signals_cancel());       // the command's choice
 *   struct aws_params p = AWS_PARAMS_INIT;
 *   aws_params_add(&p, "DBInstanceIdentifier", id);
 *   xmlDoc *doc = NULL;
 *   struct aws_error ae;
 *   rc = aws_query_call(aws, "rds", "DescribeDBInstances", &p, &doc, &ae, &e);
 *   aws_params_release(&p);
 *   if (rc && strcmp(ae.code, "DBInstanceNotFound") == 0) ...
 *   xmlNode *res = aws_xml_result(doc, "DescribeDBInstances");
 *   ...
 *   xmlFreeDoc(doc);
 *   aws_ctx_free(aws);
 *
 * Every call returns 0 or an error kind (core/err.h): ERR_AWS_REJECTED or
 * ERR_AWS_UNAUTHORIZED (AWS refused the request, aws_error_kind: ae holds the
 * HTTP status, Code, Message and RequestId, and e the one-line message
 * "rds DescribeDBInstances: DBInstanceNotFound: ... (HTTP 404, RequestId ...)"),
 * ERR_TRANSIENT (throttling / 5xx / network errors still failing after the
 * retries, or the retry quota is spent; ae holds the last error), ERR_CONFIG
 * (bad endpoint or region), ERR_TLS (TLS verification failure), the credential
 * chain's kind when no credentials could be had, or the context's cancellation
 * (core/cancel.h: ERR_INTERRUPTED with e->signo when the command's "a signal is
 * pending" stopped the call or its backoff, ERR_TIMEOUT past the context's
 * deadline).
 *
 * Every call goes through the one AWS transport (aws_transport.h): signing,
 * clock-skew correction, retries, counters and cancellation live there, shared
 * with the credential chain's STS calls.
 *
 * Fail closed: a 2xx answer that is not the operation's answer (not an XML /
 * JSON content type, does not parse, a root other than <ActionResponse>, no
 * <ActionResult> where botocore models an output) is asked for again when the
 * action only reads (Describe*, List*, Get*) and is ERR_AWS_BAD_ANSWER if it stays
 * so; for any other action it is returned at once as ERR_AWS_BAD_ANSWER with
 * ae.http_status 2xx and an empty ae.code: the request may have taken effect, so
 * the caller re-reads state (e.g. describes the clone it asked for) instead of
 * sending it again. An error document in a 2xx (<ErrorResponse>, "__type") is
 * that error: ae.code set, retried by its code, ERR_AWS_REJECTED in the end.
 *
 * Credentials are fetched before EACH attempt, so a refresh during a multi-hour
 * wait is picked up. Secrets are registered with redact_add_secret; the client
 * never logs a request or response body, nor the Authorization or
 * X-Amz-Security-Token headers. */
#ifndef DRR_AWS_CLIENT_H
#define DRR_AWS_CLIENT_H

#include <cjson/cJSON.h>
#include <libxml/tree.h>

#include "aws/aws_creds.h"
#include "aws/aws_endpoint.h"
#include "aws/aws_query.h"
#include "aws/aws_transport.h"
#include "aws/aws_xml.h"
#include "core/cancel.h"
#include "core/err.h"

struct config;
/* Opaque (aws_client_internal.h): made by aws_ctx_new*, freed by aws_ctx_free. */
struct aws_ctx;

#define AWS_RDS_API_VERSION            "2014-10-31"
#define AWS_STS_API_VERSION            "2011-06-15"
#define AWS_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define AWS_DEFAULT_REQUEST_TIMEOUT_MS 60000L
/* Describe calls page with MaxRecords 100 (the RDS maximum). */
#define AWS_MAX_RECORDS                100
/* Bounds on one paged describe: 1000 pages is 100,000 items at MaxRecords 100
 * (an account holds at most a few thousand snapshots); a service that keeps
 * answering a new Marker is stopped there, and any paging within 10 minutes. */
#define AWS_MAX_PAGES                  1000
#define AWS_PAGINATE_SECONDS           600.0

struct aws_ctx_options {
    const char *region;       /* required */
    const char *rds_endpoint; /* the config's resolved aws.endpoint; NULL = default */
    int max_attempts;         /* <= 0: CONFIG_DEFAULT_MAX_ATTEMPTS */
    long connect_timeout_ms;  /* 0 = AWS_DEFAULT_CONNECT_TIMEOUT_MS */
    long request_timeout_ms;  /* 0 = AWS_DEFAULT_REQUEST_TIMEOUT_MS */
    /* Where rds_endpoint came from, for the log line (config.h's
     * aws.endpoint_source: "aws.endpoint", "AWS_ENDPOINT_URL", ...); NULL = "config". */
    const char *rds_endpoint_source;
};

/* A context without credentials (use aws_ctx_set_credentials_fn) and without
 * cancellation (use aws_ctx_set_cancel). Returns 0 and *out, or ERR_CONFIG
 * (no region, unreadable AWS_CA_BUNDLE) / ERR_INTERNAL with *out NULL. */
int aws_ctx_new(const struct aws_ctx_options *opt, struct aws_ctx **out, struct err *e);
/* aws_ctx_new from cfg->aws (region, endpoint, maxAttempts) plus the default
 * credential chain (aws_creds.h) for cfg->aws.profile, whose STS calls go
 * through the context's transport (aws_client_config.c). */
int aws_ctx_new_from_config(const struct config *cfg, struct aws_ctx **out, struct err *e);
void aws_ctx_set_credentials_fn(struct aws_ctx *ctx, aws_creds_fn fn, void *fn_ctx);
/* Frees the context and everything it holds; NULL is fine. */
void aws_ctx_free(struct aws_ctx *ctx);

/* Cancellation (core/cancel.h), set by the context's owner: a command installs
 * signals_cancel(); create's roll-back swaps in its own budget and restores the
 * one aws_ctx_cancel returned. Every call, transfer and retry backoff honours it. */
void aws_ctx_set_cancel(struct aws_ctx *ctx, struct cancel cancel);
struct cancel aws_ctx_cancel(const struct aws_ctx *ctx);
/* cancel_check / cancel_sleep on the context's cancellation: the waits of work
 * done on the context (a delete's polls) stop when its calls would. */
int aws_ctx_cancelled(const struct aws_ctx *ctx);
int aws_ctx_sleep(const struct aws_ctx *ctx, double seconds);
/* Multiplies the retry backoff's base and cap (tests against a fast emulator
 * clock scale it like every other wait; clone_poll.h). */
void aws_ctx_scale_backoff(struct aws_ctx *ctx, double factor);
/* Calls, HTTP requests and retries so far (STS's included), for the report. */
struct aws_counters aws_ctx_counters(const struct aws_ctx *ctx);

/* The endpoint of a service ("rds", "sts", "secretsmanager", "ssm"), resolved once. */
int aws_ctx_endpoint(struct aws_ctx *ctx, const char *service, const struct aws_endpoint **out,
                     struct err *e);

/* Query protocol: POST {endpoint path}, form body Action=action&Version=<the
 * service's API version>&params. On 0, *out_doc is the parsed response (free with
 * xmlFreeDoc; aws_xml_result(doc, action) is the <ActionResult> element). ae may
 * be NULL when the caller does not need the details. */
int aws_query_call(struct aws_ctx *ctx, const char *service, const char *action,
                   const struct aws_params *params, xmlDoc **out_doc, struct aws_error *ae,
                   struct err *e);

/* awsJson1_1 (Secrets Manager, SSM) and awsJson1_0 (Step Functions, "states"):
 * POST /, X-Amz-Target: target (e.g. "secretsmanager.GetSecretValue",
 * "AmazonSSM.GetParameter", "AWSStepFunctions.StartExecution"), JSON body. On 0,
 * *out is the parsed answer (cJSON_Delete it). Errors: ae.code from "__type"
 * (the part after '#'), ae.message from "message"/"Message", the RequestId
 * from x-amzn-RequestId. The answer may hold secrets: the client never logs it. */
int aws_json_call(struct aws_ctx *ctx, const char *service, const char *target,
                  const char *json_body, cJSON **out, struct aws_error *ae, struct err *e);

/* Paged describes with flat memory: calls action with MaxRecords = max_records
 * (<= 0: none sent) and the previous page's Marker. Each page is checked, then
 * read as a stream (aws_xml_stream.h): every <item_name> of its <list_name> is
 * expanded alone and handed to on_item, so a page costs its text plus ONE item,
 * never a tree of the page. on_item returns 0 to continue, AWS_PAGE_STOP to
 * stop early (the call then returns 0), or an error kind with e set (returned).
 * Stops after the page without a Marker. params is not modified. Bounded: a
 * Marker that repeats the previous page's, or one still there after
 * AWS_MAX_PAGES pages, is an error (ERR_AWS_BAD_ANSWER); paging past
 * AWS_PAGINATE_SECONDS is ERR_TRANSIENT. *pages
 * (may be NULL) counts the pages fetched. */
#define AWS_PAGE_STOP (-1) /* = AWS_XML_STOP */
typedef int (*aws_item_fn)(const xmlNode *item, void *ud, struct err *e);
int aws_query_paginate(struct aws_ctx *ctx, const char *service, const char *action,
                       const struct aws_params *params, int max_records, const char *list_name,
                       const char *item_name, aws_item_fn on_item, void *ud, int *pages,
                       struct aws_error *ae, struct err *e);

#endif
