/* AWS XML answers: one body through every reader the commands use -- the
 * error document (aws_error_from_xml), the describe pages of snapshots,
 * cluster snapshots, instances and clusters (as a tree, and a page as the
 * commands read it: checked, then streamed), the single-item results of the
 * changing calls, the request id, and STS credentials
 * (AssumeRole, AssumeRoleWithWebIdentity). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_creds.h"
#include "aws/aws_creds_internal.h"
#include "aws/aws_xml.h"
#include "aws/aws_xml_stream.h"
#include "fuzz.h"
#include "core/http.h"
#include "core/log.h"
#include "rds/rds.h"
#include "rds/rds_internal.h"

void fuzz_init(void)
{
}

static int on_snapshot(const struct rds_snapshot *s, void *ud, struct err *e)
{
    (void)e;
    *(size_t *)ud += s->id != NULL ? strlen(s->id) : 0;
    return 0;
}

static int on_instance(const struct rds_instance *i, void *ud, struct err *e)
{
    (void)e;
    *(size_t *)ud += i->id != NULL ? strlen(i->id) : 0;
    return 0;
}

static int on_cluster(const struct rds_cluster *c, void *ud, struct err *e)
{
    (void)e;
    *(size_t *)ud += c->id != NULL ? strlen(c->id) : 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data; /* the readers take a length: no copy */

    struct aws_error ae;
    char line[1024];
    aws_error_from_xml(400, body, size, "rid-header", &ae);
    aws_error_format(&ae, line, sizeof line);
    aws_error_from_xml(503, body, size, NULL, &ae);
    aws_error_format(&ae, line, sizeof line);

    xmlDoc *doc = NULL;
    struct err e = {0};
    if (aws_xml_parse(body, size, "fuzz response", &doc, &e) == 0) {
        size_t seen = 0;
        struct err pe = {0};
        (void)rds_page_snapshots(aws_xml_result(doc, "DescribeDBSnapshots"), RDS_KIND_INSTANCE,
                                 on_snapshot, &seen, &pe);
        (void)rds_page_snapshots(aws_xml_result(doc, "DescribeDBClusterSnapshots"),
                                 RDS_KIND_CLUSTER, on_snapshot, &seen, &pe);
        (void)rds_page_instances(aws_xml_result(doc, "DescribeDBInstances"), on_instance, &seen,
                                 &pe);
        (void)rds_page_clusters(aws_xml_result(doc, "DescribeDBClusters"), on_cluster, &seen, &pe);
        (void)aws_xml_text(aws_xml_result(doc, "DescribeDBSnapshots"), "Marker");
        const xmlNode *item;
        if (rds_result_item(doc, "RestoreDBInstanceFromDBSnapshot", "DBInstance", &item, &pe) ==
            0) {
            struct rds_instance inst;
            rds_parse_instance(item, &inst);
            rds_instance_release(&inst);
        }
        if (rds_result_item(doc, "RestoreDBClusterFromSnapshot", "DBCluster", &item, &pe) == 0) {
            struct rds_cluster cl;
            rds_parse_cluster(item, &cl);
            rds_cluster_release(&cl);
        }
        (void)aws_xml_request_id(doc);
        xmlFreeDoc(doc);
    }

    /* The page path: the SAX check, then the items read as a stream. */
    struct aws_xml_src src = {body, size, -1};
    struct err ce = {0};
    if (aws_xml_check_answer(&src, "DescribeDBSnapshots", 1, &ce) == 0) {
        size_t seen = 0;
        char *marker = NULL;
        struct rds_snap_ctx sc = {RDS_KIND_INSTANCE, on_snapshot, &seen};
        (void)aws_xml_stream_items(&src, "DescribeDBSnapshots", "DBSnapshots", "DBSnapshot",
                                   rds_snapshot_item, &sc, &marker, &ce);
        free(marker);
    }

    struct http_response resp = {.status = 200};
    buf_append(&resp.body, data, size);
    static const char *const sts_actions[] = {"AssumeRole", "AssumeRoleWithWebIdentity"};
    for (size_t i = 0; i < 2; i++) {
        struct aws_credentials cr = {0};
        struct err se = {0};
        if (creds_sts_parse_credentials(sts_actions[i], &resp, &cr, "STS answer", &se) == 0)
            aws_credentials_release(&cr);
    }
    buf_release(&resp.body);
    redact_clear(); /* STS adds each secret it reads; keep memory flat */
    return 0;
}
