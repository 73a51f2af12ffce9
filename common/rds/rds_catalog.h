/* The read-only RDS describes a preflight needs before a restore: does a named
 * subnet group / parameter group / cluster parameter group / option group exist
 * (and of which engine family), what is an engine version's parameter group
 * family, is an instance class orderable. Names and shapes from botocore's RDS
 * model (DescribeDBSubnetGroups, DescribeDBParameterGroups,
 * DescribeDBClusterParameterGroups, DescribeOptionGroups, DescribeDBEngineVersions,
 * DescribeOrderableDBInstanceOptions).
 *
 * Each returns 0 (found, out filled), ERR_NOT_FOUND when AWS answers with the
 * NotFound fault of that describe (e->msg carries AWS's message), or another
 * error kind. ae (may be NULL) receives the AWS error, so a caller can tell
 * AccessDenied from the rest. Out strings are malloc'd. */
#ifndef DRR_RDS_CATALOG_H
#define DRR_RDS_CATALOG_H

#include "aws/aws_xml.h"
#include "core/err.h"

struct aws_ctx;

int rds_get_subnet_group(struct aws_ctx *aws, const char *name, struct aws_error *ae,
                         struct err *e);
/* cluster: a DB cluster parameter group. *family = DBParameterGroupFamily. */
int rds_get_parameter_group(struct aws_ctx *aws, int cluster, const char *name, char **family,
                            struct aws_error *ae, struct err *e);
/* *engine = EngineName, *major = MajorEngineVersion. */
int rds_get_option_group(struct aws_ctx *aws, const char *name, char **engine, char **major,
                         struct aws_error *ae, struct err *e);
/* The DBParameterGroupFamily of engine + version; NOT_FOUND when AWS lists no such
 * version. */
int rds_engine_family(struct aws_ctx *aws, const char *engine, const char *version, char **family,
                      struct aws_error *ae, struct err *e);
/* *orderable = 1 when DescribeOrderableDBInstanceOptions lists the class for that
 * engine and version (every page), 0 when the answer is empty. */
int rds_orderable(struct aws_ctx *aws, const char *engine, const char *version,
                  const char *instance_class, int *orderable, struct aws_error *ae, struct err *e);

#endif
