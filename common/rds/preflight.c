/* The preflight (preflight.h): one describe per configured name, each mapped to
 * the config key it checks. */
#include "rds/preflight.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/err.h"
#include "core/log.h"
#include "rds/rds.h"
#include "rds/rds_catalog.h"

/* AWS's "you may not": the check is skipped, said so with the permission. */
static int denied(const struct aws_error *ae)
{
    return rds_error_is(ae, "AccessDenied") || rds_error_is(ae, "AccessDeniedException") ||
           rds_error_is(ae, "UnauthorizedOperation");
}

static int skip_denied(const struct aws_error *ae, const char *action, const char *key,
                       struct err *e)
{
    log_warn("preflight: %s not checked: the credentials may not call rds:%s (%s); add it to "
             "the IAM policy (docs/deploy.md)",
             key, action, ae->code);
    err_clear(e);
    return 0;
}

int preflight_source(struct aws_ctx *aws, const struct config *cfg, struct err *e)
{
    const char *id = cfg->source.identifier;
    const char *region = cfg->aws.region ? cfg->aws.region : "this region";
    struct aws_error ae;
    struct rds_instance inst;
    struct rds_cluster cl;
    memset(&inst, 0, sizeof inst);
    memset(&cl, 0, sizeof cl);
    int want_cluster = cfg->source.type == SOURCE_AURORA_CLUSTER;
    int rc = want_cluster ? rds_get_cluster(aws, id, &cl, &ae, e)
                          : rds_get_instance(aws, id, &inst, &ae, e);
    if (rc == 0 && !want_cluster && inst.cluster_id) {
        rc = err_set(e, ERR_CONFIG,
                     "source.identifier: %s is a member instance of the Aurora DB cluster %s: "
                     "did you mean source.type: aurora-cluster and source.identifier: %s?",
                     id, inst.cluster_id, inst.cluster_id);
    }
    rds_instance_release(&inst);
    rds_cluster_release(&cl);
    if (rc == 0)
        return 0;
    if (rc != ERR_NOT_FOUND) {
        if (denied(&ae))
            return skip_denied(&ae, want_cluster ? "DescribeDBClusters" : "DescribeDBInstances",
                               "source.identifier", e);
        return rc;
    }
    /* Not of the configured kind: is it of the other one? */
    err_clear(e);
    rc = want_cluster ? rds_get_instance(aws, id, &inst, &ae, e)
                      : rds_get_cluster(aws, id, &cl, &ae, e);
    if (rc == 0) {
        if (want_cluster && inst.cluster_id)
            rc = err_set(e, ERR_CONFIG,
                         "source.identifier: %s is a member instance of the Aurora DB cluster %s: "
                         "did you mean source.identifier: %s?",
                         id, inst.cluster_id, inst.cluster_id);
        else
            rc = err_set(e, ERR_CONFIG,
                         "source.identifier: %s is an %s, not an %s: did you mean source.type: %s?",
                         id, want_cluster ? "RDS DB instance" : "Aurora DB cluster",
                         want_cluster ? "Aurora DB cluster" : "RDS DB instance",
                         want_cluster ? "rds" : "aurora-cluster");
    } else if (rc == ERR_NOT_FOUND || denied(&ae)) {
        rc = err_set(
            e, ERR_NOT_FOUND, "source.identifier: no DB %s named %s in %s (source.type: %s)",
            want_cluster ? "cluster" : "instance", id, region, source_type_name(cfg->source.type));
    }
    rds_instance_release(&inst);
    rds_cluster_release(&cl);
    return rc;
}

/* A named group: exists (NOT_FOUND -> 78 on key), and its family fits. */
static int check_parameter_group(struct aws_ctx *aws, int cluster, const char *key,
                                 const char *name, const char *family, const char *engine,
                                 const char *version, const char *region, struct err *e)
{
    if (!name)
        return 0;
    struct aws_error ae;
    char *got = NULL;
    int rc = rds_get_parameter_group(aws, cluster, name, &got, &ae, e);
    if (rc == ERR_NOT_FOUND)
        return err_set(e, ERR_CONFIG, "%s: DB %sparameter group \"%s\" does not exist in %s", key,
                       cluster ? "cluster " : "", name, region);
    if (rc && denied(&ae))
        return skip_denied(
            &ae, cluster ? "DescribeDBClusterParameterGroups" : "DescribeDBParameterGroups", key,
            e);
    if (rc == 0 && family && got && strcmp(got, family) != 0)
        rc = err_set(e, ERR_CONFIG,
                     "%s: \"%s\" is of family %s, but the clone runs %s %s (family %s)", key, name,
                     got, engine, version, family);
    free(got);
    return rc;
}

/* PostgreSQL 10+: the major version is the first number ("16.4" -> "16"). */
static int same_major(const char *version, const char *major)
{
    size_t n = strcspn(version, ".");
    return strlen(major) == n && strncmp(version, major, n) == 0;
}

int preflight_clone(struct aws_ctx *aws, const struct config *cfg, const char *engine,
                    const char *version, struct err *e)
{
    const char *region = cfg->aws.region ? cfg->aws.region : "this region";
    struct aws_error ae;
    int rc;

    if (cfg->clone.subnet_group) {
        rc = rds_get_subnet_group(aws, cfg->clone.subnet_group, &ae, e);
        if (rc == ERR_NOT_FOUND)
            return err_set(e, ERR_CONFIG,
                           "clone.subnetGroup: DB subnet group \"%s\" does not exist in %s (the "
                           "restore would fail with DBSubnetGroupNotFoundFault)",
                           cfg->clone.subnet_group, region);
        if (rc && denied(&ae))
            rc = skip_denied(&ae, "DescribeDBSubnetGroups", "clone.subnetGroup", e);
        if (rc)
            return rc;
    }
    if (!engine || !version) {
        log_warn("preflight: the snapshot names no engine version: groups and instance class "
                 "not checked");
        return 0;
    }

    char *family = NULL;
    rc = rds_engine_family(aws, engine, version, &family, &ae, e);
    if (rc == ERR_NOT_FOUND && cfg->clone.engine_version)
        return err_set(e, ERR_CONFIG,
                       "clone.engineVersion: %s %s is not an engine version "
                       "AWS offers in %s",
                       engine, version, region);
    if (rc == ERR_NOT_FOUND || (rc && denied(&ae))) {
        log_warn("preflight: the parameter group family of %s %s is unknown (%s): group "
                 "families not checked",
                 engine, version, e->msg);
        err_clear(e);
        rc = 0;
    }
    if (rc == 0)
        rc = check_parameter_group(aws, 0, "clone.parameterGroup", cfg->clone.parameter_group,
                                   family, engine, version, region, e);
    if (rc == 0 && cfg->source.type == SOURCE_AURORA_CLUSTER)
        rc = check_parameter_group(aws, 1, "clone.clusterParameterGroup",
                                   cfg->clone.cluster_parameter_group, family, engine, version,
                                   region, e);
    free(family);
    if (rc)
        return rc;

    if (cfg->clone.option_group) {
        char *og_engine = NULL, *og_major = NULL;
        rc = rds_get_option_group(aws, cfg->clone.option_group, &og_engine, &og_major, &ae, e);
        if (rc == ERR_NOT_FOUND)
            rc = err_set(e, ERR_CONFIG,
                         "clone.optionGroup: option group \"%s\" does not "
                         "exist in %s",
                         cfg->clone.option_group, region);
        else if (rc && denied(&ae))
            rc = skip_denied(&ae, "DescribeOptionGroups", "clone.optionGroup", e);
        else if (rc == 0 && og_engine && og_major &&
                 (strcmp(og_engine, engine) != 0 || !same_major(version, og_major)))
            rc = err_set(e, ERR_CONFIG,
                         "clone.optionGroup: \"%s\" is for %s %s, but the "
                         "clone runs %s %s",
                         cfg->clone.option_group, og_engine, og_major, engine, version);
        free(og_engine);
        free(og_major);
        if (rc)
            return rc;
    }

    int orderable = 0;
    rc = rds_orderable(aws, engine, version, cfg->clone.instance_class, &orderable, &ae, e);
    if (rc && denied(&ae))
        return skip_denied(&ae, "DescribeOrderableDBInstanceOptions", "clone.instanceClass", e);
    if (rc)
        return rc;
    if (!orderable)
        return err_set(e, ERR_CONFIG,
                       "clone.instanceClass: %s is not orderable for %s %s in %s "
                       "(DescribeOrderableDBInstanceOptions lists no such option)",
                       cfg->clone.instance_class, engine, version, region);
    if (cfg->clone.subnet_group)
        log_info("preflight: subnet group %s exists; instance class %s orderable for %s %s",
                 cfg->clone.subnet_group, cfg->clone.instance_class, engine, version);
    else
        log_info("preflight: instance class %s orderable for %s %s", cfg->clone.instance_class,
                 engine, version);
    return 0;
}
