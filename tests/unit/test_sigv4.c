/* SigV4: every case of the official suite (aws-c-auth's v4 folder under
 * $DRR_SHARED_DIR/reference/sigv4/v4), discovered at run time, compared byte for
 * byte: canonical request, string to sign, signature and the added headers. */
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aws/aws_sigv4.h"
#include "core/buf.h"
#include "check_main.h"
#include "core/clock.h"

#define SUITE_MIN_CASES 38

static char *suite_dir;
static char **cases;
static size_t n_cases;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    buf_append(&b, "", 0);
    return buf_detach(&b);
}

static char *case_file(const char *c, const char *name)
{
    char *path = xasprintf("%s/%s/%s", suite_dir, c, name);
    char *text = slurp(path);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(path);
    return text;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void discover_cases(void)
{
    const char *shared = getenv("DRR_SHARED_DIR");
    suite_dir = xasprintf("%s/reference/sigv4/v4", shared && *shared ? shared : "../shared");
    DIR *d = opendir(suite_dir);
    if (!d)
        return;
    struct dirent *de;
    size_t cap = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *req = xasprintf("%s/%s/request.txt", suite_dir, de->d_name);
        struct stat st;
        int ok = stat(req, &st) == 0;
        free(req);
        if (!ok)
            continue;
        if (n_cases == cap) {
            cap = cap ? cap * 2 : 64;
            cases = xrealloc(cases, cap * sizeof *cases);
        }
        cases[n_cases++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(cases, n_cases, sizeof *cases, cmp_str);
}

/* A parsed request.txt: "METHOD TARGET HTTP/1.1", header lines ("Name:value",
 * continuation lines start with whitespace), a blank line, the body. */
struct parsed_request {
    char *method;
    char *path;
    char *query;
    struct http_header headers[32];
    char *names[32];
    struct buf values[32];
    size_t n_headers;
    char *body;
    size_t body_len;
};

static void parse_request(char *text, struct parsed_request *r)
{
    memset(r, 0, sizeof *r);
    char *line = text;
    char *eol = strchr(line, '\n');
    ck_assert_ptr_nonnull(eol);
    *eol = '\0';
    char *sp1 = strchr(line, ' ');
    char *sp2 = strrchr(line, ' ');
    ck_assert(sp1 && sp2 && sp2 > sp1);
    r->method = xstrndup(line, (size_t)(sp1 - line));
    char *target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    char *q = strchr(target, '?');
    if (q) {
        r->query = xstrdup(q + 1);
        *q = '\0';
    }
    r->path = target;
    char *p = eol + 1;
    while (*p && *p != '\n') {
        eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if ((*p == ' ' || *p == '\t') && r->n_headers > 0) {
            struct buf *v = &r->values[r->n_headers - 1];
            buf_putc(v, '\n');
            buf_append(v, p, len);
        } else {
            char *colon = memchr(p, ':', len);
            ck_assert_ptr_nonnull(colon);
            ck_assert_uint_lt(r->n_headers, 32);
            r->names[r->n_headers] = xstrndup(p, (size_t)(colon - p));
            buf_append(&r->values[r->n_headers], colon + 1, len - (size_t)(colon + 1 - p));
            r->n_headers++;
        }
        p = eol ? eol + 1 : p + len;
    }
    if (*p == '\n') {
        r->body = xstrdup(p + 1);
        r->body_len = strlen(r->body);
    }
    for (size_t i = 0; i < r->n_headers; i++) {
        r->headers[i].name = r->names[i];
        r->headers[i].value = buf_cstr(&r->values[i]);
    }
}

static void free_request(struct parsed_request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        buf_release(&r->values[i]);
    }
    free(r->body);
}

/* Value of header name (case-insensitive) in the expected signed request, or NULL. */
static char *signed_header(const char *signed_request, const char *name)
{
    size_t n = strlen(name);
    const char *p = signed_request;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == 0)
            break; /* end of headers */
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
            return xstrndup(p + n + 1, len - n - 1);
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static const char *added_header(const struct sigv4_signed *s, const char *name)
{
    for (size_t i = 0; i < s->n_headers; i++)
        if (strcasecmp(s->headers[i].name, name) == 0)
            return s->headers[i].value;
    return NULL;
}

static void check_added_header(const char *c, const struct sigv4_signed *s,
                               const char *expected_request, const char *name)
{
    char *want = signed_header(expected_request, name);
    const char *got = added_header(s, name);
    if (want) {
        ck_assert_msg(got != NULL, "%s: %s not added", c, name);
        ck_assert_msg(strcmp(want, got) == 0, "%s: %s\n  want %s\n  got  %s", c, name, want, got);
    } else {
        ck_assert_msg(got == NULL, "%s: %s added but not expected", c, name);
    }
    free(want);
}

START_TEST(test_suite_case)
{
    const char *c = cases[_i];
    char *ctx_text = case_file(c, "context.json");
    cJSON *ctx = cJSON_Parse(ctx_text);
    ck_assert_msg(ctx != NULL, "%s: context.json does not parse", c);
    const cJSON *credj = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");
    struct sigv4_credentials cred = {
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(credj, "access_key_id")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(credj, "secret_access_key")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(credj, "token")),
    };
    struct sigv4_options opt = {0};
    opt.region = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "region"));
    opt.service = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "service"));
    const char *ts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "timestamp"));
    ck_assert_ptr_nonnull(ts);
    ck_assert_int_eq(clock_parse_rfc3339(ts, &opt.time), 0);
    opt.normalize_path = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "normalize"));
    opt.sign_body = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "sign_body"));
    opt.omit_session_token =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "omit_session_token"));

    char *req_text = case_file(c, "request.txt");
    struct parsed_request pr;
    parse_request(req_text, &pr);
    struct sigv4_request req = {pr.method,    pr.path, pr.query,   pr.headers,
                                pr.n_headers, pr.body, pr.body_len};

    struct sigv4_signed s;
    struct err e = {0};
    int rc = sigv4_sign(&req, &cred, &opt, &s, &e);
    ck_assert_msg(rc == 0, "%s: sign failed: %s", c, e.msg);

    char *want_cr = case_file(c, "header-canonical-request.txt");
    char *want_sts = case_file(c, "header-string-to-sign.txt");
    char *want_sig = case_file(c, "header-signature.txt");
    char *want_req = case_file(c, "header-signed-request.txt");
    ck_assert_msg(strcmp(want_cr, buf_cstr(&s.canonical_request)) == 0,
                  "%s: canonical request\n--- want\n%s\n--- got\n%s", c, want_cr,
                  buf_cstr(&s.canonical_request));
    ck_assert_msg(strcmp(want_sts, buf_cstr(&s.string_to_sign)) == 0,
                  "%s: string to sign\n--- want\n%s\n--- got\n%s", c, want_sts,
                  buf_cstr(&s.string_to_sign));
    ck_assert_msg(strcmp(want_sig, s.signature) == 0, "%s: signature want %s got %s", c, want_sig,
                  s.signature);
    check_added_header(c, &s, want_req, "Authorization");
    check_added_header(c, &s, want_req, "X-Amz-Date");
    check_added_header(c, &s, want_req, "X-Amz-Security-Token");
    check_added_header(c, &s, want_req, "X-Amz-Content-Sha256");

    sigv4_signed_release(&s);
    free(want_cr);
    free(want_sts);
    free(want_sig);
    free(want_req);
    free_request(&pr);
    free(req_text);
    cJSON_Delete(ctx);
    free(ctx_text);
}
END_TEST

START_TEST(test_suite_complete)
{
    ck_assert_msg(n_cases >= SUITE_MIN_CASES, "found %zu SigV4 suite cases in %s, want >= %d",
                  n_cases, suite_dir, SUITE_MIN_CASES);
}
END_TEST

/* ---- building blocks and refusals ---- */

START_TEST(test_uri_encode)
{
    struct buf b = BUF_INIT;
    const char *in = "a b+c/d~e*f%\xe1\x88\xb4";
    sigv4_uri_encode(&b, in, strlen(in), 0);
    ck_assert_str_eq(buf_cstr(&b), "a%20b%2Bc%2Fd~e%2Af%25%E1%88%B4");
    buf_reset(&b);
    sigv4_uri_encode(&b, in, strlen(in), 1);
    ck_assert_str_eq(buf_cstr(&b), "a%20b%2Bc/d~e%2Af%25%E1%88%B4");
    buf_release(&b);
}
END_TEST

START_TEST(test_canonical_uri_normalize)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"", "/"},           {"/", "/"},
        {"/a/b/..", "/a/"},  {"/a/./b", "/a/b"},
        {"/../a", "/a"},     {"/a//b///", "/a/b/"},
        {"/a/b/.", "/a/b/"}, {"/a b/c", "/a%20b/c"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct buf b = BUF_INIT;
        sigv4_canonical_uri(&b, t[i].in, 1);
        ck_assert_msg(strcmp(buf_cstr(&b), t[i].out) == 0, "%s -> %s, want %s", t[i].in,
                      buf_cstr(&b), t[i].out);
        buf_release(&b);
    }
}
END_TEST

START_TEST(test_canonical_query)
{
    struct buf b = BUF_INIT;
    sigv4_canonical_query(&b, "b=2&a=%7e&a=1&c&&d=x%20y+z&e=%zz");
    ck_assert_str_eq(buf_cstr(&b), "a=1&a=~&b=2&c=&d=x%20y%2Bz&e=%25zz");
    buf_release(&b);
}
END_TEST

static const struct sigv4_credentials test_creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

START_TEST(test_refuses_bad_requests)
{
    struct sigv4_options opt = {"us-east-1", "rds", 1440938160, 1, 0, 0};
    struct http_header host = {"Host", "rds.us-east-1.amazonaws.com"};
    struct http_header two[2] = {{"Host", "x"}, {"authorization", "x"}};
    struct sigv4_signed s;
    struct err e = {0};

    struct sigv4_request no_host = {"POST", "/", NULL, NULL, 0, NULL, 0};
    ck_assert_int_eq(sigv4_sign(&no_host, &test_creds, &opt, &s, &e), ERR_INTERNAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "Host"));
    sigv4_signed_release(&s);

    struct sigv4_request owned = {"POST", "/", NULL, two, 2, NULL, 0};
    ck_assert_int_eq(sigv4_sign(&owned, &test_creds, &opt, &s, &e), ERR_INTERNAL);
    sigv4_signed_release(&s);

    struct sigv4_request ok = {"POST", "/", NULL, &host, 1, "Action=X", 8};
    struct sigv4_credentials nokey = {"AKID", "", NULL};
    ck_assert_int_eq(sigv4_sign(&ok, &nokey, &opt, &s, &e), ERR_INTERNAL);
    sigv4_signed_release(&s);

    struct sigv4_options noregion = {NULL, "rds", 0, 1, 0, 0};
    ck_assert_int_eq(sigv4_sign(&ok, &test_creds, &noregion, &s, &e), ERR_INTERNAL);
    sigv4_signed_release(&s);
}
END_TEST

/* A Query-protocol request as the client sends it: the body's hash is in the
 * canonical request, the session token is signed and never leaks into the
 * Authorization value. */
START_TEST(test_query_protocol_request)
{
    struct sigv4_options opt = {"eu-west-1", "rds", 1440938160, 1, 0, 0};
    struct http_header h[2] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                               {"Host", "rds.eu-west-1.amazonaws.com"}};
    const char *body = "Action=DescribeDBSnapshots&Version=2014-10-31";
    struct sigv4_request req = {"POST", "/", NULL, h, 2, body, strlen(body)};
    struct sigv4_credentials cr = {"AKIDEXAMPLE", "secret-key-value", "session-token-value"};
    struct sigv4_signed s;
    struct err e = {0};
    ck_assert_int_eq(sigv4_sign(&req, &cr, &opt, &s, &e), 0);
    char hash[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex(body, strlen(body), hash);
    ck_assert_str_eq(s.payload_hash, hash);
    ck_assert_ptr_nonnull(strstr(buf_cstr(&s.canonical_request), hash));
    ck_assert_str_eq(s.signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
    ck_assert_ptr_nonnull(
        strstr(s.authorization, "Credential=AKIDEXAMPLE/20150830/eu-west-1/rds/aws4_request, "));
    ck_assert_ptr_null(strstr(s.authorization, "secret-key-value"));
    ck_assert_ptr_null(strstr(s.authorization, "session-token-value"));
    ck_assert_str_eq(added_header(&s, "X-Amz-Security-Token"), "session-token-value");
    ck_assert_int_eq((int)s.n_headers, 3);
    /* A different secret gives a different signature (the key really is used). */
    char sig1[SIGV4_HEX_LEN + 1];
    memcpy(sig1, s.signature, sizeof sig1);
    sigv4_signed_release(&s);
    cr.secret_access_key = "secret-key-valuf";
    ck_assert_int_eq(sigv4_sign(&req, &cr, &opt, &s, &e), 0);
    ck_assert_str_ne(sig1, s.signature);
    sigv4_signed_release(&s);
}
END_TEST

START_TEST(test_header_values_empty_and_folded)
{
    struct sigv4_options opt = {"us-east-1", "service", 1440938160, 1, 0, 0};
    struct http_header h[3] = {
        {"Host", "example.amazonaws.com"}, {"X-Empty", "   "}, {"X-Fold", "a\r\n\t b  c "}};
    struct sigv4_request req = {"GET", "/", NULL, h, 3, NULL, 0};
    struct sigv4_signed s;
    struct err e = {0};
    ck_assert_int_eq(sigv4_sign(&req, &test_creds, &opt, &s, &e), 0);
    ck_assert_str_eq(buf_cstr(&s.canonical_request),
                     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                     "x-empty:\nx-fold:a b c\n\nhost;x-amz-date;x-empty;x-fold\n"
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_int_eq((int)s.n_headers, 2); /* X-Amz-Date, Authorization: no token */
    sigv4_signed_release(&s);
}
END_TEST

int main(void)
{
    discover_cases();
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("aws-suite");
    tcase_add_test(tc, test_suite_complete);
    if (n_cases > 0)
        tcase_add_loop_test(tc, test_suite_case, 0, (int)n_cases);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("pieces");
    tcase_add_test(tb, test_uri_encode);
    tcase_add_test(tb, test_canonical_uri_normalize);
    tcase_add_test(tb, test_canonical_query);
    tcase_add_test(tb, test_refuses_bad_requests);
    tcase_add_test(tb, test_query_protocol_request);
    tcase_add_test(tb, test_header_values_empty_and_folded);
    suite_add_tcase(s, tb);
    int rc = run_suites(s, NULL);
    for (size_t i = 0; i < n_cases; i++)
        free(cases[i]);
    free(cases);
    free(suite_dir);
    return rc;
}
