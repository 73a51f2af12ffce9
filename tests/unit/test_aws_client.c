/* The AWS client against a local HTTP stub (tests/unit/support/hstub): what it
 * sends (signed exactly as received, session token, content types, X-Amz-Target),
 * retries on 5xx / throttling / dropped connections with an injected sleep,
 * immediate failure on client errors, credentials fetched per attempt, secrets
 * kept out of logs and errors, awsJson1_1 errors, pagination, signals. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws_client.h"
#include "aws/aws_client_internal.h"
#include "core/retry.h"
#include "aws/aws_sigv4.h"
#include "aws/aws_skew.h"
#include "core/buf.h"
#include "check_main.h"
#include "core/clock.h"
#include "hstub.h"
#include "core/http.h"
#include "core/log.h"
#include "core/signals.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN  "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKENvalue0123456789"

static const char *const PAGE_OK =
    "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
    "<DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
    "<DBSnapshotIdentifier>rds:production-db-2026-11-25-02-05</DBSnapshotIdentifier>"
    "</DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>"
    "<ResponseMetadata><RequestId>ok-1</RequestId></ResponseMetadata>"
    "</DescribeDBSnapshotsResponse>";

static const char *const THROTTLED =
    "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender</Type>"
    "<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>throttle-1</RequestId></ErrorResponse>";

static const char *const NOT_FOUND =
    "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender</Type>"
    "<Code>DBSnapshotNotFound</Code><Message>DBSnapshot nope not found.</Message></Error>"
    "<RequestId>nf-1</RequestId></ErrorResponse>";

/* ---- a scripted server ---- */

struct step {
    int status; /* 0 = drop the connection */
    const char *body;
    const char *content_type;
};

struct script {
    const struct step *steps;
    size_t n;
    size_t next;      /* repeats the last step when past the end */
    int raise_signal; /* raise this signal while serving */
    int delay_ms;     /* answer this late */
};

static void scripted(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    (void)req;
    struct script *s = ctx;
    const struct step *st = &s->steps[s->next < s->n ? s->next : s->n - 1];
    s->next++;
    if (s->raise_signal)
        raise(s->raise_signal);
    if (s->delay_ms)
        usleep((useconds_t)s->delay_ms * 1000);
    if (st->status == 0) {
        reply->drop = 1;
        return;
    }
    hstub_reply_set(reply, st->status, "%s", st->body ? st->body : "");
    snprintf(reply->content_type, sizeof reply->content_type, "%s",
             st->content_type ? st->content_type : "text/xml");
}

/* ---- credentials and sleep injected into the context ---- */

struct creds_state {
    int calls;
    int fail;
    int rotate; /* 1 = a new access key id per call */
    char akid[32];
    struct aws_credentials c;
};

static int test_creds(void *ctx, const struct aws_credentials **out, struct err *e)
{
    struct creds_state *s = ctx;
    s->calls++;
    if (s->fail)
        return err_set(e, ERR_AWS_REJECTED, "no credentials: nothing in the chain");
    snprintf(s->akid, sizeof s->akid, "ASIATEST%04d", s->rotate ? s->calls : 0);
    s->c.access_key_id = s->akid;
    s->c.secret_access_key = SECRET;
    s->c.session_token = TOKEN;
    s->c.source = "test";
    *out = &s->c;
    return 0;
}

struct sleeps {
    int n;
    double delays[32];
};

static int fake_sleep(double seconds, void *ctx)
{
    struct sleeps *s = ctx;
    if (s->n < 32)
        s->delays[s->n] = seconds;
    s->n++;
    return 0;
}

struct fixture {
    struct hstub *stub;
    struct script script;
    struct creds_state creds;
    struct sleeps sleeps;
    struct aws_ctx *ctx;
    char *url;
};

static void fixture_start(struct fixture *f, const struct step *steps, size_t n, int max_attempts)
{
    memset(f, 0, sizeof *f);
    f->script.steps = steps;
    f->script.n = n;
    f->stub = hstub_start(scripted, &f->script);
    ck_assert_ptr_nonnull(f->stub);
    f->url = hstub_url(f->stub, "");
    struct aws_ctx_options o = {"us-east-1", f->url, max_attempts, 2000, 5000, NULL};
    struct err e = {0};
    ck_assert_msg(aws_ctx_new(&o, &f->ctx, &e) == 0, "%s", e.msg);
    aws_ctx_set_credentials_fn(f->ctx, test_creds, &f->creds);
    retry_seed(aws_transport_retry(f->ctx->transport), 12345);
    aws_transport_retry(f->ctx->transport)->sleep_fn = fake_sleep;
    aws_transport_retry(f->ctx->transport)->sleep_ctx = &f->sleeps;
}

static void fixture_stop(struct fixture *f)
{
    aws_ctx_free(f->ctx);
    hstub_stop(f->stub);
    free(f->url);
}

/* Re-signs the request the stub received and compares with its Authorization:
 * what was sent is exactly what was signed. */
static void assert_signed_as_sent(const struct hstub_request *r, const char *service,
                                  const char *secret)
{
    char *host = hstub_header(r, "Host");
    char *ctype = hstub_header(r, "Content-Type");
    char *target = hstub_header(r, "X-Amz-Target");
    char *date = hstub_header(r, "X-Amz-Date");
    char *token = hstub_header(r, "X-Amz-Security-Token");
    char *auth = hstub_header(r, "Authorization");
    ck_assert_ptr_nonnull(host);
    ck_assert_ptr_nonnull(date);
    ck_assert_ptr_nonnull(auth);
    char rfc[32];
    snprintf(rfc, sizeof rfc, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", date, date + 4, date + 6, date + 9,
             date + 11, date + 13);
    int64_t t;
    ck_assert_int_eq(clock_parse_rfc3339(rfc, &t), 0);
    const char *cred = strstr(auth, "Credential=");
    ck_assert_ptr_nonnull(cred);
    char akid[64];
    ck_assert_int_eq(sscanf(cred, "Credential=%63[^/]", akid), 1);

    struct http_header h[3] = {{"Host", host}, {"Content-Type", ctype}, {"X-Amz-Target", target}};
    struct sigv4_request req = {"POST", "/", NULL, h, target ? 3 : 2, r->body, r->body_len};
    struct sigv4_credentials sc = {akid, secret, token};
    struct sigv4_options so = {"us-east-1", service, t, 1, 0, 0};
    struct sigv4_signed s;
    struct err e = {0};
    ck_assert_int_eq(sigv4_sign(&req, &sc, &so, &s, &e), 0);
    ck_assert_str_eq(auth, s.authorization);
    sigv4_signed_release(&s);
    free(host);
    free(ctype);
    free(target);
    free(date);
    free(token);
    free(auth);
}

START_TEST(test_success_request_shape)
{
    struct step ok = {200, PAGE_OK, "text/xml"};
    struct fixture f;
    fixture_start(&f, &ok, 1, 3);
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", "production-db");
    aws_params_add(&p, "SnapshotType", "automated");
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_msg(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e) == 0, "%s",
                  e.msg);
    ck_assert_str_eq(aws_xml_text(aws_xml_result(doc, "DescribeDBSnapshots"),
                                  "DBSnapshots/DBSnapshot/DBSnapshotIdentifier"),
                     "rds:production-db-2026-11-25-02-05");
    xmlFreeDoc(doc);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).calls, 1);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 1);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).retries, 0);

    ck_assert_uint_eq(hstub_count(f.stub), 1);
    const struct hstub_request *r = hstub_get(f.stub, 0);
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->path, "/");
    ck_assert_str_eq(r->body, "Action=DescribeDBSnapshots&Version=2014-10-31"
                              "&DBInstanceIdentifier=production-db&SnapshotType=automated");
    char *ct = hstub_header(r, "Content-Type");
    ck_assert_str_eq(ct, "application/x-www-form-urlencoded; charset=utf-8");
    free(ct);
    char *tok = hstub_header(r, "X-Amz-Security-Token");
    ck_assert_str_eq(tok, TOKEN);
    free(tok);
    char *host = hstub_header(r, "Host");
    char want_host[64];
    snprintf(want_host, sizeof want_host, "127.0.0.1:%d", hstub_port(f.stub));
    ck_assert_str_eq(host, want_host);
    free(host);
    assert_signed_as_sent(r, "rds", SECRET);
    aws_params_release(&p);
    fixture_stop(&f);
}
END_TEST

START_TEST(test_retries_then_success)
{
    static const struct step steps[] = {
        {503, "<html><body>Service Unavailable</body></html>", "text/html"},
        {400, NULL, NULL}, /* replaced below: Throttling */
        {0, NULL, NULL},   /* connection dropped */
        {500, "", NULL},
        {200, NULL, NULL},
    };
    struct step s[5];
    memcpy(s, steps, sizeof s);
    s[1].body = THROTTLED;
    s[4].body = PAGE_OK;
    struct fixture f;
    fixture_start(&f, s, 5, 8);
    f.creds.rotate = 1;
    FILE *logf = tmpfile();
    log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_DEBUG);
    log_set_stream(logf);
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_msg(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e) == 0,
                  "%s", e.msg);
    xmlFreeDoc(doc);
    log_set_stream(NULL);
    log_init("test_aws_client", LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 5);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).retries, 4);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).calls, 1);
    ck_assert_int_eq(f.sleeps.n, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(f.sleeps.delays[i] >= 0 && f.sleeps.delays[i] < (double)(1 << i),
                      "delay %d = %f", i, f.sleeps.delays[i]);
    /* Credentials fetched before each attempt: every attempt carries the key of its time. */
    ck_assert_int_eq(f.creds.calls, 5);
    for (size_t i = 0; i < hstub_count(f.stub); i++) {
        const struct hstub_request *r = hstub_get(f.stub, i);
        char *auth = hstub_header(r, "Authorization");
        char want[64];
        snprintf(want, sizeof want, "Credential=ASIATEST%04zu/", i + 1);
        ck_assert_msg(strstr(auth, want) != NULL, "attempt %zu: %s", i + 1, auth);
        free(auth);
        assert_signed_as_sent(r, "rds", SECRET);
    }
    /* 4 retries cost 4 * 5 tokens; the success refunds the last retry's 5. */
    ck_assert_int_eq(aws_transport_retry(f.ctx->transport)->quota, 500 - 20 + 5);

    /* Every retry is logged with code, attempt and delay; no secret in the log. */
    rewind(logf);
    struct buf log = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, logf)) > 0)
        buf_append(&log, chunk, n);
    fclose(logf);
    const char *l = buf_cstr(&log);
    ck_assert_msg(
        strstr(l, "Throttling: Rate exceeded (HTTP 400, RequestId throttle-1); retry 2 of 7 in") !=
            NULL,
        "%s", l);
    ck_assert_msg(strstr(l, "HTTP 503: ") != NULL, "%s", l);
    ck_assert_msg(strstr(l, "retry 1 of 7 in ") != NULL, "%s", l);
    ck_assert_msg(strstr(l, "retry 3 of 7 in ") != NULL, "%s", l);
    ck_assert_ptr_null(strstr(l, SECRET));
    ck_assert_ptr_null(strstr(l, TOKEN));
    ck_assert_ptr_null(strstr(l, "Signature="));
    buf_release(&log);
    fixture_stop(&f);
}
END_TEST

START_TEST(test_retries_exhausted_is_tempfail)
{
    struct step s = {503, THROTTLED, "text/xml"};
    struct fixture f;
    fixture_start(&f, &s, 1, 3);
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e),
                     ERR_TRANSIENT);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 3);
    ck_assert_int_eq(ae.http_status, 503);
    ck_assert_str_eq(ae.code, "Throttling");
    ck_assert_str_eq(ae.request_id, "throttle-1");
    ck_assert_str_eq(e.msg, "rds DescribeDBSnapshots: Throttling: Rate exceeded (HTTP 503, "
                            "RequestId throttle-1); max attempts reached after 3 attempts");
    fixture_stop(&f);
}
END_TEST

START_TEST(test_quota_exhausted_is_tempfail)
{
    struct step s = {0, NULL, NULL}; /* every connection dropped */
    struct fixture f;
    fixture_start(&f, &s, 1, 100);
    aws_transport_retry(f.ctx->transport)->quota = 12; /* two retries' worth */
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e),
                     ERR_TRANSIENT);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 3);
    ck_assert_int_eq(ae.http_status, 0);
    ck_assert_msg(strstr(e.msg, "no answer from 127.0.0.1:") != NULL, "%s", e.msg);
    ck_assert_msg(strstr(e.msg, "retry quota exhausted after 3 attempts") != NULL, "%s", e.msg);
    fixture_stop(&f);
}
END_TEST

START_TEST(test_client_error_fails_at_once)
{
    struct step s = {404, NOT_FOUND, "text/xml"};
    struct fixture f;
    fixture_start(&f, &s, 1, 8);
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBSnapshotIdentifier", "nope");
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e),
                     ERR_AWS_REJECTED);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 1);
    ck_assert_int_eq(f.sleeps.n, 0);
    ck_assert_str_eq(ae.code, "DBSnapshotNotFound");
    ck_assert_str_eq(e.msg, "rds DescribeDBSnapshots: DBSnapshotNotFound: DBSnapshot nope not "
                            "found. (HTTP 404, RequestId nf-1)");
    ck_assert_ptr_null(strstr(e.msg, SECRET));
    aws_params_release(&p);

    /* ae may be NULL. */
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_AWS_REJECTED);
    fixture_stop(&f);
}
END_TEST

START_TEST(test_bad_success_body_and_bad_service)
{
    struct step s = {200, "<DescribeDBSnapshotsResponse><DescribeDBSnapsh", "text/xml"};
    struct fixture f;
    fixture_start(&f, &s, 1, 3);
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    /* A read-only action: asked for again, then an AWS error (never "temporary",
     * never empty: the answer was not the operation's). */
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e),
                     ERR_AWS_BAD_ANSWER);
    ck_assert_msg(strstr(e.msg, "max attempts reached after 3 attempts") != NULL, "%s", e.msg);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 3);
    ck_assert_int_eq(ae.http_status, 200);
    ck_assert_msg(strstr(e.msg, "rds DescribeDBSnapshots: HTTP 200: the answer: invalid XML") !=
                      NULL,
                  "%s", e.msg);
    ck_assert_msg(strstr(e.msg, "RequestId stub-request-id") != NULL, "%s", e.msg);
    /* An action that changes something: returned at once, never re-sent. */
    ck_assert_int_eq(
        aws_query_call(f.ctx, "rds", "RestoreDBInstanceFromDBSnapshot", NULL, &doc, &ae, &e),
        ERR_AWS_BAD_ANSWER);
    ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, 4);
    ck_assert_int_eq(ae.http_status, 200);
    ck_assert_str_eq(ae.code, "");
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(aws_query_call(f.ctx, "secretsmanager", "X", NULL, &doc, &ae, &e),
                     ERR_INTERNAL);
    ck_assert_int_eq(aws_query_call(f.ctx, "s3", "X", NULL, &doc, &ae, &e), ERR_INTERNAL);
    cJSON *j = NULL;
    ck_assert_int_eq(aws_json_call(f.ctx, "rds", "X.Y", "{}", &j, &ae, &e), ERR_INTERNAL);
    fixture_stop(&f);
}
END_TEST

/* Fail closed: a 2xx that is not the operation's answer is an AWS error. */
START_TEST(test_2xx_not_the_answer)
{
    static const char *const PAGE =
        "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>"
        "Sign in</title></head><body><p>Proxy authentication required</p></body></html>";
    static const char *const DENIED200 =
        "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender"
        "</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error>"
        "<RequestId>e200</RequestId></ErrorResponse>";
    static const char *const THROTTLED200 =
        "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
        "<RequestId>t200</RequestId></ErrorResponse>";
    static const char *const OTHER =
        "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances/>"
        "</DescribeDBInstancesResult></DescribeDBInstancesResponse>";
    static const char *const NO_RESULT =
        "<DescribeDBSnapshotsResponse><ResponseMetadata><RequestId>r</RequestId>"
        "</ResponseMetadata></DescribeDBSnapshotsResponse>";
    static const char *const TAGGED =
        "<AddTagsToResourceResponse><ResponseMetadata><RequestId>r</RequestId>"
        "</ResponseMetadata></AddTagsToResourceResponse>";
    struct {
        struct step step;
        const char *action;
        int rc, attempts;
        const char *msg;
    } cases[] = {
        {{200, PAGE, "text/html; charset=utf-8"},
         "DescribeDBSnapshots",
         ERR_AWS_BAD_ANSWER,
         2,
         "HTTP 200: the answer is not XML (Content-Type text/html)"},
        {{200, PAGE, "text/xml"},
         "DescribeDBSnapshots",
         ERR_AWS_BAD_ANSWER,
         2,
         "the answer is <html>, not <DescribeDBSnapshotsResponse>"},
        {{200, PAGE, "text/html"}, "DeleteDBInstance", ERR_AWS_BAD_ANSWER, 1, "not XML"},
        {{200, PAGE_OK, ""}, "DescribeDBSnapshots", ERR_AWS_BAD_ANSWER, 2, "Content-Type missing"},
        {{200, DENIED200, "text/xml"},
         "DescribeDBSnapshots",
         ERR_AWS_UNAUTHORIZED,
         1,
         "AccessDenied: not authorized (HTTP 200, RequestId e200)"},
        {{200, DENIED200, "text/xml"}, "DeleteDBInstance", ERR_AWS_UNAUTHORIZED, 1, "AccessDenied"},
        {{200, THROTTLED200, "text/xml"},
         "DeleteDBInstance",
         ERR_AWS_REJECTED,
         2,
         "Throttling: Rate exceeded (HTTP 200, RequestId t200)"},
        {{200, OTHER, "text/xml"},
         "DescribeDBSnapshots",
         ERR_AWS_BAD_ANSWER,
         2,
         "not <DescribeDBSnapshotsResponse>"},
        {{200, NO_RESULT, "text/xml"},
         "DescribeDBSnapshots",
         ERR_AWS_BAD_ANSWER,
         2,
         "no <DescribeDBSnapshotsResult> element"},
        {{200, TAGGED, "text/xml"}, "AddTagsToResource", 0, 1, NULL},
        {{200, PAGE_OK, "application/xml"}, "DescribeDBSnapshots", 0, 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fixture f;
        fixture_start(&f, &cases[i].step, 1, 2);
        xmlDoc *doc = NULL;
        struct aws_error ae;
        struct err e = {0};
        int rc = aws_query_call(f.ctx, "rds", cases[i].action, NULL, &doc, &ae, &e);
        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d: %s", i, rc, e.msg);
        ck_assert_msg(aws_ctx_counters(f.ctx).attempts == (unsigned long)cases[i].attempts,
                      "case %zu: %lu attempts", i, aws_ctx_counters(f.ctx).attempts);
        if (cases[i].msg)
            ck_assert_msg(strstr(e.msg, cases[i].msg) != NULL, "case %zu: %s", i, e.msg);
        if (rc)
            ck_assert_ptr_null(doc);
        xmlFreeDoc(doc);
        fixture_stop(&f);
    }
}
END_TEST

static const char *const OK_JSON = "{\"SecretString\":\"x\"}";

START_TEST(test_2xx_not_the_answer_json)
{
    struct {
        struct step step;
        int rc, attempts;
        const char *msg;
    } cases[] = {
        {{200, "<html><body>proxy</body></html>", "text/html"},
         ERR_AWS_BAD_ANSWER,
         2,
         "not JSON (Content-Type text/html)"},
        {{200, "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}",
          "application/x-amz-json-1.1"},
         ERR_AWS_UNAUTHORIZED,
         1,
         "AccessDeniedException: no (HTTP 200"},
        {{200, OK_JSON, "application/x-amz-json-1.1"}, 0, 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fixture f;
        fixture_start(&f, &cases[i].step, 1, 2);
        setenv("AWS_ENDPOINT_URL", f.url, 1);
        cJSON *j = NULL;
        struct aws_error ae;
        struct err e = {0};
        int rc = aws_json_call(f.ctx, "secretsmanager", "secretsmanager.GetSecretValue", "{}", &j,
                               &ae, &e);
        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d: %s", i, rc, e.msg);
        ck_assert_int_eq(aws_ctx_counters(f.ctx).attempts, (unsigned long)cases[i].attempts);
        if (cases[i].msg)
            ck_assert_msg(strstr(e.msg, cases[i].msg) != NULL, "case %zu: %s", i, e.msg);
        cJSON_Delete(j);
        fixture_stop(&f);
        unsetenv("AWS_ENDPOINT_URL");
    }
}
END_TEST

START_TEST(test_credentials_failure)
{
    struct step s = {200, PAGE_OK, "text/xml"};
    struct fixture f;
    fixture_start(&f, &s, 1, 8);
    f.creds.fail = 1;
    xmlDoc *doc = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_AWS_REJECTED);
    ck_assert_str_eq(e.msg, "rds DescribeDBSnapshots: no credentials: nothing in the chain");
    ck_assert_uint_eq(hstub_count(f.stub), 0); /* nothing unsigned was sent */
    fixture_stop(&f);

    /* No credential source at all is a bug, not an AWS error. */
    struct aws_ctx *c = NULL;
    struct aws_ctx_options o = {"us-east-1", "http://127.0.0.1:1", 1, 0, 0, NULL};
    ck_assert_int_eq(aws_ctx_new(&o, &c, &e), 0);
    ck_assert_int_eq(aws_query_call(c, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_INTERNAL);
    aws_ctx_free(c);
}
END_TEST

START_TEST(test_json_call)
{
    static const struct step steps[] = {
        {400,
         "{\"__type\":\"com.amazonaws.secretsmanager#ResourceNotFoundException\","
         "\"Message\":\"Secrets Manager can't find the specified secret.\"}",
         "application/x-amz-json-1.1"},
        {400, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
         "application/x-amz-json-1.1"},
        {200,
         "{\"ARN\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:dblab-AbCdEf\","
         "\"Name\":\"dblab\",\"SecretString\":\"s3cr3t-token-value\"}",
         "application/x-amz-json-1.1"},
        {200, "[1,2]", "application/x-amz-json-1.1"},
        {500, "not json", "text/plain"},
    };
    struct fixture f;
    fixture_start(&f, steps, sizeof steps / sizeof steps[0], 2);
    setenv("AWS_ENDPOINT_URL", f.url, 1); /* Secrets Manager and SSM go to the stub too */
    cJSON *out = NULL;
    struct aws_error ae;
    struct err e = {0};
    const char *req = "{\"SecretId\":\"dblab\"}";
    ck_assert_int_eq(
        aws_json_call(f.ctx, "secretsmanager", "secretsmanager.GetSecretValue", req, &out, &ae, &e),
        ERR_AWS_REJECTED);
    ck_assert_str_eq(ae.code, "ResourceNotFoundException");
    ck_assert_str_eq(ae.request_id, "stub-request-id");
    ck_assert_str_eq(e.msg, "secretsmanager GetSecretValue: ResourceNotFoundException: Secrets "
                            "Manager can't find the specified secret. (HTTP 400, RequestId "
                            "stub-request-id)");
    /* Throttled once, then the secret. */
    ck_assert_int_eq(
        aws_json_call(f.ctx, "secretsmanager", "secretsmanager.GetSecretValue", req, &out, &ae, &e),
        0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(out, "SecretString")),
                     "s3cr3t-token-value");
    cJSON_Delete(out);
    const struct hstub_request *r = hstub_get(f.stub, 2);
    ck_assert_str_eq(r->body, req);
    char *target = hstub_header(r, "X-Amz-Target");
    char *ct = hstub_header(r, "Content-Type");
    ck_assert_str_eq(target, "secretsmanager.GetSecretValue");
    ck_assert_str_eq(ct, "application/x-amz-json-1.1");
    free(target);
    free(ct);
    assert_signed_as_sent(r, "secretsmanager", SECRET);

    /* A 2xx that is not a JSON object (a read: asked again), then 5xx that are not
     * JSON (retried, then given up). */
    ck_assert_int_eq(aws_json_call(f.ctx, "ssm", "AmazonSSM.GetParameter", "{}", &out, &ae, &e),
                     ERR_TRANSIENT);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(aws_json_call(f.ctx, "ssm", "AmazonSSM.GetParameter", NULL, &out, &ae, &e),
                     ERR_TRANSIENT);
    ck_assert_str_eq(ae.message, "error body is not JSON");
    ck_assert_msg(strstr(e.msg, "ssm GetParameter: HTTP 500: error body is not JSON") != NULL, "%s",
                  e.msg);
    assert_signed_as_sent(hstub_get(f.stub, 4), "ssm", SECRET);
    unsetenv("AWS_ENDPOINT_URL");
    fixture_stop(&f);
}
END_TEST

/* ---- pagination ---- */

static char *page_xml(const char *marker, const char *ids)
{
    return xasprintf(
        "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
        "<DescribeDBSnapshotsResult>%s%s%s<DBSnapshots>%s</DBSnapshots>"
        "</DescribeDBSnapshotsResult><ResponseMetadata><RequestId>p</RequestId>"
        "</ResponseMetadata></DescribeDBSnapshotsResponse>",
        marker ? "<Marker>" : "", marker ? marker : "", marker ? "</Marker>" : "", ids);
}

struct pager {
    int repeat_marker;
    int endless; /* a new Marker on every page, forever */
    int served;
};

/* Pages by Marker: none -> m1 -> m2 -> last. */
static void paged(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    struct pager *pg = ctx;
    const char *m = strstr(req->body, "&Marker=");
    char *body;
    if (pg->endless) {
        char next[32];
        snprintf(next, sizeof next, "e%d", ++pg->served);
        body = page_xml(next,
                        "<DBSnapshot><DBSnapshotIdentifier>x</DBSnapshotIdentifier></DBSnapshot>");
    } else if (!m)
        body = page_xml("m1",
                        "<DBSnapshot><DBSnapshotIdentifier>a</DBSnapshotIdentifier></DBSnapshot>"
                        "<DBSnapshot><DBSnapshotIdentifier>b</DBSnapshotIdentifier></DBSnapshot>");
    else if (strncmp(m, "&Marker=m1", 10) == 0)
        body = page_xml(pg->repeat_marker ? "m1" : "m%2F2",
                        "<DBSnapshot><DBSnapshotIdentifier>c</DBSnapshotIdentifier></DBSnapshot>");
    else
        body = page_xml(NULL,
                        "<DBSnapshot><DBSnapshotIdentifier>d</DBSnapshotIdentifier></DBSnapshot>");
    hstub_reply_set(reply, 200, "%s", body);
    snprintf(reply->content_type, sizeof reply->content_type, "text/xml");
    free(body);
}

struct collect {
    struct buf ids;
    int stop_after;
    int pages;
};

static int collect_item(const xmlNode *s, void *ud, struct err *e)
{
    (void)e;
    struct collect *c = ud;
    buf_puts(&c->ids, aws_xml_text(s, "DBSnapshotIdentifier"));
    c->pages++; /* items, here */
    return c->stop_after && c->pages >= c->stop_after ? AWS_PAGE_STOP : 0;
}

static int failing_item(const xmlNode *item, void *ud, struct err *e)
{
    (void)item, (void)ud;
    return err_set(e, ERR_INPUT, "page handler says no");
}

START_TEST(test_paginate)
{
    struct pager pg = {0};
    struct hstub *stub = hstub_start(paged, &pg);
    char *url = hstub_url(stub, "");
    struct aws_ctx *ctx;
    struct aws_ctx_options o = {"us-east-1", url, 3, 0, 0, NULL};
    struct err e = {0};
    ck_assert_int_eq(aws_ctx_new(&o, &ctx, &e), 0);
    struct creds_state cs = {0};
    aws_ctx_set_credentials_fn(ctx, test_creds, &cs);

    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", "production-db");
    aws_params_add(&p, "Marker", "stale"); /* ignored: paging starts at the beginning */
    struct collect c = {BUF_INIT, 0, 0};
    int pages = 0;
    struct aws_error ae;
    ck_assert_msg(aws_query_paginate(ctx, "rds", "DescribeDBSnapshots", &p, AWS_MAX_RECORDS,
                                     "DBSnapshots", "DBSnapshot", collect_item, &c, &pages, &ae,
                                     &e) == 0,
                  "%s", e.msg);
    ck_assert_str_eq(buf_cstr(&c.ids), "abcd");
    ck_assert_int_eq(pages, 3);
    ck_assert_uint_eq(p.n, 2); /* caller's params untouched */
    ck_assert_str_eq(aws_params_get(&p, "Marker"), "stale");
    ck_assert_str_eq(hstub_get(stub, 0)->body,
                     "Action=DescribeDBSnapshots&Version=2014-10-31"
                     "&DBInstanceIdentifier=production-db&MaxRecords=100");
    ck_assert_str_eq(hstub_get(stub, 2)->body, "Action=DescribeDBSnapshots&Version=2014-10-31"
                                               "&DBInstanceIdentifier=production-db&MaxRecords=100"
                                               "&Marker=m%252F2");

    /* Early stop. */
    buf_reset(&c.ids);
    c.pages = 0;
    c.stop_after = 2;
    ck_assert_int_eq(aws_query_paginate(ctx, "rds", "DescribeDBSnapshots", &p, 0, "DBSnapshots",
                                        "DBSnapshot", collect_item, &c, &pages, &ae, &e),
                     0);
    ck_assert_str_eq(buf_cstr(&c.ids), "ab");
    ck_assert_int_eq(pages, 1);

    /* The handler's error is returned. */
    ck_assert_int_eq(aws_query_paginate(ctx, "rds", "DescribeDBSnapshots", &p, 0, "DBSnapshots",
                                        "DBSnapshot", failing_item, NULL, NULL, &ae, &e),
                     ERR_INPUT);

    /* A repeated Marker stops with an error instead of looping. */
    pg.repeat_marker = 1;
    c.stop_after = 0;
    ck_assert_int_eq(aws_query_paginate(ctx, "rds", "DescribeDBSnapshots", &p, 0, "DBSnapshots",
                                        "DBSnapshot", collect_item, &c, &pages, &ae, &e),
                     ERR_AWS_BAD_ANSWER);
    ck_assert_msg(strstr(e.msg, "same Marker twice") != NULL, "%s", e.msg);

    /* A service that always answers a new Marker is stopped at the page cap. */
    pg.repeat_marker = 0;
    pg.endless = 1;
    ctx->max_pages = 7;
    ck_assert_int_eq(aws_query_paginate(ctx, "rds", "DescribeDBSnapshots", &p, 0, "DBSnapshots",
                                        "DBSnapshot", collect_item, &c, &pages, &ae, &e),
                     ERR_AWS_BAD_ANSWER);
    ck_assert_int_eq(pages, 7);
    ck_assert_msg(strstr(e.msg, "rds DescribeDBSnapshots: still a Marker after 7 pages; stopping "
                                "at the cap") != NULL,
                  "%s", e.msg);
    /* ... and by the deadline, whichever comes first. */
    ctx->max_pages = 1000000;
    ctx->paginate_seconds = 0.3;
    int rc = aws_query_paginate(ctx, "rds", "DescribeDBSnapshots", &p, 0, "DBSnapshots",
                                "DBSnapshot", collect_item, &c, &pages, &ae, &e);
    ck_assert_msg(rc == ERR_TRANSIENT, "rc %d: %s", rc, e.msg);
    ck_assert_msg(strstr(e.msg, "paging took longer than 0.3 s") != NULL, "%s", e.msg);
    ck_assert_int_lt(pages, 1000000);

    buf_release(&c.ids);
    aws_params_release(&p);
    aws_ctx_free(ctx);
    hstub_stop(stub);
    free(url);
}
END_TEST

static int flag_cancel(void *ud)
{
    return *(int *)ud;
}

/* The context's cancellation (aws_ctx_set_cancel) stops a call before anything
 * is fetched or sent, a retry backoff at once, and a transfer in flight. */
START_TEST(test_cancelled_context_stops_call_and_backoff)
{
    struct step s = {503, THROTTLED, "text/xml"};
    struct fixture f;
    fixture_start(&f, &s, 1, 8);
    xmlDoc *doc = NULL;
    struct err e = {0};
    int sig = SIGTERM;
    aws_ctx_set_cancel(f.ctx, (struct cancel){flag_cancel, &sig, 0});
    ck_assert_int_eq(aws_ctx_cancelled(f.ctx), SIGTERM);
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_INTERRUPTED);
    ck_assert_int_eq(e.signo, SIGTERM);
    ck_assert_uint_eq(hstub_count(f.stub), 0);
    ck_assert_int_eq(f.creds.calls, 0);
    ck_assert_msg(strstr(e.msg, "rds DescribeDBSnapshots: interrupted by signal 15 before"), "%s",
                  e.msg);

    /* The backoff: 10-second retries, the real sleep, a deadline 0.3 s away. */
    struct retry *r = aws_transport_retry(f.ctx->transport);
    r->sleep_fn = NULL;
    r->base_delay = r->max_delay = 10;
    aws_ctx_set_cancel(f.ctx, (struct cancel){NULL, NULL, clock_monotonic() + 0.3});
    double t0 = clock_monotonic();
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_TIMEOUT);
    ck_assert(clock_monotonic() - t0 < 2.0);
    ck_assert_uint_eq(hstub_count(f.stub), 1);
    ck_assert_msg(strstr(e.msg, "the time budget ran out while waiting to retry"), "%s", e.msg);

    /* The transfer: an answer 3 s late, a deadline 0.3 s away. */
    f.script.delay_ms = 3000;
    aws_ctx_set_cancel(f.ctx, (struct cancel){NULL, NULL, clock_monotonic() + 0.3});
    t0 = clock_monotonic();
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_TIMEOUT);
    ck_assert(clock_monotonic() - t0 < 2.0);
    ck_assert_msg(strstr(e.msg, "the time budget ran out during the request"), "%s", e.msg);
    fixture_stop(&f);
}
END_TEST

/* create's roll-back after a signal: on signals_cancel_further the context's
 * calls run although the signal is pending, until its deadline or a further
 * signal; the command's own cancellation stops them. */
START_TEST(test_rollback_context_ignores_the_signal_until_its_deadline)
{
    signals_install();
    struct step ok = {200, PAGE_OK, "text/xml"};
    struct step busy = {503, THROTTLED, "text/xml"};
    struct fixture f;
    fixture_start(&f, &ok, 1, 8);
    xmlDoc *doc = NULL;
    struct err e = {0};
    raise(SIGTERM);
    aws_ctx_set_cancel(f.ctx, signals_cancel());
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_INTERRUPTED);
    ck_assert_int_eq(e.signo, SIGTERM);
    ck_assert_uint_eq(hstub_count(f.stub), 0);

    struct cancel cmd = aws_ctx_cancel(f.ctx);
    aws_ctx_set_cancel(f.ctx, signals_cancel_further(0.5));
    ck_assert_msg(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e) == 0,
                  "%s", e.msg);
    xmlFreeDoc(doc);
    doc = NULL;
    ck_assert_uint_eq(hstub_count(f.stub), 1);

    /* Its deadline: a throttled call with 10-second backoffs ends by it. */
    f.script.steps = &busy;
    struct retry *r = aws_transport_retry(f.ctx->transport);
    r->sleep_fn = NULL;
    r->base_delay = r->max_delay = 10;
    double t0 = clock_monotonic();
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_TIMEOUT);
    ck_assert(clock_monotonic() - t0 < 2.0);

    /* A further signal (raised while the server answers) stops it at once. */
    aws_ctx_set_cancel(f.ctx, signals_cancel_further(30));
    f.script.raise_signal = SIGINT;
    t0 = clock_monotonic();
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_INTERRUPTED); /* the first signal names it */
    ck_assert_int_eq(e.signo, SIGTERM);
    ck_assert(clock_monotonic() - t0 < 2.0);

    /* The command's own cancellation, restored, still stops everything. */
    aws_ctx_set_cancel(f.ctx, cmd);
    ck_assert_int_eq(aws_ctx_cancelled(f.ctx), SIGTERM);
    fixture_stop(&f);
}
END_TEST

START_TEST(test_signal_interrupts)
{
    signals_install();
    struct step s = {503, "", "text/plain"};
    struct fixture f;
    fixture_start(&f, &s, 1, 8);
    aws_transport_retry(f.ctx->transport)->sleep_fn = NULL; /* the real, interruptible sleep */
    aws_ctx_set_cancel(f.ctx, signals_cancel());            /* what a command installs */
    f.script.raise_signal = SIGTERM;
    xmlDoc *doc = NULL;
    struct err e = {0};
    double t0 = clock_monotonic();
    ck_assert_int_eq(aws_query_call(f.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, NULL, &e),
                     ERR_INTERRUPTED);
    ck_assert_int_eq(e.signo, SIGTERM);
    ck_assert(clock_monotonic() - t0 < 3.0);
    ck_assert_msg(strstr(e.msg, "interrupted by signal 15") != NULL, "%s", e.msg);
    ck_assert_uint_le(hstub_count(f.stub), 1);
    fixture_stop(&f);
}
END_TEST

START_TEST(test_ctx_init_errors)
{
    struct aws_ctx *c = NULL;
    struct err e = {0};
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_STS");
    struct aws_ctx_options none = {NULL, NULL, 0, 0, 0, NULL};
    ck_assert_int_eq(aws_ctx_new(&none, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "aws.region"));
    aws_ctx_free(c);
    struct aws_ctx_options bad = {"us-east-1", "ftp://x", 0, 0, 0, NULL};
    ck_assert_int_eq(aws_ctx_new(&bad, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "aws.endpoint"));
    aws_ctx_free(c);
    setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
    struct aws_ctx_options ok = {"us-east-1", NULL, 0, 0, 0, NULL};
    ck_assert_int_eq(aws_ctx_new(&ok, &c, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "AWS_CA_BUNDLE: cannot read /nonexistent/ca.pem"));
    aws_ctx_free(c);
    unsetenv("AWS_CA_BUNDLE");
    ck_assert_int_eq(aws_ctx_new(&ok, &c, &e), 0);
    ck_assert_int_eq(aws_transport_retry(c->transport)->max_attempts, 8);
    const struct aws_endpoint *ep;
    ck_assert_int_eq(aws_ctx_endpoint(c, "sts", &ep, &e), 0);
    ck_assert_str_eq(ep->url, "https://sts.us-east-1.amazonaws.com/");
    ck_assert_int_eq(aws_ctx_endpoint(c, "ec2", &ep, &e), ERR_INTERNAL);
    aws_ctx_free(c);
    aws_ctx_free(NULL); /* NULL is fine */
}
END_TEST

START_TEST(test_endpoint_source_logged)
{
    /* The log names where the RDS endpoint came from, not always "config". */
    static const char *const sources[][2] = {
        {"AWS_ENDPOINT_URL", "(from AWS_ENDPOINT_URL)"},
        {"aws.endpoint", "(from aws.endpoint)"},
        {NULL, "(from config)"},
    };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        FILE *logf = tmpfile();
        log_init("test", LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
        log_set_stream(logf);
        struct aws_ctx *c = NULL;
        struct err e = {0};
        struct aws_ctx_options o = {"us-east-1", "http://127.0.0.1:1", 1, 0, 0, sources[i][0]};
        ck_assert_int_eq(aws_ctx_new(&o, &c, &e), 0);
        aws_ctx_free(c);
        log_set_stream(NULL);
        log_init("test_aws_client", LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        char text[1024] = "";
        rewind(logf);
        size_t n = fread(text, 1, sizeof text - 1, logf);
        text[n] = '\0';
        fclose(logf);
        ck_assert_msg(strstr(text, "rds endpoint http://127.0.0.1:1/") != NULL, "%s", text);
        ck_assert_msg(strstr(text, sources[i][1]) != NULL, "want %s in: %s", sources[i][1], text);
    }
}
END_TEST

START_TEST(test_http_date)
{
    int64_t t = 0;
    ck_assert_int_eq(aws_http_date_parse("Wed, 25 Nov 2026 02:05:41 GMT", &t), 0);
    ck_assert_int_eq(t, 1795572341);
    ck_assert_int_eq(aws_http_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(aws_http_date_parse("2026-11-25T02:05:41Z", &t), -1);
    ck_assert_int_eq(aws_http_date_parse("Wed, 25 Nov 2026 02:05:41 GMT junk", &t), -1);
    ck_assert_int_eq(aws_http_date_parse("", &t), -1);
    ck_assert_int_eq(aws_http_date_parse(NULL, &t), -1);
}
END_TEST

int main(void)
{
    log_init("test_aws_client", LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
    int rc = run_suites(
        SUITE_OF_TESTS("aws_client", 30, test_success_request_shape, test_retries_then_success,
                       test_retries_exhausted_is_tempfail, test_quota_exhausted_is_tempfail,
                       test_cancelled_context_stops_call_and_backoff,
                       test_rollback_context_ignores_the_signal_until_its_deadline,
                       test_client_error_fails_at_once, test_bad_success_body_and_bad_service,
                       test_2xx_not_the_answer, test_2xx_not_the_answer_json,
                       test_credentials_failure, test_json_call, test_paginate,
                       test_signal_interrupts, test_ctx_init_errors, test_endpoint_source_logged,
                       test_http_date),
        NULL);
    http_global_cleanup();
    xmlCleanupParser();
    return rc;
}
