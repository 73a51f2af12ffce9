/* Clock skew. AWS rejects a request signed more than 5 minutes off its own clock
 * (RequestExpired, SignatureDoesNotMatch, InvalidSignatureException, ...). As the
 * Java and Go SDKs do, a client that gets such an error compares its signing time
 * with the response's Date header and, when they are far apart, signs with AWS's
 * time from then on. Applied by the one transport (aws_transport.c) to every
 * signed call, the credential chain's STS calls included: one offset. */
#ifndef DRR_AWS_SKEW_H
#define DRR_AWS_SKEW_H

#include <stdint.h>

struct http_response;

/* Differences between the local clock and AWS's larger than this (seconds)
 * are corrected after a skew error (AWS rejects beyond 5 minutes). */
#define AWS_CLOCK_SKEW_THRESHOLD 240

/* Parses an HTTP Date header ("Wed, 26 Nov 2026 01:12:00 GMT", RFC 7231's
 * IMF-fixdate) into epoch seconds. 0 ok, -1 invalid. */
int aws_http_date_parse(const char *s, int64_t *out);

/* After an error answer with AWS error code `code` to a request signed at
 * `signed_at` (local clock + *offset): when the code is one AWS gives for a skewed
 * clock and resp's Date is more than AWS_CLOCK_SKEW_THRESHOLD away, adds the
 * difference to *offset, logs a warning and returns 1 (sign again now); else 0. */
int aws_clock_skew_correct(int64_t *offset, const struct http_response *resp, const char *code,
                           int64_t signed_at);

#endif
