/* The container provider (ECS, Fargate, EKS Pod Identity):
 *   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI -> http://169.254.170.2 + the URI
 *   AWS_CONTAINER_CREDENTIALS_FULL_URI     -> that URL, if it is https or its host
 *     is loopback, 169.254.170.2 (ECS), 169.254.170.23 or fd00:ec2::23 (EKS Pod
 *     Identity): credentials must not be fetched from just any plain-http host.
 *   Authorization: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read at every
 *     fetch: EKS rotates it) else AWS_CONTAINER_AUTHORIZATION_TOKEN.
 * The answer is JSON: AccessKeyId, SecretAccessKey, Token, Expiration. */
#include "aws/aws_creds_internal.h"
#include "core/buf.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ECS_HOST "http://169.254.170.2"

struct container_source {
    struct creds_source base;
    struct creds_ctx *c;
    char *url;
};

/* 1 if host (as http_url_parts gives it: IPv6 in brackets) may serve credentials over http. */
static int allowed_http_host(const char *host)
{
    static const char *const allowed[] = {
        "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]", NULL,
    };
    for (size_t i = 0; allowed[i]; i++)
        if (strcasecmp(host, allowed[i]) == 0)
            return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127; /* 127.0.0.0/8 */
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        char inner[64];
        struct in6_addr a6;
        if (n - 2 < sizeof inner) {
            memcpy(inner, host + 1, n - 2);
            inner[n - 2] = '\0';
            if (inet_pton(AF_INET6, inner, &a6) == 1) {
                struct in6_addr ec2;
                inet_pton(AF_INET6, "fd00:ec2::23", &ec2);
                return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, &ec2, sizeof a6) == 0;
            }
        }
    }
    return 0;
}

int aws_creds_container_uri_allowed(const char *uri)
{
    char *scheme, *host;
    int ok = http_url_parts(uri, &scheme, &host) == 0 &&
             (strcasecmp(scheme, "https") == 0 ||
              (strcasecmp(scheme, "http") == 0 && allowed_http_host(host)));
    free(scheme);
    free(host);
    return ok;
}

static int check_full_uri(const char *uri, struct err *e)
{
    char *scheme, *host;
    int rc = 0;
    if (http_url_parts(uri, &scheme, &host) != 0) {
        rc = err_set(e, ERR_CONFIG, "AWS_CONTAINER_CREDENTIALS_FULL_URI: \"%s\" is not a URL", uri);
    } else if (strcasecmp(scheme, "https") != 0 &&
               (strcasecmp(scheme, "http") != 0 || !allowed_http_host(host))) {
        rc = err_set(e, ERR_CONFIG,
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI: host \"%s\" is not allowed over %s "
                     "(use https, a loopback address, 169.254.170.2, 169.254.170.23 or "
                     "fd00:ec2::23)",
                     host, scheme);
    }
    free(scheme);
    free(host);
    return rc;
}

static int auth_token(char **out, struct err *e)
{
    *out = NULL;
    const char *file = creds_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (file)
        return creds_read_token_file(file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", out, e);
    const char *tok = creds_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (tok) {
        redact_add_secret(tok);
        *out = xstrdup(tok);
    }
    return 0;
}

static int container_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    struct container_source *cs = (struct container_source *)s;
    char *token = NULL;
    int rc = auth_token(&token, e);
    if (rc != 0)
        return err_prefix(e, "container credentials");
    if (token && strpbrk(token, "\r\n")) {
        free_secret(token);
        return err_set(e, ERR_CONFIG,
                       "container credentials: the authorization token contains a line break");
    }
    struct http_header h[2] = {{"Accept", "application/json"}, {"Authorization", token}};
    struct http_request req = {
        .method = "GET", .url = cs->url, .headers = h, .n_headers = token ? 2 : 1};
    struct http_response resp = {0};
    char what[600];
    snprintf(what, sizeof what, "container credentials from %s", cs->url);
    rc = creds_meta_call(cs->c, &req, cs->c->max_attempts, &resp, what, e);
    if (rc == 0 && resp.status != 200) {
        /* The endpoint answers errors as JSON {"code","message"} (ECS agent, EKS Pod
         * Identity Agent); show what it says. */
        cJSON *j = cJSON_Parse(buf_cstr(&resp.body));
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
        rc = err_set(e, resp.status >= 500 ? ERR_TRANSIENT : ERR_AWS_UNAUTHORIZED,
                     "%s: HTTP %ld%s%s%s%s", what, resp.status, cJSON_IsString(code) ? " " : "",
                     cJSON_IsString(code) ? code->valuestring : "", cJSON_IsString(msg) ? ": " : "",
                     cJSON_IsString(msg) ? msg->valuestring : "");
        cJSON_Delete(j);
    } else if (rc == 0) {
        rc = creds_from_json(buf_cstr(&resp.body), "Token", 0, out, what, e);
    }
    http_response_release(&resp);
    free_secret(token);
    return rc;
}

static void container_source_free(struct creds_source *s)
{
    struct container_source *cs = (struct container_source *)s;
    free(cs->url);
    free(cs);
}

int creds_container_detect(struct creds_ctx *c, struct creds_source **out, struct err *e)
{
    *out = NULL;
    const char *rel = creds_getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = creds_getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char *url;
    if (rel) {
        const char *base = c->container_endpoint ? c->container_endpoint : ECS_HOST;
        size_t bl = strlen(base);
        url = xasprintf("%.*s%s%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base,
                        rel[0] == '/' ? "" : "/", rel);
    } else if (full) {
        int rc = check_full_uri(full, e);
        if (rc != 0)
            return rc;
        url = xstrdup(full);
    } else {
        return 0;
    }
    struct container_source *cs = xcalloc(1, sizeof *cs);
    cs->base.name = xstrdup("container");
    cs->base.fetch = container_fetch;
    cs->base.free = container_source_free;
    cs->c = c;
    cs->url = url;
    *out = &cs->base;
    return 0;
}
