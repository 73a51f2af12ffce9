#include "aws/aws_skew.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/http.h"
#include "core/log.h"

int aws_http_date_parse(const char *s, int64_t *out)
{
    if (!s)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0')
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* The codes AWS answers with when the request's time is too far from its own
 * (the Java SDK's ClockSkewAdjuster list). */
static int is_skew_code(const char *code)
{
    static const char *const codes[] = {"RequestTimeTooSkewed",
                                        "RequestExpired",
                                        "RequestInTheFuture",
                                        "InvalidSignatureException",
                                        "SignatureDoesNotMatch",
                                        "AuthFailure",
                                        NULL};
    for (size_t i = 0; codes[i]; i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

int aws_clock_skew_correct(int64_t *offset, const struct http_response *resp, const char *code,
                           int64_t signed_at)
{
    if (!code || !is_skew_code(code))
        return 0;
    char *date = http_response_header(resp, "Date");
    int64_t server;
    int ok = aws_http_date_parse(date, &server) == 0;
    free(date);
    if (!ok)
        return 0;
    int64_t skew = server - signed_at;
    if (skew < AWS_CLOCK_SKEW_THRESHOLD && skew > -AWS_CLOCK_SKEW_THRESHOLD)
        return 0;
    *offset += skew;
    log_warn("aws: the local clock is %+llds off AWS's (%s); signing with AWS's time from now on "
             "(fix the host's clock: NTP)",
             (long long)-skew, code);
    return 1;
}
