/* secretsmanager: / ssm: references (common/aws/secrets.c) against a loopback stub
 * of the awsJson1_1 endpoints of Secrets Manager and SSM. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_client.h"
#include "aws/aws_client_internal.h"
#include "core/retry.h"
#include "aws/aws_creds.h"
#include "core/buf.h"
#include "check_main.h"
#include "config/config.h"
#include "core/err.h"
#include "hstub.h"
#include "aws/secrets.h"
#include "core/log.h"

static FILE *log_file;

/* ---- the stub: GetSecretValue and GetParameter ------------------------------ */

struct secret_entry {
    const char *name;
    const char *string; /* SecretString / parameter value; NULL = binary secret */
};

static const struct secret_entry secrets[] = {
    {"prod/dblab", "{\"token\":\"dblab-verification-token-42\",\"port\":5432,\"nested\":{}}"},
    {"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/plain-AbCdEf",
     "plain-secret-string"},
    {"binary-only", NULL},
    {"empty", ""},
    {"not-json", "just text"},
    {NULL, NULL},
};

static const struct secret_entry params[] = {
    {"/prod/db/password", "ssm-decrypted-password"},
    {NULL, NULL},
};

static int bad_signature;

static void reply_error(struct hstub_reply *reply, const char *type, const char *msg)
{
    snprintf(reply->content_type, sizeof reply->content_type, "application/x-amz-json-1.1");
    hstub_reply_set(reply, 400, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
}

static void json_handler(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    (void)ctx;
    char *target = hstub_header(req, "X-Amz-Target");
    char *auth = hstub_header(req, "Authorization");
    char *ctype = hstub_header(req, "Content-Type");
    cJSON *body = cJSON_Parse(req->body);
    snprintf(reply->content_type, sizeof reply->content_type, "application/x-amz-json-1.1");
    if (!target || !auth || !ctype || strcmp(ctype, "application/x-amz-json-1.1") != 0 || !body) {
        bad_signature++;
        reply_error(reply, "com.amazon.coral.service#InvalidRequest", "stub: bad request");
    } else if (strcmp(target, "secretsmanager.GetSecretValue") == 0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "SecretId");
        if (!strstr(auth, "/secretsmanager/aws4_request"))
            bad_signature++;
        const struct secret_entry *s = NULL;
        for (size_t i = 0; cJSON_IsString(id) && secrets[i].name; i++)
            if (strcmp(secrets[i].name, id->valuestring) == 0)
                s = &secrets[i];
        if (!s) {
            reply_error(reply, "ResourceNotFoundException",
                        "Secrets Manager can't find the specified secret.");
        } else {
            cJSON *out = cJSON_CreateObject();
            cJSON_AddStringToObject(out, "ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:x");
            cJSON_AddStringToObject(out, "Name", s->name);
            if (s->string)
                cJSON_AddStringToObject(out, "SecretString", s->string);
            else
                cJSON_AddStringToObject(out, "SecretBinary", "AAEC");
            char *txt = cJSON_PrintUnformatted(out);
            hstub_reply_set(reply, 200, "%s", txt);
            cJSON_free(txt);
            cJSON_Delete(out);
        }
    } else if (strcmp(target, "AmazonSSM.GetParameter") == 0) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "Name");
        const cJSON *dec = cJSON_GetObjectItemCaseSensitive(body, "WithDecryption");
        if (!strstr(auth, "/ssm/aws4_request") || !cJSON_IsTrue(dec))
            bad_signature++;
        const struct secret_entry *p = NULL;
        for (size_t i = 0; cJSON_IsString(name) && params[i].name; i++)
            if (strcmp(params[i].name, name->valuestring) == 0)
                p = &params[i];
        if (!p) {
            reply_error(reply, "ParameterNotFound", "");
        } else {
            hstub_reply_set(reply, 200,
                            "{\"Parameter\":{\"Name\":\"%s\",\"Type\":\"SecureString\","
                            "\"Value\":\"%s\",\"Version\":3}}",
                            p->name, p->string);
        }
    } else {
        reply_error(reply, "UnknownOperationException", "stub: unknown target");
    }
    cJSON_Delete(body);
    free(target);
    free(auth);
    free(ctype);
}

/* ---- fixture ------------------------------------------------------------------ */

static struct hstub *stub;
static struct aws_ctx *aws;
static struct aws_creds_provider *provider;

static int static_creds(void *ctx, const struct aws_credentials **out, struct err *e)
{
    return aws_creds_get(ctx, out, e);
}

static void setup(void)
{
    log_file = tmpfile();
    log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_DEBUG);
    log_set_stream(log_file);
    bad_signature = 0;
    stub = hstub_start(json_handler, NULL);
    char *url = hstub_url(stub, NULL);
    setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url, 1);
    setenv("AWS_ENDPOINT_URL_SSM", url, 1);
    unsetenv("AWS_ENDPOINT_URL");
    free(url);
    struct aws_ctx_options o = {0};
    o.region = "eu-west-1";
    o.max_attempts = 2;
    struct err e = {0};
    ck_assert_msg(aws_ctx_new(&o, &aws, &e) == 0, "%s", e.msg);
    provider = aws_creds_provider_new_static("AKIDSECRETS", "secrets-test-secret", NULL);
    aws_ctx_set_credentials_fn(aws, static_creds, provider);
}

static void teardown(void)
{
    aws_ctx_free(aws);
    aws_creds_provider_free(provider);
    hstub_stop(stub);
    log_set_stream(NULL);
    fclose(log_file);
}

static void assert_redacted(const char *secret)
{
    char *r = redact_apply(secret);
    ck_assert_msg(strstr(r, secret) == NULL, "secret not registered for redaction");
    free(r);
}

/* ---- tests -------------------------------------------------------------------------- */

START_TEST(parse_references)
{
    struct secret_ref r;
    struct err e = {0};
    ck_assert_int_eq(secret_ref_parse("k", "plain-value", &r, &e), 0);
    ck_assert_int_eq(r.kind, SECRET_PLAIN);
    secret_ref_release(&r);
    ck_assert_int_eq(secret_ref_parse("k", "secretsmanager:prod/dblab", &r, &e), 0);
    ck_assert_int_eq(r.kind, SECRET_SECRETSMANAGER);
    ck_assert_str_eq(r.id, "prod/dblab");
    ck_assert_ptr_null(r.json_key);
    secret_ref_release(&r);
    ck_assert_int_eq(
        secret_ref_parse(
            "k", "secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:prod/x-AbC#token", &r,
            &e),
        0);
    ck_assert_str_eq(r.id, "arn:aws:secretsmanager:eu-west-1:1:secret:prod/x-AbC");
    ck_assert_str_eq(r.json_key, "token");
    secret_ref_release(&r);
    ck_assert_int_eq(secret_ref_parse("k", "ssm:/prod/db/password", &r, &e), 0);
    ck_assert_int_eq(r.kind, SECRET_SSM);
    ck_assert_str_eq(r.id, "/prod/db/password");
    secret_ref_release(&r);

    static const char *const bad[] = {"secretsmanager:", "secretsmanager:#k", "secretsmanager:x#",
                                      "ssm:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(secret_ref_parse("dblab.token", bad[i], &r, &e), ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(e.msg, "dblab.token"));
        secret_ref_release(&r);
    }
}
END_TEST

START_TEST(plain_passes_through)
{
    char *v = NULL;
    struct err e = {0};
    ck_assert_int_eq(secret_resolve(aws, "dblab.token", "literal-token", &v, &e), 0);
    ck_assert_str_eq(v, "literal-token");
    free(v);
    ck_assert_int_eq(hstub_count(stub), 0);
}
END_TEST

START_TEST(secretsmanager_whole_and_json_key)
{
    char *v = NULL;
    struct err e = {0};
    ck_assert_msg(
        secret_resolve(
            aws, "source.password",
            "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/plain-AbCdEf",
            &v, &e) == 0,
        "%s", e.msg);
    ck_assert_str_eq(v, "plain-secret-string");
    assert_redacted("plain-secret-string");
    free(v);

    ck_assert_msg(secret_resolve(aws, "dblab.token", "secretsmanager:prod/dblab#token", &v, &e) ==
                      0,
                  "%s", e.msg);
    ck_assert_str_eq(v, "dblab-verification-token-42");
    assert_redacted("dblab-verification-token-42");
    free(v);

    ck_assert_int_eq(secret_resolve(aws, "dblab.token", "secretsmanager:prod/dblab#port", &v, &e),
                     0);
    ck_assert_str_eq(v, "5432");
    free(v);
    ck_assert_int_eq(bad_signature, 0);
    const struct hstub_request *r = hstub_get(stub, 0);
    char *target = hstub_header(r, "X-Amz-Target");
    ck_assert_str_eq(target, "secretsmanager.GetSecretValue");
    free(target);
    ck_assert_ptr_nonnull(strstr(r->body, "\"SecretId\""));
    char *log = NULL;
    size_t n = 0;
    fflush(log_file);
    rewind(log_file);
    ck_assert_int_ge(getdelim(&log, &n, '\0', log_file), 0);
    ck_assert_msg(strstr(log, "resolved dblab.token from AWS Secrets Manager "
                              "(secretsmanager:prod/dblab#token)"),
                  "%s", log);
    ck_assert_ptr_null(strstr(log, "dblab-verification-token-42"));
    free(log);
}
END_TEST

START_TEST(secretsmanager_errors_never_show_values)
{
    static const struct {
        const char *ref;
        int code;
        const char *want;
    } cases[] = {
        {"secretsmanager:missing", ERR_AWS_REJECTED, "ResourceNotFoundException"},
        {"secretsmanager:prod/dblab#tokn", ERR_CONFIG,
         "no key \"tokn\" (keys: \"token\", \"port\", \"nested\")"},
        {"secretsmanager:prod/dblab#nested", ERR_CONFIG, "not a string or number"},
        {"secretsmanager:not-json#k", ERR_CONFIG, "not a JSON object"},
        {"secretsmanager:binary-only", ERR_CONFIG, "binary secrets are not supported"},
        {"secretsmanager:empty", ERR_CONFIG, "empty value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *v = NULL;
        struct err e = {0};
        ck_assert_int_eq(secret_resolve(aws, "dblab.token", cases[i].ref, &v, &e), cases[i].code);
        ck_assert_ptr_null(v);
        ck_assert_msg(strstr(e.msg, cases[i].want), "%s: %s", cases[i].ref, e.msg);
        char prefix[128];
        snprintf(prefix, sizeof prefix, "dblab.token (%s): ", cases[i].ref);
        ck_assert_msg(strncmp(e.msg, prefix, strlen(prefix)) == 0, "%s", e.msg);
        /* The message survives the log's redaction with its key and reference. */
        char *shown = redact_apply(e.msg);
        ck_assert_msg(strstr(shown, prefix), "%s", shown);
        free(shown);
        ck_assert_ptr_null(strstr(e.msg, "dblab-verification-token-42"));
        ck_assert_ptr_null(strstr(e.msg, "just text"));
    }
}
END_TEST

START_TEST(ssm_parameter)
{
    char *v = NULL;
    struct err e = {0};
    ck_assert_msg(secret_resolve(aws, "source.password", "ssm:/prod/db/password", &v, &e) == 0,
                  "%s", e.msg);
    ck_assert_str_eq(v, "ssm-decrypted-password");
    assert_redacted("ssm-decrypted-password");
    free(v);
    ck_assert_int_eq(bad_signature, 0);
    char *target = hstub_header(hstub_get(stub, 0), "X-Amz-Target");
    ck_assert_str_eq(target, "AmazonSSM.GetParameter");
    free(target);

    ck_assert_int_eq(secret_resolve(aws, "source.password", "ssm:/prod/nope", &v, &e),
                     ERR_AWS_REJECTED);
    ck_assert_ptr_nonnull(strstr(e.msg, "source.password (ssm:/prod/nope)"));
    ck_assert_ptr_nonnull(strstr(e.msg, "ParameterNotFound"));
}
END_TEST

START_TEST(resolve_config_in_place)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dblab.token = xstrdup("secretsmanager:prod/dblab#token");
    cfg.source.password = xstrdup("ssm:/prod/db/password");
    struct err e = {0};
    ck_assert_msg(secrets_resolve_config(aws, &cfg, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(cfg.dblab.token, "dblab-verification-token-42");
    ck_assert_str_eq(cfg.source.password, "ssm-decrypted-password");
    free(cfg.dblab.token);
    free(cfg.source.password);

    /* Plain values (and an unset password) are left alone, with no AWS call. */
    size_t calls = hstub_count(stub);
    cfg.dblab.token = xstrdup("plain-token-value");
    cfg.source.password = NULL;
    ck_assert_int_eq(secrets_resolve_config(aws, &cfg, &e), 0);
    ck_assert_str_eq(cfg.dblab.token, "plain-token-value");
    ck_assert_ptr_null(cfg.source.password);
    ck_assert_int_eq(hstub_count(stub), calls);
    free(cfg.dblab.token);

    /* A failing reference names its key; the field keeps the reference. */
    cfg.dblab.token = xstrdup("plain");
    cfg.source.password = xstrdup("secretsmanager:missing");
    ck_assert_int_eq(secrets_resolve_config(aws, &cfg, &e), ERR_AWS_REJECTED);
    ck_assert_ptr_nonnull(strstr(e.msg, "source.password (secretsmanager:missing)"));
    ck_assert_str_eq(cfg.source.password, "secretsmanager:missing");
    free(cfg.dblab.token);
    free(cfg.source.password);
}
END_TEST

static Suite *secrets_suite(void)
{
    Suite *s = suite_create("secrets");
    TCase *tc = tcase_create("references");
    tcase_set_timeout(tc, 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_references);
    tcase_add_test(tc, plain_passes_through);
    tcase_add_test(tc, secretsmanager_whole_and_json_key);
    tcase_add_test(tc, secretsmanager_errors_never_show_values);
    tcase_add_test(tc, ssm_parameter);
    tcase_add_test(tc, resolve_config_in_place);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suites(secrets_suite(), NULL);
}
