/* libxml2 helpers and AWS error parsing, on responses in the shapes AWS sends
 * (the files in tests/fixtures/aws; each parses with botocore's QueryParser for the RDS
 * model, so they match the service, not just this parser). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/aws_xml.h"
#include "aws/aws_xml_stream.h"
#include "core/buf.h"
#include "check_main.h"

static char *fixture(const char *name, size_t *len)
{
    char *path = xasprintf("tests/fixtures/aws/%s", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (run from the top of the tree)", path);
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    free(path);
    *len = b.len;
    return buf_detach(&b);
}

static xmlDoc *parse_fixture(const char *name)
{
    size_t len;
    char *body = fixture(name, &len);
    xmlDoc *doc = NULL;
    struct err e = {0};
    ck_assert_msg(aws_xml_parse(body, len, name, &doc, &e) == 0, "%s", e.msg);
    free(body);
    return doc;
}

START_TEST(test_paginated_describe)
{
    xmlDoc *doc = parse_fixture("describe-db-snapshots-page1.xml");
    xmlNode *res = aws_xml_result(doc, "DescribeDBSnapshots");
    ck_assert_ptr_nonnull(res);
    ck_assert_str_eq(aws_xml_text(res, "Marker"),
                     "eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ==");
    ck_assert_str_eq(aws_xml_request_id(doc), "8f7c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2f");

    xmlNode *list = aws_xml_child(res, "DBSnapshots");
    int n = 0;
    for (xmlNode *s = aws_xml_child(list, "DBSnapshot"); s; s = aws_xml_next(s))
        n++;
    ck_assert_int_eq(n, 2);

    xmlNode *s = aws_xml_child(list, "DBSnapshot");
    ck_assert_str_eq(aws_xml_text(s, "DBSnapshotIdentifier"), "rds:production-db-2026-11-25-02-05");
    long long port = 0, storage = 0;
    ck_assert_int_eq(aws_xml_int(s, "Port", &port), 0);
    ck_assert_int_eq(port, 5432);
    ck_assert_int_eq(aws_xml_int(s, "AllocatedStorage", &storage), 0);
    ck_assert_int_eq(storage, 200);
    int enc = -1;
    ck_assert_int_eq(aws_xml_bool(s, "Encrypted", &enc), 0);
    ck_assert_int_eq(enc, 1);
    int64_t t = 0;
    ck_assert_int_eq(aws_xml_time(s, "SnapshotCreateTime", &t), 0);
    ck_assert_int_eq(t, 1795572341); /* 2026-11-25T02:05:41Z */
    /* Entities are decoded; nested paths work. */
    ck_assert_str_eq(aws_xml_text(s, "TagList/Tag/Value"), "billing & data");
    /* An empty element is "", an absent one NULL. */
    ck_assert_str_eq(aws_xml_text(s, "ProcessorFeatures"), "");
    ck_assert_ptr_null(aws_xml_text(s, "Iops"));
    ck_assert_int_eq(aws_xml_int(s, "Iops", &port), 1);
    ck_assert_int_eq(aws_xml_int(s, "Engine", &port), -1);
    ck_assert_int_eq(aws_xml_bool(s, "Engine", &enc), -1);
    ck_assert_int_eq(aws_xml_time(s, "Engine", &t), -1);

    xmlNode *s2 = aws_xml_next(s);
    ck_assert_str_eq(aws_xml_text(s2, "Status"), "creating");
    ck_assert_ptr_null(aws_xml_text(s2, "SnapshotCreateTime"));
    ck_assert_ptr_null(aws_xml_child(aws_xml_child(s2, "TagList"), "Tag"));
    ck_assert_ptr_null(aws_xml_next(s2));
    xmlFreeDoc(doc);

    doc = parse_fixture("describe-db-snapshots-last.xml");
    res = aws_xml_result(doc, "DescribeDBSnapshots");
    ck_assert_ptr_null(aws_xml_text(res, "Marker")); /* last page: no Marker */
    ck_assert_str_eq(aws_xml_text(res, "DBSnapshots/DBSnapshot/DBSnapshotIdentifier"),
                     "before-upgrade");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_no_namespace_and_iteration_by_any_name)
{
    const char *x = "<R><A>1</A><!-- c --><B>2</B><A>3<![CDATA[<4>]]>5</A></R>";
    xmlDoc *doc = NULL;
    struct err e = {0};
    ck_assert_int_eq(aws_xml_parse(x, strlen(x), "test", &doc, &e), 0);
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *a = aws_xml_child(root, "A");
    ck_assert_str_eq(aws_xml_text(a, NULL), "1");
    xmlNode *a2 = aws_xml_next(a);
    ck_assert_str_eq(aws_xml_text(a2, ""), "3<4>5"); /* text split by CDATA, merged */
    ck_assert_str_eq(aws_xml_text(a2, ""), "3<4>5"); /* stable on a second call */
    int n = 0;
    for (xmlNode *c = aws_xml_first_element(root); c; c = aws_xml_next_element(c))
        n++;
    ck_assert_int_eq(n, 3);
    ck_assert_ptr_null(aws_xml_path(root, "A//B"));
    ck_assert_ptr_null(aws_xml_path(NULL, "A"));
    ck_assert_ptr_null(aws_xml_result(doc, "Nope"));
    ck_assert_ptr_null(aws_xml_request_id(doc));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_action_without_output)
{
    xmlDoc *doc = parse_fixture("add-tags-to-resource.xml");
    ck_assert_ptr_null(aws_xml_result(doc, "AddTagsToResource"));
    ck_assert_str_eq(aws_xml_request_id(doc), "b194d9ca-a664-11e4-b688-194eaf8658fa");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(test_invalid_xml_is_an_error_not_a_crash)
{
    static const char *bad[] = {
        "",
        "not xml at all",
        "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult>",
        "<a></b>",
        "\xff\xfe<\x00",
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xmlDoc *doc = (xmlDoc *)1;
        struct err e = {0};
        int rc = aws_xml_parse(bad[i], strlen(bad[i]), "DescribeDBSnapshots response", &doc, &e);
        if (i == 5) {
            /* Well-formed; the external entity must NOT be loaded. */
            if (rc == 0) {
                const char *txt = aws_xml_text(xmlDocGetRootElement(doc), NULL);
                ck_assert_ptr_null(strstr(txt ? txt : "", "root:"));
                xmlFreeDoc(doc);
            }
            continue;
        }
        ck_assert_int_eq(rc, ERR_AWS_BAD_ANSWER);
        ck_assert_ptr_null(doc);
        ck_assert_msg(strstr(e.msg, "DescribeDBSnapshots response") != NULL, "%s", e.msg);
        ck_assert_ptr_null(strchr(e.msg, '\n'));
    }
}
END_TEST

START_TEST(test_error_query_shape)
{
    size_t len;
    char *body = fixture("error-snapshot-not-found.xml", &len);
    struct aws_error ae;
    aws_error_from_xml(404, body, len, "header-id-ignored", &ae);
    ck_assert_int_eq(ae.http_status, 404);
    ck_assert_str_eq(ae.code, "DBSnapshotNotFound");
    ck_assert_str_eq(ae.type, "Sender");
    ck_assert_str_eq(ae.message, "DBSnapshot rds:production-db-2026-11-20-02-05 not found.");
    ck_assert_str_eq(ae.request_id, "0b2e7a1c-9d3f-4e5a-8b6c-7d8e9f0a1b2c");
    char msg[1024];
    aws_error_format(&ae, msg, sizeof msg);
    ck_assert_str_eq(msg, "DBSnapshotNotFound: DBSnapshot rds:production-db-2026-11-20-02-05 "
                          "not found. (HTTP 404, RequestId 0b2e7a1c-9d3f-4e5a-8b6c-7d8e9f0a1b2c)");
    free(body);

    body = fixture("error-throttling.xml", &len);
    aws_error_from_xml(400, body, len, NULL, &ae);
    ck_assert_str_eq(ae.code, "Throttling");
    ck_assert_str_eq(ae.message, "Rate exceeded");
    free(body);

    body = fixture("error-sts-access-denied.xml", &len);
    aws_error_from_xml(403, body, len, NULL, &ae);
    ck_assert_str_eq(ae.code, "AccessDenied");
    ck_assert_str_eq(ae.request_id, "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
    free(body);
}
END_TEST

START_TEST(test_error_ec2_shape)
{
    size_t len;
    char *body = fixture("error-ec2-style.xml", &len);
    struct aws_error ae;
    aws_error_from_xml(503, body, len, NULL, &ae);
    ck_assert_str_eq(ae.code, "RequestLimitExceeded");
    ck_assert_str_eq(ae.message, "Request limit exceeded.");
    ck_assert_str_eq(ae.request_id, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
    free(body);
}
END_TEST

START_TEST(test_error_bodies_that_are_not_aws_xml)
{
    struct aws_error ae;
    char msg[1024];
    const char *html = "<html><body><h1>502 Bad Gateway</h1>\n</body></html>";
    aws_error_from_xml(502, html, strlen(html), "rid-from-header", &ae);
    ck_assert_str_eq(ae.code, "");
    ck_assert_str_eq(ae.request_id, "rid-from-header");
    ck_assert_ptr_nonnull(strstr(ae.message, "unexpected XML error body <html>"));
    aws_error_format(&ae, msg, sizeof msg);
    ck_assert_str_eq(msg, "HTTP 502: unexpected XML error body <html> (RequestId rid-from-header)");

    const char *trunc =
        "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Code>Thrott";
    aws_error_from_xml(400, trunc, strlen(trunc), NULL, &ae);
    ck_assert_str_eq(ae.code, "");
    ck_assert_ptr_nonnull(strstr(ae.message, "not AWS XML"));
    aws_error_format(&ae, msg, sizeof msg);
    ck_assert_ptr_nonnull(strstr(msg, "HTTP 400: "));
    ck_assert_ptr_nonnull(strstr(msg, "RequestId none"));

    aws_error_from_xml(500, NULL, 0, NULL, &ae);
    ck_assert_str_eq(ae.message, "empty error body");

    /* Binary junk: excerpt stays printable and one line. */
    char junk[600];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 1);
    aws_error_from_xml(503, junk, sizeof junk, NULL, &ae);
    for (const char *p = ae.message; *p; p++)
        ck_assert((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    ck_assert_uint_lt(strlen(ae.message), sizeof ae.message);

    /* A message with newlines is flattened to one line; over-long fields truncate. */
    struct buf b = BUF_INIT;
    buf_puts(&b, "<ErrorResponse><Error><Code>X</Code><Message>line1\nline2 ");
    for (int i = 0; i < 200; i++)
        buf_puts(&b, "long ");
    buf_puts(&b, "</Message></Error><RequestId>r</RequestId></ErrorResponse>");
    aws_error_from_xml(400, b.data, b.len, NULL, &ae);
    ck_assert_ptr_null(strchr(ae.message, '\n'));
    ck_assert_uint_eq(strlen(ae.message), sizeof ae.message - 1);
    buf_release(&b);

    /* Well-formed error without a RequestId anywhere. */
    const char *noid = "<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>";
    aws_error_from_xml(500, noid, strlen(noid), NULL, &ae);
    aws_error_format(&ae, msg, sizeof msg);
    ck_assert_str_eq(msg, "InternalFailure: (no message) (HTTP 500, RequestId none)");
}
END_TEST

/* ---- the streaming reader (aws_xml_stream.c) ---- */

static struct aws_xml_src mem(const char *s)
{
    return (struct aws_xml_src){s, strlen(s), -1};
}

/* The same text in an unlinked file: the source of a spilled page. */
static struct aws_xml_src file_of(const char *s)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(s, 1, strlen(s), f), strlen(s));
    fflush(f);
    int fd = dup(fileno(f));
    fclose(f);
    return (struct aws_xml_src){NULL, strlen(s), fd};
}

START_TEST(test_stream_check_answer)
{
    static const struct {
        const char *body;
        int need_result, rc;
        const char *msg;
    } cases[] = {
        {"<DescribeDBSnapshotsResponse xmlns=\"x\"><DescribeDBSnapshotsResult/>"
         "</DescribeDBSnapshotsResponse>",
         1, 0, NULL},
        {"<DescribeDBSnapshotsResponse><ResponseMetadata/></DescribeDBSnapshotsResponse>", 1,
         ERR_AWS_BAD_ANSWER, "the answer has no <DescribeDBSnapshotsResult> element"},
        {"<DescribeDBSnapshotsResponse><ResponseMetadata/></DescribeDBSnapshotsResponse>", 0, 0,
         NULL},
        {"<html><body>proxy</body></html>", 1, ERR_AWS_BAD_ANSWER,
         "the answer is <html>, not <DescribeDBSnapshotsResponse>"},
        {"<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>", 1, AWS_XML_ERROR_DOCUMENT,
         NULL},
        {"<Response><Errors><Error><Code>X</Code></Error></Errors></Response>", 1,
         AWS_XML_ERROR_DOCUMENT, NULL},
        {"<Response><Other/></Response>", 1, ERR_AWS_BAD_ANSWER, "the answer is <Response>"},
        {"<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult>", 1, ERR_AWS_BAD_ANSWER,
         "the answer: invalid XML (line 1: "},
        {"", 1, ERR_AWS_BAD_ANSWER, "empty body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int in_file = 0; in_file < 2; in_file++) {
            struct aws_xml_src src = in_file ? file_of(cases[i].body) : mem(cases[i].body);
            struct err e = {0};
            int rc = aws_xml_check_answer(&src, "DescribeDBSnapshots", cases[i].need_result, &e);
            ck_assert_msg(rc == cases[i].rc, "case %zu (%s): rc %d: %s", i,
                          in_file ? "file" : "memory", rc, e.msg);
            if (cases[i].msg)
                ck_assert_msg(strstr(e.msg, cases[i].msg) != NULL, "case %zu: %s", i, e.msg);
            if (src.fd >= 0)
                close(src.fd);
        }
    }
}
END_TEST

/* Pages longer than the check's 16 KiB piece: the whole text is checked, from
 * memory and from a spilled file, and a fault past the first piece is found;
 * a hostile DTD is refused. */
START_TEST(test_stream_check_answer_long_and_hostile)
{
    struct buf page = BUF_INIT;
    buf_printf(&page, "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots>");
    for (int i = 0; i < 2000; i++)
        buf_printf(&page,
                   "<DBSnapshot><DBSnapshotIdentifier>s%d</DBSnapshotIdentifier></DBSnapshot>", i);
    size_t body_end = page.len;
    buf_printf(&page, "</DBSnapshots></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>");
    ck_assert_uint_gt(body_end, 100000);
    static const char *const laughs =
        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY x SYSTEM \"http://127.0.0.1:1/x\">]>"
        "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
        "<DBSnapshotIdentifier>&c;&x;</DBSnapshotIdentifier></DBSnapshot></DBSnapshots>"
        "</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>";
    for (int in_file = 0; in_file < 2; in_file++) {
        struct err e = {0};
        struct aws_xml_src src = in_file ? file_of(page.data) : mem(page.data);
        ck_assert_int_eq(aws_xml_check_answer(&src, "DescribeDBSnapshots", 1, &e), 0);
        if (src.fd >= 0)
            close(src.fd);
        /* cut inside the list, 100 KB in: not the whole answer */
        char *cut = xstrdup(page.data);
        cut[body_end - 7] = '\0';
        src = in_file ? file_of(cut) : mem(cut);
        ck_assert_int_eq(aws_xml_check_answer(&src, "DescribeDBSnapshots", 1, &e),
                         ERR_AWS_BAD_ANSWER);
        ck_assert_msg(strstr(e.msg, "the answer: invalid XML (line 1: ") != NULL, "%s", e.msg);
        if (src.fd >= 0)
            close(src.fd);
        free(cut);
        /* entities are neither expanded nor fetched: the answer is refused (as the
         * reader-based check did), never read with the references left out */
        src = in_file ? file_of(laughs) : mem(laughs);
        ck_assert_int_eq(aws_xml_check_answer(&src, "DescribeDBSnapshots", 1, &e),
                         ERR_AWS_BAD_ANSWER);
        ck_assert_msg(strstr(e.msg, "Entity 'c' not defined") != NULL, "%s", e.msg);
        if (src.fd >= 0)
            close(src.fd);
    }
    buf_release(&page);
}
END_TEST

static int collect_ids(const xmlNode *item, void *ud, struct err *e)
{
    (void)e;
    struct buf *b = ud;
    buf_printf(b, "%s,", aws_xml_text(item, "DBSnapshotIdentifier"));
    return strcmp(aws_xml_text(item, "DBSnapshotIdentifier"), "stop") == 0 ? AWS_XML_STOP : 0;
}

/* A body libxml2 cannot convert (UCS-4 by its first bytes, then not) makes it
 * write "encoding error : ..." to stderr itself, past XML_PARSE_NOERROR: every
 * parse path keeps it out of the log and in the message. */
START_TEST(test_libxml2_never_writes_to_stderr)
{
    static const char body[] = "\0\0\0<\0\0\0a\0\0\0>\377\377\377\377\0\0\0\0";
    FILE *cap = tmpfile();
    ck_assert_ptr_nonnull(cap);
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fileno(cap), 2), 2);
    struct aws_xml_src src = {body, sizeof body - 1, -1};
    struct err e1 = {0}, e2 = {0}, e3 = {0};
    int rc1 = aws_xml_check_answer(&src, "DescribeDBSnapshots", 1, &e1);
    char *marker = NULL;
    struct buf ids = BUF_INIT;
    int rc2 = aws_xml_stream_items(&src, "DescribeDBSnapshots", "DBSnapshots", "DBSnapshot",
                                   collect_ids, &ids, &marker, &e2);
    xmlDoc *doc = NULL;
    int rc3 = aws_xml_parse(body, sizeof body - 1, "the answer", &doc, &e3);
    fflush(stderr);
    ck_assert_int_eq(dup2(saved, 2), 2);
    close(saved);
    long written = ftell(cap) >= 0 ? (fseek(cap, 0, SEEK_END), ftell(cap)) : -1;
    fclose(cap);
    ck_assert_int_eq(written, 0);
    ck_assert_int_eq(rc1, ERR_AWS_BAD_ANSWER);
    ck_assert_int_eq(rc2, ERR_AWS_BAD_ANSWER);
    ck_assert_int_eq(rc3, ERR_AWS_BAD_ANSWER);
    ck_assert_msg(strstr(e3.msg, "encoder error") != NULL, "%s", e3.msg);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_null(marker);
    buf_release(&ids);
}
END_TEST

START_TEST(test_stream_items)
{
    /* the Marker before or after the list; items of other lists and deeper
     * <DBSnapshot> elements are not items */
    static const char *const pages[] = {
        "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><Marker>m/2</Marker>"
        "<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>a</DBSnapshotIdentifier></DBSnapshot>"
        "<DBSnapshot><DBSnapshotIdentifier>b<![CDATA[c]]></DBSnapshotIdentifier>"
        "<TagList><DBSnapshot>no</DBSnapshot></TagList></DBSnapshot></DBSnapshots>"
        "</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>",
        "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots>"
        "<DBSnapshot><DBSnapshotIdentifier>a</DBSnapshotIdentifier></DBSnapshot>"
        "<DBSnapshot><DBSnapshotIdentifier>bc</DBSnapshotIdentifier></DBSnapshot></DBSnapshots>"
        "<Marker>m/2</Marker></DescribeDBSnapshotsResult>"
        "<Other><DBSnapshots><DBSnapshot><DBSnapshotIdentifier>x</DBSnapshotIdentifier>"
        "</DBSnapshot></DBSnapshots></Other></DescribeDBSnapshotsResponse>",
    };
    for (size_t i = 0; i < 2; i++) {
        for (int in_file = 0; in_file < 2; in_file++) {
            struct aws_xml_src src = in_file ? file_of(pages[i]) : mem(pages[i]);
            struct buf ids = BUF_INIT;
            char *marker = NULL;
            struct err e = {0};
            ck_assert_int_eq(aws_xml_stream_items(&src, "DescribeDBSnapshots", "DBSnapshots",
                                                  "DBSnapshot", collect_ids, &ids, &marker, &e),
                             0);
            ck_assert_str_eq(buf_cstr(&ids), "a,bc,");
            ck_assert_str_eq(marker, "m/2");
            free(marker);
            buf_release(&ids);
            if (src.fd >= 0)
                close(src.fd);
        }
    }
    /* no list, an empty list: no items, no Marker */
    struct aws_xml_src src = mem("<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult>"
                                 "<DBSnapshots/><Marker></Marker></DescribeDBSnapshotsResult>"
                                 "</DescribeDBSnapshotsResponse>");
    struct buf ids = BUF_INIT;
    char *marker = (char *)"x";
    struct err e = {0};
    ck_assert_int_eq(aws_xml_stream_items(&src, "DescribeDBSnapshots", "DBSnapshots", "DBSnapshot",
                                          collect_ids, &ids, &marker, &e),
                     0);
    ck_assert_ptr_null(marker);
    ck_assert_str_eq(buf_cstr(&ids), "");
    /* a stop from the handler */
    src = mem("<R><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot><DBSnapshotIdentifier>stop"
              "</DBSnapshotIdentifier></DBSnapshot><DBSnapshot/></DBSnapshots>"
              "</DescribeDBSnapshotsResult></R>");
    ck_assert_int_eq(aws_xml_stream_items(&src, "DescribeDBSnapshots", "DBSnapshots", "DBSnapshot",
                                          collect_ids, &ids, &marker, &e),
                     AWS_XML_STOP);
    ck_assert_str_eq(buf_cstr(&ids), "stop,");
    free(marker);
    /* cut short after an item: the items so far were handed over, then the error */
    buf_reset(&ids);
    src = mem("<R><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot><DBSnapshotIdentifier>a"
              "</DBSnapshotIdentifier></DBSnapshot><DBSnap");
    ck_assert_int_eq(aws_xml_stream_items(&src, "DescribeDBSnapshots", "DBSnapshots", "DBSnapshot",
                                          collect_ids, &ids, &marker, &e),
                     ERR_AWS_BAD_ANSWER);
    ck_assert_ptr_null(marker);
    ck_assert_msg(strstr(e.msg, "invalid XML") != NULL, "%s", e.msg);
    buf_release(&ids);
}
END_TEST

/* What a caller learns from an AWS error's kind: AWS's common authentication and
 * authorization errors (the "Common Errors" page of the API references) and a
 * 401/403 are "unauthorized"; another refusal is "rejected"; a 2xx without an
 * error code is a bad answer (the reader failed closed). */
START_TEST(test_error_kind)
{
    static const struct {
        long status;
        const char *code;
        int kind;
    } cases[] = {
        {403, "AccessDenied", ERR_AWS_UNAUTHORIZED},
        {400, "AccessDeniedException", ERR_AWS_UNAUTHORIZED},
        {403, "InvalidClientTokenId", ERR_AWS_UNAUTHORIZED},
        {403, "SignatureDoesNotMatch", ERR_AWS_UNAUTHORIZED},
        {400, "ExpiredTokenException", ERR_AWS_UNAUTHORIZED},
        {400, "UnrecognizedClientException", ERR_AWS_UNAUTHORIZED},
        {200, "AccessDenied", ERR_AWS_UNAUTHORIZED}, /* an error document in a 2xx */
        {403, "", ERR_AWS_UNAUTHORIZED},
        {401, "", ERR_AWS_UNAUTHORIZED},
        {404, "DBInstanceNotFound", ERR_AWS_REJECTED},
        {400, "InvalidParameterValue", ERR_AWS_REJECTED},
        {400, "Throttling", ERR_AWS_REJECTED}, /* its retries spent elsewhere: still a refusal */
        {400, "AccessDeniedish", ERR_AWS_REJECTED},
        {200, "", ERR_AWS_BAD_ANSWER},
        {204, "", ERR_AWS_BAD_ANSWER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct aws_error ae;
        aws_error_clear(&ae);
        ae.http_status = cases[i].status;
        snprintf(ae.code, sizeof ae.code, "%s", cases[i].code);
        ck_assert_msg(aws_error_kind(&ae) == cases[i].kind, "HTTP %ld %s: %s, want %s",
                      cases[i].status, cases[i].code, err_kind_name(aws_error_kind(&ae)),
                      err_kind_name(cases[i].kind));
    }
}
END_TEST

int main(void)
{
    int rc = run_suites(
        SUITE_OF_TESTS("aws_xml", 0, test_paginated_describe,
                       test_no_namespace_and_iteration_by_any_name, test_action_without_output,
                       test_invalid_xml_is_an_error_not_a_crash, test_error_query_shape,
                       test_error_ec2_shape, test_error_bodies_that_are_not_aws_xml,
                       test_stream_check_answer, test_stream_check_answer_long_and_hostile,
                       test_stream_items, test_libxml2_never_writes_to_stderr, test_error_kind),
        NULL);
    xmlCleanupParser();
    return rc;
}
