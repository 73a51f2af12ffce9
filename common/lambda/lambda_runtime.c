#include "lambda/lambda_runtime.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/http.h"
#include "core/signals.h"

#define API_VERSION     "2018-06-01"
/* An event or a response is at most 6 MB (Lambda's synchronous payload limit). */
#define MAX_EVENT_BYTES (6 * 1024 * 1024 + 100)

struct lambda_runtime {
    char *base; /* http://host:port/2018-06-01/runtime */
    struct http_client *http;
    struct cancel cancel; /* the http client's: a signal stops the long poll too */
};

static int valid_address(const char *a)
{
    const char *colon = strrchr(a, ':');
    if (!colon || colon == a || !colon[1] || strlen(a) > 255)
        return 0;
    for (const char *p = a; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            return 0;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

int lambda_runtime_new(struct lambda_runtime **out, struct err *e)
{
    *out = NULL;
    const char *addr = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!addr || !*addr)
        return err_set(e, ERR_CONFIG,
                       "AWS_LAMBDA_RUNTIME_API is not set: this program is "
                       "the Lambda runtime of a container image and runs under Lambda (or the "
                       "Runtime Interface Emulator)");
    if (!valid_address(addr))
        return err_set(e, ERR_CONFIG, "AWS_LAMBDA_RUNTIME_API: \"%s\" is not host:port", addr);
    struct lambda_runtime *rt = xcalloc(1, sizeof *rt);
    rt->base = xasprintf("http://%s/" API_VERSION "/runtime", addr);
    rt->http = http_client_new(NULL, 2000, 10000);
    if (!rt->http) {
        lambda_runtime_free(rt);
        return err_set(e, ERR_INTERNAL, "cannot create the HTTP client");
    }
    /* The runtime loop is the process's own: SIGTERM (Lambda's shutdown) ends a
     * request in flight, the long poll for the next event included. */
    rt->cancel = signals_cancel();
    http_client_set_cancel(rt->http, &rt->cancel);
    *out = rt;
    return 0;
}

void lambda_runtime_free(struct lambda_runtime *rt)
{
    if (!rt)
        return;
    http_client_free(rt->http);
    free(rt->base);
    free(rt);
}

void lambda_invocation_release(struct lambda_invocation *inv)
{
    buf_release(&inv->event);
    memset(inv, 0, sizeof *inv);
}

/* A request id goes into a URL path: only what Lambda's ids are made of. */
static int valid_request_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return 0;
    return 1;
}

int lambda_runtime_next(struct lambda_runtime *rt, struct lambda_invocation *inv, struct err *e)
{
    memset(inv, 0, sizeof *inv);
    char *url = xasprintf("%s/invocation/next", rt->base);
    struct http_request req = {.method = "GET", .url = url, .timeout_ms = -1};
    struct http_response resp = {0};
    int rc = http_do(rt->http, &req, &resp, e);
    free(url);
    if (rc) {
        http_response_release(&resp);
        return err_prefix(e, "Lambda runtime API /next");
    }
    if (resp.status != 200) {
        rc = err_set(e, resp.status >= 500 ? ERR_TRANSIENT : ERR_INTERNAL,
                     "Lambda runtime API /next: HTTP %ld", resp.status);
        http_response_release(&resp);
        return rc;
    }
    char *id = http_response_header(&resp, "Lambda-Runtime-Aws-Request-Id");
    char *deadline = http_response_header(&resp, "Lambda-Runtime-Deadline-Ms");
    if (!id || !valid_request_id(id)) {
        rc = err_set(e, ERR_INTERNAL, "Lambda runtime API /next: %s request id",
                     id ? "a malformed" : "no");
    } else if (resp.body.len > MAX_EVENT_BYTES) {
        rc = err_set(e, ERR_INTERNAL, "Lambda runtime API /next: an event of %zu bytes",
                     resp.body.len);
    } else {
        snprintf(inv->request_id, sizeof inv->request_id, "%s", id);
        if (deadline) {
            char *end;
            long long v = strtoll(deadline, &end, 10);
            inv->deadline_ms = (*end == '\0' && v > 0) ? v : 0;
        }
        inv->event = resp.body;
        memset(&resp.body, 0, sizeof resp.body);
    }
    free(id);
    free(deadline);
    http_response_release(&resp);
    return rc;
}

static int post(struct lambda_runtime *rt, const char *path, const char *error_type,
                const char *body, struct err *e)
{
    char *url = xasprintf("%s/%s", rt->base, path);
    struct http_header hdrs[2] = {{"Content-Type", "application/json"},
                                  {"Lambda-Runtime-Function-Error-Type", error_type}};
    struct http_request req = {.method = "POST",
                               .url = url,
                               .headers = hdrs,
                               .n_headers = error_type ? 2 : 1,
                               .body = body,
                               .body_len = strlen(body)};
    struct http_response resp = {0};
    int rc = http_do(rt->http, &req, &resp, e);
    if (rc)
        err_prefix(e, "Lambda runtime API %s", path);
    else if (resp.status != 202)
        rc = err_set(e, resp.status == 413 ? ERR_INPUT : ERR_INTERNAL,
                     "Lambda runtime API %s: HTTP %ld %.200s", path, resp.status,
                     buf_cstr(&resp.body));
    free(url);
    http_response_release(&resp);
    return rc;
}

int lambda_runtime_respond(struct lambda_runtime *rt, const char *request_id, const char *json,
                           struct err *e)
{
    char path[128];
    snprintf(path, sizeof path, "invocation/%s/response", request_id);
    return post(rt, path, NULL, json, e);
}

static char *error_body(const char *error_type, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "errorMessage", message ? message : "");
    cJSON_AddStringToObject(o, "errorType", error_type);
    cJSON_AddArrayToObject(o, "stackTrace");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

int lambda_runtime_fail(struct lambda_runtime *rt, const char *request_id, const char *error_type,
                        const char *message, struct err *e)
{
    char path[128];
    snprintf(path, sizeof path, "invocation/%s/error", request_id);
    char *body = error_body(error_type, message);
    int rc = post(rt, path, error_type, body, e);
    cJSON_free(body);
    return rc;
}

int lambda_runtime_init_error(struct lambda_runtime *rt, const char *error_type,
                              const char *message, struct err *e)
{
    char *body = error_body(error_type, message);
    int rc = post(rt, "init/error", error_type, body, e);
    cJSON_free(body);
    return rc;
}
