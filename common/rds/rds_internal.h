/* Shared between rds.c (the calls) and rds_parse.c (the parsing); not for commands. */
#ifndef DRR_RDS_INTERNAL_H
#define DRR_RDS_INTERNAL_H

#include <libxml/tree.h>
#include "rds/rds.h"

/* The single <item_name> (DBInstance, DBCluster) inside the response's result element. */
int rds_result_item(xmlDoc *doc, const char *action, const char *item_name, const xmlNode **out,
                    struct err *e);

/* The item handlers of the paged describes (aws_query_paginate streams each
 * <DBSnapshot>/<DBClusterSnapshot>, <DBInstance>, <DBCluster> to them): parse
 * the item, call the user's callback, free the item. */
struct rds_snap_ctx {
    enum rds_kind kind;
    rds_snapshot_cb cb;
    void *ud;
};
struct rds_inst_ctx {
    rds_instance_cb cb;
    void *ud;
};
struct rds_clus_ctx {
    rds_cluster_cb cb;
    void *ud;
};
int rds_snapshot_item(const xmlNode *item, void *ctx, struct err *e);
int rds_instance_item(const xmlNode *item, void *ctx, struct err *e);
int rds_cluster_item(const xmlNode *item, void *ctx, struct err *e);

#endif
