/* The Lambda Runtime API (version 2018-06-01) as a custom runtime speaks it, over
 * the project's one libcurl client (http.h). Follows AWS's reference "Using the
 * Lambda runtime API for custom runtimes":
 *
 *   GET  /runtime/invocation/next            the event; Lambda-Runtime-Aws-Request-Id,
 *                                            Lambda-Runtime-Deadline-Ms (epoch ms)
 *   POST /runtime/invocation/{id}/response   the result (202)
 *   POST /runtime/invocation/{id}/error      {"errorMessage", "errorType", "stackTrace"}
 *                                            and Lambda-Runtime-Function-Error-Type (202)
 *   POST /runtime/init/error                 the same, before the first /next
 *
 * The address comes from $AWS_LAMBDA_RUNTIME_API ("host:port"). /next is a long
 * poll without a total timeout (the reference: "do not set a timeout on the GET
 * request"). */
#ifndef DRR_LAMBDA_RUNTIME_H
#define DRR_LAMBDA_RUNTIME_H

#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

struct lambda_runtime;

struct lambda_invocation {
    char request_id[65];
    int64_t deadline_ms; /* epoch milliseconds; 0 when Lambda sent none */
    struct buf event;    /* the payload, as sent */
};

/* Reads $AWS_LAMBDA_RUNTIME_API. Returns 0, or ERR_CONFIG when it is unset or
 * not host:port (not running under Lambda). */
int lambda_runtime_new(struct lambda_runtime **out, struct err *e);
void lambda_runtime_free(struct lambda_runtime *rt);

/* Waits for the next invocation. 0, ERR_TRANSIENT (network), ERR_INTERNAL
 * (an answer that is not the API's: no or a malformed request id), or ERR_INTERRUPTED on a
 * signal. inv must be released with lambda_invocation_release. */
int lambda_runtime_next(struct lambda_runtime *rt, struct lambda_invocation *inv, struct err *e);
void lambda_invocation_release(struct lambda_invocation *inv);

/* Posts the invocation's result (a JSON text). 0 when Lambda accepted it (202). */
int lambda_runtime_respond(struct lambda_runtime *rt, const char *request_id, const char *json,
                           struct err *e);
/* Posts the invocation's error: error_type ("drr.clone-failed") and a one-line
 * message. */
int lambda_runtime_fail(struct lambda_runtime *rt, const char *request_id, const char *error_type,
                        const char *message, struct err *e);
/* Posts an initialisation error (before the first next). */
int lambda_runtime_init_error(struct lambda_runtime *rt, const char *error_type,
                              const char *message, struct err *e);

#endif
