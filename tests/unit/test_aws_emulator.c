/* The AWS client against the local AWS emulator (tests/emulators/aws_emulator.py,
 * which checks every signature and validates every request against the RDS
 * model): DescribeDBSnapshots through aws_query_call, throttling / 5xx / reset /
 * truncated / malformed faults injected, errors with their RequestId, awsJson1_1 calls, and a
 * 50-page describe whose memory must stay flat (tests/fixtures/aws/emulator-*.json).
 *
 * The emulator is started once for the suite (unchecked fixture, in the parent
 * process) and stopped at the end; it also dies with this process
 * (PR_SET_PDEATHSIG). DRR_AWS_EMULATOR overrides its path. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "aws/aws_client.h"
#include "aws/aws_client_internal.h"
#include "aws/aws_retry.h"
#include "core/retry.h"
#include "core/buf.h"
#include "check_main.h"
#include "core/clock.h"
#include "core/http.h"
#include "core/log.h"
#include "tmpfiles.h"

#define AKID      "AKIDTESTEMULATOR"
#define SECRET    "emulator-secret-key"
#define SEED      "tests/fixtures/aws/emulator-client.json"
#define BULK_SEED "tests/fixtures/aws/emulator-bulk.json"

static pid_t emu_pid;
static char *emu_dir;
static char emu_url[64];
static const char *emu_script;

static void emulator_start(void)
{
    emu_script = getenv("DRR_AWS_EMULATOR");
    if (!emu_script || !*emu_script)
        emu_script = "tests/emulators/aws_emulator.py";
    if (access(emu_script, R_OK) != 0)
        return; /* reported by test_emulator_present */
    emu_dir = tmp_dir_new();
    char *port_file = xasprintf("%s/port", emu_dir);
    char *log_file = xasprintf("%s/emulator.log", emu_dir);
    emu_pid = fork();
    if (emu_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl("/usr/bin/python3", "python3", emu_script, "--port", "0", "--port-file", port_file,
              "--seed", SEED, "--quiet", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600; i++) { /* 30 s: a loaded machine imports botocore slowly */
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(emu_url, sizeof emu_url, "http://127.0.0.1:%d", port);
            break;
        }
        if (waitpid(emu_pid, NULL, WNOHANG) == emu_pid) {
            emu_pid = 0;
            break;
        }
        usleep(50 * 1000);
    }
    free(port_file);
    free(log_file);
}

static void emulator_stop(void)
{
    if (emu_pid > 0) {
        kill(emu_pid, SIGTERM);
        waitpid(emu_pid, NULL, 0);
        emu_pid = 0;
    }
    if (emu_dir) {
        char *log_file = xasprintf("%s/emulator.log", emu_dir);
        unlink(log_file);
        free(log_file);
        char *port_file = xasprintf("%s/port", emu_dir);
        unlink(port_file);
        free(port_file);
        tmp_dir_remove(emu_dir);
        emu_dir = NULL;
    }
}

/* ---- helpers ---- */

struct creds {
    struct aws_credentials c;
    const char *secret;
};

static int emu_creds(void *ctx, const struct aws_credentials **out, struct err *e)
{
    (void)e;
    struct creds *cr = ctx;
    cr->c.access_key_id = AKID;
    cr->c.secret_access_key = (char *)cr->secret;
    cr->c.source = "test";
    *out = &cr->c;
    return 0;
}

static int no_sleep(double seconds, void *ctx)
{
    *(double *)ctx += seconds;
    return 0;
}

struct client {
    struct aws_ctx *ctx;
    struct creds creds;
    double slept;
};

static void client_start(struct client *c, int max_attempts, const char *secret)
{
    memset(c, 0, sizeof *c);
    ck_assert_msg(emu_url[0], "the emulator did not start (see %s)", emu_script);
    setenv("AWS_ENDPOINT_URL", emu_url, 1); /* Secrets Manager, SSM */
    struct aws_ctx_options o = {"us-east-1", emu_url, max_attempts, 2000, 20000, NULL};
    struct err e = {0};
    ck_assert_msg(aws_ctx_new(&o, &c->ctx, &e) == 0, "%s", e.msg);
    c->creds.secret = secret;
    aws_ctx_set_credentials_fn(c->ctx, emu_creds, &c->creds);
    retry_seed(aws_transport_retry(c->ctx->transport), 99);
    aws_transport_retry(c->ctx->transport)->sleep_fn = no_sleep;
    aws_transport_retry(c->ctx->transport)->sleep_ctx = &c->slept;
}

static void client_stop(struct client *c)
{
    aws_ctx_free(c->ctx);
}

/* POSTs a JSON body to an emulator control path; asserts a 2xx answer. */
static void control(struct client *c, const char *path, const char *json)
{
    char *url = xasprintf("%s%s", emu_url, path);
    struct http_header h = {"Content-Type", "application/json"};
    struct http_request req = {"POST", url, &h, 1, json, strlen(json), 0, 0};
    struct http_response resp = {0};
    struct err e = {0};
    (void)c;
    struct http_client *http = http_client_new(NULL, 2000, 5000);
    ck_assert_msg(http_do(http, &req, &resp, &e) == 0, "%s", e.msg);
    http_client_free(http);
    ck_assert_msg(resp.status >= 200 && resp.status < 300, "%s: HTTP %ld %s", path, resp.status,
                  buf_cstr(&resp.body));
    http_response_release(&resp);
    free(url);
}

static void fault(struct client *c, const char *json)
{
    control(c, "/_emulator/faults", json);
}

/* ---- tests ---- */

START_TEST(test_emulator_present)
{
    ck_assert_msg(access(emu_script, R_OK) == 0, "%s: not found", emu_script);
    ck_assert_msg(emu_url[0], "%s did not start", emu_script);
}
END_TEST

static int count_snapshots(xmlDoc *doc, const char *prefix)
{
    int n = 0;
    xmlNode *list = aws_xml_child(aws_xml_result(doc, "DescribeDBSnapshots"), "DBSnapshots");
    for (xmlNode *s = aws_xml_child(list, "DBSnapshot"); s; s = aws_xml_next(s)) {
        const char *id = aws_xml_text(s, "DBSnapshotIdentifier");
        ck_assert_ptr_nonnull(id);
        ck_assert_msg(strncmp(id, prefix, strlen(prefix)) == 0, "%s", id);
        int64_t t;
        ck_assert_int_eq(aws_xml_time(s, "SnapshotCreateTime", &t), 0);
        n++;
    }
    return n;
}

START_TEST(test_describe_snapshots)
{
    struct client c;
    client_start(&c, 3, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" SEED "\"}"); /* clean state, no faults */
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", "production-db");
    aws_params_add(&p, "SnapshotType", "automated");
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_msg(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e) == 0, "%s",
                  e.msg);
    ck_assert_int_eq(count_snapshots(doc, "rds:production-db-"), 7);
    ck_assert_ptr_nonnull(aws_xml_request_id(doc));
    xmlFreeDoc(doc);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).attempts, 1);
    aws_params_release(&p);
    client_stop(&c);
}
END_TEST

START_TEST(test_throttling_and_5xx_are_retried)
{
    struct client c;
    client_start(&c, 10, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" SEED "\"}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"throttle\",\"count\":2}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"http503\",\"count\":1}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"http500\",\"count\":1}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"reset\",\"count\":1}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"truncated\",\"count\":1}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"malformed\",\"count\":1}");
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", "production-db");
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_msg(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e) == 0, "%s",
                  e.msg);
    ck_assert_int_ge(count_snapshots(doc, ""), 7);
    xmlFreeDoc(doc);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).attempts, 8);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).retries, 7);
    ck_assert(c.slept > 0);
    aws_params_release(&p);
    client_stop(&c);
}
END_TEST

START_TEST(test_throttling_outlasts_retries)
{
    struct client c;
    client_start(&c, 3, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" SEED "\"}");
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"throttle\",\"count\":5}");
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_int_eq(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e),
                     ERR_TRANSIENT);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).attempts, 3);
    ck_assert_msg(aws_retry_is_throttling_code(ae.code), "code %s", ae.code);
    ck_assert_msg(ae.request_id[0], "no RequestId: %s", e.msg);
    ck_assert_msg(strstr(e.msg, ae.request_id) && strstr(e.msg, "max attempts reached after 3"),
                  "%s", e.msg);
    client_stop(&c);
}
END_TEST

START_TEST(test_client_errors)
{
    struct client c;
    client_start(&c, 8, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" SEED "\"}");
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBSnapshotIdentifier", "no-such-snapshot");
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_int_eq(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e),
                     ERR_AWS_REJECTED);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).attempts, 1);
    ck_assert_str_eq(ae.code, "DBSnapshotNotFound");
    ck_assert_int_eq(ae.http_status, 404);
    ck_assert_msg(ae.request_id[0] && strstr(e.msg, ae.request_id), "%s", e.msg);
    aws_params_release(&p);

    /* An invalid parameter is the emulator's model validation speaking. */
    aws_params_add_int(&p, "MaxRecords", 5);
    ck_assert_int_eq(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e),
                     ERR_AWS_REJECTED);
    ck_assert_str_eq(ae.code, "InvalidParameterValue");
    aws_params_release(&p);
    client_stop(&c);

    /* A wrong secret: the emulator checks the signature. */
    client_start(&c, 8, "not-the-secret-key");
    ck_assert_int_eq(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e),
                     ERR_AWS_UNAUTHORIZED);
    ck_assert_int_eq(ae.http_status, 403);
    ck_assert_msg(strstr(e.msg, "Signature") != NULL, "%s", e.msg);
    ck_assert_ptr_null(strstr(e.msg, "not-the-secret-key"));
    client_stop(&c);
}
END_TEST

START_TEST(test_json_services)
{
    struct client c;
    client_start(&c, 8, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" SEED "\"}");
    fault(&c, "{\"service\":\"secretsmanager\",\"type\":\"throttle\",\"count\":1}");
    cJSON *out = NULL;
    struct aws_error ae;
    struct err e = {0};
    ck_assert_msg(aws_json_call(c.ctx, "secretsmanager", "secretsmanager.GetSecretValue",
                                "{\"SecretId\":\"dblab/token\"}", &out, &ae, &e) == 0,
                  "%s", e.msg);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(out, "SecretString")),
                     "emulator-dblab-token-from-secretsmanager");
    cJSON_Delete(out);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).retries, 1);

    ck_assert_int_eq(aws_json_call(c.ctx, "secretsmanager", "secretsmanager.GetSecretValue",
                                   "{\"SecretId\":\"nope\"}", &out, &ae, &e),
                     ERR_AWS_REJECTED);
    ck_assert_str_eq(ae.code, "ResourceNotFoundException");
    ck_assert_msg(ae.request_id[0], "%s", e.msg);

    ck_assert_msg(aws_json_call(c.ctx, "ssm", "AmazonSSM.GetParameter",
                                "{\"Name\":\"/dblab/token\",\"WithDecryption\":true}", &out, &ae,
                                &e) == 0,
                  "%s", e.msg);
    cJSON *param = cJSON_GetObjectItem(out, "Parameter");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(param, "Value")),
                     "emulator-dblab-token-from-ssm");
    cJSON_Delete(out);
    ck_assert_int_eq(aws_json_call(c.ctx, "ssm", "AmazonSSM.GetParameter", "{\"Name\":\"/nope\"}",
                                   &out, &ae, &e),
                     ERR_AWS_REJECTED);
    ck_assert_str_eq(ae.code, "ParameterNotFound");
    client_stop(&c);
}
END_TEST

static int64_t skewed_clock(void *ctx)
{
    return (int64_t)time(NULL) + *(int64_t *)ctx;
}

START_TEST(test_clock_skew_is_corrected)
{
    struct client c;
    client_start(&c, 3, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" SEED "\"}");
    int64_t skew = 3600; /* the host's clock runs an hour fast */
    clock_set(skewed_clock, &skew);
    xmlDoc *doc = NULL;
    struct aws_error ae;
    struct err e = {0};
    int rc = aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    xmlFreeDoc(doc);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).attempts, 2);
    ck_assert(aws_transport_clock_offset(c.ctx->transport) <= -3590 &&
              aws_transport_clock_offset(c.ctx->transport) >= -3610);
    ck_assert(c.slept == 0); /* signed again at once, no backoff */
    /* Later calls sign with the learnt offset straight away. */
    ck_assert_int_eq(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", NULL, &doc, &ae, &e), 0);
    xmlFreeDoc(doc);
    ck_assert_int_eq(aws_ctx_counters(c.ctx).attempts, 3);
    /* awsJson too (InvalidSignatureException there). */
    struct client j;
    client_start(&j, 3, SECRET);
    cJSON *out = NULL;
    ck_assert_msg(aws_json_call(j.ctx, "ssm", "AmazonSSM.GetParameter",
                                "{\"Name\":\"/dblab/token\"}", &out, &ae, &e) == 0,
                  "%s", e.msg);
    cJSON_Delete(out);
    ck_assert_int_eq(aws_ctx_counters(j.ctx).attempts, 2);
    clock_set(NULL, NULL);
    client_stop(&j);
    client_stop(&c);
}
END_TEST

/* The credential chain's STS calls are corrected the same way: AssumeRole for a
 * role_arn + source_profile profile, signed by a clock 10 minutes fast (AWS allows
 * 5). Expirations are still compared with the local clock, as in the SDKs: the
 * hour-long session looks 10 minutes shorter. */
START_TEST(test_sts_clock_skew_is_corrected)
{
    ck_assert_msg(emu_url[0], "the emulator did not start (see %s)", emu_script);
    char *dir = tmp_dir_new();
    char *config = tmp_write(dir, "config",
                             "[profile base]\n"
                             "aws_access_key_id = " AKID "\n"
                             "aws_secret_access_key = " SECRET "\n"
                             "[profile refresh]\n"
                             "role_arn = arn:aws:iam::123456789012:role/dblab-rds-refresh\n"
                             "source_profile = base\n");
    setenv("AWS_CONFIG_FILE", config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    int64_t skew = 600;
    clock_set(skewed_clock, &skew);
    struct aws_creds_options o = {
        .profile = "refresh", .region = "us-east-1", .sts_endpoint = emu_url, .max_attempts = 2};
    struct aws_creds_provider *p = aws_creds_provider_new(&o);
    const struct aws_credentials *cr = NULL;
    struct err e = {0};
    int rc = aws_creds_get(p, &cr, &e);
    clock_set(NULL, NULL);
    ck_assert_msg(rc == 0, "%s", e.msg);
    ck_assert_ptr_nonnull(cr->session_token);
    ck_assert_int_gt(cr->expiration, (int64_t)time(NULL) + 3000);
    aws_creds_provider_free(p);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    free(config);
    tmp_dir_remove(dir);
}
END_TEST

/* ---- 50 pages, flat memory ---- */

struct walk {
    long snapshots;
    int64_t newest;
};

static int walk_item(const xmlNode *s, void *ud, struct err *e)
{
    (void)e;
    struct walk *w = ud;
    int64_t t = 0;
    if (aws_xml_time(s, "SnapshotCreateTime", &t) == 0 && t > w->newest)
        w->newest = t;
    w->snapshots++;
    return 0;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

START_TEST(test_fifty_pages_flat_memory)
{
    struct client c;
    client_start(&c, 8, SECRET);
    control(&c, "/_emulator/seed", "{\"path\":\"" BULK_SEED "\"}");
    /* A throttle in the middle of the walk, as a real account under load gives. */
    fault(
        &c,
        "{\"service\":\"rds\",\"action\":\"DescribeDBSnapshots\",\"type\":\"throttle\",\"count\":1}");
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "DBInstanceIdentifier", "bulk-db");
    struct walk w = {0, 0};
    int pages = 0;
    struct aws_error ae;
    struct err e = {0};

    /* Warm up (libcurl, libxml2, the connection) so the measurement is the walk. */
    xmlDoc *doc = NULL;
    ck_assert_msg(aws_query_call(c.ctx, "rds", "DescribeDBSnapshots", &p, &doc, &ae, &e) == 0, "%s",
                  e.msg);
    xmlFreeDoc(doc);

    long before = peak_rss_kb();
    double t0 = clock_monotonic();
    ck_assert_msg(aws_query_paginate(c.ctx, "rds", "DescribeDBSnapshots", &p, AWS_MAX_RECORDS,
                                     "DBSnapshots", "DBSnapshot", walk_item, &w, &pages, &ae,
                                     &e) == 0,
                  "%s", e.msg);
    double secs = clock_monotonic() - t0;
    long after = peak_rss_kb();
    ck_assert_int_eq(w.snapshots, 5000);
    ck_assert_int_eq(pages, 50);
    fprintf(stderr,
            "aws_emulator: 50-page DescribeDBSnapshots (5000 snapshots) in %.2f s, "
            "peak RSS %ld KB (+%ld KB during the walk)\n",
            secs, after, after - before);
#if !defined(__SANITIZE_ADDRESS__)
    /* All 50 pages held at once would be tens of MB of libxml2 trees. (Not under
     * ASan or valgrind: their own bookkeeping dominates the RSS.) */
    if (!RUNNING_ON_VALGRIND)
        ck_assert_msg(after - before < 4096, "peak RSS grew %ld KB over 50 pages", after - before);
#endif
    aws_params_release(&p);
    client_stop(&c);
}
END_TEST

int main(void)
{
    log_init("test_aws_emulator", LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
    Suite *s = suite_create("aws_emulator");
    TCase *tc = tcase_create("emulator");
    tcase_add_unchecked_fixture(tc, emulator_start, emulator_stop);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_emulator_present);
    tcase_add_test(tc, test_describe_snapshots);
    tcase_add_test(tc, test_throttling_and_5xx_are_retried);
    tcase_add_test(tc, test_throttling_outlasts_retries);
    tcase_add_test(tc, test_client_errors);
    tcase_add_test(tc, test_json_services);
    tcase_add_test(tc, test_clock_skew_is_corrected);
    tcase_add_test(tc, test_sts_clock_skew_is_corrected);
    tcase_add_test(tc, test_fifty_pages_flat_memory);
    suite_add_tcase(s, tc);
    int rc = run_suites(s, NULL);
    http_global_cleanup();
    xmlCleanupParser();
    return rc;
}
