/* A plain HTTP request under the retry policy. See http_retry.h. */
#include "core/http_retry.h"

#include <stdio.h>

#include "core/cancel.h"
#include "core/log.h"

int http_retry_do(const struct http_retry_call *c, struct http_response *resp, struct err *e)
{
    int attempts = c->max_attempts > 0 ? c->max_attempts : c->retry->max_attempts;
    int last_cost = 0;
    for (int attempt = 1;; attempt++) {
        err_clear(e);
        if (c->attempts)
            (*c->attempts)++;
        int rc = http_do(c->http, c->req, resp, e);
        if (rc != 0 && rc != ERR_TRANSIENT)
            return rc; /* TLS / URL trouble, or cancelled: retrying will not help */
        enum retry_class cls = c->classify(rc, resp, c->classify_ud);
        double delay = 0;
        int cost = 0;
        const char *why = NULL;
        if (cls == RETRY_NONE || attempt >= attempts ||
            !retry_next(c->retry, cls, attempt, &delay, &cost, &why)) {
            if (rc == 0 && cls == RETRY_NONE)
                retry_on_success(c->retry, last_cost);
            return rc;
        }
        last_cost = cost;
        char status[32];
        snprintf(status, sizeof status, "HTTP %ld", resp->status);
        if (c->quiet)
            log_debug("%s: %s (attempt %d of %d, retrying in %.2fs)", c->what,
                      rc ? resp->error : status, attempt, attempts, delay);
        else
            log_warn("%s: %s (attempt %d of %d, retrying in %.2fs)", c->what,
                     rc ? resp->error : status, attempt, attempts, delay);
        const struct cancel *cancel = http_client_cancel(c->http);
        int stop = retry_sleep(c->retry, cancel, delay);
        if (stop) {
            cancel_reason(stop, resp->error, sizeof resp->error);
            return cancel_err(e, stop, c->what, "while waiting to retry");
        }
    }
}
