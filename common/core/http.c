#include "core/cancel.h"
#include "core/http.h"
#include "core/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct http_client {
    CURL *curl; /* one handle for the whole process: its connection cache is reused */
    char *ca_file;
    int insecure;
    long connect_timeout_ms;
    long total_timeout_ms;
    const struct cancel *cancel; /* the owner's; NULL = never cancelled */
};

static int global_initialised;

void http_global_init(void)
{
    if (!global_initialised) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_initialised = 1;
    }
}

void http_global_cleanup(void)
{
    if (global_initialised) {
        curl_global_cleanup();
        global_initialised = 0;
    }
}

struct http_client *http_client_new(const struct http_tls *tls, long connect_timeout_ms,
                                    long total_timeout_ms)
{
    http_global_init();
    struct http_client *c = xcalloc(1, sizeof *c);
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return NULL;
    }
    if (tls) {
        c->ca_file = xstrdup(tls->ca_file);
        c->insecure = tls->insecure;
    }
    c->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 10000;
    c->total_timeout_ms = total_timeout_ms > 0 ? total_timeout_ms : 60000;
    return c;
}

void http_client_set_cancel(struct http_client *c, const struct cancel *cancel)
{
    c->cancel = cancel;
}

const struct cancel *http_client_cancel(const struct http_client *c)
{
    return c->cancel;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->ca_file);
    free(c);
}

static void close_spill(struct http_response *r)
{
    if (r->spilled)
        close(r->body_fd);
    r->spilled = 0;
    r->body_fd = -1;
    r->body_len = 0;
}

void http_response_reset(struct http_response *r)
{
    close_spill(r);
    r->status = 0;
    r->curl_code = 0;
    r->timed_out = 0;
    r->error[0] = '\0';
    buf_reset(&r->body);
    buf_reset(&r->headers);
}

void http_response_release(struct http_response *r)
{
    close_spill(r);
    buf_release(&r->body);
    buf_release(&r->headers);
    r->status = 0;
}

/* Bodies larger than this are refused: no answer we read is near it, and an
 * endless or hostile body must not exhaust memory. */
#define HTTP_MAX_BODY (64u * 1024u * 1024u)

struct body_sink {
    struct http_response *resp;
    size_t spill_above;
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* An unlinked file for a body too large for memory: O_TMPFILE in $TMPDIR (or
 * /tmp), never visible by name; mode 0600 either way. */
static int spill_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
    if (fd >= 0)
        return fd;
    char *path = xasprintf("%s/drr-body.XXXXXX", dir);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    free(path);
    return fd;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct body_sink *sink = userdata;
    struct http_response *r = sink->resp;
    size_t n = size * nmemb;
    size_t have = r->spilled ? r->body_len : r->body.len;
    if (have + n > HTTP_MAX_BODY)
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    if (!r->spilled && sink->spill_above > 0 && have + n > sink->spill_above) {
        int fd = spill_file();
        if (fd < 0 || write_all(fd, r->body.data ? r->body.data : "", r->body.len) != 0) {
            if (fd >= 0)
                close(fd);
            return 0;
        }
        r->spilled = 1;
        r->body_fd = fd;
        r->body_len = r->body.len;
        buf_release(&r->body);
    }
    if (r->spilled) {
        if (write_all(r->body_fd, ptr, n) != 0)
            return 0;
        r->body_len += n;
        return n;
    }
    buf_append(&r->body, ptr, n);
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    /* A new status line starts a new block (after 100-continue or a proxy CONNECT). */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
        buf_reset(b);
    if (b->len + n <= 1024 * 1024)
        buf_append(b, ptr, n);
    return n;
}

/* Aborts a transfer promptly when the client's owner cancels it (a signal, the
 * deadline); libcurl calls this at least once a second, and at once after a
 * signal interrupts its poll. */
static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return cancel_check(clientp) ? 1 : 0;
}

const char *http_header_bad_byte(const char *value)
{
    for (const unsigned char *p = (const unsigned char *)value; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return (const char *)p;
    return NULL;
}

int http_do(struct http_client *c, const struct http_request *req, struct http_response *resp,
            struct err *e)
{
    CURL *h = c->curl;
    http_response_reset(resp);
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *bad = http_header_bad_byte(req->headers[i].value);
        if (bad)
            return err_set(e, ERR_CONFIG,
                           "%s %s: the %s header would contain a control "
                           "character (byte 0x%02x at offset %zu); nothing was sent",
                           req->method ? req->method : "GET", req->url, req->headers[i].name,
                           (unsigned char)*bad, (size_t)(bad - req->headers[i].value));
    }
    int stop = cancel_check(c->cancel);
    if (stop) {
        cancel_reason(stop, resp->error, sizeof resp->error);
        return cancel_err(e, stop, req->url, "before the request");
    }
    curl_easy_reset(h); /* options only: live connections stay cached */

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "dblab-rds-refresh/" DRR_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    /* timeout_ms < 0: no total timeout (the Lambda Runtime API's long-poll /next). */
    long total_ms = req->timeout_ms > 0   ? req->timeout_ms
                    : req->timeout_ms < 0 ? 0L
                                          : c->total_timeout_ms;
    /* The owner's deadline bounds the transfer too (at least 1 ms: 0 is "none"). */
    double left = cancel_remaining(c->cancel);
    int deadline_bound = left >= 0 && (total_ms == 0 || left * 1000.0 < (double)total_ms);
    if (deadline_bound)
        total_ms = left * 1000.0 < 1.0 ? 1L : (long)(left * 1000.0);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    struct body_sink sink = {resp, req->spill_above};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->headers);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)c->cancel);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);

    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        char *line = xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);
        hdrs = curl_slist_append(hdrs, line);
        explicit_bzero(line, strlen(line)); /* header values may be secrets */
        free(line);
    }
    /* No "Expect: 100-continue" round trip, and no header we did not sign. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (req->body)
        hdrs = curl_slist_append(hdrs, "Accept:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    const char *method = req->method ? req->method : "GET";
    if (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }

    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    resp->curl_code = (int)rc;

    if (rc != CURLE_OK) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        resp->status = 0;
        stop = cancel_check(c->cancel);
        /* libcurl's timer may fire a hair before the deadline it was set to. */
        if (!stop && rc == CURLE_OPERATION_TIMEDOUT && deadline_bound)
            stop = CANCEL_DEADLINE;
        if (stop && (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_OPERATION_TIMEDOUT)) {
            /* Not a network failure: nobody should retry it or count it as a failed poll. */
            char what[600];
            snprintf(what, sizeof what, "%s %s", method, req->url);
            int code = cancel_err(e, stop, what, "during the request");
            cancel_reason(stop, resp->error, sizeof resp->error);
            return code;
        }
        snprintf(resp->error, sizeof resp->error, "%s", why);
        resp->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        /* A TLS verification failure or a bad URL will not heal by retrying. */
        enum err_kind kind = ERR_TRANSIENT;
        if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
            rc == CURLE_SSL_CERTPROBLEM)
            kind = ERR_TLS;
        else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
            kind = ERR_CONFIG;
        return err_set(e, kind, "%s %s: %s", method, req->url, why);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    return 0;
}

char *http_response_header(const struct http_response *r, const char *name)
{
    const char *p = buf_cstr(&r->headers);
    size_t n = strlen(name);
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            const char *end = p + linelen;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            return xstrndup(v, (size_t)(end - v));
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

int http_url_parts(const char *url, char **scheme, char **host)
{
    *scheme = *host = NULL;
    CURLU *u = curl_url();
    char *cs = NULL, *ch = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &cs, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &ch, 0) == CURLUE_OK;
    if (ok) {
        *scheme = xstrdup(cs);
        *host = xstrdup(ch);
    }
    curl_free(cs);
    curl_free(ch);
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}
