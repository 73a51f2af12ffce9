/* The typed RDS calls against a local HTTP stub playing RDS: the form parameters
 * each call sends (botocore's member names), pagination by Marker over every page,
 * errors carrying the resource, AWS's code, message and RequestId, not-found
 * mapped to exit 86, and the guarded delete path refusing before any change. */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_client.h"
#include "aws/aws_client_internal.h"
#include "core/retry.h"
#include "core/buf.h"
#include "rds/clone.h"
#include "hstub.h"
#include "core/log.h"
#include "rds/rds.h"

#define NS "xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\""

/* ---- a small RDS: instances named i-000..i-(N-1), pages of MaxRecords */

struct fake {
    int n_instances;
    int deletion_protection; /* of dblab-refresh-x */
    const char *managed_by;  /* ManagedBy tag of dblab-refresh-x, NULL = none */
};

/* The value of key in a form body (malloc'd, undecoded), or NULL. */
static char *form_get(const char *body, const char *key)
{
    size_t kl = strlen(key);
    const char *p = body;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            const char *end = strchr(v, '&');
            return end ? xstrndup(v, (size_t)(end - v)) : xstrdup(v);
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return NULL;
}

static void reply_error(struct hstub_reply *r, int status, const char *code, const char *msg)
{
    hstub_reply_set(r, status,
                    "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>%s</Code>"
                    "<Message>%s</Message></Error><RequestId>req-%s</RequestId></ErrorResponse>",
                    code, msg, code);
    snprintf(r->content_type, sizeof r->content_type, "text/xml");
}

static void fake_rds(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    struct fake *f = ctx;
    char *action = form_get(req->body, "Action");
    char *id = form_get(req->body, "DBInstanceIdentifier");
    snprintf(reply->content_type, sizeof reply->content_type, "text/xml");
    if (action && strcmp(action, "DescribeDBInstances") == 0 && id &&
        strcmp(id, "dblab-refresh-x") == 0) {
        hstub_reply_set(reply, 200,
                        "<DescribeDBInstancesResponse " NS
                        "><DescribeDBInstancesResult><DBInstances>"
                        "<DBInstance><DBInstanceIdentifier>dblab-refresh-x</DBInstanceIdentifier>"
                        "<DBInstanceStatus>available</DBInstanceStatus>"
                        "<DeletionProtection>%s</DeletionProtection><TagList>%s%s%s%s</TagList>"
                        "</DBInstance></DBInstances></DescribeDBInstancesResult>"
                        "</DescribeDBInstancesResponse>",
                        f->deletion_protection ? "true" : "false",
                        f->managed_by ? "<Tag><Key>ManagedBy</Key><Value>" : "",
                        f->managed_by ? f->managed_by : "", f->managed_by ? "</Value></Tag>" : "",
                        f->managed_by ? "<Tag><Key>dblab-rds-refresh:pipeline</Key><Value>"
                                        "production-db</Value></Tag><Tag><Key>dblab-rds-refresh:"
                                        "source</Key><Value>production-db</Value></Tag>"
                                      : "");
    } else if (action && strcmp(action, "DescribeDBInstances") == 0 && id) {
        reply_error(reply, 404, "DBInstanceNotFound", "DBInstance not found");
    } else if (action && strcmp(action, "DescribeDBInstances") == 0) {
        char *max = form_get(req->body, "MaxRecords");
        char *marker = form_get(req->body, "Marker");
        int per = max ? (int)strtol(max, NULL, 10) : 100;
        int start = marker ? (int)strtol(marker, NULL, 10) : 0;
        struct buf b = BUF_INIT;
        buf_puts(&b,
                 "<DescribeDBInstancesResponse " NS "><DescribeDBInstancesResult><DBInstances>");
        int i;
        for (i = start; i < f->n_instances && i < start + per; i++)
            buf_printf(&b,
                       "<DBInstance><DBInstanceIdentifier>i-%03d</DBInstanceIdentifier>"
                       "<DBInstanceStatus>available</DBInstanceStatus></DBInstance>",
                       i);
        buf_puts(&b, "</DBInstances>");
        if (i < f->n_instances)
            buf_printf(&b, "<Marker>%d</Marker>", i);
        buf_puts(&b, "</DescribeDBInstancesResult></DescribeDBInstancesResponse>");
        hstub_reply_set(reply, 200, "%s", buf_cstr(&b));
        buf_release(&b);
        free(max);
        free(marker);
    } else if (action && (strcmp(action, "RestoreDBInstanceFromDBSnapshot") == 0 ||
                          strcmp(action, "DeleteDBInstance") == 0 ||
                          strcmp(action, "ModifyDBInstance") == 0)) {
        hstub_reply_set(reply, 200,
                        "<%sResponse " NS "><%sResult><DBInstance>"
                        "<DBInstanceIdentifier>%s</DBInstanceIdentifier>"
                        "<DBInstanceArn>arn:aws:rds:us-east-1:1:db:%s</DBInstanceArn>"
                        "<DBInstanceStatus>creating</DBInstanceStatus>"
                        "</DBInstance></%sResult></%sResponse>",
                        action, action, id ? id : "", id ? id : "", action, action);
    } else if (action && strcmp(action, "RestoreDBClusterToPointInTime") == 0) {
        hstub_reply_set(reply, 200,
                        "<%sResponse " NS "><%sResult><DBCluster>"
                        "<DBClusterIdentifier>dblab-refresh-pitr</DBClusterIdentifier>"
                        "<Status>creating</Status></DBCluster></%sResult></%sResponse>",
                        action, action, action, action);
    } else if (action && strcmp(action, "RestoreDBInstanceToPointInTime") == 0) {
        hstub_reply_set(reply, 200,
                        "<%sResponse " NS "><%sResult><DBInstance>"
                        "<DBInstanceIdentifier>dblab-refresh-pitr</DBInstanceIdentifier>"
                        "<DBInstanceStatus>creating</DBInstanceStatus></DBInstance></%sResult>"
                        "</%sResponse>",
                        action, action, action, action);
    } else {
        reply_error(reply, 400, "InvalidAction", "not in this stub");
    }
    free(action);
    free(id);
}

struct fixture {
    struct hstub *stub;
    struct fake fake;
    struct aws_ctx *aws;
    struct aws_credentials creds;
    char *url;
};

static int static_creds(void *ctx, const struct aws_credentials **out, struct err *e)
{
    (void)e;
    *out = ctx;
    return 0;
}

static void start(struct fixture *f)
{
    f->stub = hstub_start(fake_rds, &f->fake);
    ck_assert_ptr_nonnull(f->stub);
    f->url = hstub_url(f->stub, "");
    struct aws_ctx_options o = {.region = "us-east-1",
                                .rds_endpoint = f->url,
                                .max_attempts = 1,
                                .connect_timeout_ms = 2000,
                                .request_timeout_ms = 5000};
    struct err e;
    err_clear(&e);
    ck_assert_msg(aws_ctx_new(&o, &f->aws, &e) == 0, "%s", e.msg);
    f->creds.access_key_id = "AKIDEXAMPLE";
    f->creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    f->creds.source = "test";
    aws_ctx_set_credentials_fn(f->aws, static_creds, &f->creds);
}

static void stop(struct fixture *f)
{
    aws_ctx_free(f->aws);
    hstub_stop(f->stub);
    free(f->url);
}

static int count_instance(const struct rds_instance *i, void *ud, struct err *e)
{
    (void)e;
    int *n = ud;
    char want[16];
    snprintf(want, sizeof want, "i-%03d", *n);
    ck_assert_str_eq(i->id, want); /* every item, in order, once */
    (*n)++;
    return 0;
}

START_TEST(test_every_page)
{
    struct fixture f;
    memset(&f, 0, sizeof f);
    f.fake.n_instances = 250;
    start(&f);
    int n = 0;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_describe_db_instances(f.aws, NULL, count_instance, &n, NULL, &e), 0);
    ck_assert_int_eq(n, 250);
    ck_assert_uint_eq(hstub_count(f.stub), 3);
    char *m0 = form_get(hstub_get(f.stub, 0)->body, "Marker");
    char *m1 = form_get(hstub_get(f.stub, 1)->body, "Marker");
    char *m2 = form_get(hstub_get(f.stub, 2)->body, "Marker");
    char *max = form_get(hstub_get(f.stub, 2)->body, "MaxRecords");
    ck_assert_ptr_null(m0);
    ck_assert_str_eq(m1, "100");
    ck_assert_str_eq(m2, "200");
    ck_assert_str_eq(max, "100");
    free(m0);
    free(m1);
    free(m2);
    free(max);
    stop(&f);
}
END_TEST

static int stop_at_5(const struct rds_instance *i, void *ud, struct err *e)
{
    (void)i;
    (void)e;
    int *n = ud;
    return ++*n == 5 ? RDS_STOP : 0;
}

START_TEST(test_stop_early)
{
    struct fixture f;
    memset(&f, 0, sizeof f);
    f.fake.n_instances = 250;
    start(&f);
    int n = 0;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_describe_db_instances(f.aws, NULL, stop_at_5, &n, NULL, &e), 0);
    ck_assert_int_eq(n, 5);
    ck_assert_uint_eq(hstub_count(f.stub), 1); /* no page fetched after the stop */
    stop(&f);
}
END_TEST

START_TEST(test_not_found_and_error_text)
{
    struct fixture f;
    memset(&f, 0, sizeof f);
    start(&f);
    struct rds_instance inst;
    struct aws_error ae;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_get_instance(f.aws, "dblab-refresh-gone", &inst, &ae, &e), ERR_NOT_FOUND);
    ck_assert_str_eq(ae.code, "DBInstanceNotFound");
    ck_assert_int_eq(ae.http_status, 404);
    /* the resource, AWS's code, message and RequestId, on one line */
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-refresh-gone"));
    ck_assert_ptr_nonnull(strstr(e.msg, "DBInstanceNotFound"));
    ck_assert_ptr_nonnull(strstr(e.msg, "DBInstance not found"));
    ck_assert_ptr_nonnull(strstr(e.msg, "req-DBInstanceNotFound"));
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    rds_instance_release(&inst);
    stop(&f);
}
END_TEST

START_TEST(test_restore_parameters)
{
    struct fixture f;
    memset(&f, 0, sizeof f);
    start(&f);
    struct rds_tags tags = {NULL, 0};
    rds_tags_add(&tags, "ManagedBy", "dblab-rds-refresh");
    rds_tags_add(&tags, "team", "data platform");
    const char *sgs[] = {"sg-1", "sg-2"};
    struct rds_create_opts o;
    memset(&o, 0, sizeof o);
    o.instance_class = "db.t3.medium";
    o.subnet_group = "dblab-clones";
    o.security_groups = sgs;
    o.n_security_groups = 2;
    o.publicly_accessible = 0;
    o.enable_iam_auth = 1;
    o.parameter_group = "pg";
    o.port = 5433;
    o.tags = &tags;
    struct rds_instance inst;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_restore_db_instance_from_snapshot(f.aws, "dblab-refresh-x",
                                                           "rds:production-db-2026-11-25-03-07", &o,
                                                           &inst, NULL, &e),
                     0);
    ck_assert_str_eq(inst.arn, "arn:aws:rds:us-east-1:1:db:dblab-refresh-x");
    rds_instance_release(&inst);
    const char *body = hstub_get(f.stub, 0)->body;
    const char *want[] = {"Action=RestoreDBInstanceFromDBSnapshot",
                          "Version=2014-10-31",
                          "DBInstanceIdentifier=dblab-refresh-x",
                          "DBSnapshotIdentifier=rds%3Aproduction-db-2026-11-25-03-07",
                          "DBInstanceClass=db.t3.medium",
                          "Port=5433",
                          "DBSubnetGroupName=dblab-clones",
                          "PubliclyAccessible=false",
                          "Tags.Tag.1.Key=ManagedBy",
                          "Tags.Tag.1.Value=dblab-rds-refresh",
                          "Tags.Tag.2.Value=data%20platform",
                          "VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1",
                          "VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2",
                          "EnableIAMDatabaseAuthentication=true",
                          "DBParameterGroupName=pg",
                          "DeletionProtection=false",
                          NULL};
    for (int i = 0; want[i]; i++)
        ck_assert_msg(strstr(body, want[i]), "%s not in %s", want[i], body);
    ck_assert_ptr_null(strstr(body, "StorageType")); /* unset: AWS's default */
    ck_assert_ptr_null(strstr(body, "OptionGroupName"));
    rds_tags_release(&tags);
    stop(&f);
}
END_TEST

START_TEST(test_guarded_delete)
{
    struct fixture f;
    memset(&f, 0, sizeof f);
    start(&f);
    struct clone_owner owner = {
        .config_source = "production-db", .pipeline = "production-db", .source = "production-db"};
    struct clone_delete_opts o = {&owner, 0, 0, 0, 0};
    struct clone_delete_result r;
    struct err e;
    err_clear(&e);

    /* not ours: described, refused, nothing else sent */
    f.fake.managed_by = "terraform";
    ck_assert_int_eq(clone_delete(f.aws, RDS_KIND_INSTANCE, "dblab-refresh-x", &o, &r, &e),
                     ERR_GUARD);
    clone_delete_result_release(&r);
    ck_assert_uint_eq(hstub_count(f.stub), 1);
    /* not our prefix, or the source: refused before any call */
    ck_assert_int_eq(clone_delete(f.aws, RDS_KIND_INSTANCE, "billing-db", &o, &r, &e), ERR_GUARD);
    clone_delete_result_release(&r);
    ck_assert_int_eq(clone_delete(f.aws, RDS_KIND_INSTANCE, "production-db", &o, &r, &e),
                     ERR_GUARD);
    clone_delete_result_release(&r);
    ck_assert_uint_eq(hstub_count(f.stub), 1);

    /* managed, but another pipeline's: described, refused, nothing else sent */
    f.fake.managed_by = "dblab-rds-refresh";
    struct clone_owner other = {
        .config_source = "billing-db", .pipeline = "billing-db", .source = "billing-db"};
    struct clone_delete_opts oo = {&other, 0, 0, 0, 0};
    ck_assert_int_eq(clone_delete(f.aws, RDS_KIND_INSTANCE, "dblab-refresh-x", &oo, &r, &e),
                     ERR_GUARD);
    ck_assert_ptr_nonnull(strstr(e.msg, "dblab-rds-refresh:pipeline"));
    clone_delete_result_release(&r);
    ck_assert_uint_eq(hstub_count(f.stub), 2);

    /* ours, protected: protection off, then the delete with both flags */
    f.fake.deletion_protection = 1;
    err_clear(&e);
    ck_assert_msg(clone_delete(f.aws, RDS_KIND_INSTANCE, "dblab-refresh-x", &o, &r, &e) == 0, "%s",
                  e.msg);
    ck_assert_int_eq(r.already_gone, 0);
    clone_delete_result_release(&r);
    ck_assert_uint_eq(hstub_count(f.stub), 5);
    const char *modify = hstub_get(f.stub, 3)->body;
    ck_assert_ptr_nonnull(strstr(modify, "Action=ModifyDBInstance"));
    ck_assert_ptr_nonnull(strstr(modify, "DeletionProtection=false"));
    ck_assert_ptr_nonnull(strstr(modify, "ApplyImmediately=true"));
    const char *del = hstub_get(f.stub, 4)->body;
    ck_assert_ptr_nonnull(strstr(del, "Action=DeleteDBInstance"));
    ck_assert_ptr_nonnull(strstr(del, "SkipFinalSnapshot=true"));
    ck_assert_ptr_nonnull(strstr(del, "DeleteAutomatedBackups=true"));

    /* gone: success, already gone */
    ck_assert_int_eq(clone_delete(f.aws, RDS_KIND_INSTANCE, "dblab-refresh-gone", &o, &r, &e), 0);
    ck_assert_int_eq(r.already_gone, 1);
    clone_delete_result_release(&r);
    stop(&f);
}
END_TEST

START_TEST(test_point_in_time)
{
    struct fixture f;
    memset(&f, 0, sizeof f);
    start(&f);
    struct rds_create_opts o;
    memset(&o, 0, sizeof o);
    o.instance_class = "db.t3.medium";
    o.publicly_accessible = -1;
    o.enable_iam_auth = -1;
    struct rds_cluster cl;
    struct rds_instance inst;
    struct err e;
    err_clear(&e);
    ck_assert_int_eq(rds_restore_db_cluster_to_point_in_time(f.aws, "dblab-refresh-pitr",
                                                             "production-aurora", "copy-on-write",
                                                             0, &o, &cl, NULL, &e),
                     0);
    ck_assert_str_eq(cl.status, "creating");
    rds_cluster_release(&cl);
    const char *body = hstub_get(f.stub, 0)->body;
    ck_assert_ptr_nonnull(strstr(body, "Action=RestoreDBClusterToPointInTime"));
    ck_assert_ptr_nonnull(strstr(body, "RestoreType=copy-on-write"));
    ck_assert_ptr_nonnull(strstr(body, "SourceDBClusterIdentifier=production-aurora"));
    ck_assert_ptr_nonnull(strstr(body, "UseLatestRestorableTime=true"));
    ck_assert_ptr_nonnull(strstr(body, "DeletionProtection=false"));
    ck_assert_ptr_null(strstr(body, "PubliclyAccessible")); /* unset tristate: not sent */

    ck_assert_int_eq(rds_restore_db_instance_to_point_in_time(f.aws, "dblab-refresh-pitr",
                                                              "production-db", 1795658400, &o,
                                                              &inst, NULL, &e),
                     0);
    rds_instance_release(&inst);
    body = hstub_get(f.stub, 1)->body;
    ck_assert_ptr_nonnull(strstr(body, "TargetDBInstanceIdentifier=dblab-refresh-pitr"));
    ck_assert_ptr_nonnull(strstr(body, "SourceDBInstanceIdentifier=production-db"));
    ck_assert_ptr_nonnull(strstr(body, "RestoreTime=2026-11-26T02%3A00%3A00Z"));
    ck_assert_ptr_null(strstr(body, "UseLatestRestorableTime"));
    stop(&f);
}
END_TEST

int main(void)
{
    log_init("test_rds_calls", LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
    return run_suites(SUITE_OF_TESTS("rds_calls", 30, test_every_page, test_stop_early,
                                     test_not_found_and_error_text, test_restore_parameters,
                                     test_guarded_delete, test_point_in_time),
                      NULL);
}
