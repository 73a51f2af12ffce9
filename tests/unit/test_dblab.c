/* Unit tests of the DBLab client's parsing (common/dblab/dblab.c) and the instance
 * class table: bodies in the engine's real shape (engine 4.x: alerts keyed by
 * type, LocalTime timestamps, error bodies with only code and message), the
 * spec's shape where it differs, and malformed bodies. */
#include <check.h>
#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "core/cancel.h"
#include "core/clock.h"
#include "core/exitcodes.h"
#include "core/retry.h"
#include "dblab/dblab.h"
#include "hstub.h"
#include "rds/instance_class.h"

/* GET /status of a logical engine that finished a refresh, then failed one:
 * the shape engine 4.x sends (models.InstanceStatus), trimmed. */
static const char *STATUS_REAL =
    "{\"status\":{\"code\":\"OK\",\"message\":\"Instance is ready\"},"
    "\"engine\":{\"version\":\"v4.0.0-20250101-0000\",\"edition\":\"community\","
    "\"billingActive\":true,\"instanceID\":\"chhfqfcnvrvc73d0lij0\","
    "\"startedAt\":\"2026-11-20 03:50:19 +00:00\",\"telemetry\":false,"
    "\"disableConfigModification\":false},"
    "\"pools\":[{\"name\":\"dblab_pool/dataset_1\",\"mode\":\"zfs\","
    "\"dataStateAt\":\"2026-11-25 02:10:00 +00:00\",\"status\":\"active\",\"cloneList\":[],"
    "\"fileSystem\":{\"mode\":\"zfs\",\"size\":30685528064,\"free\":30685282816}},"
    "{\"name\":\"dblab_pool/dataset_2\",\"mode\":\"zfs\",\"dataStateAt\":\"\","
    "\"status\":\"empty\",\"cloneList\":[],\"fileSystem\":{\"mode\":\"zfs\"}}],"
    "\"cloning\":{\"expectedCloningTime\":0,\"numClones\":0,\"clones\":[]},"
    "\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
    "\"lastRefresh\":\"2026-11-26 02:00:05 +00:00\",\"nextRefresh\":null,"
    "\"alerts\":{\"refresh_failed\":{\"level\":\"error\","
    "\"message\":\"failed to dump: connection refused\","
    "\"lastSeen\":\"2026-11-26T02:03:00.123456789Z\",\"count\":2}},"
    "\"activity\":null},"
    "\"provisioner\":{\"dockerImage\":\"postgresai/extended-postgres:16\","
    "\"containerConfig\":{\"shm-size\":\"1gb\"}},"
    "\"synchronization\":{\"status\":{\"code\":\"Not available\",\"message\":\"\"}},"
    "\"someFutureField\":{\"x\":[1,2,3]}}";

START_TEST(status_real_shape)
{
    struct dblab_status s;
    struct err e = {0};
    ck_assert_int_eq(dblab_parse_status(STATUS_REAL, "GET /status", &s, &e), 0);
    ck_assert_str_eq(s.mode, "logical");
    ck_assert_str_eq(s.retrieval_status, "failed");
    ck_assert_str_eq(s.engine_version, "v4.0.0-20250101-0000");
    ck_assert_str_eq(s.status_code, "OK");
    ck_assert_int_eq(s.last_refresh, 1795658405); /* 2026-11-26T02:00:05Z */
    ck_assert_int_eq(s.next_refresh, 0);
    ck_assert_int_eq(s.data_state_at, 1795572600); /* 2026-11-25T02:10:00Z */
    ck_assert_uint_eq(s.n_alerts, 1);
    const struct dblab_alert *a = dblab_status_alert(&s, "refresh_failed");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->level, "error");
    ck_assert_str_eq(a->message, "failed to dump: connection refused");
    ck_assert_int_eq(a->last_seen, 1795658580);
    ck_assert_int_eq(a->count, 2);
    ck_assert_ptr_null(dblab_status_alert(&s, "refresh_skipped"));
    dblab_status_release(&s);
}
END_TEST

/* The spec's own example: pending, null times, alerts {} , activity null. */
START_TEST(status_spec_example)
{
    const char *body =
        "{\"status\":{\"code\":\"OK\",\"message\":\"Instance is ready\"},"
        "\"engine\":{\"version\":\"v4.0.0-alpha.5-20230516-0224\",\"edition\":\"standard\","
        "\"billingActive\":true,\"instanceID\":\"x\",\"startedAt\":\"2023-05-16T03:50:19Z\"},"
        "\"pools\":[{\"name\":\"p\",\"mode\":\"zfs\",\"dataStateAt\":\"\",\"status\":\"empty\"}],"
        "\"retrieving\":{\"mode\":\"logical\",\"status\":\"pending\",\"lastRefresh\":null,"
        "\"nextRefresh\":null,\"alerts\":{},\"activity\":null}}";
    struct dblab_status s;
    struct err e = {0};
    ck_assert_int_eq(dblab_parse_status(body, "GET /status", &s, &e), 0);
    ck_assert_str_eq(s.retrieval_status, "pending");
    ck_assert_int_eq(s.last_refresh, 0);
    ck_assert_int_eq(s.data_state_at, 0);
    ck_assert_uint_eq(s.n_alerts, 0);
    ck_assert(dblab_retrieval_busy(s.retrieval_status));
    dblab_status_release(&s);
}
END_TEST

START_TEST(status_scheduler_and_rfc3339)
{
    const char *body =
        "{\"retrieving\":{\"mode\":\"physical\",\"status\":\"finished\","
        "\"lastRefresh\":\"2026-11-26T01:00:00Z\",\"nextRefresh\":\"2026-11-27 01:00:00 +01:00\","
        "\"alerts\":null}}";
    struct dblab_status s;
    struct err e = {0};
    ck_assert_int_eq(dblab_parse_status(body, "GET /status", &s, &e), 0);
    ck_assert_str_eq(s.mode, "physical");
    ck_assert_int_eq(s.last_refresh, 1795654800);
    ck_assert_int_eq(s.next_refresh, 1795654800 + 86400 - 3600);
    ck_assert_ptr_null(s.engine_version);
    ck_assert(!dblab_retrieval_busy(s.retrieval_status));
    dblab_status_release(&s);
}
END_TEST

struct bad_case {
    const char *body;
    const char *expect; /* substring of the one-line message */
};

static const struct bad_case bad_status[] = {
    {"<html><body>502 Bad Gateway</body></html>", "not JSON"},
    {"", "not JSON"},
    {"[1,2]", "body: expected an object, got an array"},
    {"{\"status\":{\"code\":\"OK\"}}", "retrieving: missing"},
    {"{\"retrieving\":\"logical\"}", "retrieving: expected an object, got a string"},
    {"{\"retrieving\":{\"status\":\"finished\"}}", "retrieving.mode: missing"},
    {"{\"retrieving\":{\"mode\":\"logical\"}}", "retrieving.status: missing"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":3}}",
     "retrieving.status: expected a string, got a number"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\",\"alerts\":[\"x\"]}}",
     "retrieving.alerts: expected an object keyed by alert type, got an array"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":\"boom\"}}}",
     "retrieving.alerts.refresh_failed: expected an object, got a string"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":{\"message\":1}}}}",
     "retrieving.alerts.refresh_failed.message: expected a string, got a number"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":{\"count\":\"2\"}}}}",
     "retrieving.alerts.refresh_failed.count: expected a number, got a string"},
    /* issue 18, found by libFuzzer: 1e300 was cast to long long (UBSan) */
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":{\"count\":1e300}}}}",
     "retrieving.alerts.refresh_failed.count: expected a whole number, got 1e+300"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":{\"count\":-1e19}}}}",
     "retrieving.alerts.refresh_failed.count: expected a whole number, got -1e+19"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":{\"count\":2.5}}}}",
     "retrieving.alerts.refresh_failed.count: expected a whole number, got 2.5"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"failed\","
     "\"alerts\":{\"refresh_failed\":{\"lastSeen\":\"yesterday\"}}}}",
     "retrieving.alerts.refresh_failed.lastSeen: invalid time \"yesterday\""},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\",\"lastRefresh\":42}}",
     "retrieving.lastRefresh: expected a string, got a number"},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\","
     "\"lastRefresh\":\"2026-13-01 00:00:00 +00:00\"}}",
     "retrieving.lastRefresh: invalid time"},
    {"{\"engine\":[],\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\"}}",
     "engine: expected an object, got an array"},
    {"{\"engine\":{\"version\":4},\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\"}}",
     "engine.version: expected a string, got a number"},
    {"{\"pools\":{},\"retrieving\":{\"mode\":\"logical\",\"status\":\"finished\"}}",
     "pools: expected an array, got an object"},
    {"{\"pools\":[{\"dataStateAt\":true}],\"retrieving\":{\"mode\":\"logical\","
     "\"status\":\"finished\"}}",
     "pools[0].dataStateAt: expected a string, got a boolean"},
    /* a state the engine never reports is not "finished" */
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"FINISHED\"}}",
     "retrieving.status: unknown value \"FINISHED\""},
    {"{\"retrieving\":{\"mode\":\"logical\",\"status\":\"\"}}",
     "retrieving.status: unknown value \"\""},
};

START_TEST(status_malformed)
{
    const struct bad_case *c = &bad_status[_i];
    struct dblab_status s;
    struct err e = {0};
    ck_assert_int_eq(dblab_parse_status(c->body, "GET /status", &s, &e), ERR_DBLAB_BAD_ANSWER);
    ck_assert_int_eq(e.kind, ERR_DBLAB_BAD_ANSWER);
    ck_assert_msg(strstr(e.msg, c->expect), "got \"%s\", want \"%s\"", e.msg, c->expect);
    ck_assert_msg(strncmp(e.msg, "DBLab GET /status: ", 19) == 0, "%s", e.msg);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    /* freed on error: dblab_status_release of the zeroed struct is a no-op */
    ck_assert_ptr_null(s.mode);
    dblab_status_release(&s);
}
END_TEST

START_TEST(health_bodies)
{
    struct dblab_health h;
    struct err e = {0};
    ck_assert_int_eq(dblab_parse_health("{\"version\":\"v4.0.1\",\"edition\":\"community\","
                                        "\"instanceID\":\"abc\",\"extra\":1}",
                                        "GET /healthz", &h, &e),
                     0);
    ck_assert_str_eq(h.version, "v4.0.1");
    ck_assert_str_eq(h.edition, "community");
    ck_assert_str_eq(h.instance_id, "abc");
    dblab_health_release(&h);

    ck_assert_int_eq(dblab_parse_health("{}", "GET /healthz", &h, &e), 0);
    ck_assert_ptr_null(h.version);
    dblab_health_release(&h);

    ck_assert_int_eq(dblab_parse_health("OK", "GET /healthz", &h, &e), ERR_DBLAB_BAD_ANSWER);
    ck_assert_str_eq(e.msg, "DBLab GET /healthz: the body is not JSON");
    ck_assert_int_eq(dblab_parse_health("{\"version\":[]}", "GET /healthz", &h, &e),
                     ERR_DBLAB_BAD_ANSWER);
    ck_assert_str_eq(e.msg, "DBLab GET /healthz: version: expected a string, got an array");
}
END_TEST

START_TEST(error_bodies)
{
    struct err e = {0};
    ck_assert_int_eq(dblab_http_error(401,
                                      "{\"code\":\"UNAUTHORIZED\",\"message\":\"Check your "
                                      "verification token.\"}",
                                      "GET /status", ERR_DBLAB_REJECTED, &e),
                     ERR_DBLAB_REJECTED);
    ck_assert_str_eq(e.msg,
                     "DBLab GET /status: HTTP 401 UNAUTHORIZED: Check your verification token.");

    dblab_http_error(400,
                     "{\"code\":\"BAD_REQUEST\",\"message\":\"config is only available in "
                     "logical mode\"}",
                     "POST /admin/config", ERR_DBLAB_REJECTED, &e);
    ck_assert_str_eq(e.msg, "DBLab POST /admin/config: HTTP 400 BAD_REQUEST: config is only "
                            "available in logical mode");

    /* The spec's Error model may carry more; only message is required here. */
    dblab_http_error(500, "{\"message\":\"boom\",\"detail\":\"x\"}", "GET /status", ERR_TRANSIENT,
                     &e);
    ck_assert_int_eq(e.kind, ERR_TRANSIENT);
    ck_assert_str_eq(e.msg, "DBLab GET /status: HTTP 500: boom");

    dblab_http_error(502, "<html>\n<head><title>502 Bad Gateway</title></head>\n</html>\n",
                     "GET /status", ERR_TRANSIENT, &e);
    ck_assert_str_eq(e.msg, "DBLab GET /status: HTTP 502 (not the engine's JSON error): <html> "
                            "<head><title>502 Bad Gateway</title></head> </html>");

    dblab_http_error(404, "", "POST /full-refresh", ERR_DBLAB_REJECTED, &e);
    ck_assert_str_eq(e.msg, "DBLab POST /full-refresh: HTTP 404 with an empty body");

    /* a long body is cut, and stays one line */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[100] = '\n';
    dblab_http_error(503, big, "GET /status", ERR_TRANSIENT, &e);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    ck_assert(strlen(e.msg) < 300);
    ck_assert_ptr_nonnull(strstr(e.msg, "..."));
}
END_TEST

START_TEST(times)
{
    int64_t t;
    ck_assert_int_eq(dblab_parse_time("", &t), 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(dblab_parse_time(NULL, &t), 0);
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(dblab_parse_time("2026-11-26 02:00:00 +00:00", &t), 0);
    ck_assert_int_eq(t, 1795658400);
    ck_assert_int_eq(dblab_parse_time("2026-11-26 04:00:00 +02:00", &t), 0);
    ck_assert_int_eq(t, 1795658400);
    ck_assert_int_eq(dblab_parse_time("2026-11-25 21:00:00 -05:00", &t), 0);
    ck_assert_int_eq(t, 1795658400);
    ck_assert_int_eq(dblab_parse_time("2026-11-26T02:00:00Z", &t), 0);
    ck_assert_int_eq(t, 1795658400);
    ck_assert_int_eq(dblab_parse_time("2026-11-26T02:00:00.999999999Z", &t), 0);
    ck_assert_int_eq(t, 1795658400);
    ck_assert_int_eq(dblab_parse_time("0001-01-01T00:00:00Z", &t), 0); /* Go zero time */
    ck_assert_int_eq(t, 0);
    ck_assert_int_eq(dblab_parse_time("2026-11-26", &t), -1);
    ck_assert_int_eq(dblab_parse_time("2026-11-26 02:00:00", &t), -1);
    ck_assert_int_eq(dblab_parse_time("tomorrow", &t), -1);
}
END_TEST

START_TEST(projection_paths)
{
    cJSON *root = cJSON_CreateObject();
    const char *host = "retrieval.spec.logicalDump.options.source.connection.host";
    const char *port = "retrieval.spec.logicalDump.options.source.connection.port";
    const char *iam = "retrieval.spec.logicalDump.options.source.rdsIam.dbInstanceIdentifier";
    dblab_projection_set(root, host, cJSON_CreateString("clone.abc.rds.amazonaws.com"));
    dblab_projection_set(root, port, cJSON_CreateNumber(5432));
    dblab_projection_set(root, iam, cJSON_CreateString("dblab-refresh-1"));
    dblab_projection_set(root, host, cJSON_CreateString("clone2")); /* replaces */
    char *s = cJSON_PrintUnformatted(root);
    ck_assert_str_eq(s, "{\"retrieval\":{\"spec\":{\"logicalDump\":{\"options\":{\"source\":{"
                        "\"connection\":{\"host\":\"clone2\",\"port\":5432},"
                        "\"rdsIam\":{\"dbInstanceIdentifier\":\"dblab-refresh-1\"}}}}}}}");
    free(s);
    ck_assert_str_eq(dblab_projection_get(root, host)->valuestring, "clone2");
    ck_assert_ptr_null(dblab_projection_get(root, "retrieval.spec.logicalRestore.options"));
    ck_assert_ptr_null(dblab_projection_get(root, "retrieval.spec.logicalDump.options.source."
                                                  "connection.host.deeper"));

    /* The engine answers the port as a number; a numeric string is accepted too. */
    cJSON *got =
        cJSON_Parse("{\"retrieval\":{\"spec\":{\"logicalDump\":{\"options\":{"
                    "\"source\":{\"connection\":{\"host\":\"clone2\",\"port\":\"5432\"}}}}}}}");
    cJSON *want_port = cJSON_CreateNumber(5432);
    cJSON *want_host = cJSON_CreateString("clone2");
    cJSON *other = cJSON_CreateString("old-host");
    ck_assert(dblab_projection_matches(got, port, want_port));
    ck_assert(dblab_projection_matches(got, host, want_host));
    ck_assert(!dblab_projection_matches(got, host, other));
    ck_assert(!dblab_projection_matches(got, iam, want_host)); /* missing key */
    cJSON_Delete(want_port);
    cJSON_Delete(want_host);
    cJSON_Delete(other);
    cJSON_Delete(got);
    cJSON_Delete(root);
}
END_TEST

START_TEST(busy_states)
{
    ck_assert(dblab_retrieval_busy("refreshing"));
    ck_assert(dblab_retrieval_busy("snapshotting"));
    ck_assert(dblab_retrieval_busy("pending"));
    ck_assert(dblab_retrieval_busy("renewed"));
    ck_assert(!dblab_retrieval_busy("finished"));
    ck_assert(!dblab_retrieval_busy("failed"));
    ck_assert(!dblab_retrieval_busy("inactive"));
    ck_assert(!dblab_retrieval_busy(NULL));
}
END_TEST

START_TEST(instance_classes)
{
    ck_assert_int_eq(instance_class_vcpus("db.t3.micro"), 2);
    ck_assert_int_eq(instance_class_vcpus("db.t2.small"), 1);
    ck_assert_int_eq(instance_class_vcpus("db.t3.medium"), 2);
    ck_assert_int_eq(instance_class_vcpus("db.r6g.large"), 2);
    ck_assert_int_eq(instance_class_vcpus("db.m5.xlarge"), 4);
    ck_assert_int_eq(instance_class_vcpus("db.r6g.2xlarge"), 8);
    ck_assert_int_eq(instance_class_vcpus("db.r5.24xlarge"), 96);
    ck_assert_int_eq(instance_class_vcpus("db.x2iedn.32xlarge"), 128);
    ck_assert_int_eq(instance_class_vcpus("db.m6i.metal"), 128);
    ck_assert_int_eq(instance_class_vcpus("db.serverless"), -1);
    ck_assert_int_eq(instance_class_vcpus("db.m5.huge"), -1);
    ck_assert_int_eq(instance_class_vcpus("db.zz9.metal"), -1);
    ck_assert_int_eq(instance_class_vcpus("m5.xlarge"), -1);
    ck_assert_int_eq(instance_class_vcpus("db.m5.0xlarge"), -1);
    ck_assert_int_eq(instance_class_vcpus(NULL), -1);
}
END_TEST

/* ---- the transport: the shared retry policy -------------------------------- */

struct delays {
    double d[16];
    int n;
};

static int record_sleep(double seconds, void *ctx)
{
    struct delays *l = ctx;
    if (l->n < 16)
        l->d[l->n++] = seconds;
    return 0;
}

static double three_quarters(void *ctx)
{
    (void)ctx;
    return 0.75;
}

static struct dblab_client *client_for(struct hstub *h)
{
    char *url = hstub_url(h, "");
    struct dblab_options o = {url, "test-token", NULL, 0, 5000, 7};
    struct dblab_client *c = NULL;
    struct err e = {0};
    ck_assert_msg(dblab_client_new(&o, &c, &e) == 0, "%s", e.msg);
    free(url);
    return c;
}

/* A 503 on every attempt: an idempotent call is retried by core/retry.h's policy,
 * full jitter (the injected random 0.75 scales each ceiling) doubling from
 * DBLAB_RETRY_BASE_DELAY and capped at DBLAB_RETRY_MAX_DELAY, where it used to
 * double without jitter or cap. */
START_TEST(retries_are_jittered_and_capped)
{
    static const struct hstub_route routes[] = {
        {"GET", "/healthz", 503, "{\"code\":\"UNAVAILABLE\",\"message\":\"starting\"}"},
        {"POST", "/full-refresh", 503, "{}"},
        {NULL, NULL, 0, NULL},
    };
    struct hstub *h = hstub_start(hstub_routes, (void *)routes);
    struct dblab_client *c = client_for(h);
    struct delays l = {{0}, 0};
    struct retry *r = dblab_client_retry(c);
    r->random_fn = three_quarters;
    r->sleep_fn = record_sleep;
    r->sleep_ctx = &l;
    struct dblab_health hl;
    struct err e = {0};
    ck_assert_int_eq(dblab_healthz(c, &hl, &e), ERR_TRANSIENT);
    dblab_health_release(&hl);
    ck_assert_uint_eq(hstub_count(h), 7);
    ck_assert_int_eq(l.n, 6);
    const double want[] = {0.375, 0.75, 1.5, 3.0, 6.0, 6.0}; /* 0.75 * min(8, 0.5 * 2^(i-1)) */
    for (int i = 0; i < 6; i++)
        ck_assert_msg(l.d[i] == want[i], "delay %d: %g, want %g", i + 1, l.d[i], want[i]);
    dblab_client_free(c);
    hstub_stop(h);
}
END_TEST

static int flag_cancel(void *ud)
{
    return *(int *)ud;
}

/* The owner's cancellation stops a call before it is sent, and a backoff at once. */
START_TEST(cancel_stops_a_call_and_a_backoff)
{
    static const struct hstub_route routes[] = {
        {"GET", "/healthz", 502, "bad gateway"},
        {NULL, NULL, 0, NULL},
    };
    struct hstub *h = hstub_start(hstub_routes, (void *)routes);
    struct dblab_client *c = client_for(h);
    int sig = 15;
    dblab_client_set_cancel(c, (struct cancel){flag_cancel, &sig, 0});
    struct dblab_health hl;
    struct err e = {0};
    ck_assert_int_eq(dblab_healthz(c, &hl, &e), ERR_INTERRUPTED);
    ck_assert_int_eq(e.signo, 15);
    dblab_health_release(&hl);
    ck_assert_uint_eq(hstub_count(h), 0);
    ck_assert_msg(strstr(e.msg, "DBLab GET /healthz: interrupted by signal 15"), "%s", e.msg);

    /* A deadline 0.3 s away ends the real (cancellable) backoff of 10-second retries. */
    dblab_client_retry(c)->base_delay = 10;
    dblab_client_retry(c)->max_delay = 10;
    dblab_client_retry(c)->random_fn = three_quarters;
    dblab_client_set_cancel(c, (struct cancel){NULL, NULL, clock_monotonic() + 0.3});
    double t0 = clock_monotonic();
    ck_assert_int_eq(dblab_healthz(c, &hl, &e), ERR_TIMEOUT);
    dblab_health_release(&hl);
    ck_assert(clock_monotonic() - t0 < 2.0);
    ck_assert_uint_eq(hstub_count(h), 1);
    ck_assert_msg(strstr(e.msg, "time budget ran out"), "%s", e.msg);
    dblab_client_free(c);
    hstub_stop(h);
}
END_TEST

/* The kinds a caller sees for the engine's answers: the token refused (401, 403:
 * the engine's verification middleware answers 401 UNAUTHORIZED), a request
 * refused (400), and a 2xx that is not the answer. Each ends in exit 81, but a
 * caller can tell them apart. Not retried: none of them heals. */
START_TEST(answer_kinds)
{
    static const struct hstub_route routes[] = {
        {"GET", "/healthz", 401,
         "{\"code\":\"UNAUTHORIZED\",\"message\":\"Check your verification token.\"}"},
        {"GET", "/status", 403, "{\"code\":\"FORBIDDEN\",\"message\":\"no\"}"},
        {"GET", "/admin/config", 400, "{\"code\":\"BAD_REQUEST\",\"message\":\"bad\"}"},
        {"POST", "/full-refresh", 200, "<html>a proxy</html>"},
        {NULL, NULL, 0, NULL},
    };
    struct hstub *h = hstub_start(hstub_routes, (void *)routes);
    struct dblab_client *c = client_for(h);
    struct err e = {0};
    struct dblab_health hl;
    ck_assert_int_eq(dblab_healthz(c, &hl, &e), ERR_DBLAB_UNAUTHORIZED);
    ck_assert_msg(strstr(e.msg, "HTTP 401 UNAUTHORIZED") != NULL, "%s", e.msg);
    dblab_health_release(&hl);
    struct dblab_status st;
    ck_assert_int_eq(dblab_status_get(c, &st, &e), ERR_DBLAB_UNAUTHORIZED);
    dblab_status_release(&st);
    cJSON *cfg = NULL;
    ck_assert_int_eq(dblab_config_get(c, &cfg, &e), ERR_DBLAB_REJECTED);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(dblab_full_refresh(c, &e), ERR_DBLAB_BAD_ANSWER);
    ck_assert_msg(strstr(e.msg, "not JSON") != NULL, "%s", e.msg);
    ck_assert_uint_eq(hstub_count(h), 4); /* one request each */
    ck_assert_int_eq(err_exit_code(ERR_DBLAB_UNAUTHORIZED, 0), 81);
    dblab_client_free(c);
    hstub_stop(h);
}
END_TEST

static Suite *dblab_suite(void)
{
    Suite *s = suite_create("dblab");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, status_real_shape);
    tcase_add_test(tc, status_spec_example);
    tcase_add_test(tc, status_scheduler_and_rfc3339);
    tcase_add_loop_test(tc, status_malformed, 0, (int)(sizeof bad_status / sizeof bad_status[0]));
    tcase_add_test(tc, health_bodies);
    tcase_add_test(tc, error_bodies);
    tcase_add_test(tc, times);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("helpers");
    tcase_add_test(tp, projection_paths);
    tcase_add_test(tp, busy_states);
    tcase_add_test(tp, instance_classes);
    suite_add_tcase(s, tp);
    TCase *tt = tcase_create("transport");
    tcase_set_timeout(tt, 30);
    tcase_add_test(tt, retries_are_jittered_and_capped);
    tcase_add_test(tt, cancel_stops_a_call_and_a_backoff);
    tcase_add_test(tt, answer_kinds);
    suite_add_tcase(s, tt);
    return s;
}

int main(void)
{
    return run_suites(dblab_suite(), NULL);
}
