/* rundoc: the run document's strict reading, section access and one-line writing. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#include "check_main.h"
#include "app/rundoc.h"
#include "tmpfiles.h"

static char *dir;
static struct err e;
static cJSON *doc;

static void setup(void)
{
    dir = tmp_dir_new();
    memset(&e, 0, sizeof e);
    doc = NULL;
}

static void teardown(void)
{
    cJSON_Delete(doc);
    tmp_dir_remove(dir);
}

static int parse(const char *text, const char *const *required)
{
    cJSON_Delete(doc);
    doc = NULL;
    memset(&e, 0, sizeof e);
    return rundoc_parse(text, "stdin", required, &doc, &e);
}

#define REQ(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ck_bad(rc, expected)                                                                       \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        ck_assert_msg(rc_ == ERR_INPUT, "expected 65, got %d (%s)", rc_, e.msg);                   \
        ck_assert_str_eq(e.msg, (expected));                                                       \
        ck_assert_ptr_null(doc);                                                                   \
    } while (0)

/* A complete document as the last step of a run writes it. */
static cJSON *full_doc(void)
{
    cJSON *d = rundoc_new();
    cJSON_AddStringToObject(d, "runId", "20261126T020000Z-1a2b");
    cJSON *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "type", "rds");
    cJSON_AddStringToObject(src, "identifier", "production-db");
    cJSON_AddStringToObject(src, "region", "us-east-1");
    rundoc_set_section(d, "source", src);
    cJSON *snap = cJSON_CreateObject();
    cJSON_AddStringToObject(snap, "id", "rds:production-db-2026-11-26-01-00");
    cJSON_AddStringToObject(
        snap, "arn",
        "arn:aws:rds:us-east-1:123456789012:snapshot:rds:production-db-2026-11-26-01-00");
    cJSON_AddStringToObject(snap, "type", "automated");
    cJSON_AddStringToObject(snap, "createTime", "2026-11-26T01:00:00Z");
    cJSON_AddStringToObject(snap, "engine", "postgres");
    cJSON_AddStringToObject(snap, "engineVersion", "16.4");
    cJSON_AddBoolToObject(snap, "encrypted", 1);
    cJSON_AddStringToObject(snap, "kmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/k");
    cJSON_AddNumberToObject(snap, "port", 5432);
    cJSON_AddNumberToObject(snap, "allocatedStorage", 100);
    cJSON_AddStringToObject(snap, "kind", "instance");
    rundoc_set_section(d, "snapshot", snap);
    cJSON *clone = cJSON_CreateObject();
    cJSON_AddStringToObject(clone, "id", "dblab-refresh-20261126t020000z");
    cJSON_AddStringToObject(clone, "kind", "instance");
    cJSON *inst = cJSON_AddArrayToObject(clone, "instances");
    cJSON_AddItemToArray(inst, cJSON_CreateString("dblab-refresh-20261126t020000z"));
    cJSON_AddStringToObject(clone, "createTime", "2026-11-26T02:00:05Z");
    cJSON_AddBoolToObject(clone, "adopted", 0);
    rundoc_set_section(d, "clone", clone);
    cJSON *ep = cJSON_CreateObject();
    cJSON_AddStringToObject(ep, "host", "dblab-refresh-x.abc.us-east-1.rds.amazonaws.com");
    cJSON_AddNumberToObject(ep, "port", 5432);
    rundoc_set_section(d, "endpoint", ep);
    cJSON *del = cJSON_CreateObject();
    cJSON_AddStringToObject(del, "id", "dblab-refresh-20261126t020000z");
    cJSON_AddStringToObject(del, "at", "2026-11-26T04:00:00Z");
    cJSON_AddBoolToObject(del, "alreadyGone", 0);
    rundoc_set_section(d, "deleted", del);
    return d;
}

/* Writes d with rundoc_write to a file (stdout redirected); returns the text. */
static char *write_captured(const cJSON *d, int *rc)
{
    char *path = NULL;
    ck_assert_int_ge(asprintf(&path, "%s/out.json", dir), 0);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    *rc = rundoc_write(d);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    free(path);
    return text;
}

START_TEST(new_document)
{
    doc = rundoc_new();
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(doc, "apiVersion")->valuestring,
                     RUNDOC_API_VERSION);
    ck_assert_str_eq(RUNDOC_API_VERSION, "dblab-rds-refresh/v1");
}
END_TEST

START_TEST(round_trip)
{
    cJSON *d = full_doc();
    int rc;
    char *text = write_captured(d, &rc);
    ck_assert_int_eq(rc, 0);
    size_t len = strlen(text);
    ck_assert_uint_gt(len, 10);
    ck_assert_int_eq(text[len - 1], '\n');
    ck_assert_ptr_eq(strchr(text, '\n'), text + len - 1); /* ONE line */
    ck_assert_int_eq(parse(text, REQ("source", "snapshot", "clone", "endpoint", "deleted")), 0);
    ck_assert(cJSON_Compare(doc, d, 1));
    free(text);
    cJSON_Delete(d);
}
END_TEST

START_TEST(read_from_file_and_stdin)
{
    cJSON *d = full_doc();
    char *text = cJSON_PrintUnformatted(d);
    char *p = tmp_write(dir, "doc.json", text);
    ck_assert_int_eq(rundoc_read(p, REQ("clone"), &doc, &e), 0);
    ck_assert(cJSON_Compare(doc, d, 1));
    cJSON_Delete(doc);
    doc = NULL;

    /* stdin: NULL and "-" */
    int saved = dup(0);
    int fd = open(p, O_RDONLY);
    dup2(fd, 0);
    close(fd);
    ck_assert_int_eq(rundoc_read(NULL, NULL, &doc, &e), 0);
    dup2(saved, 0);
    close(saved);
    ck_assert(cJSON_Compare(doc, d, 1));
    cJSON_Delete(doc);
    doc = NULL;

    /* a pretty-printed document is still one JSON object */
    char *pretty = cJSON_Print(d);
    char *p2 = tmp_write(dir, "pretty.json", pretty);
    ck_assert_int_eq(rundoc_read(p2, NULL, &doc, &e), 0);
    cJSON_Delete(doc);
    doc = NULL;

    ck_assert_int_eq(rundoc_read("/nonexistent/drr/doc.json", NULL, &doc, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "/nonexistent/drr/doc.json: cannot open: No such file or directory");
    ck_assert_ptr_null(doc);

    /* a NUL byte inside */
    char *p3 = NULL;
    ck_assert_int_ge(asprintf(&p3, "%s/nul.json", dir), 0);
    FILE *f = fopen(p3, "wb");
    fwrite("{\"a\"\0:1}", 1, 8, f);
    fclose(f);
    ck_assert_int_eq(rundoc_read(p3, NULL, &doc, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "NUL byte"));

    /* empty stdin */
    char *p4 = tmp_write(dir, "empty.json", "");
    saved = dup(0);
    fd = open(p4, O_RDONLY);
    dup2(fd, 0);
    close(fd);
    ck_assert_int_eq(rundoc_read("-", NULL, &doc, &e), ERR_INPUT);
    dup2(saved, 0);
    close(saved);
    ck_assert_str_eq(e.msg, "stdin: empty input (expected the run document of the previous step)");

    /* more than 1 MiB is not a run document; a directory cannot be read */
    char *big = malloc(1024 * 1024 + 2);
    memset(big, ' ', 1024 * 1024 + 1);
    big[0] = '{';
    big[1024 * 1024] = '}';
    big[1024 * 1024 + 1] = '\0';
    char *p5 = tmp_write(dir, "big.json", big);
    ck_assert_int_eq(rundoc_read(p5, NULL, &doc, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(
        strstr(e.msg, "big.json: larger than 1048576 bytes (not a run document)"));
    ck_assert_ptr_null(doc);
    big[1024 * 1024 - 1] = '}';
    big[1024 * 1024] = '\0'; /* exactly 1 MiB: read, then parsed as an (empty) object */
    char *p6 = tmp_write(dir, "max.json", big);
    ck_assert_int_eq(rundoc_read(p6, NULL, &doc, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "apiVersion"));
    ck_assert_int_eq(rundoc_read(dir, NULL, &doc, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, ": read error: Is a directory"));

    cJSON_free(text);
    cJSON_free(pretty);
    cJSON_Delete(d);
    free(big);
    free(p);
    free(p2);
    free(p3);
    free(p4);
    free(p5);
    free(p6);
}
END_TEST

START_TEST(malformed)
{
    ck_bad(parse("", NULL), "stdin: empty input (expected the run document of the previous step)");
    ck_bad(parse(" \n\t", NULL),
           "stdin: empty input (expected the run document of the previous step)");
    ck_bad(parse("{\"apiVersion\": \"dblab-rds-refresh/v1\",}", NULL),
           "stdin:1:40: malformed JSON (offset 39)");
    ck_bad(parse("{\n  \"a\": tru\n}", NULL), "stdin:2:8: malformed JSON (offset 9)");
    ck_bad(parse("{\"apiVersion\":\"dblab-rds-refresh/v1\"} {}", NULL),
           "stdin:1:39: malformed JSON (offset 38)");
    ck_bad(
        parse(
            "{\"apiVersion\":\"dblab-rds-refresh/v1\"}\n{\"apiVersion\":\"dblab-rds-refresh/v1\"}\n",
            NULL),
        "stdin:2:1: malformed JSON (offset 38)");
    ck_bad(parse("[1,2]", NULL), "stdin: the run document must be a JSON object, got an array");
    ck_bad(parse("\"text\"", NULL), "stdin: the run document must be a JSON object, got a string");
    ck_bad(parse("null", NULL), "stdin: the run document must be a JSON object, got null");
    ck_bad(rundoc_parse(NULL, NULL, NULL, &doc, &e), "input: empty input");
}
END_TEST

START_TEST(api_version)
{
    ck_bad(parse("{}", NULL), "stdin: apiVersion: missing (not a dblab-rds-refresh run document)");
    ck_bad(parse("{\"apiVersion\": 1}", NULL), "stdin: apiVersion: must be a string, got a number");
    ck_bad(
        parse("{\"apiVersion\": \"dblab-rds-refresh/v2\"}", NULL),
        "stdin: apiVersion: unsupported \"dblab-rds-refresh/v2\" (expected \"dblab-rds-refresh/v1\")");
    ck_bad(parse("{\"apiversion\": \"dblab-rds-refresh/v1\"}", NULL),
           "stdin: apiVersion: missing (not a dblab-rds-refresh run document)");
    ck_assert_int_eq(parse("{\"apiVersion\": \"dblab-rds-refresh/v1\"}", NULL), 0);
}
END_TEST

START_TEST(sections)
{
    static const char *head = "{\"apiVersion\":\"dblab-rds-refresh/v1\"";
    char buf[512];
    snprintf(buf, sizeof buf, "%s,\"source\":{}}", head);
    ck_bad(parse(buf, REQ("source", "clone")),
           "stdin: clone: missing section (run rds-clone-create first)");
    ck_bad(parse(buf, REQ("snapshot")),
           "stdin: snapshot: missing section (run rds-snapshot-latest first)");
    ck_bad(parse(buf, REQ("endpoint")),
           "stdin: endpoint: missing section (run rds-clone-wait first)");
    ck_bad(parse(buf, REQ("refresh")), "stdin: refresh: missing section (run dblab-refresh first)");
    ck_bad(parse(buf, REQ("deleted")),
           "stdin: deleted: missing section (run rds-clone-delete first)");
    ck_bad(parse(buf, REQ("custom")), "stdin: custom: missing section");
    ck_assert_int_eq(parse(buf, REQ("source")), 0);
    snprintf(buf, sizeof buf, "%s,\"source\":{},\"clone\":\"x\"}", head);
    ck_bad(parse(buf, REQ("clone")), "stdin: clone: must be an object, got a string");
    /* a known section of the wrong type is refused even when not required */
    ck_bad(parse(buf, NULL), "stdin: clone: must be an object, got a string");
    snprintf(buf, sizeof buf, "%s,\"snapshot\":[1]}", head);
    ck_bad(parse(buf, NULL), "stdin: snapshot: must be an object, got an array");
    snprintf(buf, sizeof buf, "%s,\"custom\":5}", head);
    ck_bad(parse(buf, REQ("custom")), "stdin: custom: must be an object, got a number");
    /* the driver's extra top-level keys pass through */
    snprintf(buf, sizeof buf, "%s,\"outcome\":\"ok\",\"steps\":[],\"awsCalls\":3}", head);
    ck_assert_int_eq(parse(buf, NULL), 0);
}
END_TEST

START_TEST(top_level_types_and_duplicates)
{
    static const char *head = "{\"apiVersion\":\"dblab-rds-refresh/v1\"";
    char buf[512];
    snprintf(buf, sizeof buf, "%s,\"runId\":5}", head);
    ck_bad(parse(buf, NULL), "stdin: runId: must be a string, got a number");
    snprintf(buf, sizeof buf, "%s,\"dryRun\":\"yes\"}", head);
    ck_bad(parse(buf, NULL), "stdin: dryRun: must be a boolean, got a string");
    snprintf(buf, sizeof buf, "%s,\"dryRun\":true,\"runId\":\"r\"}", head);
    ck_assert_int_eq(parse(buf, NULL), 0);
    snprintf(buf, sizeof buf, "%s,\"clone\":{\"id\":\"a\",\"id\":\"b\"}}", head);
    ck_bad(parse(buf, NULL), "stdin: clone.id: duplicate key");
    snprintf(buf, sizeof buf, "%s,\"apiVersion\":\"dblab-rds-refresh/v1\"}", head);
    ck_bad(parse(buf, NULL), "stdin: apiVersion: duplicate key");
    snprintf(buf, sizeof buf, "%s,\"steps\":[{\"a\":1},{\"b\":1,\"b\":2}]}", head);
    ck_bad(parse(buf, NULL), "stdin: steps[1].b: duplicate key");
}
END_TEST

/* In document order: the member that repeats an earlier key, or the first
 * duplicate inside an earlier member, whichever comes first. */
START_TEST(duplicates_in_document_order)
{
    static const char *head = "{\"apiVersion\":\"dblab-rds-refresh/v1\"";
    char buf[512];
    snprintf(buf, sizeof buf, "%s,\"a\":{\"x\":1,\"x\":2},\"b\":1,\"b\":2}", head);
    ck_bad(parse(buf, NULL), "stdin: a.x: duplicate key");
    snprintf(buf, sizeof buf, "%s,\"b\":1,\"c\":1,\"b\":2,\"c\":3,\"c\":4}", head);
    ck_bad(parse(buf, NULL), "stdin: b: duplicate key");
    snprintf(buf, sizeof buf, "%s,\"z\":1,\"c\":1,\"c\":2,\"z\":3}", head);
    ck_bad(parse(buf, NULL), "stdin: c: duplicate key");
}
END_TEST

/* A 1 MB document of 95,000 keys: the duplicate check is O(n log n) (it was
 * O(n^2): 28 s), so reading it stays well under a second. */
START_TEST(many_keys_in_bounded_time)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"x\":{");
    for (int i = 0; i < 95000; i++)
        buf_printf(&b, "%s\"k%07d\":1", i ? "," : "", i);
    buf_puts(&b, "}}");
    ck_assert_int_ge(b.len, 1000000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(parse(b.data, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* (Not under valgrind: it runs the code some 30 times slower.) */
    ck_assert_msg(secs < 1.0 || RUNNING_ON_VALGRIND, "95k keys took %.2f s", secs);
    /* and the same with a duplicate at the very end */
    b.len -= 2;
    buf_puts(&b, ",\"k0000000\":2}}");
    ck_bad(parse(b.data, NULL), "stdin: x.k0000000: duplicate key");
    buf_release(&b);
}
END_TEST

/* cJSON cuts a string at \u0000: a run document may not hold one at all, so
 * "dblab-refresh-\u0000production-db" is never read as "dblab-refresh-". */
START_TEST(escaped_nul_is_refused)
{
    ck_bad(parse("{\"apiVersion\":\"dblab-rds-refresh/v1\",\n\"clone\":{\"id\":"
                 "\"dblab-refresh-\\u0000production-db\",\"kind\":\"instance\"}}",
                 NULL),
           "stdin:2:30: a string holds \\u0000 (NUL): no field of a run document may");
    ck_bad(parse("{\"apiVersion\":\"dblab-rds-refresh/v1\",\"a\\u0000b\":1}", NULL),
           "stdin:1:40: a string holds \\u0000 (NUL): no field of a run document may");
    /* an escaped backslash followed by the text u0000 is no NUL */
    ck_assert_int_eq(parse("{\"apiVersion\":\"dblab-rds-refresh/v1\",\"a\":\"\\\\u0000\"}", NULL),
                     0);
    ck_assert_int_eq(parse("{\"apiVersion\":\"dblab-rds-refresh/v1\",\"a\":\"\\u0001\"}", NULL), 0);
}
END_TEST

START_TEST(field_access)
{
    doc = full_doc();
    const char *s;
    long long n;
    ck_assert_int_eq(rundoc_get_string(doc, "clone", "id", &s, &e), 0);
    ck_assert_str_eq(s, "dblab-refresh-20261126t020000z");
    ck_assert_int_eq(rundoc_get_int(doc, "endpoint", "port", &n, &e), 0);
    ck_assert_int_eq(n, 5432);
    ck_assert_int_eq(rundoc_get_string(doc, "refresh", "status", &s, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "refresh: missing section (run dblab-refresh first)");
    ck_assert_int_eq(rundoc_get_string(doc, "clone", "arn", &s, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "clone.arn: missing");
    ck_assert_int_eq(rundoc_get_string(doc, "endpoint", "port", &s, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "endpoint.port: must be a string, got a number");
    ck_assert_int_eq(rundoc_get_int(doc, "endpoint", "host", &n, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "endpoint.host: must be a number, got a string");

    cJSON *ep = rundoc_section(doc, "endpoint");
    cJSON_ReplaceItemInObjectCaseSensitive(ep, "port", cJSON_CreateNumber(5432.5));
    ck_assert_int_eq(rundoc_get_int(doc, "endpoint", "port", &n, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "endpoint.port: must be an integer");
    cJSON_ReplaceItemInObjectCaseSensitive(ep, "host", cJSON_CreateString(""));
    ck_assert_int_eq(rundoc_get_string(doc, "endpoint", "host", &s, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "endpoint.host: must not be empty");
    cJSON_ReplaceItemInObjectCaseSensitive(ep, "host", cJSON_CreateNull());
    ck_assert_int_eq(rundoc_get_string(doc, "endpoint", "host", &s, &e), ERR_INPUT);
    ck_assert_str_eq(e.msg, "endpoint.host: missing");
}
END_TEST

START_TEST(set_section_replaces)
{
    doc = rundoc_new();
    ck_assert_ptr_null(rundoc_section(doc, "clone"));
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", "first");
    rundoc_set_section(doc, "clone", a);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "id", "second");
    rundoc_set_section(doc, "clone", b);
    ck_assert_ptr_eq(rundoc_section(doc, "clone"), b);
    ck_assert_int_eq(cJSON_GetArraySize(doc), 2);
    cJSON_AddStringToObject(doc, "outcome", "x");
    ck_assert_ptr_null(rundoc_section(doc, "outcome")); /* not an object */
}
END_TEST

/* The C reader and the JSON Schema agree on the shared fixtures. */
START_TEST(schema_fixtures)
{
    static const char *const valid[] = {"minimal", "rds-full-run", "aurora-waited",
                                        "dry-run", "driver-final", NULL};
    for (size_t i = 0; valid[i] != NULL; i++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fixtures/rundoc/valid/%s.json", valid[i]);
        ck_assert_msg(rundoc_read(path, NULL, &doc, &e) == 0, "%s: %s", path, e.msg);
        cJSON_Delete(doc);
        doc = NULL;
    }
    ck_assert_int_eq(
        rundoc_read("tests/fixtures/rundoc/valid/rds-full-run.json",
                    REQ("source", "snapshot", "clone", "endpoint", "refresh", "deleted"), &doc, &e),
        0);
    cJSON_Delete(doc);
    doc = NULL;
    /* the structural errors the C reader catches itself */
    static const char *const invalid[] = {
        "no-api-version", "wrong-api-version", "section-not-object", "dry-run-string",
        "duplicate-key",  "two-lines",         "not-json",           NULL};
    for (size_t i = 0; invalid[i] != NULL; i++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fixtures/rundoc/invalid/%s.json", invalid[i]);
        ck_assert_msg(rundoc_read(path, NULL, &doc, &e) == ERR_INPUT, "%s accepted", path);
        ck_assert_ptr_null(doc);
    }
}
END_TEST

/* Mutated documents never crash the reader: 0 or 65, one line naming stdin. */
START_TEST(mutations_never_crash)
{
    cJSON *d = full_doc();
    char *base = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    static const char alphabet[] = "{}[]\":,\\ 0123456789.eE+-truefalsn\n";
    size_t len = strlen(base);
    unsigned seed = 4242;
    int valid = 0;
    for (int iter = 0; iter < 3000; iter++) {
        char *m = malloc(len + 8);
        memcpy(m, base, len + 1);
        size_t mlen = len;
        int edits = 1 + (int)(rand_r(&seed) % 3);
        for (int k = 0; k < edits; k++) {
            size_t pos = (size_t)rand_r(&seed) % mlen;
            char c = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
            switch (rand_r(&seed) % 3) {
            case 0:
                m[pos] = c;
                break;
            case 1:
                memmove(m + pos + 1, m + pos, mlen - pos + 1);
                m[pos] = c;
                mlen++;
                break;
            default:
                memmove(m + pos, m + pos + 1, mlen - pos);
                mlen--;
                break;
            }
        }
        int rc = parse(m, REQ("source", "clone"));
        ck_assert_msg(rc == 0 || rc == ERR_INPUT, "rc %d for %s", rc, m);
        if (rc == 0) {
            valid++;
        } else {
            ck_assert_msg(strncmp(e.msg, "stdin", 5) == 0 && strchr(e.msg, '\n') == NULL,
                          "bad message '%s'", e.msg);
        }
        free(m);
    }
    ck_assert_int_gt(valid, 0);
    cJSON_free(base);
}
END_TEST

static Suite *rundoc_suite(void)
{
    Suite *s = suite_create("rundoc");
    TCase *tc = tcase_create("rundoc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, new_document);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, read_from_file_and_stdin);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, api_version);
    tcase_add_test(tc, sections);
    tcase_add_test(tc, top_level_types_and_duplicates);
    tcase_add_test(tc, duplicates_in_document_order);
    tcase_add_test(tc, many_keys_in_bounded_time);
    tcase_add_test(tc, escaped_nul_is_refused);
    tcase_add_test(tc, field_access);
    tcase_add_test(tc, set_section_replaces);
    tcase_add_test(tc, schema_fixtures);
    tcase_add_test(tc, mutations_never_crash);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suites(rundoc_suite(), NULL);
}
