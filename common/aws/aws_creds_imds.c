/* The EC2 instance metadata provider, IMDSv2 only:
 *   PUT  /latest/api/token  (X-aws-ec2-metadata-token-ttl-seconds: 21600)
 *   GET  /latest/meta-data/iam/security-credentials/        -> the role name
 *   GET  /latest/meta-data/iam/security-credentials/ROLE    -> the credentials JSON
 * AWS_EC2_METADATA_DISABLED=true skips it; AWS_EC2_METADATA_SERVICE_ENDPOINT
 * (or AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6) moves it. Timeouts are short
 * (1 s connect, 2 attempts) so a machine without IMDS fails in seconds. */
#include "aws/aws_creds_internal.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMDS_DEFAULT    "http://169.254.169.254"
#define IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL  "21600"
#define IMDS_ATTEMPTS   2
#define CREDS_PATH      "/latest/meta-data/iam/security-credentials/"

struct imds_source {
    struct creds_source base;
    struct creds_ctx *c;
    char *endpoint; /* without trailing slash */
};

static int imds_request(struct imds_source *is, const char *method, const char *path,
                        const struct http_header *h, size_t nh, struct http_response *resp,
                        struct err *e)
{
    char *url = xasprintf("%s%s", is->endpoint, path);
    char what[600];
    snprintf(what, sizeof what, "EC2 instance metadata %s %s", method, url);
    struct http_request req = {.method = method, .url = url, .headers = h, .n_headers = nh};
    int rc = creds_meta_call(is->c, &req, IMDS_ATTEMPTS, resp, what, e);
    if (rc == 0 && resp->status != 200)
        rc = err_set(e, resp->status >= 500 ? ERR_TRANSIENT : ERR_AWS_UNAUTHORIZED,
                     "%s: HTTP %ld%s", what, resp->status,
                     resp->status == 404 && strstr(path, CREDS_PATH)
                         ? " (no IAM role attached to this instance?)"
                         : "");
    free(url);
    return rc;
}

static int imds_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    struct imds_source *is = (struct imds_source *)s;
    struct http_response resp = {0};
    char *token = NULL, *role = NULL, *path = NULL;
    const struct http_header ttl[] = {{"X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL}};
    int rc = imds_request(is, "PUT", "/latest/api/token", ttl, 1, &resp, e);
    if (rc != 0)
        goto done;
    token = xstrdup(buf_cstr(&resp.body));
    token[strcspn(token, "\r\n")] = '\0';
    if (!*token) {
        rc = err_set(e, ERR_AWS_UNAUTHORIZED, "EC2 instance metadata: empty session token");
        goto done;
    }
    redact_add_secret(token);

    const struct http_header auth[] = {{"X-aws-ec2-metadata-token", token}};
    rc = imds_request(is, "GET", CREDS_PATH, auth, 1, &resp, e);
    if (rc != 0)
        goto done;
    /* One role per instance profile: the first line. */
    role = xstrdup(buf_cstr(&resp.body));
    role[strcspn(role, "\r\n")] = '\0';
    if (!*role || strchr(role, '/')) {
        rc = err_set(e, ERR_AWS_UNAUTHORIZED,
                     "EC2 instance metadata: no IAM role attached to this instance");
        goto done;
    }
    path = xasprintf("%s%s", CREDS_PATH, role);
    rc = imds_request(is, "GET", path, auth, 1, &resp, e);
    if (rc != 0)
        goto done;
    cJSON *j = cJSON_Parse(buf_cstr(&resp.body));
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "Code");
    if (cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "Message");
        rc = err_set(e, ERR_AWS_UNAUTHORIZED, "EC2 instance metadata: role %s: %s%s%s", role,
                     code->valuestring, cJSON_IsString(msg) ? ": " : "",
                     cJSON_IsString(msg) ? msg->valuestring : "");
    }
    cJSON_Delete(j);
    if (rc == 0) {
        char what[300];
        snprintf(what, sizeof what, "EC2 instance metadata: role %s", role);
        rc = creds_from_json(buf_cstr(&resp.body), "Token", 0, out, what, e);
    }
done:
    http_response_release(&resp);
    free_secret(token);
    free(role);
    free(path);
    return rc;
}

static void imds_source_free(struct creds_source *s)
{
    struct imds_source *is = (struct imds_source *)s;
    free(is->endpoint);
    free(is);
}

int creds_imds_detect(struct creds_ctx *c, struct creds_source **out, struct err *e)
{
    (void)e;
    *out = NULL;
    const char *disabled = creds_getenv("AWS_EC2_METADATA_DISABLED");
    if (disabled && strcasecmp(disabled, "true") == 0)
        return 0;
    const char *ep = creds_getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = creds_getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (!ep)
        ep = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
    struct imds_source *is = xcalloc(1, sizeof *is);
    is->base.name = xstrdup("imds");
    is->base.fetch = imds_fetch;
    is->base.free = imds_source_free;
    is->c = c;
    is->endpoint = xstrdup(ep);
    size_t n = strlen(is->endpoint);
    while (n > 0 && is->endpoint[n - 1] == '/')
        is->endpoint[--n] = '\0';
    *out = &is->base;
    return 0;
}
