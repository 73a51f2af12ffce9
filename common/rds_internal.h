/* Shared between rds.c (the calls) and rds_parse.c (the parsing); not for commands. */
#ifndef DRR_RDS_INTERNAL_H
#define DRR_RDS_INTERNAL_H

#include <libxml/tree.h>
#include "rds.h"

/* The single <item_name> (DBInstance, DBCluster) inside the response's result element. */
int rds_result_item(xmlDoc *doc, const char *action, const char *item_name, const xmlNode **out,
                    struct err *e);
/* The TagList of a ListTagsForResource result, appended to out. */
int rds_result_tags(xmlDoc *doc, struct rds_tags *out, struct err *e);

#endif
