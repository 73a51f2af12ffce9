/* The preflight's describes (rds_catalog.h): one paged walk that finds the item
 * naming what was asked for and copies the fields wanted. Fail closed: a 200
 * answer without the named item is not "absent" (AWS answers that with its
 * NotFound fault), it is an answer this client does not understand. */
#include "rds/rds_catalog.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_client.h"
#include "aws/aws_query.h"
#include "core/buf.h"
#include "core/err.h"
#include "rds/rds.h"

#define MAX_FIELDS 2

struct find {
    const char *list, *item; /* <DBSubnetGroups><DBSubnetGroup> */
    const char *key_field;   /* the element that must equal want; NULL = any item */
    const char *want;
    const char *fields[MAX_FIELDS];
    char *values[MAX_FIELDS];
    int found;
};

static int find_item(const xmlNode *it, void *ud, struct err *e)
{
    (void)e;
    struct find *f = ud;
    const char *key = f->key_field ? aws_xml_text(it, f->key_field) : NULL;
    if (f->key_field && (!key || strcasecmp(key, f->want) != 0))
        return 0;
    for (int i = 0; i < MAX_FIELDS && f->fields[i]; i++) {
        const char *v = aws_xml_text(it, f->fields[i]);
        f->values[i] = v ? xstrdup(v) : NULL;
    }
    f->found = 1;
    return AWS_PAGE_STOP;
}

static void find_release(struct find *f)
{
    for (int i = 0; i < MAX_FIELDS; i++)
        free(f->values[i]);
}

/* Runs the describe; maps not_found_code to ERR_NOT_FOUND. */
static int find(struct aws_ctx *aws, const char *action, const struct aws_params *p,
                const char *not_found_code, const char *what, struct find *f, struct aws_error *ae,
                struct err *e)
{
    struct aws_error scratch;
    if (!ae)
        ae = &scratch;
    aws_error_clear(ae);
    int rc = aws_query_paginate(aws, "rds", action, p, RDS_MAX_RECORDS, f->list, f->item, find_item,
                                f, NULL, ae, e);
    if (rc) {
        err_prefix(e, "%s", what);
        if (not_found_code && rds_error_is(ae, not_found_code))
            return err_reclassify(e, ERR_NOT_FOUND);
        return rc;
    }
    return 0;
}

static int find_named(struct aws_ctx *aws, const char *action, const char *param,
                      const char *not_found_code, const char *what, struct find *f,
                      struct aws_error *ae, struct err *e)
{
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, param, f->want);
    int rc = find(aws, action, &p, not_found_code, what, f, ae, e);
    aws_params_release(&p);
    if (rc == 0 && !f->found)
        rc = err_set(e, ERR_AWS_BAD_ANSWER, "%s: %s answered without <%s> %s", what, action,
                     f->item, f->want);
    return rc;
}

int rds_get_subnet_group(struct aws_ctx *aws, const char *name, struct aws_error *ae, struct err *e)
{
    struct find f = {
        "DBSubnetGroups", "DBSubnetGroup", "DBSubnetGroupName", name, {NULL}, {NULL}, 0};
    int rc = find_named(aws, "DescribeDBSubnetGroups", "DBSubnetGroupName",
                        "DBSubnetGroupNotFoundFault", name, &f, ae, e);
    find_release(&f);
    return rc;
}

int rds_get_parameter_group(struct aws_ctx *aws, int cluster, const char *name, char **family,
                            struct aws_error *ae, struct err *e)
{
    *family = NULL;
    struct find f = {cluster ? "DBClusterParameterGroups" : "DBParameterGroups",
                     cluster ? "DBClusterParameterGroup" : "DBParameterGroup",
                     cluster ? "DBClusterParameterGroupName" : "DBParameterGroupName",
                     name,
                     {"DBParameterGroupFamily", NULL},
                     {NULL},
                     0};
    int rc =
        find_named(aws, cluster ? "DescribeDBClusterParameterGroups" : "DescribeDBParameterGroups",
                   cluster ? "DBClusterParameterGroupName" : "DBParameterGroupName",
                   "DBParameterGroupNotFound", name, &f, ae, e);
    if (rc == 0) {
        *family = f.values[0];
        f.values[0] = NULL;
    }
    find_release(&f);
    return rc;
}

int rds_get_option_group(struct aws_ctx *aws, const char *name, char **engine, char **major,
                         struct aws_error *ae, struct err *e)
{
    *engine = *major = NULL;
    struct find f = {"OptionGroupsList",
                     "OptionGroup",
                     "OptionGroupName",
                     name,
                     {"EngineName", "MajorEngineVersion"},
                     {NULL},
                     0};
    int rc = find_named(aws, "DescribeOptionGroups", "OptionGroupName", "OptionGroupNotFoundFault",
                        name, &f, ae, e);
    if (rc == 0) {
        *engine = f.values[0];
        *major = f.values[1];
        f.values[0] = f.values[1] = NULL;
    }
    find_release(&f);
    return rc;
}

int rds_engine_family(struct aws_ctx *aws, const char *engine, const char *version, char **family,
                      struct aws_error *ae, struct err *e)
{
    *family = NULL;
    struct find f = {"DBEngineVersions",
                     "DBEngineVersion",
                     "EngineVersion",
                     version,
                     {"DBParameterGroupFamily", NULL},
                     {NULL},
                     0};
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "Engine", engine);
    aws_params_add(&p, "EngineVersion", version);
    int rc = find(aws, "DescribeDBEngineVersions", &p, NULL, engine, &f, ae, e);
    aws_params_release(&p);
    if (rc == 0 && !f.found)
        rc = err_set(e, ERR_NOT_FOUND, "%s %s: not an engine version AWS lists here", engine,
                     version);
    if (rc == 0) {
        *family = f.values[0];
        f.values[0] = NULL;
    }
    find_release(&f);
    return rc;
}

int rds_orderable(struct aws_ctx *aws, const char *engine, const char *version,
                  const char *instance_class, int *orderable, struct aws_error *ae, struct err *e)
{
    struct find f = {"OrderableDBInstanceOptions",
                     "OrderableDBInstanceOption",
                     "DBInstanceClass",
                     instance_class,
                     {NULL},
                     {NULL},
                     0};
    struct aws_params p = AWS_PARAMS_INIT;
    aws_params_add(&p, "Engine", engine);
    aws_params_add(&p, "EngineVersion", version);
    aws_params_add(&p, "DBInstanceClass", instance_class);
    int rc = find(aws, "DescribeOrderableDBInstanceOptions", &p, NULL, instance_class, &f, ae, e);
    aws_params_release(&p);
    *orderable = rc == 0 && f.found;
    find_release(&f);
    return rc;
}
