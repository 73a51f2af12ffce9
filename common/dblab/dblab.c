#include "dblab/dblab.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/cancel.h"
#include "core/http.h"
#include "core/http_retry.h"
#include "core/json_type.h"
#include "core/log.h"
#include "core/retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dblab_client {
    struct http_client *http;
    char *base; /* endpoint without trailing '/' */
    char *token;
    long timeout_ms;
    int max_attempts;
    struct retry retry;   /* the shared policy: jittered, capped backoff */
    struct cancel cancel; /* the owner's (dblab_client_set_cancel); the http client points here */
};

int dblab_client_new(const struct dblab_options *opt, struct dblab_client **out, struct err *e)
{
    *out = NULL;
    if (!opt->endpoint ||
        (strncmp(opt->endpoint, "http://", 7) != 0 && strncmp(opt->endpoint, "https://", 8) != 0))
        return err_set(e, ERR_CONFIG, "dblab.apiEndpoint: \"%s\" is not an http:// or https:// URL",
                       opt->endpoint ? opt->endpoint : "");
    if (!opt->token || !*opt->token)
        return err_set(e, ERR_CONFIG, "dblab.token: required");
    redact_add_secret(opt->token);
    /* The token is the Verification-Token header: a CR or LF would inject headers. */
    const char *bad = http_header_bad_byte(opt->token);
    if (bad)
        return err_set(e, ERR_CONFIG,
                       "dblab.token: contains a control character (byte "
                       "0x%02x at offset %zu) and cannot be sent as a header",
                       (unsigned char)*bad, (size_t)(bad - opt->token));

    struct http_tls tls = {opt->ca_cert, opt->insecure};
    struct dblab_client *c = xcalloc(1, sizeof *c);
    c->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 60000;
    c->http = http_client_new(&tls, 10000, c->timeout_ms);
    if (!c->http) {
        free(c);
        return err_set(e, ERR_INTERNAL, "DBLab: cannot initialise the HTTP client");
    }
    c->base = xstrdup(opt->endpoint);
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->token = xstrdup(opt->token);
    c->max_attempts = opt->max_attempts > 0 ? opt->max_attempts : 3;
    retry_init(&c->retry, c->max_attempts, DBLAB_RETRY_BASE_DELAY, DBLAB_RETRY_MAX_DELAY);
    http_client_set_cancel(c->http, &c->cancel);
    *out = c;
    return 0;
}

void dblab_client_free(struct dblab_client *c)
{
    if (!c)
        return;
    http_client_free(c->http);
    free(c->base);
    free_secret(c->token);
    free(c);
}

void dblab_client_set_max_attempts(struct dblab_client *c, int n)
{
    c->max_attempts = n > 0 ? n : 1;
    c->retry.max_attempts = c->max_attempts;
}

void dblab_client_set_cancel(struct dblab_client *c, struct cancel cancel)
{
    c->cancel = cancel;
}

struct retry *dblab_client_retry(struct dblab_client *c)
{
    return &c->retry;
}

/* ---- errors --------------------------------------------------------------- */

int dblab_http_error(long status, const char *body, const char *name, enum err_kind kind,
                     struct err *e)
{
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    const cJSON *jc = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "code") : NULL;
    const cJSON *jm = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "message") : NULL;
    if (cJSON_IsString(jm) && jm->valuestring[0]) {
        if (cJSON_IsString(jc) && jc->valuestring[0])
            err_set(e, kind, "DBLab %s: HTTP %ld %s: %s", name, status, jc->valuestring,
                    jm->valuestring);
        else
            err_set(e, kind, "DBLab %s: HTTP %ld: %s", name, status, jm->valuestring);
    } else {
        char ex[164]; /* a proxy's page: enough to recognise, never a dump */
        err_excerpt(body, body ? strlen(body) : 0, ex, sizeof ex);
        if (ex[0])
            err_set(e, kind, "DBLab %s: HTTP %ld (not the engine's JSON error): %s", name, status,
                    ex);
        else
            err_set(e, kind, "DBLab %s: HTTP %ld with an empty body", name, status);
    }
    cJSON_Delete(j);
    return kind;
}

/* The kind of an HTTP error status: the token refused, a retry may help, or the
 * engine refused the request. */
static int status_code_class(long status)
{
    if (status == 401 || status == 403)
        return ERR_DBLAB_UNAUTHORIZED;
    return status >= 500 ? ERR_TRANSIENT : ERR_DBLAB_REJECTED;
}

/* ---- transport ------------------------------------------------------------ */

/* What DBLab retries: network errors and the gateway / overload statuses; any
 * other answer is the engine's and final. */
static enum retry_class classify(int hrc, const struct http_response *resp, void *ud)
{
    (void)ud;
    if (hrc != 0)
        return resp->timed_out ? RETRY_TIMEOUT : RETRY_TRANSIENT;
    long s = resp->status;
    return s == 500 || s == 502 || s == 503 || s == 504 ? RETRY_TRANSIENT : RETRY_NONE;
}

/* Performs one API call. Returns 0 when an HTTP answer arrived (any status: the
 * caller maps it), else the network error. Idempotent calls are retried on
 * network errors and 5xx by the shared policy (retry.h: jittered, capped
 * backoff); the client's cancellation stops the retries. */
static int request(struct dblab_client *c, const char *method, const char *path, const char *body,
                   int idempotent, struct http_response *resp, struct err *e)
{
    char *url = xasprintf("%s%s", c->base, path);
    struct http_header hdrs[3];
    size_t nh = 0;
    hdrs[nh++] = (struct http_header){"Verification-Token", c->token};
    hdrs[nh++] = (struct http_header){"Accept", "application/json"};
    if (body)
        hdrs[nh++] = (struct http_header){"Content-Type", "application/json"};
    struct http_request req = {
        .method = method,
        .url = url,
        .headers = hdrs,
        .n_headers = nh,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = c->timeout_ms,
    };
    char what[300];
    snprintf(what, sizeof what, "DBLab %s %s", method, path);
    struct http_retry_call call = {
        .http = c->http,
        .req = &req,
        .retry = &c->retry,
        .max_attempts = idempotent ? c->max_attempts : 1,
        .classify = classify,
        .what = what,
    };
    int rc = http_retry_do(&call, resp, e);
    free(url);
    if (rc) {
        /* http.c names the URL; say which API call it was, without repeating it. */
        const char *why = resp->error[0] ? resp->error : "request failed";
        if (rc == ERR_TLS)
            return err_set(e, rc,
                           "DBLab %s %s: %s (dblab.caCert names the CA that signed the "
                           "engine's certificate; dblab.insecure skips the check)",
                           method, path, why);
        return err_set(e, rc, "DBLab %s %s: %s", method, path, why);
    }
    return 0;
}

/* GET/POST that must answer 2xx with a JSON body; *out is the parsed body. */
static int call_json(struct dblab_client *c, const char *method, const char *path, const char *body,
                     int idempotent, cJSON **out, struct err *e)
{
    *out = NULL;
    struct http_response resp = {0};
    char name[128];
    snprintf(name, sizeof name, "%s %s", method, path);
    int rc = request(c, method, path, body, idempotent, &resp, e);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = dblab_http_error(resp.status, buf_cstr(&resp.body), name,
                              status_code_class(resp.status), e);
    if (rc == 0) {
        *out = cJSON_Parse(buf_cstr(&resp.body));
        if (!*out)
            rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: HTTP %ld but the body is not JSON",
                         name, resp.status);
    }
    http_response_release(&resp);
    return rc;
}

/* ---- typed field access --------------------------------------------------- */

static int wrong_type(struct err *e, const char *name, const char *field, const char *want,
                      const cJSON *got)
{
    return err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: %s: expected %s, got %s", name, field, want,
                   json_type_name(got));
}

/* Optional object member: absent or null -> *out NULL. */
static int get_object(const cJSON *parent, const char *key, const char *name, const char *field,
                      const cJSON **out, struct err *e)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = NULL;
    if (!j || cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsObject(j))
        return wrong_type(e, name, field, "an object", j);
    *out = j;
    return 0;
}

/* Optional string member: absent or null -> *out NULL; else a malloc'd copy. */
static int get_string(const cJSON *parent, const char *key, const char *name, const char *field,
                      char **out, struct err *e)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = NULL;
    if (!j || cJSON_IsNull(j))
        return 0;
    if (!cJSON_IsString(j))
        return wrong_type(e, name, field, "a string", j);
    *out = xstrdup(j->valuestring);
    return 0;
}

static int get_time(const cJSON *parent, const char *key, const char *name, const char *field,
                    int64_t *out, struct err *e)
{
    char *s = NULL;
    *out = 0;
    int rc = get_string(parent, key, name, field, &s, e);
    if (rc == 0 && s && dblab_parse_time(s, out) != 0)
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: %s: invalid time \"%.64s\"", name, field,
                     s);
    free(s);
    return rc;
}

int dblab_parse_time(const char *s, int64_t *out)
{
    *out = 0;
    if (!s || !*s)
        return 0;
    /* LocalTime "2006-01-02 15:04:05 -07:00": drop the space before the offset
     * so the RFC 3339 parser (which accepts the ' ' date/time separator) reads it. */
    char tmp[64];
    size_t n = strlen(s);
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n + 1);
    if (n > 20 && tmp[19] == ' ' && (tmp[20] == '+' || tmp[20] == '-'))
        memmove(tmp + 19, tmp + 20, n - 19);
    int64_t t;
    if (clock_parse_rfc3339(tmp, &t) != 0)
        return -1;
    /* Go's zero time.Time ("0001-01-01T00:00:00Z") means "never". */
    *out = t > 0 ? t : 0;
    return 0;
}

/* ---- /healthz ------------------------------------------------------------- */

int dblab_parse_health(const char *body, const char *name, struct dblab_health *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    cJSON *j = cJSON_Parse(body ? body : "");
    int rc = 0;
    if (!j)
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: the body is not JSON", name);
    else if (!cJSON_IsObject(j))
        rc = wrong_type(e, name, "body", "an object", j);
    if (rc == 0)
        rc = get_string(j, "version", name, "version", &out->version, e);
    if (rc == 0)
        rc = get_string(j, "edition", name, "edition", &out->edition, e);
    if (rc == 0)
        rc = get_string(j, "instanceID", name, "instanceID", &out->instance_id, e);
    cJSON_Delete(j);
    if (rc)
        dblab_health_release(out);
    return rc;
}

void dblab_health_release(struct dblab_health *h)
{
    free(h->version);
    free(h->edition);
    free(h->instance_id);
    memset(h, 0, sizeof *h);
}

int dblab_healthz(struct dblab_client *c, struct dblab_health *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct http_response resp = {0};
    int rc = request(c, "GET", "/healthz", NULL, 1, &resp, e);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = dblab_http_error(resp.status, buf_cstr(&resp.body), "GET /healthz",
                              status_code_class(resp.status), e);
    if (rc == 0)
        rc = dblab_parse_health(buf_cstr(&resp.body), "GET /healthz", out, e);
    http_response_release(&resp);
    return rc;
}

/* ---- /status -------------------------------------------------------------- */

void dblab_status_release(struct dblab_status *s)
{
    free(s->status_code);
    free(s->status_message);
    free(s->engine_version);
    free(s->mode);
    free(s->retrieval_status);
    for (size_t i = 0; i < s->n_alerts; i++) {
        free(s->alerts[i].type);
        free(s->alerts[i].level);
        free(s->alerts[i].message);
    }
    free(s->alerts);
    memset(s, 0, sizeof *s);
}

static int parse_alerts(const cJSON *alerts, const char *name, struct dblab_status *out,
                        struct err *e)
{
    if (!alerts || cJSON_IsNull(alerts))
        return 0;
    if (!cJSON_IsObject(alerts))
        return wrong_type(e, name, "retrieving.alerts", "an object keyed by alert type", alerts);
    size_t n = (size_t)cJSON_GetArraySize(alerts);
    out->alerts = xcalloc(n ? n : 1, sizeof *out->alerts);
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        char field[160];
        snprintf(field, sizeof field, "retrieving.alerts.%.100s", a->string);
        if (!cJSON_IsObject(a))
            return wrong_type(e, name, field, "an object", a);
        struct dblab_alert *al = &out->alerts[out->n_alerts++];
        al->type = xstrdup(a->string);
        char sub[200];
        int rc;
        snprintf(sub, sizeof sub, "%s.level", field);
        if ((rc = get_string(a, "level", name, sub, &al->level, e)))
            return rc;
        snprintf(sub, sizeof sub, "%s.message", field);
        if ((rc = get_string(a, "message", name, sub, &al->message, e)))
            return rc;
        snprintf(sub, sizeof sub, "%s.lastSeen", field);
        if ((rc = get_time(a, "lastSeen", name, sub, &al->last_seen, e)))
            return rc;
        const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(a, "count");
        if (cnt && !cJSON_IsNull(cnt)) {
            snprintf(sub, sizeof sub, "%s.count", field);
            if (!cJSON_IsNumber(cnt))
                return wrong_type(e, name, sub, "a number", cnt);
            if (json_integer(cnt, &al->count) != 0) /* the engine's Alert.Count is a Go int */
                return err_set(e, ERR_DBLAB_BAD_ANSWER,
                               "DBLab %s: %s: expected a whole number, got %g", name, sub,
                               cnt->valuedouble);
        }
    }
    return 0;
}

static int parse_pools(const cJSON *root, const char *name, struct dblab_status *out, struct err *e)
{
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(root, "pools");
    if (!pools || cJSON_IsNull(pools))
        return 0;
    if (!cJSON_IsArray(pools))
        return wrong_type(e, name, "pools", "an array", pools);
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, pools)
    {
        char field[64];
        snprintf(field, sizeof field, "pools[%d]", i);
        if (!cJSON_IsObject(p))
            return wrong_type(e, name, field, "an object", p);
        snprintf(field, sizeof field, "pools[%d].dataStateAt", i);
        int64_t t;
        int rc = get_time(p, "dataStateAt", name, field, &t, e);
        if (rc)
            return rc;
        if (t > out->data_state_at)
            out->data_state_at = t;
        i++;
    }
    return 0;
}

/* The engine's retrieval states (database-lab-engine engine/pkg/models/retrieval.go,
 * RetrievalStatus). Anything else is an answer we do not understand: failing
 * closed, it is never taken for "finished" or "not started". */
static int known_retrieval_status(const char *s)
{
    static const char *const known[] = {"inactive", "pending",      "failed",  "refreshing",
                                        "renewed",  "snapshotting", "finished"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i], s) == 0)
            return 1;
    return 0;
}

int dblab_parse_status(const char *body, const char *name, struct dblab_status *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    cJSON *j = cJSON_Parse(body ? body : "");
    const cJSON *st = NULL, *eng = NULL, *ret = NULL;
    int rc = 0;
    if (!j)
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: the body is not JSON", name);
    else if (!cJSON_IsObject(j))
        rc = wrong_type(e, name, "body", "an object", j);
    if (rc == 0)
        rc = get_object(j, "status", name, "status", &st, e);
    if (rc == 0 && st)
        rc = get_string(st, "code", name, "status.code", &out->status_code, e);
    if (rc == 0 && st)
        rc = get_string(st, "message", name, "status.message", &out->status_message, e);
    if (rc == 0)
        rc = get_object(j, "engine", name, "engine", &eng, e);
    if (rc == 0 && eng)
        rc = get_string(eng, "version", name, "engine.version", &out->engine_version, e);
    if (rc == 0)
        rc = get_object(j, "retrieving", name, "retrieving", &ret, e);
    if (rc == 0 && !ret)
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: retrieving: missing", name);
    if (rc == 0)
        rc = get_string(ret, "mode", name, "retrieving.mode", &out->mode, e);
    if (rc == 0 && !out->mode)
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: retrieving.mode: missing", name);
    if (rc == 0)
        rc = get_string(ret, "status", name, "retrieving.status", &out->retrieval_status, e);
    if (rc == 0 && !out->retrieval_status)
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: retrieving.status: missing", name);
    if (rc == 0 && !known_retrieval_status(out->retrieval_status))
        rc = err_set(e, ERR_DBLAB_BAD_ANSWER,
                     "DBLab %s: retrieving.status: unknown value \"%.64s\" "
                     "(not one of the engine's retrieval states)",
                     name, out->retrieval_status);
    if (rc == 0)
        rc = get_time(ret, "lastRefresh", name, "retrieving.lastRefresh", &out->last_refresh, e);
    if (rc == 0)
        rc = get_time(ret, "nextRefresh", name, "retrieving.nextRefresh", &out->next_refresh, e);
    if (rc == 0)
        rc = parse_alerts(cJSON_GetObjectItemCaseSensitive(ret, "alerts"), name, out, e);
    if (rc == 0)
        rc = parse_pools(j, name, out, e);
    cJSON_Delete(j);
    if (rc)
        dblab_status_release(out);
    return rc;
}

int dblab_status_get(struct dblab_client *c, struct dblab_status *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct http_response resp = {0};
    int rc = request(c, "GET", "/status", NULL, 1, &resp, e);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = dblab_http_error(resp.status, buf_cstr(&resp.body), "GET /status",
                              status_code_class(resp.status), e);
    if (rc == 0)
        rc = dblab_parse_status(buf_cstr(&resp.body), "GET /status", out, e);
    http_response_release(&resp);
    return rc;
}

const struct dblab_alert *dblab_status_alert(const struct dblab_status *s, const char *type)
{
    for (size_t i = 0; i < s->n_alerts; i++)
        if (strcmp(s->alerts[i].type, type) == 0)
            return &s->alerts[i];
    return NULL;
}

int dblab_retrieval_busy(const char *st)
{
    static const char *const busy[] = {"refreshing", "snapshotting", "renewed", "pending"};
    for (size_t i = 0; st && i < sizeof busy / sizeof busy[0]; i++)
        if (strcmp(st, busy[i]) == 0)
            return 1;
    return 0;
}

/* ---- /admin/config -------------------------------------------------------- */

static int too_old_or(int rc, struct err *e, const char *what)
{
    /* An engine without the admin API answers 404 for it. */
    if (rc && strstr(e->msg, "HTTP 404"))
        return err_set(e, ERR_DBLAB_REJECTED,
                       "DBLab %s: HTTP 404: this engine has no %s API; DBLab Engine 3.5 or "
                       "newer is required",
                       what, what);
    return rc;
}

int dblab_config_get(struct dblab_client *c, cJSON **out, struct err *e)
{
    int rc = call_json(c, "GET", "/admin/config", NULL, 1, out, e);
    rc = too_old_or(rc, e, "/admin/config");
    if (rc == 0 && !cJSON_IsObject(*out)) {
        rc = wrong_type(e, "GET /admin/config", "body", "an object", *out);
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

int dblab_config_set(struct dblab_client *c, const cJSON *update, cJSON **applied, struct err *e)
{
    char *body = cJSON_PrintUnformatted(update);
    if (!body)
        return err_set(e, ERR_INTERNAL, "DBLab POST /admin/config: cannot serialise the update");
    cJSON *ans = NULL;
    /* Idempotent: the same values posted twice leave the same config. */
    int rc = call_json(c, "POST", "/admin/config", body, 1, &ans, e);
    free_secret(body);
    rc = too_old_or(rc, e, "/admin/config");
    if (rc == 0 && !cJSON_IsObject(ans))
        rc = wrong_type(e, "POST /admin/config", "body", "an object", ans);
    if (rc == 0 && applied) {
        *applied = ans;
        ans = NULL;
    }
    cJSON_Delete(ans);
    return rc;
}

/* ---- /full-refresh -------------------------------------------------------- */

static int contains_ci(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

int dblab_full_refresh(struct dblab_client *c, struct err *e)
{
    struct http_response resp = {0};
    const char *name = "POST /full-refresh";
    int rc = request(c, "POST", "/full-refresh", NULL, 0, &resp, e);
    if (rc == 0 && (resp.status < 200 || resp.status > 299)) {
        const char *body = buf_cstr(&resp.body);
        rc = dblab_http_error(resp.status, body, name, status_code_class(resp.status), e);
        if (resp.status == 404) {
            rc = err_set(e, ERR_DBLAB_REJECTED,
                         "DBLab %s: HTTP 404: this engine has no full-refresh API; DBLab Engine "
                         "3.5 or newer is required",
                         name);
        } else if (resp.status == 400) {
            /* The engine's three refusals (retrieval.go: ErrRefreshInProgress,
             * ErrRefreshPending, ErrNoAvailablePool), recognised by their text
             * since the body's code is BAD_REQUEST for all. */
            char orig[sizeof e->msg];
            snprintf(orig, sizeof orig, "%s", e->msg);
            if (contains_ci(body, "in progress"))
                rc = err_set(e, ERR_BUSY,
                             "the engine is busy: a refresh or snapshot is already running, "
                             "another job owns it (%s)",
                             orig);
            else if (contains_ci(body, "pending"))
                rc = err_set(e, ERR_BUSY,
                             "the engine's retrieval is pending (a refresh is queued or the "
                             "engine awaits its configuration); not triggering another (%s)",
                             orig);
            else if (contains_ci(body, "pool"))
                rc = err_set(e, ERR_TRANSIENT,
                             "no pool free of clones: the engine refreshes only a pool without "
                             "clones; destroy clones or add a pool, then retry (%s)",
                             orig);
        }
    }
    if (rc == ERR_TRANSIENT && (resp.status == 0 || resp.status >= 500)) {
        char orig[sizeof e->msg];
        snprintf(orig, sizeof orig, "%s", e->msg);
        err_set(e, rc, "%s (whether the engine started the refresh is unknown)", orig);
    }
    if (rc == 0) {
        cJSON *j = cJSON_Parse(buf_cstr(&resp.body));
        const cJSON *st = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "status") : NULL;
        /* 200 {"status":"OK","message":"Full refresh started"}; anything else
         * means we do not know whether it started. */
        if (!j)
            rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: HTTP %ld but the body is not JSON",
                         name, resp.status);
        else if (!st)
            rc = err_set(e, ERR_DBLAB_BAD_ANSWER,
                         "DBLab %s: HTTP %ld without the engine's \"status\": "
                         "whether the refresh started is unknown",
                         name, resp.status);
        else if (!cJSON_IsString(st))
            rc = wrong_type(e, name, "status", "a string", st);
        else if (strcmp(st->valuestring, "OK") != 0)
            rc = err_set(e, ERR_DBLAB_BAD_ANSWER, "DBLab %s: HTTP %ld with status \"%.64s\"", name,
                         resp.status, st->valuestring);
        cJSON_Delete(j);
    }
    http_response_release(&resp);
    return rc;
}

/* ---- projection paths ----------------------------------------------------- */

void dblab_projection_set(cJSON *root, const char *path, cJSON *value)
{
    cJSON *node = root;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (!dot) {
            if (cJSON_GetObjectItemCaseSensitive(node, p))
                cJSON_ReplaceItemInObjectCaseSensitive(node, p, value);
            else
                cJSON_AddItemToObject(node, p, value);
            return;
        }
        char *key = xstrndup(p, (size_t)(dot - p));
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, key);
        if (!cJSON_IsObject(child)) {
            if (child)
                cJSON_DeleteItemFromObjectCaseSensitive(node, key);
            child = cJSON_AddObjectToObject(node, key);
        }
        free(key);
        node = child;
        p = dot + 1;
    }
}

const cJSON *dblab_projection_get(const cJSON *root, const char *path)
{
    const cJSON *node = root;
    const char *p = path;
    while (node) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key || !cJSON_IsObject(node))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, key);
        if (!dot)
            return node;
        p = dot + 1;
    }
    return NULL;
}

int dblab_projection_matches(const cJSON *got, const char *path, const cJSON *want)
{
    const cJSON *g = dblab_projection_get(got, path);
    if (!g || !want)
        return 0;
    if (cJSON_IsString(want))
        return cJSON_IsString(g) && strcmp(g->valuestring, want->valuestring) == 0;
    if (cJSON_IsNumber(want)) {
        if (cJSON_IsNumber(g))
            return g->valuedouble == want->valuedouble;
        if (cJSON_IsString(g)) {
            char *end;
            double v = strtod(g->valuestring, &end);
            return end != g->valuestring && *end == '\0' && v == want->valuedouble;
        }
        return 0;
    }
    return cJSON_Compare(g, want, 1);
}
