/* Unit tests for the core of common/: buf, err, exit codes, log + redaction,
 * clock, signals and the HTTP client (against a forked loopback server). */
#include <check.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "check_main.h"
#include "aws/secrets.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcodes.h"
#include "core/http.h"
#include "core/log.h"
#include "core/signals.h"

START_TEST(buf_grows_and_detaches)
{
    struct buf b = BUF_INIT;
    ck_assert_str_eq(buf_cstr(&b), "");
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    ck_assert_uint_eq(b.len, strlen(b.data));
    ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
    buf_reset(&b);
    ck_assert_uint_eq(b.len, 0);
    buf_puts(&b, "x");
    buf_putc(&b, 'y');
    char *s = buf_detach(&b);
    ck_assert_str_eq(s, "xy");
    ck_assert_ptr_null(b.data);
    free(s);
    char *d = xasprintf("%s-%d", "a", 7);
    ck_assert_str_eq(d, "a-7");
    free(d);
}
END_TEST

START_TEST(buf_reads_a_whole_file_up_to_a_limit)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 3000; i++) /* 30000 bytes: several read chunks */
        fputs("0123456789", f);
    struct buf b = BUF_INIT;
    buf_puts(&b, "head:");
    rewind(f);
    ck_assert_int_eq(buf_read_file(&b, f, 30000), 0); /* exactly the limit */
    ck_assert_uint_eq(b.len, 5 + 30000);
    ck_assert_uint_eq(strlen(b.data), b.len);
    ck_assert(strncmp(b.data, "head:0123456789", 15) == 0);
    buf_reset(&b);
    rewind(f);
    ck_assert_int_eq(buf_read_file(&b, f, 29999), 1); /* one byte over */
    ck_assert_uint_le(b.len, 29999);
    buf_reset(&b);
    ck_assert_int_eq(buf_read_file(&b, f, 10), 0); /* at end of file: nothing more */
    ck_assert_uint_eq(b.len, 0);
    fclose(f);
    FILE *d = fopen("/", "r"); /* reading a directory: EISDIR */
    ck_assert_ptr_nonnull(d);
    errno = 0;
    ck_assert_int_eq(buf_read_file(&b, d, 10), -1);
    ck_assert_int_eq(errno, EISDIR);
    fclose(d);
    buf_release(&b);
}
END_TEST

START_TEST(err_is_one_line_and_prefixed)
{
    struct err e = {0};
    ck_assert_int_eq(err_set(&e, ERR_AWS_REJECTED, "bad\nthing %d", 3), ERR_AWS_REJECTED);
    ck_assert_str_eq(e.msg, "bad thing 3");
    err_prefix(&e, "DescribeDBInstances %s", "db1");
    ck_assert_str_eq(e.msg, "DescribeDBInstances db1: bad thing 3");
    ck_assert_int_eq(e.kind, ERR_AWS_REJECTED);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, ERR_INTERNAL, "%s", big);
    err_prefix(&e, "ctx");
    ck_assert_uint_eq(strlen(e.msg), sizeof e.msg - 1);
    ck_assert(strncmp(e.msg, "ctx: aaa", 8) == 0);
    err_clear(&e);
    ck_assert_int_eq(e.kind, 0);
}
END_TEST

/* The contract of issue 13 (BRIEF2): each kind maps to ONE exit code, and the
 * exit codes stay those of docs/exit-codes.md. */
START_TEST(err_exit_code_table)
{
    static const struct {
        int kind, code;
    } want[] = {
        {ERR_OK, 0},
        {ERR_USAGE, 64},
        {ERR_INPUT, 65},
        {ERR_INTERNAL, 70},
        {ERR_TRANSIENT, 75},
        {ERR_CONFIG, 78},
        {ERR_TLS, 78},
        {ERR_AWS_REJECTED, 80},
        {ERR_AWS_UNAUTHORIZED, 80},
        {ERR_AWS_BAD_ANSWER, 80},
        {ERR_DBLAB_REJECTED, 81},
        {ERR_DBLAB_UNAUTHORIZED, 81},
        {ERR_DBLAB_BAD_ANSWER, 81},
        {ERR_TIMEOUT, 82},
        {ERR_GUARD, 83},
        {ERR_BUSY, 84},
        {ERR_STALE, 85},
        {ERR_NOT_FOUND, 86},
        {ERR_CLONE_FAILED, 87},
        {ERR_REFRESH_FAILED, 88},
        {ERR_NOTHING_TO_DO, 99},
    };
    size_t n = sizeof want / sizeof want[0];
    ck_assert_uint_eq(n + 1, ERR_KIND_COUNT); /* every kind but ERR_INTERRUPTED, listed once */
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(err_exit_code(want[i].kind, 0) == want[i].code, "%s: %d, want %d",
                      err_kind_name(want[i].kind), err_exit_code(want[i].kind, 0), want[i].code);
        /* signo only matters for ERR_INTERRUPTED */
        ck_assert_int_eq(err_exit_code(want[i].kind, SIGINT), want[i].code);
        if (want[i].kind != ERR_OK)
            ck_assert_str_ne(drr_exit_name(err_exit_code(want[i].kind, 0)), "unknown");
    }
    /* 128 + N, N a signal; a signo that is none still says "interrupted", never success. */
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, SIGINT), 130);
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, SIGTERM), 143);
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, SIGHUP), 129);
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, 64), 192);
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, 0), 143);
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, 65), 143);
    ck_assert_int_eq(err_exit_code(ERR_INTERRUPTED, -1), 143);
    /* A value that is no kind (an exit code passed by mistake) is internal, not success. */
    ck_assert_int_eq(err_exit_code(ERR_KIND_COUNT, 0), 70);
    ck_assert_int_eq(err_exit_code(80, 0), 70);
    ck_assert_int_eq(err_exit_code(-1, 0), 70);
    /* every kind has its own name */
    for (int k = 0; k < ERR_KIND_COUNT; k++) {
        ck_assert_str_ne(err_kind_name(k), "unknown");
        for (int j = k + 1; j < ERR_KIND_COUNT; j++)
            ck_assert_str_ne(err_kind_name(k), err_kind_name(j));
    }
    ck_assert_str_eq(err_kind_name(ERR_KIND_COUNT), "unknown");
}
END_TEST

START_TEST(err_interrupted_and_reclassify)
{
    struct err e = {0};
    ck_assert_int_eq(err_interrupted(&e, SIGTERM, "waiting: interrupted by signal %d", SIGTERM),
                     ERR_INTERRUPTED);
    ck_assert_int_eq(e.kind, ERR_INTERRUPTED);
    ck_assert_int_eq(e.signo, SIGTERM);
    ck_assert_str_eq(e.msg, "waiting: interrupted by signal 15");
    ck_assert_int_eq(err_exit_code(e.kind, e.signo), 143);
    ck_assert_int_eq(err_interrupted(NULL, SIGINT, "x"), ERR_INTERRUPTED);
    /* err_set after an interruption leaves no stale signal behind */
    ck_assert_int_eq(err_set(&e, ERR_NOT_FOUND, "gone"), ERR_NOT_FOUND);
    ck_assert_int_eq(e.signo, 0);
    /* a caller that knows the meaning keeps the message */
    err_set(&e, ERR_AWS_REJECTED, "DBInstanceNotFound: db1");
    ck_assert_int_eq(err_reclassify(&e, ERR_NOT_FOUND), ERR_NOT_FOUND);
    ck_assert_int_eq(e.kind, ERR_NOT_FOUND);
    ck_assert_str_eq(e.msg, "DBInstanceNotFound: db1");
    ck_assert_int_eq(err_reclassify(NULL, ERR_TRANSIENT), ERR_TRANSIENT);
    err_interrupted(&e, SIGHUP, "x");
    err_clear(&e);
    ck_assert_int_eq(e.kind, ERR_OK);
    ck_assert_int_eq(e.signo, 0);
    ck_assert_str_eq(e.msg, "");
}
END_TEST

/* The one excerpt of a foreign body in messages (AWS XML, DBLab, streamed pages). */
START_TEST(err_excerpt_is_short_printable_and_one_line)
{
    char out[32];
    err_excerpt("  <html>\n\t<b>x</b>\r\n", 20, out, sizeof out);
    ck_assert_str_eq(out, "<html> <b>x</b>");
    err_excerpt("a\001b\377c", 5, out, sizeof out);
    ck_assert_str_eq(out, "a?b?c");
    /* cut: at most outlen - 4 characters, then "..." */
    char cut[16];
    err_excerpt("0123456789abcdefghij", 20, cut, sizeof cut);
    ck_assert_str_eq(cut, "0123456789ab...");
    /* len bounds the read: the text need not be terminated */
    const char unterminated[4] = {'a', 'b', 'c', 'd'};
    err_excerpt(unterminated, 3, out, sizeof out);
    ck_assert_str_eq(out, "abc");
    err_excerpt(NULL, 0, out, sizeof out);
    ck_assert_str_eq(out, "");
    char tiny[3] = "zz";
    err_excerpt("abcdef", 6, tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "");
}
END_TEST

START_TEST(exit_codes_are_distinct_and_named)
{
    const int codes[] = {DRR_EXIT_USAGE,        DRR_EXIT_INPUT,          DRR_EXIT_INTERNAL,
                         DRR_EXIT_TEMPFAIL,     DRR_EXIT_CONFIG,         DRR_EXIT_AWS,
                         DRR_EXIT_DBLAB,        DRR_EXIT_TIMEOUT,        DRR_EXIT_GUARD,
                         DRR_EXIT_BUSY,         DRR_EXIT_STALE,          DRR_EXIT_NOT_FOUND,
                         DRR_EXIT_CLONE_FAILED, DRR_EXIT_REFRESH_FAILED, DRR_EXIT_NOTHING_TO_DO};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_ne(drr_exit_name(codes[i]), "unknown");
        for (size_t j = i + 1; j < n; j++) {
            ck_assert_int_ne(codes[i], codes[j]);
            ck_assert_str_ne(drr_exit_name(codes[i]), drr_exit_name(codes[j]));
        }
    }
    ck_assert_int_eq(DRR_EXIT_TEMPFAIL, 75);
    ck_assert_int_eq(DRR_EXIT_NOTHING_TO_DO, 99);
    ck_assert_str_eq(drr_exit_name(143), "signal");
    ck_assert_str_eq(drr_exit_name(12), "unknown");
}
END_TEST

START_TEST(redaction_of_registered_secrets)
{
    redact_clear();
    redact_add_secret("s3cr3t-token-value");
    redact_add_secret("abc"); /* too short to register: would redact noise */
    char *r = redact_apply("token is s3cr3t-token-value, twice: s3cr3t-token-value abc");
    ck_assert_str_eq(r, "token is [REDACTED], twice: [REDACTED] abc");
    free(r);
    redact_clear();
    r = redact_apply("s3cr3t-token-value");
    ck_assert_str_eq(r, "s3cr3t-token-value");
    free(r);
}
END_TEST

START_TEST(redaction_of_sensitive_fields)
{
    redact_clear();
    struct {
        const char *in, *out;
    } cases[] = {
        {"Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=abc\nnext",
         "Authorization: [REDACTED]\nnext"},
        {"Verification-Token: tok123", "Verification-Token: [REDACTED]"},
        {"X-Amz-Security-Token: FQoGZXIvYXdzE", "X-Amz-Security-Token: [REDACTED]"},
        {"{\"password\":\"hunter22\",\"user\":\"u\"}",
         "{\"password\":\"[REDACTED]\",\"user\":\"u\"}"},
        {"{\"SecretAccessKey\": \"wJalr/K7MDENG\"}", "{\"SecretAccessKey\": \"[REDACTED]\"}"},
        {"aws_secret_access_key = wJalr", "aws_secret_access_key = [REDACTED]"},
        {"a=1&token=xyz&b=2", "a=1&token=[REDACTED]&b=2"},
        {"token file /var/run/token", "token file /var/run/token"},
        {"mytoken: keep", "mytoken: keep"},
        {"password: [REDACTED]", "password: [REDACTED]"},
        {"cfg.yaml:3:5: dblab.token: environment variable DBLAB_TOKEN is not set",
         "cfg.yaml:3:5: dblab.token: environment variable DBLAB_TOKEN is not set"},
        {"source.password: required", "source.password: required"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = redact_apply(cases[i].in);
        ck_assert_msg(strcmp(r, cases[i].out) == 0, "case %zu: got '%s'", i, r);
        free(r);
    }
}
END_TEST

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return 1764122400; /* 2025-11-26T02:00:00Z */
}

START_TEST(log_lines_are_redacted_text_and_json)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    clock_set(fixed_now, NULL);
    log_set_stream(f);
    redact_clear();
    redact_add_secret("supersecret");
    log_init("unit", LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
    log_debug("hidden %s", "debug");
    log_info("hello supersecret\nworld");
    log_init("unit", LOG_FORMAT_JSON, LOG_LEVEL_DEBUG);
    log_warn("json \"quoted\" supersecret");
    fflush(f);
    ck_assert_ptr_null(strstr(out, "supersecret"));
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_ptr_nonnull(strstr(out, "2025-11-26T02:00:00Z INFO  unit: hello [REDACTED] world\n"));
    const char *json = strchr(out, '\n') + 1;
    cJSON *o = cJSON_Parse(json);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(cJSON_GetObjectItem(o, "level")->valuestring, "warn");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "msg")->valuestring, "json \"quoted\" [REDACTED]");
    ck_assert_str_eq(cJSON_GetObjectItem(o, "time")->valuestring, "2025-11-26T02:00:00Z");
    cJSON_Delete(o);
    log_set_stream(NULL);
    clock_set(NULL, NULL);
    redact_clear();
    fclose(f);
    free(out);
    enum log_format fmt;
    ck_assert_int_eq(log_parse_format("json", &fmt), 0);
    ck_assert_int_eq(fmt, LOG_FORMAT_JSON);
    ck_assert_int_eq(log_parse_format("xml", &fmt), -1);
}
END_TEST

/* A remote message's control characters are shown, never obeyed, in text lines;
 * JSON lines carry them escaped by cJSON. */
START_TEST(log_text_lines_escape_control_characters)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    clock_set(fixed_now, NULL);
    log_set_stream(f);
    log_init("unit", LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
    log_error("DBLab: %s", "boom \x1b[2J\x1b]0;owned\x07 bell\x7f c1 \xc2\x9b"
                           "31m tab\tend \xc3\xa9");
    log_init("unit", LOG_FORMAT_JSON, LOG_LEVEL_INFO);
    log_error("DBLab: %s", "json \x1b[2J");
    fflush(f);
    ck_assert_ptr_null(memchr(out, 0x1b, outlen));
    ck_assert_ptr_null(memchr(out, 0x07, outlen));
    ck_assert_ptr_null(memchr(out, 0x7f, outlen));
    ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
    ck_assert_ptr_nonnull(strstr(out,
                                 "ERROR unit: DBLab: boom \\x1b[2J\\x1b]0;owned\\x07 bell\\x7f "
                                 "c1 \\u009b31m tab end \xc3\xa9\n"));
    ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"DBLab: json \\u001b[2J\""));
    log_set_stream(NULL);
    clock_set(NULL, NULL);
    fclose(f);
    free(out);
}
END_TEST

/* CR/LF (or any control character) in a header value is refused before
 * anything is sent, naming the header and never the value. */
START_TEST(http_refuses_control_characters_in_headers)
{
    ck_assert_ptr_null(http_header_bad_byte("AKIAEXAMPLE/abc+def= x"));
    ck_assert_ptr_null(http_header_bad_byte(""));
    const char *v = "tok\r\nX-Injected: yes";
    ck_assert_ptr_eq(http_header_bad_byte(v), v + 3);
    ck_assert_ptr_nonnull(http_header_bad_byte("a\tb"));
    ck_assert_ptr_nonnull(http_header_bad_byte("a\x7f"));
    struct http_client *c = http_client_new(NULL, 2000, 5000);
    struct http_header h[] = {{"Verification-Token", "s3cret\r\nX-Injected: yes"}};
    struct http_request req = {"GET", "http://127.0.0.1:1/x", h, 1, NULL, 0, 0, 0};
    struct http_response resp = {0};
    struct err e = {0};
    ck_assert_int_eq(http_do(c, &req, &resp, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "the Verification-Token header would contain a control "
                                        "character (byte 0x0d at offset 6); nothing was sent"));
    ck_assert_ptr_null(strstr(e.msg, "s3cret"));
    http_response_release(&resp);
    http_client_free(c);
    http_global_cleanup();
}
END_TEST

/* Exactly one trailing newline of a secret made from a file goes. */
START_TEST(secret_loses_one_trailing_newline)
{
    const struct {
        const char *in, *out;
    } cases[] = {
        {"tok\n", "tok"},     {"tok\r\n", "tok"}, {"tok\n\n", "tok\n"}, {"tok\r\n\r\n", "tok\r\n"},
        {"tok", "tok"},       {"tok\r", "tok\r"}, {"\n", ""},           {"", ""},
        {"t\nok\n", "t\nok"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = xstrdup(cases[i].in);
        secret_strip_newline(s);
        ck_assert_str_eq(s, cases[i].out);
        free(s);
    }
}
END_TEST

START_TEST(clock_rfc3339_round_trip)
{
    int64_t t;
    char s[32];
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-26T02:00:00Z", &t), 0);
    clock_format_rfc3339(t, s, sizeof s);
    ck_assert_str_eq(s, "2026-11-26T02:00:00Z");
    clock_format_amz(t, s, sizeof s);
    ck_assert_str_eq(s, "20261126T020000Z");
    int64_t t2;
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-26T02:00:00.123456789Z", &t2), 0);
    ck_assert_int_eq(t, t2);
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-26T04:30:00+02:30", &t2), 0);
    ck_assert_int_eq(t, t2);
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-25T23:00:00-03:00", &t2), 0);
    ck_assert_int_eq(t, t2);
    const char *bad[] = {"",
                         "2026-11-26",
                         "2026-11-26T02:00:00",
                         "2026-02-31T00:00:00Z",
                         "2026-13-01T00:00:00Z",
                         "2026-11-26T02:00:00Zjunk",
                         "2026-11-26T02:00:00.Z",
                         "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(clock_parse_rfc3339(bad[i], &t2) == -1, "accepted '%s'", bad[i]);
    ck_assert(clock_monotonic() > 0);
}
END_TEST

START_TEST(signals_interrupt_sleep)
{
    signals_install();
    ck_assert_int_eq(signals_pending(), 0);
    double t0 = clock_monotonic();
    ck_assert_int_eq(signals_sleep(0.05), 0);
    ck_assert(clock_monotonic() - t0 >= 0.04);
    pid_t self = getpid();
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        kill(self, SIGTERM);
        _exit(0);
    }
    t0 = clock_monotonic();
    ck_assert_int_eq(signals_sleep(10), SIGTERM);
    ck_assert(clock_monotonic() - t0 < 5);
    waitpid(child, NULL, 0);
    ck_assert_int_eq(signals_pending(), SIGTERM);
}
END_TEST

/* A TCP socket bound to a free loopback port (the kernel's pick); *a is its
 * address, port included. */
static int loopback_socket(struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)a, sizeof *a), 0);
    socklen_t alen = sizeof *a;
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)a, &alen), 0);
    return s;
}

/* A one-shot loopback HTTP server in a child process: reads a request, checks
 * nothing, answers with the canned response, and exits. */
static pid_t serve_once(const char *response, int *port)
{
    struct sockaddr_in a;
    int s = loopback_socket(&a);
    *port = ntohs(a.sin_port);
    listen(s, 1);
    pid_t pid = fork();
    if (pid == 0) {
        int c = accept(s, NULL, NULL);
        char req[8192];
        size_t got = 0;
        /* read until the end of the headers plus any body announced */
        while (got < sizeof req - 1) {
            ssize_t n = read(c, req + got, sizeof req - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            req[got] = '\0';
            char *end = strstr(req, "\r\n\r\n");
            if (end) {
                char *cl = strcasestr(req, "content-length:");
                size_t body = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
                if (got >= (size_t)(end + 4 - req) + body)
                    break;
            }
        }
        if (write(c, response, strlen(response)) < 0)
            _exit(1);
        close(c);
        _exit(0);
    }
    close(s);
    return pid;
}

START_TEST(http_round_trip_and_headers)
{
    int port;
    pid_t pid =
        serve_once("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Amzn-RequestId: rid-1\r\n"
                   "Connection: close\r\n\r\nhello",
                   &port);
    struct http_client *c = http_client_new(NULL, 2000, 5000);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    struct http_header h[] = {{"Content-Type", "text/plain"}};
    struct http_request req = {"POST", url, h, 1, "abc", 3, 0, 0};
    struct http_response resp = {0};
    struct err e = {0};
    ck_assert_int_eq(http_do(c, &req, &resp, &e), 0);
    ck_assert_int_eq(resp.status, 201);
    ck_assert_str_eq(buf_cstr(&resp.body), "hello");
    char *rid = http_response_header(&resp, "x-amzn-requestid");
    ck_assert_str_eq(rid, "rid-1");
    free(rid);
    ck_assert_ptr_null(http_response_header(&resp, "x-missing"));
    waitpid(pid, NULL, 0);

    /* Nothing listens there any more: a network error is a temporary failure. */
    ck_assert_int_eq(http_do(c, &req, &resp, &e), ERR_TRANSIENT);
    ck_assert_int_eq(resp.status, 0);
    ck_assert_ptr_nonnull(strstr(e.msg, url));
    http_response_release(&resp);
    http_client_free(c);
    http_global_cleanup();
}
END_TEST

/* A body over request.spill_above goes to an unlinked file, not memory. */
START_TEST(http_spills_large_bodies_to_a_file)
{
    int port;
    pid_t pid = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
                           "hello world",
                           &port);
    struct http_client *c = http_client_new(NULL, 2000, 5000);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    struct http_request req = {"GET", url, NULL, 0, NULL, 0, 0, 4};
    struct http_response resp = {0};
    struct err e = {0};
    ck_assert_int_eq(http_do(c, &req, &resp, &e), 0);
    ck_assert_int_eq(resp.status, 200);
    ck_assert_int_eq(resp.spilled, 1);
    ck_assert_uint_eq(resp.body_len, 11);
    ck_assert_uint_eq(resp.body.len, 0);
    char back[16] = "";
    ck_assert_int_eq(pread(resp.body_fd, back, sizeof back, 0), 11);
    ck_assert_str_eq(back, "hello world");
    struct stat st;
    ck_assert_int_eq(fstat(resp.body_fd, &st), 0);
    ck_assert_int_eq(st.st_nlink, 0); /* never visible by name */
    ck_assert_int_eq(st.st_mode & 077, 0);
    waitpid(pid, NULL, 0);
    http_response_release(&resp);
    ck_assert_int_eq(resp.spilled, 0);
    http_client_free(c);
    http_global_cleanup();
}
END_TEST

/* A TLS verification failure is its own kind (ERR_TLS: retrying will not help, the
 * CA is the fix), neither "transient" nor a configuration error: an HTTPS server
 * (openssl s_server) whose self-signed certificate no CA vouches for, and a CA
 * bundle that cannot be read. */
static pid_t run_quiet(const char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

START_TEST(http_tls_failure_is_its_own_kind)
{
    char dir[] = "/tmp/drr-tls.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char key[64], crt[64], port_s[16];
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(crt, sizeof crt, "%s/crt.pem", dir);
    const char *const gen[] = {"openssl", "req",   "-x509", "-newkey", "rsa:2048",
                               "-nodes",  "-days", "1",     "-subj",   "/CN=127.0.0.1",
                               "-keyout", key,     "-out",  crt,       NULL};
    int status = 0;
    waitpid(run_quiet(gen), &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "openssl req failed");
    /* a free port: the kernel's pick, released for s_server */
    struct sockaddr_in a;
    int s = loopback_socket(&a);
    close(s);
    snprintf(port_s, sizeof port_s, "%d", ntohs(a.sin_port));
    const char *const serve[] = {"openssl", "s_server", "-accept", port_s, "-cert",
                                 crt,       "-key",     key,       "-www", NULL};
    pid_t server = run_quiet(serve);
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        up = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
        close(c);
        if (!up)
            usleep(50000);
    }
    ck_assert_msg(up, "openssl s_server did not listen on %s", port_s);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%s/", port_s);
    struct http_request req = {"GET", url, NULL, 0, NULL, 0, 0, 0};
    struct http_response resp = {0};
    struct err e = {0};

    struct http_client *c = http_client_new(NULL, 5000, 10000); /* the system's CAs */
    ck_assert_int_eq(http_do(c, &req, &resp, &e), ERR_TLS);
    ck_assert_msg(strstr(e.msg, url) != NULL, "%s", e.msg);
    http_response_release(&resp);
    http_client_free(c);

    struct http_tls bad_bundle = {"/nonexistent/ca.pem", 0};
    c = http_client_new(&bad_bundle, 5000, 10000);
    ck_assert_int_eq(http_do(c, &req, &resp, &e), ERR_TLS);
    http_response_release(&resp);
    http_client_free(c);

    /* the same server trusted: the answer arrives (the kind was about trust) */
    struct http_tls trusted = {crt, 0};
    c = http_client_new(&trusted, 5000, 10000);
    ck_assert_msg(http_do(c, &req, &resp, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(resp.status, 200);
    http_response_release(&resp);
    http_client_free(c);

    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    unlink(key);
    unlink(crt);
    rmdir(dir);
    http_global_cleanup();
}
END_TEST

/* A server that accepts and never answers: only the signal can end the request. */
START_TEST(http_aborts_on_signal)
{
    struct sockaddr_in a;
    int s = loopback_socket(&a);
    listen(s, 1);
    signals_install();
    pid_t self = getpid();
    pid_t child = fork();
    if (child == 0) {
        usleep(300000);
        kill(self, SIGTERM);
        _exit(0);
    }
    struct http_client *c = http_client_new(NULL, 2000, 30000);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    struct http_request req = {"GET", url, NULL, 0, NULL, 0, 0, 0};
    struct http_response resp = {0};
    struct err e = {0};
    double t0 = clock_monotonic();
    struct cancel on_signal = signals_cancel(); /* what a command installs */
    http_client_set_cancel(c, &on_signal);
    ck_assert_int_eq(http_do(c, &req, &resp, &e), ERR_INTERRUPTED);
    ck_assert_int_eq(e.signo, SIGTERM);
    ck_assert(clock_monotonic() - t0 < 5);
    ck_assert_ptr_nonnull(strstr(e.msg, "interrupted by signal 15"));
    waitpid(child, NULL, 0);
    http_response_release(&resp);
    http_client_free(c);
    close(s);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, buf_grows_and_detaches);
    tcase_add_test(tc, buf_reads_a_whole_file_up_to_a_limit);
    tcase_add_test(tc, err_is_one_line_and_prefixed);
    tcase_add_test(tc, exit_codes_are_distinct_and_named);
    tcase_add_test(tc, err_exit_code_table);
    tcase_add_test(tc, err_interrupted_and_reclassify);
    tcase_add_test(tc, err_excerpt_is_short_printable_and_one_line);
    tcase_add_test(tc, redaction_of_registered_secrets);
    tcase_add_test(tc, redaction_of_sensitive_fields);
    tcase_add_test(tc, log_lines_are_redacted_text_and_json);
    tcase_add_test(tc, log_text_lines_escape_control_characters);
    tcase_add_test(tc, http_refuses_control_characters_in_headers);
    tcase_add_test(tc, secret_loses_one_trailing_newline);
    tcase_add_test(tc, clock_rfc3339_round_trip);
    tcase_add_test(tc, signals_interrupt_sleep);
    tcase_add_test(tc, http_round_trip_and_headers);
    tcase_add_test(tc, http_aborts_on_signal);
    tcase_add_test(tc, http_tls_failure_is_its_own_kind);
    tcase_add_test(tc, http_spills_large_bodies_to_a_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suites(core_suite(), NULL);
}
