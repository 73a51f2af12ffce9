/* One HTTP client per process on top of libcurl: one reused connection (keep-alive),
 * TLS verification always on unless the caller explicitly asks otherwise (DBLab
 * `insecure`), connect and total timeouts, the standard proxy variables (libcurl
 * honours http_proxy/https_proxy/no_proxy itself). It never logs header values. */
#ifndef DRR_HTTP_H
#define DRR_HTTP_H

#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

struct http_header {
    const char *name;
    const char *value;
};

struct http_request {
    const char *method; /* "GET", "POST", "PUT" */
    const char *url;
    const struct http_header *headers; /* may be NULL */
    size_t n_headers;
    const char *body; /* may be NULL */
    size_t body_len;
    long timeout_ms; /* total; 0 = client default, < 0 = none */
    /* A body larger than this goes to an unlinked temporary file instead of
     * memory (resp->spilled, resp->body_fd), so a huge answer read as a stream
     * costs no memory for its text. 0 = always in memory. */
    size_t spill_above;
};

struct http_response {
    long status; /* 0 when no HTTP answer (network error) */
    struct buf body;
    struct buf headers; /* raw response header block */
    int curl_code;      /* CURLcode of the transfer */
    int timed_out;      /* the transfer ran past its timeout (a network error) */
    char error[256];    /* curl's error text on network errors */
    /* When the body passed request.spill_above: it is all in body_fd (an
     * unlinked file in $TMPDIR, read it from offset 0), body_len bytes, and
     * body is empty. http_response_reset/free close it. */
    int spilled;
    int body_fd;
    size_t body_len;
};

struct http_tls {
    const char *ca_file; /* NULL = system bundle (or AWS_CA_BUNDLE for AWS) */
    int insecure;        /* 1 = do not verify peer/host (logged by caller) */
};

struct http_client;
struct cancel;

struct http_client *http_client_new(const struct http_tls *tls, long connect_timeout_ms,
                                    long total_timeout_ms);
void http_client_free(struct http_client *c);
/* The owner's cancellation (core/cancel.h), checked before and during every
 * transfer; its deadline also bounds each transfer. cancel must outlive the
 * client (or be replaced); NULL = never cancelled. */
void http_client_set_cancel(struct http_client *c, const struct cancel *cancel);
const struct cancel *http_client_cancel(const struct http_client *c);

/* Performs the request. Returns 0 when an HTTP response arrived (any status),
 * ERR_TRANSIENT on network errors/timeouts (resp->error says which),
 * ERR_TLS on TLS verification errors and ERR_CONFIG on URL errors (retrying
 * will not help), or cancel_err's kind when the client's cancellation stopped it
 * (a signal N: ERR_INTERRUPTED with e->signo = N; the deadline: ERR_TIMEOUT).
 * A header value with a control character (http_header_bad_byte) is refused
 * before anything is sent: ERR_CONFIG naming the header, never its value.
 * resp must be zero-initialised or reset with http_response_reset. */
int http_do(struct http_client *c, const struct http_request *req, struct http_response *resp,
            struct err *e);
void http_response_reset(struct http_response *r);
void http_response_release(struct http_response *r);

/* The first byte of value that must not go into an HTTP header field -- a
 * control character (CR and LF would end the header and inject others; the rest
 * are refused by servers and proxies or desync them) -- or NULL when none.
 * Checked by http_do for every header it sends; callers check earlier to name
 * the configuration key the value came from. */
const char *http_header_bad_byte(const char *value);

/* Case-insensitive lookup of a response header; returns malloc'd value or NULL. */
char *http_response_header(const struct http_response *r, const char *name);

/* The scheme and host of url as libcurl parses it (an IPv6 host in brackets),
 * malloc'd. 0, or -1 when url is not a URL (both NULL then). */
int http_url_parts(const char *url, char **scheme, char **host);

/* Global libcurl init/cleanup; call once in main (http_client_new calls init lazily). */
void http_global_init(void);
void http_global_cleanup(void);

#endif
