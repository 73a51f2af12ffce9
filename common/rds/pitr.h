/* Point-in-time restore (source.restoreFrom: latest or a time): the source's
 * restorable window, the checks made before anything is created, and the run
 * document's `restore` section that rds-snapshot-latest writes in place of
 * `snapshot` and rds-clone-create reads. See docs/run-document.md. */
#ifndef DRR_PITR_H
#define DRR_PITR_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "config/config.h"
#include "core/err.h"
#include "rds/rds.h"

struct aws_ctx;

#define PITR_SECTION       "restore"
#define PITR_COPY_ON_WRITE "copy-on-write"
#define PITR_FULL_COPY     "full-copy"

struct pitr_choice {
    enum rds_kind kind;
    char *engine; /* the source's (the Aurora writer is created with it) */
    char *engine_version;
    int64_t earliest; /* the restorable window as AWS reported it */
    int64_t latest;
    int64_t time;             /* the restore time; copy-on-write: the latest restorable
                                 time as read, a lower bound of the clone's data */
    int use_latest;           /* copy-on-write: UseLatestRestorableTime=true */
    const char *restore_type; /* clusters: PITR_COPY_ON_WRITE / PITR_FULL_COPY; NULL */
};

void pitr_choice_release(struct pitr_choice *c);

/* Describes the source in the configured region and checks, before any clone
 * exists: the source is there (86, naming the region), of the PostgreSQL family
 * (86), automated backups are on (86), and the configured time lies inside
 * [earliest, latest restorable] (78, with the window in the message). For
 * latest, source.maxSnapshotAge limits the data's age (85). */
int pitr_choose(struct aws_ctx *aws, const struct config *cfg, struct pitr_choice *out,
                struct err *e);

/* The `restore` section (caller owns it), and back from a document (65 when a
 * field is missing or malformed). */
cJSON *pitr_section(const struct pitr_choice *c);
int pitr_read(const cJSON *doc, struct pitr_choice *out, struct err *e);

/* What the clone's snapshot tag and the adoption check name for a point-in-time
 * clone: "pitr:" + the restore time (RDS tag values allow ':' and '-'). */
void pitr_ref(const struct pitr_choice *c, char *out, size_t outlen);

#endif
