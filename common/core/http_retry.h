/* One plain (unsigned) HTTP request retried by the shared policy (retry.h) and
 * cancelled by its context (cancel.h): the DBLab client's calls and the
 * credential chain's IMDS and container fetches. Signed AWS API calls go
 * through aws/aws_transport.h instead, which adds signing and clock skew. */
#ifndef DRR_HTTP_RETRY_H
#define DRR_HTTP_RETRY_H

#include "core/http.h"
#include "core/retry.h"

/* What an attempt's outcome is worth: hrc is http_do's answer (0: resp holds an
 * HTTP answer of any status; ERR_TRANSIENT: a network error, resp->timed_out
 * says whether the transfer timed out). RETRY_NONE: final. */
typedef enum retry_class (*http_retry_classify_fn)(int hrc, const struct http_response *resp,
                                                   void *ud);

struct http_retry_call {
    struct http_client *http; /* its cancel (http_client_set_cancel) stops backoffs too */
    const struct http_request *req;
    struct retry *retry;
    int max_attempts; /* 0 = retry->max_attempts; 1 = never retried (not idempotent) */
    http_retry_classify_fn classify;
    void *classify_ud;
    const char *what; /* names the call in the retry log lines */
    int quiet;        /* 1: retries are logged at debug level, else warn */
    int *attempts;    /* if set, counts the requests sent */
};

/* Returns 0 when a final HTTP answer arrived (any status: the caller maps it),
 * else http_do's error for the last attempt (ERR_TRANSIENT once retries are
 * spent, ERR_CONFIG at once for TLS / URL trouble), or the cancellation's
 * (cancel_err) when the context was cancelled during a backoff. */
int http_retry_do(const struct http_retry_call *c, struct http_response *resp, struct err *e);

#endif
