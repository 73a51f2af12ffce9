/* The clone's RDS-managed master credentials (clone_secret.h). */
#include "rds/clone_secret.h"

#include <stdlib.h>
#include <string.h>

#include "aws/secrets.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

void clone_secret_free(char *password)
{
    if (!password)
        return;
    explicit_bzero(password, strlen(password));
    free(password);
}

int clone_secret_read(struct aws_ctx *aws, enum rds_kind kind, const char *clone_id, char **user,
                      char **password, struct err *e)
{
    *user = NULL;
    *password = NULL;
    struct rds_master_secret s = {0};
    char *master = NULL;
    int rc;
    const char *what = kind == RDS_KIND_CLUSTER ? "DB cluster" : "DB instance";
    /* Aurora keeps the secret on the cluster, RDS on the instance: take both
     * fields from whichever was described. */
    struct rds_cluster cl = {0};
    struct rds_instance inst = {0};
    if (kind == RDS_KIND_CLUSTER)
        rc = rds_get_cluster(aws, clone_id, &cl, NULL, e);
    else
        rc = rds_get_instance(aws, clone_id, &inst, NULL, e);
    if (rc == 0) {
        const struct rds_master_secret *from = kind == RDS_KIND_CLUSTER ? &cl.secret : &inst.secret;
        s.arn = xstrdup(from->arn);
        s.status = xstrdup(from->status);
        master = xstrdup(kind == RDS_KIND_CLUSTER ? cl.master_username : inst.master_username);
    }
    rds_cluster_release(&cl);
    rds_instance_release(&inst);
    if (rc == 0 && (!s.arn || !master))
        rc = err_set(e, ERR_CLONE_FAILED,
                     "%s %s: RDS does not manage its master password (no MasterUserSecret%s), "
                     "so DBLab has no password for it: rds-clone-wait gives the clone its own "
                     "when clone.masterPassword is managed",
                     what, clone_id, master ? "" : ", no MasterUsername");
    if (rc == 0 && (!s.status || strcmp(s.status, "active") != 0))
        log_warn("%s %s: its master user secret is %s, not active; reading it anyway", what,
                 clone_id, s.status ? s.status : "of unknown status");
    if (rc == 0) {
        /* RDS's secret is a JSON object with "username" and "password". */
        char *ref = xasprintf("secretsmanager:%s#password", s.arn);
        rc = secret_resolve(aws, "clone.masterPassword (the clone's master user secret)", ref,
                            password, e);
        free(ref);
        if (rc == ERR_CONFIG) /* a malformed secret is RDS's, not the config's */
            rc = err_reclassify(e, ERR_AWS_BAD_ANSWER);
    }
    if (rc == 0) {
        *user = master;
        master = NULL;
        log_info("DBLab connects as the clone's master user %s with the clone's own password "
                 "(%s %s's RDS-managed secret)",
                 *user, what, clone_id);
    }
    free(master);
    free(s.arn);
    free(s.status);
    return rc;
}
