/* clone.masterPassword managed: the clone's own master user and password, read
 * at refresh time from the secret RDS keeps for it in Secrets Manager
 * (MasterUserSecret.SecretArn of the clone instance, or of the Aurora cluster).
 * The password is registered with the log redaction, lives only in memory, and
 * is never written to a document, a log, argv or a state file. */
#ifndef DRR_CLONE_SECRET_H
#define DRR_CLONE_SECRET_H

#include "core/err.h"
#include "rds/rds.h"

struct aws_ctx;

/* 0 with *user and *password malloc'd (release the password with
 * clone_secret_free), or: 86 when the clone or its secret is gone, 87 when RDS
 * does not manage the clone's password (rds-clone-wait did not run with
 * clone.masterPassword managed), the AWS call's code otherwise. */
int clone_secret_read(struct aws_ctx *aws, enum rds_kind kind, const char *clone_id, char **user,
                      char **password, struct err *e);
/* Wipes and frees. */
void clone_secret_free(char *password);

#endif
