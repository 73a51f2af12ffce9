/* Query-protocol parameters and form encoding. The expected bodies were produced
 * by botocore's QuerySerializer on the RDS model (python3-botocore, Debian 12),
 * with keys and values percent-encoded the SigV4 way (space = %20). */
#include <check.h>
#include <string.h>

#include "aws/aws_query.h"
#include "core/buf.h"
#include "check_main.h"

START_TEST(test_restore_with_lists_and_tags)
{
    struct aws_params p = AWS_PARAMS_INIT;
    const char *sgs[] = {"sg-0a1b", "sg-2c3d"};
    struct aws_tag tags[] = {{"ManagedBy", "dblab-rds-refresh"},
                             {"Owner", "data team/ops+\xc3\xa4 ~"}};
    aws_params_add(&p, "DBInstanceIdentifier", "dblab-refresh-20261126");
    aws_params_add(&p, "DBSnapshotIdentifier", "rds:production-db-2026-11-26-02-00");
    aws_params_add(&p, "DBInstanceClass", "db.t3.medium");
    aws_params_add(&p, "DBSubnetGroupName", NULL); /* unset optional: not sent */
    aws_params_add_list(&p, "VpcSecurityGroupIds", "VpcSecurityGroupId", sgs, 2);
    aws_params_add_bool(&p, "PubliclyAccessible", 0);
    aws_params_add_tags(&p, "Tags", tags, 2);
    struct buf b = BUF_INIT;
    aws_query_encode(&b, "RestoreDBInstanceFromDBSnapshot", "2014-10-31", &p);
    ck_assert_str_eq(buf_cstr(&b),
                     "Action=RestoreDBInstanceFromDBSnapshot&Version=2014-10-31"
                     "&DBInstanceIdentifier=dblab-refresh-20261126"
                     "&DBSnapshotIdentifier=rds%3Aproduction-db-2026-11-26-02-00"
                     "&DBInstanceClass=db.t3.medium"
                     "&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-0a1b"
                     "&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2c3d"
                     "&PubliclyAccessible=false"
                     "&Tags.Tag.1.Key=ManagedBy&Tags.Tag.1.Value=dblab-rds-refresh"
                     "&Tags.Tag.2.Key=Owner&Tags.Tag.2.Value=data%20team%2Fops%2B%C3%A4%20~");
    buf_release(&b);
    aws_params_release(&p);
}
END_TEST

START_TEST(test_describe_with_filters_and_marker)
{
    struct aws_params p = AWS_PARAMS_INIT;
    const char *ids[] = {"production-db"};
    const char *types[] = {"automated", "manual"};
    struct aws_filter f[] = {{"db-instance-id", ids, 1}, {"snapshot-type", types, 2}};
    aws_params_add_filters(&p, f, 2);
    aws_params_add_int(&p, "MaxRecords", 100);
    aws_params_set(&p, "Marker", "first");
    aws_params_set(&p, "Marker", "abc=/+"); /* the next page replaces it in place */
    ck_assert_str_eq(aws_params_get(&p, "Marker"), "abc=/+");
    struct buf b = BUF_INIT;
    aws_query_encode(&b, "DescribeDBSnapshots", "2014-10-31", &p);
    ck_assert_str_eq(
        buf_cstr(&b),
        "Action=DescribeDBSnapshots&Version=2014-10-31"
        "&Filters.Filter.1.Name=db-instance-id&Filters.Filter.1.Values.Value.1=production-db"
        "&Filters.Filter.2.Name=snapshot-type&Filters.Filter.2.Values.Value.1=automated"
        "&Filters.Filter.2.Values.Value.2=manual&MaxRecords=100&Marker=abc%3D%2F%2B");
    aws_params_remove(&p, "Marker");
    ck_assert_ptr_null(aws_params_get(&p, "Marker"));
    aws_params_remove(&p, "Marker"); /* absent: no-op */
    ck_assert_uint_eq(p.n, 6);
    aws_params_set(&p, "MaxRecords", NULL); /* set to NULL removes */
    ck_assert_ptr_null(aws_params_get(&p, "MaxRecords"));
    buf_release(&b);
    aws_params_release(&p);
}
END_TEST

START_TEST(test_member_lists_and_empty_lists)
{
    struct aws_params p = AWS_PARAMS_INIT;
    const char *keys[] = {"a", "b"};
    aws_params_add(&p, "ResourceName", "arn:aws:rds:us-east-1:123456789012:db:x");
    aws_params_add_list(&p, "TagKeys", "member", keys, 2);
    struct buf b = BUF_INIT;
    aws_query_encode(&b, "RemoveTagsFromResource", "2014-10-31", &p);
    ck_assert_str_eq(buf_cstr(&b),
                     "Action=RemoveTagsFromResource&Version=2014-10-31"
                     "&ResourceName=arn%3Aaws%3Ards%3Aus-east-1%3A123456789012%3Adb%3Ax"
                     "&TagKeys.member.1=a&TagKeys.member.2=b");
    aws_params_release(&p);

    aws_params_add(&p, "DBInstanceIdentifier", "x");
    aws_params_add_list(&p, "VpcSecurityGroupIds", "VpcSecurityGroupId", NULL, 0);
    aws_params_add_bool(&p, "ApplyImmediately", 1);
    aws_query_encode(&b, "ModifyDBInstance", "2014-10-31", &p);
    ck_assert_str_eq(buf_cstr(&b), "Action=ModifyDBInstance&Version=2014-10-31"
                                   "&DBInstanceIdentifier=x&VpcSecurityGroupIds="
                                   "&ApplyImmediately=true");
    aws_params_release(&p);

    aws_query_encode(&b, "GetCallerIdentity", "2011-06-15", NULL);
    ck_assert_str_eq(buf_cstr(&b), "Action=GetCallerIdentity&Version=2011-06-15");
    buf_release(&b);
}
END_TEST

START_TEST(test_many_params_grow)
{
    struct aws_params p = AWS_PARAMS_INIT;
    for (int i = 0; i < 1000; i++)
        aws_params_add_int(&p, "K", i);
    ck_assert_uint_eq(p.n, 1000);
    ck_assert_str_eq(p.items[999].value, "999");
    aws_params_add_int(&p, "Neg", -42);
    ck_assert_str_eq(aws_params_get(&p, "Neg"), "-42");
    aws_params_release(&p);
    aws_params_release(&p); /* idempotent */
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("aws_query", 0, test_restore_with_lists_and_tags,
                                     test_describe_with_filters_and_marker,
                                     test_member_lists_and_empty_lists, test_many_params_grow),
                      NULL);
}
