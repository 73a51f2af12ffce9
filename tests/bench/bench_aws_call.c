/* Client-side CPU cost of one signed RDS call, without the network: form-encode
 * a DescribeDBSnapshots request, sign it (SigV4 with a session token), and parse
 * a response page with libxml2, walking every snapshot's fields as rds.c does.
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -O2 -Icommon $(pkg-config --cflags libxml-2.0 libcjson) \
 *        tests/bench/bench_aws_call.c build/libcommon.a \
 *        $(pkg-config --libs libcurl yaml-0.1 libcjson libcrypto libxml-2.0) -lm -o build/bench_aws_call
 *   build/bench_aws_call [ITERATIONS] [SNAPSHOTS_PER_PAGE]
 *
 * Prints CPU microseconds per call (CLOCK_PROCESS_CPUTIME_ID) for each step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_query.h"
#include "aws/aws_sigv4.h"
#include "aws/aws_xml.h"
#include "core/buf.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A page in the shape RDS sends, with n snapshots of realistic size. */
static char *make_page(int n)
{
    struct buf b = BUF_INIT;
    buf_puts(&b,
             "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
             "  <DescribeDBSnapshotsResult>\n    <Marker>bWFya2VyLXRva2Vu</Marker>\n"
             "    <DBSnapshots>\n");
    for (int i = 0; i < n; i++)
        buf_printf(
            &b,
            "      <DBSnapshot>\n"
            "        <Port>5432</Port><OptionGroupName>default:postgres-16</OptionGroupName>\n"
            "        <Engine>postgres</Engine><Status>available</Status>\n"
            "        <SnapshotType>automated</SnapshotType><StorageType>gp3</StorageType>\n"
            "        <EngineVersion>16.4</EngineVersion>\n"
            "        <DBInstanceIdentifier>production-db</DBInstanceIdentifier>\n"
            "        <DBSnapshotIdentifier>rds:production-db-2026-11-%02d-02-05</DBSnapshotIdentifier>\n"
            "        <SnapshotCreateTime>2026-11-%02dT02:05:41.812Z</SnapshotCreateTime>\n"
            "        <AvailabilityZone>us-east-1a</AvailabilityZone>\n"
            "        <PercentProgress>100</PercentProgress><AllocatedStorage>200</AllocatedStorage>\n"
            "        <MasterUsername>postgres</MasterUsername><Encrypted>true</Encrypted>\n"
            "        <KmsKeyId>arn:aws:kms:us-east-1:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d</KmsKeyId>\n"
            "        <DBSnapshotArn>arn:aws:rds:us-east-1:123456789012:snapshot:rds:production-db-2026-11-%02d-02-05</DBSnapshotArn>\n"
            "        <IAMDatabaseAuthenticationEnabled>false</IAMDatabaseAuthenticationEnabled>\n"
            "        <DbiResourceId>db-ABCDEFGHIJKLMNOPQRSTUVWXYZ</DbiResourceId>\n"
            "        <TagList><Tag><Key>team</Key><Value>data</Value></Tag></TagList>\n"
            "      </DBSnapshot>\n",
            i % 28 + 1, i % 28 + 1, i % 28 + 1);
    buf_puts(&b, "    </DBSnapshots>\n  </DescribeDBSnapshotsResult>\n"
                 "  <ResponseMetadata><RequestId>8f7c2a4e-1b3d-4c5e-9f60-7a8b9c0d1e2f</RequestId>"
                 "</ResponseMetadata>\n</DescribeDBSnapshotsResponse>\n");
    return buf_detach(&b);
}

int main(int argc, char **argv)
{
    char *end1 = "", *end2 = "";
    long n_iters = argc > 1 ? strtol(argv[1], &end1, 10) : 1000;
    long n_page = argc > 2 ? strtol(argv[2], &end2, 10) : 20;
    if (*end1 || *end2 || n_iters < 1 || n_iters > 100000000 || n_page < 0 || n_page > 100000) {
        fprintf(stderr, "usage: %s [ITERATIONS] [SNAPSHOTS_PER_PAGE]\n", argv[0]);
        return 64;
    }
    int iters = (int)n_iters, per_page = (int)n_page;
    char *page = make_page(per_page);
    size_t page_len = strlen(page);
    struct sigv4_credentials cr = {"ASIAEXAMPLEEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                   "IQoJb3JpZ2luX2VjEXAMPLEtokenEXAMPLEtokenEXAMPLEtokenEXAMPLE"
                                   "tokenEXAMPLEtokenEXAMPLEtokenEXAMPLEtokenEXAMPLEtokenEXAMPLE"};
    double t_encode = 0, t_sign = 0, t_parse = 0;
    long checksum = 0;
    for (int i = 0; i < iters; i++) {
        double t0 = cpu_now();
        struct aws_params p = AWS_PARAMS_INIT;
        const char *ids[] = {"production-db"};
        struct aws_filter f = {"db-instance-id", ids, 1};
        aws_params_add_filters(&p, &f, 1);
        aws_params_add(&p, "SnapshotType", "automated");
        aws_params_add_int(&p, "MaxRecords", 100);
        aws_params_add(&p, "Marker", "bWFya2VyLXRva2Vu");
        struct buf body = BUF_INIT;
        aws_query_encode(&body, "DescribeDBSnapshots", "2014-10-31", &p);
        double t1 = cpu_now();

        struct http_header h[2] = {
            {"Host", "rds.us-east-1.amazonaws.com"},
            {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
        struct sigv4_request req = {"POST", "/", NULL, h, 2, body.data, body.len};
        struct sigv4_options opt = {"us-east-1", "rds", 1795572341 + i, 1, 0, 0};
        struct sigv4_signed s;
        struct err e = {0};
        if (sigv4_sign(&req, &cr, &opt, &s, &e) != 0) {
            fprintf(stderr, "sign: %s\n", e.msg);
            return 70;
        }
        checksum += s.signature[0];
        double t2 = cpu_now();

        xmlDoc *doc = NULL;
        if (aws_xml_parse(page, page_len, "bench", &doc, &e) != 0) {
            fprintf(stderr, "parse: %s\n", e.msg);
            return 70;
        }
        xmlNode *res = aws_xml_result(doc, "DescribeDBSnapshots");
        for (xmlNode *n = aws_xml_child(aws_xml_child(res, "DBSnapshots"), "DBSnapshot"); n;
             n = aws_xml_next(n)) {
            long long port = 0, storage = 0;
            int enc = 0;
            int64_t t = 0;
            aws_xml_int(n, "Port", &port);
            aws_xml_int(n, "AllocatedStorage", &storage);
            aws_xml_bool(n, "Encrypted", &enc);
            aws_xml_time(n, "SnapshotCreateTime", &t);
            const char *id = aws_xml_text(n, "DBSnapshotIdentifier");
            checksum += port + storage + enc + (long)(t & 1) + (id ? id[4] : 0);
            checksum += (long)strlen(aws_xml_text(n, "Status") ? aws_xml_text(n, "Status") : "");
        }
        checksum += aws_xml_text(res, "Marker") ? 1 : 0;
        xmlFreeDoc(doc);
        double t3 = cpu_now();

        sigv4_signed_release(&s);
        buf_release(&body);
        aws_params_release(&p);
        t_encode += t1 - t0;
        t_sign += t2 - t1;
        t_parse += t3 - t2;
    }
    double per = 1e6 / iters;
    printf("iterations %d, snapshots per page %d, page %zu bytes (checksum %ld)\n", iters, per_page,
           page_len, checksum);
    printf("encode %.1f us, sign %.1f us, parse %.1f us, total %.1f us CPU per call\n",
           t_encode * per, t_sign * per, t_parse * per, (t_encode + t_sign + t_parse) * per);
    free(page);
    xmlCleanupParser();
    return 0;
}
