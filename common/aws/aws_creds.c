/* The credential chain: provider object, chain resolution, the refreshing
 * cache, and helpers shared by the providers (aws_creds_*.c). */
#include "aws/aws_creds.h"
#include "aws/aws_creds_internal.h"
#include "aws/aws_ini.h"
#include "aws/aws_retry.h"
#include "aws/aws_transport.h"
#include "aws/secrets.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/http.h"
#include "core/http_retry.h"
#include "core/log.h"
#include "core/retry.h"
#include "core/stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct aws_creds_provider {
    struct creds_ctx ctx;
    struct creds_cache cache; /* cache.src NULL until the chain is resolved */
};

/* ---- credentials --------------------------------------------------------- */

void aws_credentials_release(struct aws_credentials *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    memset(c, 0, sizeof *c);
}

void creds_set(struct aws_credentials *out, const char *akid, const char *secret, const char *token,
               int64_t expiration, const char *source)
{
    aws_credentials_release(out);
    out->access_key_id = xstrdup(akid);
    out->secret_access_key = xstrdup(secret);
    out->session_token = (token && *token) ? xstrdup(token) : NULL;
    out->expiration = expiration;
    out->source = source;
    redact_add_secret(out->secret_access_key);
    if (out->session_token)
        redact_add_secret(out->session_token);
}

const char *creds_getenv(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

int creds_from_json(const char *json, const char *token_key, int require_version,
                    struct aws_credentials *out, const char *what, struct err *e)
{
    cJSON *root = cJSON_Parse(json ? json : "");
    int rc = 0;
    if (!root || !cJSON_IsObject(root)) {
        rc = err_set(e, ERR_AWS_UNAUTHORIZED, "%s: the answer is not a JSON object", what);
        goto done;
    }
    if (require_version) {
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
        if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
            rc = err_set(e, ERR_AWS_UNAUTHORIZED, "%s: \"Version\" must be 1", what);
            goto done;
        }
    }
    const char *akid = json_string(root, "AccessKeyId");
    const char *secret = json_string(root, "SecretAccessKey");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, token_key);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "Expiration");
    /* Register the secrets before any message could mention them. */
    if (secret)
        redact_add_secret(secret);
    if (cJSON_IsString(tok))
        redact_add_secret(tok->valuestring);
    if (!akid) {
        rc = err_set(e, ERR_AWS_UNAUTHORIZED, "%s: \"AccessKeyId\" is missing", what);
        goto done;
    }
    if (!secret) {
        rc = err_set(e, ERR_AWS_UNAUTHORIZED, "%s: \"SecretAccessKey\" is missing", what);
        goto done;
    }
    if (tok && !cJSON_IsNull(tok) && !cJSON_IsString(tok)) {
        rc = err_set(e, ERR_AWS_UNAUTHORIZED, "%s: \"%s\" is not a string", what, token_key);
        goto done;
    }
    int64_t expiration = 0;
    if (exp && !cJSON_IsNull(exp)) {
        if (!cJSON_IsString(exp) || clock_parse_rfc3339(exp->valuestring, &expiration) != 0) {
            rc = err_set(e, ERR_AWS_UNAUTHORIZED, "%s: \"Expiration\" is not an RFC 3339 time",
                         what);
            goto done;
        }
    }
    creds_set(out, akid, secret, cJSON_IsString(tok) ? tok->valuestring : NULL, expiration, NULL);
done:
    cJSON_Delete(root);
    return rc;
}

int creds_read_token_file(const char *path, const char *what, char **out, struct err *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_AWS_UNAUTHORIZED, "%s %s: %s", what, path, strerror(errno));
    struct buf b = BUF_INIT;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            free_secret(buf_detach(&b));
            return err_set(e, ERR_AWS_UNAUTHORIZED, "%s %s: %s", what, path, strerror(saved));
        }
        if (n == 0)
            break;
        buf_append(&b, chunk, (size_t)n);
        if (b.len > 1024 * 1024) {
            close(fd);
            free_secret(buf_detach(&b));
            return err_set(e, ERR_AWS_UNAUTHORIZED, "%s %s: larger than 1 MiB", what, path);
        }
    }
    close(fd);
    char *s = buf_detach(&b);
    /* Exactly one trailing newline goes (the one `echo` or an editor adds);
     * anything else stays and is judged where the token is used. */
    secret_strip_newline(s);
    size_t len = strlen(s);
    if (len == 0) {
        free(s);
        return err_set(e, ERR_AWS_UNAUTHORIZED, "%s %s: empty", what, path);
    }
    redact_add_secret(s);
    *out = s;
    return 0;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct aws_transport *creds_transport(struct creds_ctx *c, struct err *e)
{
    if (!c->transport) {
        struct aws_transport_options o = {5000, 30000, c->max_attempts,
                                          creds_getenv("AWS_CA_BUNDLE")};
        if (aws_transport_new(&o, &c->transport, e) != 0)
            return NULL;
        c->owns_transport = 1;
    }
    return c->transport;
}

const struct cancel *creds_cancel(struct creds_ctx *c)
{
    return c->transport ? aws_transport_cancel(c->transport) : NULL;
}

static struct http_client *creds_meta_http(struct creds_ctx *c)
{
    /* IMDS and the container endpoint are local: fail fast where they do not
     * exist (a laptop, CI) instead of hanging for the default timeouts. */
    if (!c->meta_http) {
        c->meta_http = http_client_new(NULL, 1000, 5000);
        if (c->meta_http)
            http_client_set_cancel(c->meta_http, creds_cancel(c));
    }
    return c->meta_http;
}

/* IMDS and the container endpoint fail as AWS endpoints do: judged by status. */
static enum retry_class meta_classify(int hrc, const struct http_response *resp, void *ud)
{
    (void)ud;
    return aws_retry_classify(hrc == 0 ? resp->status : 0, NULL, hrc != 0 && resp->timed_out);
}

int creds_meta_call(struct creds_ctx *c, const struct http_request *req, int attempts,
                    struct http_response *resp, const char *what, struct err *e)
{
    struct http_client *h = creds_meta_http(c);
    if (!h)
        return err_set(e, ERR_INTERNAL, "%s: cannot create the HTTP client", what);
    struct retry retry;
    aws_retry_init(&retry, attempts < 1 ? 1 : attempts);
    int sent = 0;
    struct http_retry_call call = {
        .http = h,
        .req = req,
        .retry = &retry,
        .classify = meta_classify,
        .what = what,
        .quiet = 1,
        .attempts = &sent,
    };
    int rc = http_retry_do(&call, resp, e);
    stats_add(STATS_AWS_CALLS, 1); /* IMDS and container calls count as AWS calls */
    stats_add(STATS_AWS_ATTEMPTS, (unsigned long)sent);
    return rc ? err_prefix(e, "%s", what) : 0;
}

/* ---- sources and the cache ----------------------------------------------- */

void creds_source_free(struct creds_source *s)
{
    if (!s)
        return;
    char *name = s->name;
    s->free(s);
    free(name);
}

void creds_cache_release(struct creds_cache *c)
{
    aws_credentials_release(&c->cur);
    creds_source_free(c->src);
    memset(c, 0, sizeof *c);
}

/* The access key id goes into the Authorization header, the session token into
 * X-Amz-Security-Token (and the secret key into every signature): a control
 * character would inject headers or break the request. Refused, naming the
 * field and the source, never the value: exit 78 whatever the source, as an
 * unusable credential is fixed in configuration (the environment, the shared
 * files, the role), not by retrying. */
static int creds_check_header_safe(const struct aws_credentials *cr, struct err *e)
{
    const int env = cr->source && strcmp(cr->source, "environment") == 0;
    const struct {
        const char *value, *what, *env_name;
    } fields[] = {
        {cr->access_key_id, "access key id", "AWS_ACCESS_KEY_ID"},
        {cr->secret_access_key, "secret access key", "AWS_SECRET_ACCESS_KEY"},
        {cr->session_token, "session token", "AWS_SESSION_TOKEN"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *bad = fields[i].value ? http_header_bad_byte(fields[i].value) : NULL;
        if (bad)
            return err_set(e, ERR_CONFIG,
                           "AWS credentials from %s: the %s%s%s%s contains a "
                           "control character (byte 0x%02x at offset %zu); refusing to send it",
                           cr->source ? cr->source : "?", fields[i].what, env ? " (" : "",
                           env ? fields[i].env_name : "", env ? ")" : "", (unsigned char)*bad,
                           (size_t)(bad - fields[i].value));
    }
    return 0;
}

int creds_cache_get(struct creds_cache *c, const struct aws_credentials **out, struct err *e)
{
    int64_t now = clock_now();
    char when[32];
    *out = NULL;
    if (c->have) {
        if (c->cur.expiration == 0) {
            *out = &c->cur;
            return 0;
        }
        int64_t left = c->cur.expiration - now;
        if (left >= AWS_CREDS_ADVISORY_REFRESH) {
            *out = &c->cur;
            return 0;
        }
        /* Backing off after a failed advisory refresh. */
        if (left >= AWS_CREDS_MANDATORY_REFRESH && now < c->next_advisory_try) {
            *out = &c->cur;
            return 0;
        }
        /* The source only hands out credentials already inside the window
         * (IMDS near a rotation): use them a while rather than refetch on
         * every request. */
        if (now < c->short_until && left > 60) {
            *out = &c->cur;
            return 0;
        }
    }

    struct aws_credentials fresh = {0};
    struct err fe = {0};
    int rc = c->src->fetch(c->src, &fresh, &fe);
    if (rc == 0 && fresh.expiration != 0 && fresh.expiration <= now) {
        clock_format_rfc3339(fresh.expiration, when, sizeof when);
        rc = err_set(&fe, ERR_AWS_UNAUTHORIZED, "%s returned credentials that expired at %s",
                     c->src->name, when);
    }
    if (rc != 0) {
        aws_credentials_release(&fresh);
        if (c->have && c->cur.expiration - now >= AWS_CREDS_MANDATORY_REFRESH) {
            clock_format_rfc3339(c->cur.expiration, when, sizeof when);
            log_warn("advisory refresh of AWS credentials from %s failed; keeping the current "
                     "ones (valid until %s): %s",
                     c->src->name, when, fe.msg);
            c->next_advisory_try = now + AWS_CREDS_ADVISORY_RETRY;
            *out = &c->cur;
            return 0;
        }
        if (e)
            *e = fe;
        if (c->have) {
            clock_format_rfc3339(c->cur.expiration, when, sizeof when);
            err_prefix(e, "refreshing AWS credentials from %s (the current ones expire at %s)",
                       c->src->name, when);
        }
        return rc;
    }

    fresh.source = c->src->name;
    rc = creds_check_header_safe(&fresh, e);
    if (rc != 0) {
        aws_credentials_release(&fresh);
        return rc;
    }
    /* The access key id is not a secret, but like the AWS CLI we show only its
     * end: enough to tell which key it is. */
    char hint[8] = "";
    size_t klen = strlen(fresh.access_key_id);
    snprintf(hint, sizeof hint, "%s", fresh.access_key_id + (klen > 4 ? klen - 4 : 0));
    if (fresh.expiration != 0) {
        clock_format_rfc3339(fresh.expiration, when, sizeof when);
        log_info("%s AWS credentials from %s (access key ...%s, expire %s)",
                 c->have ? "refreshed" : "using", c->src->name, hint, when);
        if (fresh.expiration - now < AWS_CREDS_ADVISORY_REFRESH) {
            log_warn("AWS credentials from %s expire in %lld s, inside the %d s refresh window",
                     c->src->name, (long long)(fresh.expiration - now), AWS_CREDS_ADVISORY_REFRESH);
            c->short_until = now + AWS_CREDS_ADVISORY_RETRY;
        }
    } else {
        log_info("%s AWS credentials from %s (access key ...%s)", c->have ? "refreshed" : "using",
                 c->src->name, hint);
    }
    aws_credentials_release(&c->cur);
    c->cur = fresh;
    c->have = 1;
    *out = &c->cur;
    return 0;
}

/* ---- the provider ---------------------------------------------------------- */

static struct aws_creds_provider *provider_alloc(void)
{
    struct aws_creds_provider *p = xcalloc(1, sizeof *p);
    p->ctx.max_attempts = 3;
    return p;
}

struct aws_creds_provider *aws_creds_provider_new(const struct aws_creds_options *opt)
{
    struct aws_creds_provider *p = provider_alloc();
    if (opt) {
        p->ctx.profile = xstrdup(opt->profile);
        /* config.c resolves aws.profile else AWS_PROFILE into one field: the
         * same value as AWS_PROFILE counts as coming from the environment. */
        const char *envp = creds_getenv("AWS_PROFILE");
        p->ctx.profile_from_config = opt->profile && (!envp || strcmp(envp, opt->profile) != 0);
        p->ctx.region = xstrdup(opt->region);
        p->ctx.sts_endpoint = xstrdup(opt->sts_endpoint);
        p->ctx.transport = opt->transport;
        if (opt->max_attempts > 0)
            p->ctx.max_attempts = opt->max_attempts;
    }
    return p;
}

struct aws_creds_provider *aws_creds_provider_new_static(const char *access_key_id,
                                                         const char *secret_access_key,
                                                         const char *session_token)
{
    struct aws_creds_provider *p = provider_alloc();
    p->cache.src = creds_static_new("static", access_key_id, secret_access_key, session_token);
    return p;
}

void aws_creds_provider_set_container_endpoint(struct aws_creds_provider *p, const char *base_url)
{
    free(p->ctx.container_endpoint);
    p->ctx.container_endpoint = xstrdup(base_url);
}

void aws_creds_provider_free(struct aws_creds_provider *p)
{
    if (!p)
        return;
    creds_cache_release(&p->cache);
    free(p->ctx.profile);
    free(p->ctx.region);
    free(p->ctx.sts_endpoint);
    free(p->ctx.container_endpoint);
    if (p->ctx.owns_transport)
        aws_transport_free(p->ctx.transport);
    http_client_free(p->ctx.meta_http);
    free(p);
}

typedef int (*detect_fn)(struct creds_ctx *, struct creds_source **, struct err *);

static int resolve_chain(struct aws_creds_provider *p, struct err *e)
{
    static const detect_fn chain[] = {
        creds_env_detect,       creds_profile_detect, creds_webid_detect,
        creds_container_detect, creds_imds_detect,
    };
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        struct creds_source *src = NULL;
        /* A profile the configuration names (aws.profile) beats environment
         * keys, as a programmatically chosen profile does in botocore and the
         * Go SDK; one named only by AWS_PROFILE does not. */
        if (chain[i] == creds_env_detect && p->ctx.profile_from_config)
            continue;
        int rc = chain[i](&p->ctx, &src, e);
        if (rc != 0)
            return rc;
        if (src) {
            p->cache.src = src;
            log_debug("AWS credentials source: %s", src->name);
            return 0;
        }
    }
    return err_set(e, ERR_AWS_UNAUTHORIZED,
                   "no AWS credentials found: none in the environment (AWS_ACCESS_KEY_ID), "
                   "profile \"%s\", web identity (AWS_WEB_IDENTITY_TOKEN_FILE) or container "
                   "settings, and EC2 instance metadata is disabled (AWS_EC2_METADATA_DISABLED)",
                   aws_ini_profile_name(p->ctx.profile));
}

int aws_creds_get(struct aws_creds_provider *p, const struct aws_credentials **out, struct err *e)
{
    *out = NULL;
    int first = !p->cache.src || !p->cache.have;
    if (!p->cache.src) {
        int rc = resolve_chain(p, e);
        if (rc != 0)
            return rc;
    }
    int rc = creds_cache_get(&p->cache, out, e);
    if (rc != 0 && first && strcmp(p->cache.src->name, "imds") == 0) {
        /* IMDS is the last resort: say what else was looked at. */
        err_prefix(e,
                   "no AWS credentials found in the environment, profile \"%s\", web "
                   "identity or container settings, and EC2 instance metadata failed",
                   aws_ini_profile_name(p->ctx.profile));
    }
    return rc;
}
