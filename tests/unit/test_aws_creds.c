/* The credential chain (common/aws/aws_creds*.c): every provider against local
 * HTTP stubs (tests/unit/support/hstub.c), profile files in temporary
 * directories, credential_process helpers, chain order, and refresh timing
 * with an injected clock. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_creds.h"
#include "aws/aws_transport.h"
#include "core/buf.h"
#include "check_main.h"
#include "core/clock.h"
#include "core/err.h"
#include "hstub.h"
#include "core/http.h"
#include "core/log.h"
#include "core/retry.h"
#include "tmpfiles.h"

/* ---- fixture: a clean environment, a temp HOME, a fake clock, a log file ---- */

static char *tmp;
static FILE *log_file;
static int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static const char *const aws_vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CA_BUNDLE",
    NULL,
};

static void setup(void)
{
    for (size_t i = 0; aws_vars[i]; i++)
        unsetenv(aws_vars[i]);
    tmp = tmp_dir_new();
    setenv("HOME", tmp, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/config", tmp);
    setenv("AWS_CONFIG_FILE", path, 1);
    snprintf(path, sizeof path, "%s/credentials", tmp);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    /* No test may wander off to a real 169.254.169.254. */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    fake_now = 1795000000; /* 2026-11-18 */
    clock_set(fake_clock, NULL);
    log_file = tmpfile();
    log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_DEBUG);
    log_set_stream(log_file);
}

static void teardown(void)
{
    log_set_stream(NULL);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    clock_set(NULL, NULL);
    tmp_dir_remove(tmp);
    tmp = NULL;
}

/* Everything logged so far (malloc'd). */
static char *log_text(void)
{
    fflush(log_file);
    long n = ftell(log_file);
    char *s = calloc(1, (size_t)n + 1);
    rewind(log_file);
    size_t got = fread(s, 1, (size_t)n, log_file);
    s[got] = '\0';
    fseek(log_file, 0, SEEK_END);
    return s;
}

static void write_file(const char *name, const char *content)
{
    free(tmp_write(tmp, name, content));
}

static char *path_in_tmp(const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", tmp, name) < 0)
        abort();
    return p;
}

static void assert_redacted(const char *secret)
{
    char *r = redact_apply(secret);
    ck_assert_msg(strstr(r, secret) == NULL, "secret not registered for redaction");
    free(r);
}

static void fmt_time(int64_t t, char *out, size_t n)
{
    clock_format_rfc3339(t, out, n);
}

/* ---- a credential endpoint stub: container / IMDS / STS, counting fetches ---- */

struct cred_server {
    int fetches;             /* credential documents served */
    int fail;                /* 1 = answer 500 to credential requests */
    int lifetime;            /* seconds until expiration of served credentials */
    const char *expect_auth; /* container: required Authorization value */
    char last_token[256];    /* IMDS: token handed out */
};

static void container_handler(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    struct cred_server *cs = ctx;
    char *auth = hstub_header(req, "Authorization");
    if (cs->expect_auth && (!auth || strcmp(auth, cs->expect_auth) != 0)) {
        hstub_reply_set(reply, 401, "{\"code\":\"AccessDenied\",\"message\":\"bad token\"}");
        free(auth);
        return;
    }
    free(auth);
    if (cs->fail) {
        hstub_reply_set(reply, 500, "{\"code\":\"InternalError\",\"message\":\"try later\"}");
        return;
    }
    cs->fetches++;
    char exp[32];
    fmt_time(fake_now + cs->lifetime, exp, sizeof exp);
    hstub_reply_set(
        reply, 200,
        "{\"AccessKeyId\":\"ASIACONTAINER%d\",\"SecretAccessKey\":\"container-secret-%d\","
        "\"Token\":\"container-token-%d\",\"Expiration\":\"%s\","
        "\"RoleArn\":\"arn:aws:iam::123456789012:role/task\"}",
        cs->fetches, cs->fetches, cs->fetches, exp);
}

static void imds_handler(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    struct cred_server *cs = ctx;
    if (strcmp(req->path, "/latest/api/token") == 0) {
        char *ttl = hstub_header(req, "X-aws-ec2-metadata-token-ttl-seconds");
        if (strcmp(req->method, "PUT") != 0 || !ttl || strcmp(ttl, "21600") != 0) {
            hstub_reply_set(reply, 400, "missing or bad ttl");
        } else {
            snprintf(cs->last_token, sizeof cs->last_token, "imds-session-token-%d",
                     cs->fetches + 1);
            hstub_reply_set(reply, 200, "%s", cs->last_token);
        }
        free(ttl);
        return;
    }
    char *tok = hstub_header(req, "X-aws-ec2-metadata-token");
    int ok = tok && strcmp(tok, cs->last_token) == 0 && strcmp(req->method, "GET") == 0;
    free(tok);
    if (!ok) {
        hstub_reply_set(reply, 401, "%s", "");
        return;
    }
    if (strcmp(req->path, "/latest/meta-data/iam/security-credentials/") == 0) {
        hstub_reply_set(reply, 200, "ec2-role\n");
    } else if (strcmp(req->path, "/latest/meta-data/iam/security-credentials/ec2-role") == 0) {
        if (cs->fail) {
            hstub_reply_set(reply, 500, "%s", "");
            return;
        }
        cs->fetches++;
        char exp[32], now[32];
        fmt_time(fake_now + cs->lifetime, exp, sizeof exp);
        fmt_time(fake_now, now, sizeof now);
        hstub_reply_set(reply, 200,
                        "{\"Code\":\"Success\",\"LastUpdated\":\"%s\",\"Type\":\"AWS-HMAC\","
                        "\"AccessKeyId\":\"ASIAIMDS%d\",\"SecretAccessKey\":\"imds-secret-%d\","
                        "\"Token\":\"imds-token-%d\",\"Expiration\":\"%s\"}",
                        now, cs->fetches, cs->fetches, cs->fetches, exp);
    } else {
        hstub_reply_set(reply, 404, "%s", "");
    }
}

/* STS: AssumeRole (must be signed) and AssumeRoleWithWebIdentity (must not be). */
struct sts_server {
    int calls;
    int fail_code; /* 0 = succeed, else HTTP status with an AccessDenied error */
    int lifetime;
    int throttle;              /* answer this many requests with Throttling first */
    const char *throttle_code; /* default "Throttling" */
    int garbage;               /* 1 = answer 200 with something that is not the result */
    int skewed;                /* answer this many requests RequestExpired, Date an hour on */
};

static char *form_value(const char *body, const char *key)
{
    size_t kl = strlen(key);
    const char *p = body;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            return strndup(v, strcspn(v, "&"));
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return NULL;
}

static void sts_handler(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    struct sts_server *ss = ctx;
    snprintf(reply->content_type, sizeof reply->content_type, "text/xml");
    char *action = form_value(req->body, "Action");
    char *auth = hstub_header(req, "Authorization");
    char *version = form_value(req->body, "Version");
    int web = action && strcmp(action, "AssumeRoleWithWebIdentity") == 0;
    int signed_ok = auth && strstr(auth, "/sts/aws4_request") != NULL;
    if (!action || !version || strcmp(version, "2011-06-15") != 0 || strcmp(req->method, "POST") ||
        (web ? auth != NULL : !signed_ok)) {
        hstub_reply_set(reply, 400,
                        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidRequest</Code>"
                        "<Message>stub rejects this request</Message></Error>"
                        "<RequestId>rid-bad</RequestId></ErrorResponse>");
    } else if (ss->skewed > 0) {
        /* As STS answers a request signed far from its clock: RequestExpired, and
         * its own time in the Date header. */
        ss->skewed--;
        time_t aws_now = (time_t)(fake_now + 3600);
        struct tm tm;
        gmtime_r(&aws_now, &tm);
        strftime(reply->headers, sizeof reply->headers, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        hstub_reply_set(reply, 400,
                        "<ErrorResponse><Error><Type>Sender</Type><Code>RequestExpired</Code>"
                        "<Message>Request has expired.</Message></Error>"
                        "<RequestId>rid-expired</RequestId></ErrorResponse>");
    } else if (ss->throttle > 0) {
        ss->throttle--;
        hstub_reply_set(reply, 400,
                        "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                        "<Message>Rate exceeded</Message></Error>"
                        "<RequestId>rid-throttled</RequestId></ErrorResponse>",
                        ss->throttle_code ? ss->throttle_code : "Throttling");
    } else if (ss->garbage) {
        hstub_reply_set(reply, 200, "<%sResponse><%sResult></%sResult></%sResponse>", action,
                        action, action, action);
    } else if (ss->fail_code) {
        hstub_reply_set(reply, ss->fail_code,
                        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                        "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
                        "<Message>not authorized to perform sts:AssumeRole</Message></Error>"
                        "<RequestId>rid-denied-1</RequestId></ErrorResponse>");
    } else {
        ss->calls++;
        char exp[32];
        fmt_time(fake_now + ss->lifetime, exp, sizeof exp);
        hstub_reply_set(reply, 200,
                        "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                        "<%sResult><Credentials>"
                        "<AccessKeyId>ASIASTS%d</AccessKeyId>"
                        "<SecretAccessKey>sts-secret-%d</SecretAccessKey>"
                        "<SessionToken>sts-token-%d</SessionToken>"
                        "<Expiration>%s</Expiration></Credentials>"
                        "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>"
                        "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>"
                        "</%sResult><ResponseMetadata><RequestId>rid-%d</RequestId>"
                        "</ResponseMetadata></%sResponse>",
                        action, action, ss->calls, ss->calls, ss->calls, exp, action, ss->calls,
                        action);
    }
    free(action);
    free(auth);
    free(version);
}

/* ---- environment ------------------------------------------------------------ */

START_TEST(env_long_term_keys)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key-value", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->access_key_id, "AKIDENVIRONMENT");
    ck_assert_str_eq(c->secret_access_key, "env-secret-key-value");
    ck_assert_ptr_null(c->session_token);
    ck_assert_int_eq(c->expiration, 0);
    ck_assert_str_eq(c->source, "environment");
    assert_redacted("env-secret-key-value");
    char *log = log_text();
    ck_assert_ptr_nonnull(strstr(log, "from environment"));
    ck_assert_ptr_null(strstr(log, "env-secret-key-value"));
    free(log);
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(env_session_token_and_expiration)
{
    setenv("AWS_ACCESS_KEY_ID", "ASIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
    char exp[32];
    fmt_time(fake_now + 7200, exp, sizeof exp);
    setenv("AWS_CREDENTIAL_EXPIRATION", exp, 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->session_token, "env-session-token");
    ck_assert_int_eq(c->expiration, fake_now + 7200);
    assert_redacted("env-session-token");
    /* Environment credentials cannot be renewed: still valid for 5 minutes,
     * they are used (with a warning); once expired, a clear error. */
    fake_now += 7200 - 300;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    char *log = log_text();
    ck_assert_ptr_nonnull(strstr(log, "inside the 900 s refresh window"));
    free(log);
    fake_now += 301;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "environment returned credentials that expired"));
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(env_partial_is_config_error)
{
    setenv("AWS_ACCESS_KEY_ID", "AKIDONLY", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "AWS_SECRET_ACCESS_KEY"));
    ck_assert_ptr_null(c);
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(env_bad_expiration)
{
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret-x", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "AWS_CREDENTIAL_EXPIRATION"));
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(static_provider)
{
    struct aws_creds_provider *p =
        aws_creds_provider_new_static("AKIDSTATIC", "static-secret", NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->access_key_id, "AKIDSTATIC");
    ck_assert_str_eq(c->source, "static");
    fake_now += 86400 * 30;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->secret_access_key, "static-secret");
    assert_redacted("static-secret");
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(no_credentials_anywhere)
{
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "no AWS credentials found"));
    ck_assert_ptr_nonnull(strstr(e.msg, "AWS_EC2_METADATA_DISABLED"));
    aws_creds_provider_free(p);
}
END_TEST

/* ---- profiles: static keys --------------------------------------------------- */

START_TEST(profile_default_static)
{
    write_file("credentials", "[default]\naws_access_key_id = AKIDDEFAULT\n"
                              "aws_secret_access_key = default-profile-secret\n");
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->access_key_id, "AKIDDEFAULT");
    ck_assert_str_eq(c->source, "profile:default");
    assert_redacted("default-profile-secret");
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(profile_named_by_option_and_env)
{
    write_file("credentials", "[default]\naws_access_key_id = AKIDDEFAULT\n"
                              "aws_secret_access_key = s-default\n"
                              "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s-dev\n"
                              "aws_session_token = dev-session-token\n");
    write_file("config",
               "[profile ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s-ops\n");
    struct aws_creds_options o = {0};
    o.profile = "ops";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->access_key_id, "AKIDOPS");
    ck_assert_str_eq(c->source, "profile:ops");
    aws_creds_provider_free(p);

    setenv("AWS_PROFILE", "dev", 1);
    p = aws_creds_provider_new(NULL);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->access_key_id, "AKIDDEV");
    ck_assert_str_eq(c->session_token, "dev-session-token");
    assert_redacted("dev-session-token");
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(profile_missing_explicit_is_error)
{
    write_file("credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = sss1\n");
    setenv("AWS_PROFILE", "nope", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "\"nope\" not found"));
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(profile_key_without_secret)
{
    write_file("credentials", "[default]\naws_access_key_id = AKIDHALF\n");
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "aws_secret_access_key"));
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(profile_unsupported_mfa_and_sso)
{
    write_file("config", "[profile mfa]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
                         "mfa_serial = arn:aws:iam::1:mfa/me\n"
                         "[profile base]\naws_access_key_id = A\naws_secret_access_key = sss2\n"
                         "[profile sso]\nsso_session = corp\nsso_account_id = 1\n");
    struct aws_creds_options o = {0};
    o.profile = "mfa";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "mfa_serial is not supported"));
    aws_creds_provider_free(p);
    o.profile = "sso";
    p = aws_creds_provider_new(&o);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "sso"));
    aws_creds_provider_free(p);
}
END_TEST

/* ---- credential_process --------------------------------------------------------- */

START_TEST(process_success)
{
    char exp[32];
    fmt_time(fake_now + 3600, exp, sizeof exp);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "[profile helper]\ncredential_process = printf '%%s' '{\"Version\": 1, "
             "\"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"proc-secret\", "
             "\"SessionToken\": \"proc-token\", \"Expiration\": \"%s\"}'\n",
             exp);
    write_file("config", cfg);
    struct aws_creds_options o = {0};
    o.profile = "helper";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIAPROC");
    ck_assert_str_eq(c->secret_access_key, "proc-secret");
    ck_assert_str_eq(c->session_token, "proc-token");
    ck_assert_int_eq(c->expiration, fake_now + 3600);
    ck_assert_str_eq(c->source, "credential-process (profile:helper)");
    assert_redacted("proc-secret");
    assert_redacted("proc-token");
    aws_creds_provider_free(p);
}
END_TEST

/* The helper runs again at refresh time, and sees our environment (not argv). */
START_TEST(process_refresh_runs_again)
{
    char *counter = path_in_tmp("count");
    char *script = NULL;
    if (asprintf(
            &script,
            "#!/bin/sh\nn=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
            "printf '{\"Version\":1,\"AccessKeyId\":\"ASIAP%%s\",\"SecretAccessKey\":\"ps-%%s\","
            "\"SessionToken\":\"pt-%%s\",\"Expiration\":\"%%s\"}' $n $n $n \"$EXP\"\n",
            counter, counter) < 0)
        abort();
    char *sp = tmp_write(tmp, "helper.sh", script);
    chmod(sp, 0700);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "[default]\ncredential_process = %s\n", sp);
    write_file("config", cfg);
    char exp[32];
    fmt_time(fake_now + 3600, exp, sizeof exp);
    setenv("EXP", exp, 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIAP1");
    fake_now += 3600 - 14 * 60; /* inside the advisory window */
    fmt_time(fake_now + 3600, exp, sizeof exp);
    setenv("EXP", exp, 1);
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIAP2");
    aws_creds_provider_free(p);
    free(sp);
    free(script);
    free(counter);
}
END_TEST

START_TEST(process_failure_names_profile)
{
    write_file("config", "[profile broken]\ncredential_process = exit 3\n");
    struct aws_creds_options o = {0};
    o.profile = "broken";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "\"broken\""));
    ck_assert_ptr_nonnull(strstr(e.msg, "status 3"));
    aws_creds_provider_free(p);
}
END_TEST

static int flag_cancel(void *ud)
{
    return *(int *)ud;
}

/* A helper that hangs is waited for on the transport's cancellation, as every
 * request is: the owner's cancel stops the wait (and the helper is killed). */
START_TEST(process_wait_stops_on_the_transport_cancel)
{
    write_file("config", "[profile slow]\ncredential_process = sleep 20\n");
    struct aws_transport_options to = {2000, 5000, 3, NULL};
    struct aws_transport *t = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_transport_new(&to, &t, &e), 0);
    int sig = 15;
    aws_transport_set_cancel(t, (struct cancel){flag_cancel, &sig, 0});
    struct aws_creds_options o = {0};
    o.profile = "slow";
    o.transport = t;
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_INTERRUPTED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_eq(e.signo, 15);
    ck_assert_msg(strstr(e.msg, "\"slow\": credential_process: interrupted by signal 15"), "%s",
                  e.msg);
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
    aws_creds_provider_free(p);
    aws_transport_free(t);
}
END_TEST

START_TEST(process_bad_json)
{
    static const char *const cases[][2] = {
        {"echo not json", "not a JSON object"},
        {"echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"sss3\"}'",
         "\"Version\" must be 1"},
        {"echo '{\"Version\": 1, \"SecretAccessKey\": \"sss4\"}'", "AccessKeyId"},
        {"echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'", "SecretAccessKey"},
        {"echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"sss5\", "
         "\"Expiration\": \"soon\"}'",
         "Expiration"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cfg[1024];
        snprintf(cfg, sizeof cfg, "[profile bad]\ncredential_process = %s\n", cases[i][0]);
        write_file("config", cfg);
        struct aws_creds_options o = {0};
        o.profile = "bad";
        struct aws_creds_provider *p = aws_creds_provider_new(&o);
        const struct aws_credentials *c = NULL;
        struct err e = {0};
        ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
        ck_assert_msg(strstr(e.msg, cases[i][1]) && strstr(e.msg, "\"bad\""), "case %zu: %s", i,
                      e.msg);
        aws_creds_provider_free(p);
    }
}
END_TEST

/* ---- STS: AssumeRole and web identity ------------------------------------------ */

static struct hstub *start_sts(struct sts_server *ss)
{
    struct hstub *h = hstub_start(sts_handler, ss);
    char *url = hstub_url(h, NULL);
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    free(url);
    return h;
}

/* Static keys in profile base; role mid on base; role top (session name,
 * external id, duration) on mid. */
static void write_role_profiles(void)
{
    write_file("credentials",
               "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
    write_file("config", "[profile mid]\nrole_arn = arn:aws:iam::111111111111:role/mid\n"
                         "source_profile = base\n"
                         "[profile top]\nrole_arn = arn:aws:iam::222222222222:role/top\n"
                         "source_profile = mid\nrole_session_name = nightly\n"
                         "external_id = ext-123\nduration_seconds = 1800\n");
}

static int count_sleep(double seconds, void *ctx)
{
    (void)seconds;
    (*(int *)ctx)++;
    return 0;
}

/* STS goes through the AWS transport the client uses (aws_transport.h): a
 * RequestExpired with AWS's Date is signed again at once with AWS's time, a
 * throttled answer is retried after the shared policy's backoff, and the
 * transport counts the attempts. */
START_TEST(sts_retried_and_skew_corrected_by_the_shared_transport)
{
    struct sts_server ss = {0, 0, 3600, 1, NULL, 0, 1};
    struct hstub *h = start_sts(&ss);
    write_role_profiles();
    struct aws_transport_options to = {2000, 5000, 3, NULL};
    struct aws_transport *t = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_transport_new(&to, &t, &e), 0);
    int sleeps = 0;
    aws_transport_retry(t)->sleep_fn = count_sleep;
    aws_transport_retry(t)->sleep_ctx = &sleeps;
    struct aws_creds_options o = {0};
    o.profile = "mid";
    o.transport = t;
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIASTS1");

    /* Skewed, throttled, answered: three requests of one call, one backoff. */
    ck_assert_uint_eq(hstub_count(h), 3);
    struct aws_counters n = aws_transport_counters(t);
    ck_assert_uint_eq(n.calls, 1);
    ck_assert_uint_eq(n.attempts, 3);
    ck_assert_uint_eq(n.retries, 1);
    ck_assert_int_eq(sleeps, 1);
    ck_assert_int_eq(aws_transport_clock_offset(t), 3600);
    /* The first request was signed at the local time, the others at AWS's. */
    char local[32], aws[32];
    time_t tl = (time_t)fake_now, ta = (time_t)(fake_now + 3600);
    struct tm tm;
    strftime(local, sizeof local, "%Y%m%dT%H%M%SZ", gmtime_r(&tl, &tm));
    strftime(aws, sizeof aws, "%Y%m%dT%H%M%SZ", gmtime_r(&ta, &tm));
    for (size_t i = 0; i < 3; i++) {
        char *d = hstub_header(hstub_get(h, i), "X-Amz-Date");
        ck_assert_str_eq(d, i == 0 ? local : aws);
        free(d);
    }
    aws_creds_provider_free(p);
    aws_transport_free(t);
    hstub_stop(h);
}
END_TEST

START_TEST(assume_role_source_profile_chain)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    write_role_profiles();
    struct aws_creds_options o = {0};
    o.profile = "top";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(ss.calls, 2);
    ck_assert_str_eq(c->access_key_id, "ASIASTS2");
    ck_assert_str_eq(c->session_token, "sts-token-2");
    ck_assert_int_eq(c->expiration, fake_now + 3600);
    ck_assert_ptr_nonnull(strstr(c->source, "assume-role arn:aws:iam::222222222222:role/top"));
    assert_redacted("sts-secret-2");
    assert_redacted("sts-token-2");

    /* First call: mid role, signed with the base keys; second: top role, signed
     * with mid's session credentials, session name and external id sent. */
    const struct hstub_request *r1 = hstub_get(h, 0), *r2 = hstub_get(h, 1);
    char *a1 = hstub_header(r1, "Authorization"), *a2 = hstub_header(r2, "Authorization");
    char *t2 = hstub_header(r2, "X-Amz-Security-Token");
    ck_assert_ptr_nonnull(strstr(a1, "Credential=AKIDBASE/"));
    ck_assert_ptr_nonnull(strstr(a1, "/eu-west-1/sts/aws4_request"));
    ck_assert_ptr_nonnull(
        strstr(r1->body, "RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fmid"));
    ck_assert_ptr_nonnull(strstr(a2, "Credential=ASIASTS1/"));
    ck_assert_str_eq(t2, "sts-token-1");
    ck_assert_ptr_nonnull(strstr(r2->body, "Action=AssumeRole&Version=2011-06-15"));
    ck_assert_ptr_nonnull(strstr(r2->body, "RoleSessionName=nightly"));
    ck_assert_ptr_nonnull(strstr(r2->body, "ExternalId=ext-123"));
    ck_assert_ptr_nonnull(strstr(r2->body, "DurationSeconds=1800"));
    free(a1);
    free(a2);
    free(t2);
    aws_creds_provider_free(p);
    hstub_stop(h);
}
END_TEST

START_TEST(assume_role_self_reference_and_env_source)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    write_file("config",
               "[profile self]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n"
               "aws_access_key_id = AKIDSELF\naws_secret_access_key = self-secret\n"
               "[profile fromenv]\nrole_arn = arn:aws:iam::1:role/env\n"
               "credential_source = Environment\n");
    struct aws_creds_options o = {0};
    o.profile = "self";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIASTS1");
    char *a = hstub_header(hstub_get(h, 0), "Authorization");
    ck_assert_ptr_nonnull(strstr(a, "Credential=AKIDSELF/"));
    free(a);
    aws_creds_provider_free(p);

    /* credential_source = Environment without environment keys. */
    o.profile = "fromenv";
    p = aws_creds_provider_new(&o);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "credential_source Environment"));
    aws_creds_provider_free(p);
    hstub_stop(h);
}
END_TEST

START_TEST(assume_role_credential_source_environment)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    write_file("config", "[profile fromenv]\nrole_arn = arn:aws:iam::1:role/env\n"
                         "credential_source = Environment\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret", 1);
    /* aws.profile is explicit: it wins over the environment keys, which then
     * sign its AssumeRole. (AWS_PROFILE alone would not: environment first.) */
    struct aws_creds_options o = {0};
    o.profile = "fromenv";
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIASTS1");
    char *a = hstub_header(hstub_get(h, 0), "Authorization");
    ck_assert_ptr_nonnull(strstr(a, "Credential=AKIDFROMENV/"));
    free(a);
    aws_creds_provider_free(p);

    setenv("AWS_PROFILE", "fromenv", 1);
    p = aws_creds_provider_new(NULL);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->source, "environment");
    aws_creds_provider_free(p);
    ck_assert_int_eq(ss.calls, 1);
    hstub_stop(h);
}
END_TEST

START_TEST(assume_role_config_errors)
{
    write_file("config",
               "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
               "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
               "[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = a\n"
               "credential_source = Environment\n"
               "[profile none]\nrole_arn = arn:aws:iam::1:role/x\n"
               "[profile badcs]\nrole_arn = arn:aws:iam::1:role/x\n"
               "credential_source = Laptop\n"
               "[profile ghost]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = nowhere\n"
               "[profile dur]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = dur\n"
               "aws_access_key_id = A\naws_secret_access_key = sss6\nduration_seconds = 5\n");
    static const char *const cases[][2] = {
        {"a", "makes a cycle"},
        {"both", "mutually exclusive"},
        {"none", "needs source_profile"},
        {"badcs", "\"Laptop\" is not one of"},
        {"ghost", "\"nowhere\" not found"},
        {"dur", "duration_seconds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct aws_creds_options o = {0};
        o.profile = cases[i][0];
        struct aws_creds_provider *p = aws_creds_provider_new(&o);
        const struct aws_credentials *c = NULL;
        struct err e = {0};
        ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
        ck_assert_msg(strstr(e.msg, cases[i][1]), "profile %s: %s", cases[i][0], e.msg);
        aws_creds_provider_free(p);
    }
}
END_TEST

START_TEST(assume_role_access_denied)
{
    struct sts_server ss = {0, 403, 3600, 0, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    write_file("config",
               "[default]\nrole_arn = arn:aws:iam::1:role/denied\nsource_profile = default\n"
               "aws_access_key_id = AKIDD\naws_secret_access_key = denied-secret\n");
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "AccessDenied"));
    ck_assert_ptr_nonnull(strstr(e.msg, "rid-denied-1"));
    ck_assert_ptr_nonnull(strstr(e.msg, "HTTP 403"));
    ck_assert_ptr_null(strstr(e.msg, "denied-secret"));
    aws_creds_provider_free(p);
    hstub_stop(h);
}
END_TEST

START_TEST(web_identity_env_rereads_token)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    char *tok = tmp_write(tmp, "token", "eyJ.first-token.sig\n");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "pod-session", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIASTS1");
    ck_assert_str_eq(c->source, "web-identity");
    const struct hstub_request *r = hstub_get(h, 0);
    char *auth = hstub_header(r, "Authorization");
    ck_assert_ptr_null(auth); /* unsigned */
    ck_assert_ptr_nonnull(strstr(r->body, "Action=AssumeRoleWithWebIdentity"));
    ck_assert_ptr_nonnull(strstr(r->body, "WebIdentityToken=eyJ.first-token.sig"));
    ck_assert_ptr_nonnull(strstr(r->body, "RoleSessionName=pod-session"));
    assert_redacted("eyJ.first-token.sig");

    /* The kubelet rotates the token: the refresh must send the new one. */
    free(tmp_write(tmp, "token", "eyJ.second-token.sig"));
    fake_now += 3600 - 5 * 60;
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIASTS2");
    ck_assert_ptr_nonnull(strstr(hstub_get(h, 1)->body, "WebIdentityToken=eyJ.second-token.sig"));
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(tok);
}
END_TEST

START_TEST(sts_throttling_retried_and_bad_answers)
{
    struct sts_server ss = {0, 0, 3600, 1, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    char *tok = tmp_write(tmp, "token", "web-token-throttle");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(hstub_count(h), 2);
    aws_creds_provider_free(p);

    /* STS could not reach the identity provider: retried too. */
    ss.throttle = 1;
    ss.throttle_code = "IDPCommunicationError";
    p = aws_creds_provider_new(NULL);
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(hstub_count(h), 4);
    aws_creds_provider_free(p);

    /* Throttled beyond the attempts: a temporary failure. */
    ss.throttle = 10;
    ss.throttle_code = NULL;
    struct aws_creds_options o = {0};
    o.max_attempts = 2;
    p = aws_creds_provider_new(&o);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_TRANSIENT);
    ck_assert_ptr_nonnull(strstr(e.msg, "Throttling"));
    ck_assert_ptr_nonnull(strstr(e.msg, "rid-throttled"));
    aws_creds_provider_free(p);

    /* A 200 without Credentials. */
    ss.throttle = 0;
    ss.garbage = 1;
    p = aws_creds_provider_new(NULL);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_BAD_ANSWER);
    ck_assert_ptr_nonnull(strstr(e.msg, "no complete AssumeRoleWithWebIdentityResult/Credentials"));
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(tok);
}
END_TEST

START_TEST(web_identity_errors)
{
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "AWS_ROLE_ARN"));
    aws_creds_provider_free(p);

    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    p = aws_creds_provider_new(NULL);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/token"));
    aws_creds_provider_free(p);
}
END_TEST

START_TEST(web_identity_in_profile)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *h = start_sts(&ss);
    char *tok = tmp_write(tmp, "wif", "profile-web-token");
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "[default]\nrole_arn = arn:aws:iam::1:role/wif\n"
             "web_identity_token_file = %s\n",
             tok);
    write_file("config", cfg);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->source, "web-identity (profile:default)");
    ck_assert_ptr_nonnull(strstr(hstub_get(h, 0)->body, "WebIdentityToken=profile-web-token"));
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(tok);
}
END_TEST

START_TEST(sts_endpoint_resolution)
{
    struct aws_creds_options o = {0};
    char *region = NULL;
    o.region = "us-west-2";
    char *ep = aws_creds_sts_endpoint(&o, &region);
    ck_assert_str_eq(ep, "https://sts.us-west-2.amazonaws.com/");
    ck_assert_str_eq(region, "us-west-2");
    free(ep);
    free(region);
    o.region = "cn-north-1";
    ep = aws_creds_sts_endpoint(&o, NULL);
    ck_assert_str_eq(ep, "https://sts.cn-north-1.amazonaws.com.cn/");
    free(ep);
    o.region = NULL;
    ep = aws_creds_sts_endpoint(&o, &region);
    ck_assert_str_eq(ep, "https://sts.us-east-1.amazonaws.com/");
    ck_assert_str_eq(region, "us-east-1");
    free(ep);
    free(region);
    write_file("config", "[default]\nregion = ap-south-1\n");
    ep = aws_creds_sts_endpoint(&o, NULL);
    ck_assert_str_eq(ep, "https://sts.ap-south-1.amazonaws.com/");
    free(ep);
    setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
    ep = aws_creds_sts_endpoint(&o, NULL);
    ck_assert_str_eq(ep, "https://sts.eu-central-1.amazonaws.com/");
    free(ep);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/", 1);
    ep = aws_creds_sts_endpoint(&o, NULL);
    ck_assert_str_eq(ep, "http://127.0.0.1:9/");
    free(ep);
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:10", 1);
    ep = aws_creds_sts_endpoint(&o, NULL);
    ck_assert_str_eq(ep, "http://127.0.0.1:10/");
    free(ep);
    o.sts_endpoint = "https://sts.example.test";
    ep = aws_creds_sts_endpoint(&o, NULL);
    ck_assert_str_eq(ep, "https://sts.example.test/");
    free(ep);
    o.sts_endpoint = "not a url";
    ck_assert_ptr_null(aws_creds_sts_endpoint(&o, NULL));
}
END_TEST

/* ---- container -------------------------------------------------------------------- */

START_TEST(container_full_uri_with_token)
{
    struct cred_server cs = {0, 0, 3600, "Bearer container-auth-token", ""};
    struct hstub *h = hstub_start(container_handler, &cs);
    char *url = hstub_url(h, "/creds");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer container-auth-token", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIACONTAINER1");
    ck_assert_str_eq(c->session_token, "container-token-1");
    ck_assert_str_eq(c->source, "container");
    assert_redacted("Bearer container-auth-token");
    assert_redacted("container-secret-1");
    aws_creds_provider_free(p);

    /* Wrong token: the endpoint's error is reported. */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong-token", 1);
    p = aws_creds_provider_new(NULL);
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "HTTP 401"));
    ck_assert_ptr_nonnull(strstr(e.msg, "AccessDenied"));
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(url);
}
END_TEST

START_TEST(container_token_file_reread_and_relative_uri)
{
    struct cred_server cs = {0, 0, 3600, "pod-identity-token-1", ""};
    struct hstub *h = hstub_start(container_handler, &cs);
    char *base = hstub_url(h, NULL);
    char *tf = tmp_write(tmp, "eks-token", "pod-identity-token-1\n");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc-123", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-is-set", 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    aws_creds_provider_set_container_endpoint(p, base);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(hstub_get(h, 0)->path, "/v2/credentials/abc-123");
    free(tmp_write(tmp, "eks-token", "pod-identity-token-2"));
    cs.expect_auth = "pod-identity-token-2";
    fake_now += 3600 - 9 * 60;
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIACONTAINER2");
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(base);
    free(tf);
}
END_TEST

START_TEST(container_full_uri_host_rules)
{
    static const char *const bad[] = {
        "http://example.com/creds", "http://10.0.0.1/creds", "http://169.254.169.254/x",
        "http://[fd00:ec2::24]/x",  "ftp://127.0.0.1/x",     "not a url",
    };
    static const char *const good[] = {
        "https://creds.example.com/x",
        "http://127.0.0.1:1/x",
        "http://127.8.9.10:1/x",
        "http://localhost:1/x",
        "http://[::1]:1/x",
        "http://169.254.170.2/x",
        "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(!aws_creds_container_uri_allowed(bad[i]), "%s", bad[i]);
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad[i], 1);
        struct aws_creds_provider *p = aws_creds_provider_new(NULL);
        const struct aws_credentials *c = NULL;
        struct err e = {0};
        ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_CONFIG);
        ck_assert_msg(strstr(e.msg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"), "%s: %s", bad[i], e.msg);
        aws_creds_provider_free(p);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(aws_creds_container_uri_allowed(good[i]), "%s", good[i]);
    /* An allowed loopback URI with nothing listening: a network error, not a config one. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x", 1);
    struct aws_creds_options o = {0};
    o.max_attempts = 1;
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_TRANSIENT);
    aws_creds_provider_free(p);
}
END_TEST

/* ---- IMDS ------------------------------------------------------------------------------- */

START_TEST(imds_v2_flow)
{
    struct cred_server cs = {0, 0, 6 * 3600, NULL, ""};
    struct hstub *h = hstub_start(imds_handler, &cs);
    char *url = hstub_url(h, NULL);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIAIMDS1");
    ck_assert_str_eq(c->session_token, "imds-token-1");
    ck_assert_str_eq(c->source, "imds");
    ck_assert_int_eq(hstub_count(h), 3);
    ck_assert_str_eq(hstub_get(h, 0)->method, "PUT");
    ck_assert_str_eq(hstub_get(h, 0)->path, "/latest/api/token");
    ck_assert_str_eq(hstub_get(h, 2)->path, "/latest/meta-data/iam/security-credentials/ec2-role");
    assert_redacted("imds-secret-1");
    assert_redacted("imds-session-token-1");
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(url);
}
END_TEST

START_TEST(imds_unreachable_fails_fast)
{
    /* A port nothing listens on: connection refused, twice, then a clear error. */
    struct hstub *h =
        hstub_start(hstub_routes, (void *)(struct hstub_route[]){{NULL, NULL, 0, NULL}});
    char *url = hstub_url(h, NULL);
    hstub_stop(h);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    double t0 = clock_monotonic();
    int rc = aws_creds_get(p, &c, &e);
    double took = clock_monotonic() - t0;
    ck_assert_int_eq(rc, ERR_TRANSIENT);
    ck_assert_ptr_nonnull(strstr(e.msg, "no AWS credentials found"));
    ck_assert_ptr_nonnull(strstr(e.msg, "EC2 instance metadata"));
    ck_assert_msg(took < 5.0, "IMDS failure took %.1f s", took);
    aws_creds_provider_free(p);
    free(url);
}
END_TEST

START_TEST(imds_no_role)
{
    static const struct hstub_route routes[] = {
        {"PUT", "/latest/api/token", 200, "tok-no-role"},
        {"GET", "/latest/meta-data/iam/security-credentials/", 404, ""},
        {NULL, NULL, 0, NULL},
    };
    struct hstub *h = hstub_start(hstub_routes, (void *)routes);
    char *url = hstub_url(h, NULL);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), ERR_AWS_UNAUTHORIZED);
    ck_assert_ptr_nonnull(strstr(e.msg, "no IAM role"));
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(url);
}
END_TEST

/* ---- chain order -------------------------------------------------------------------------- */

START_TEST(chain_order)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *sts = start_sts(&ss);
    struct cred_server ccs = {0, 0, 3600, NULL, ""};
    struct hstub *ctr = hstub_start(container_handler, &ccs);
    struct cred_server ics = {0, 0, 3600, NULL, ""};
    struct hstub *imds = hstub_start(imds_handler, &ics);
    char *curl = hstub_url(ctr, "/c"), *iurl = hstub_url(imds, NULL);
    char *tok = tmp_write(tmp, "tok", "web-token-chain");

    /* Everything configured: the environment wins. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    write_file("credentials",
               "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p-secret\n");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/web", 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", curl, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", iurl, 1);

    static const char *const expect[] = {"environment", "profile:default", "web-identity",
                                         "container", "imds"};
    for (size_t i = 0; i < 5; i++) {
        struct aws_creds_provider *p = aws_creds_provider_new(NULL);
        const struct aws_credentials *c = NULL;
        struct err e = {0};
        ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
        ck_assert_str_eq(c->source, expect[i]);
        aws_creds_provider_free(p);
        /* Remove the winner; the next one takes over. */
        switch (i) {
        case 0:
            unsetenv("AWS_ACCESS_KEY_ID");
            unsetenv("AWS_SECRET_ACCESS_KEY");
            break;
        case 1:
            write_file("credentials", "");
            break;
        case 2:
            unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
            break;
        case 3:
            unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
            break;
        default:
            break;
        }
    }
    /* Only the winners were ever called. */
    ck_assert_int_eq(ss.calls, 1);
    ck_assert_int_eq(ccs.fetches, 1);
    ck_assert_int_eq(ics.fetches, 1);
    hstub_stop(sts);
    hstub_stop(ctr);
    hstub_stop(imds);
    free(curl);
    free(iurl);
    free(tok);
}
END_TEST

/* ---- refresh with an injected clock ---------------------------------------------------------- */

START_TEST(refresh_windows)
{
    struct cred_server cs = {0, 0, 3600, NULL, ""};
    struct hstub *h = hstub_start(container_handler, &cs);
    char *url = hstub_url(h, "/c");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    struct aws_creds_options o = {0};
    o.max_attempts = 2; /* one retry: keeps the failing fetches short */
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    int64_t t0 = fake_now;
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIACONTAINER1");

    /* 16 minutes left: cached. */
    fake_now = t0 + 3600 - 16 * 60;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_int_eq(cs.fetches, 1);

    /* 14 minutes left, endpoint failing: advisory failure keeps the old ones. */
    cs.fail = 1;
    fake_now = t0 + 3600 - 14 * 60;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_str_eq(c->access_key_id, "ASIACONTAINER1");
    char *log = log_text();
    ck_assert_ptr_nonnull(strstr(log, "advisory refresh"));
    free(log);
    size_t calls = hstub_count(h);
    /* ...and is not retried on every call. */
    fake_now += 10;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_int_eq(hstub_count(h), calls);

    /* 9 minutes left, still failing: mandatory refresh fails -> error. */
    fake_now = t0 + 3600 - 9 * 60;
    ck_assert_int_ne(aws_creds_get(p, &c, &e), 0);
    ck_assert_ptr_nonnull(strstr(e.msg, "refreshing AWS credentials from container"));
    ck_assert_ptr_nonnull(strstr(e.msg, "HTTP 500"));

    /* The endpoint recovers: new credentials are used. */
    cs.fail = 0;
    ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c->access_key_id, "ASIACONTAINER2");
    ck_assert_int_eq(c->expiration, fake_now + 3600);
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(url);
}
END_TEST

/* A 4-hour operation with 1-hour credentials (AssumeRole on IMDS, two
 * refreshing layers): a call every 5 minutes never sees expired credentials. */
START_TEST(refresh_during_long_operation)
{
    struct sts_server ss = {0, 0, 3600, 0, NULL, 0, 0};
    struct hstub *sts = start_sts(&ss);
    struct cred_server ics = {0, 0, 3600, NULL, ""};
    struct hstub *imds = hstub_start(imds_handler, &ics);
    char *iurl = hstub_url(imds, NULL);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", iurl, 1);
    write_file("config", "[default]\nrole_arn = arn:aws:iam::1:role/refresher\n"
                         "credential_source = Ec2InstanceMetadata\n");
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    int64_t start = fake_now;
    char last[64] = "";
    int changes = 0;
    for (; fake_now <= start + 4 * 3600; fake_now += 300) {
        const struct aws_credentials *c = NULL;
        struct err e = {0};
        ck_assert_msg(aws_creds_get(p, &c, &e) == 0, "%s", e.msg);
        ck_assert_msg(c->expiration - fake_now >= AWS_CREDS_MANDATORY_REFRESH,
                      "credentials with %lld s left at +%lld s",
                      (long long)(c->expiration - fake_now), (long long)(fake_now - start));
        if (strcmp(last, c->access_key_id) != 0) {
            changes++;
            snprintf(last, sizeof last, "%s", c->access_key_id);
        }
    }
    /* Refreshed about every 45 minutes: 1 + 5 fetches over 4 hours. */
    ck_assert_int_ge(changes, 5);
    ck_assert_int_le(changes, 7);
    ck_assert_int_eq(ss.calls, changes);
    ck_assert_int_ge(ics.fetches, 5);
    /* Every AssumeRole was signed with the then-current IMDS credentials. */
    char *a = hstub_header(hstub_get(sts, hstub_count(sts) - 1), "Authorization");
    char want[64];
    snprintf(want, sizeof want, "Credential=ASIAIMDS%d/", ics.fetches);
    ck_assert_msg(strstr(a, want), "%s vs %s", a, want);
    free(a);
    aws_creds_provider_free(p);
    hstub_stop(sts);
    hstub_stop(imds);
    free(iurl);
}
END_TEST

/* Credentials that are already past the mandatory window when fetched are
 * used (they are valid) without refetching on every call. */
START_TEST(refresh_short_lived_source)
{
    struct cred_server cs = {0, 0, 8 * 60, NULL, ""};
    struct hstub *h = hstub_start(container_handler, &cs);
    char *url = hstub_url(h, "/c");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    struct aws_creds_provider *p = aws_creds_provider_new(NULL);
    const struct aws_credentials *c = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    for (int i = 0; i < 5; i++) {
        fake_now += 5;
        ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    }
    ck_assert_int_eq(cs.fetches, 1);
    fake_now += AWS_CREDS_ADVISORY_RETRY;
    ck_assert_int_eq(aws_creds_get(p, &c, &e), 0);
    ck_assert_int_eq(cs.fetches, 2);
    aws_creds_provider_free(p);
    hstub_stop(h);
    free(url);
}
END_TEST

static Suite *creds_suite(void)
{
    Suite *s = suite_create("aws_creds");
    TCase *tc = tcase_create("env");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, env_long_term_keys);
    tcase_add_test(tc, env_session_token_and_expiration);
    tcase_add_test(tc, env_partial_is_config_error);
    tcase_add_test(tc, env_bad_expiration);
    tcase_add_test(tc, static_provider);
    tcase_add_test(tc, no_credentials_anywhere);
    suite_add_tcase(s, tc);

    tc = tcase_create("profile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, profile_default_static);
    tcase_add_test(tc, profile_named_by_option_and_env);
    tcase_add_test(tc, profile_missing_explicit_is_error);
    tcase_add_test(tc, profile_key_without_secret);
    tcase_add_test(tc, profile_unsupported_mfa_and_sso);
    suite_add_tcase(s, tc);

    tc = tcase_create("process");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, process_success);
    tcase_add_test(tc, process_refresh_runs_again);
    tcase_add_test(tc, process_failure_names_profile);
    tcase_add_test(tc, process_wait_stops_on_the_transport_cancel);
    tcase_add_test(tc, process_bad_json);
    suite_add_tcase(s, tc);

    tc = tcase_create("sts");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, assume_role_source_profile_chain);
    tcase_add_test(tc, sts_retried_and_skew_corrected_by_the_shared_transport);
    tcase_add_test(tc, assume_role_self_reference_and_env_source);
    tcase_add_test(tc, assume_role_credential_source_environment);
    tcase_add_test(tc, assume_role_config_errors);
    tcase_add_test(tc, assume_role_access_denied);
    tcase_add_test(tc, web_identity_env_rereads_token);
    tcase_add_test(tc, web_identity_errors);
    tcase_add_test(tc, sts_throttling_retried_and_bad_answers);
    tcase_add_test(tc, web_identity_in_profile);
    tcase_add_test(tc, sts_endpoint_resolution);
    suite_add_tcase(s, tc);

    tc = tcase_create("container_imds");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, container_full_uri_with_token);
    tcase_add_test(tc, container_token_file_reread_and_relative_uri);
    tcase_add_test(tc, container_full_uri_host_rules);
    tcase_add_test(tc, imds_v2_flow);
    tcase_add_test(tc, imds_unreachable_fails_fast);
    tcase_add_test(tc, imds_no_role);
    suite_add_tcase(s, tc);

    tc = tcase_create("chain_refresh");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, chain_order);
    tcase_add_test(tc, refresh_windows);
    tcase_add_test(tc, refresh_during_long_operation);
    tcase_add_test(tc, refresh_short_lived_source);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suites(creds_suite(), NULL);
}
