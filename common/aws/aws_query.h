/* Parameters of an AWS Query-protocol request (RDS, STS): an ordered list of
 * key/value pairs, the serialisation of lists and structures by the model's
 * member names (botocore's QuerySerializer), and the form encoding of the body.
 *
 * Member names come from the RDS model (botocore data/rds/2014-10-31,
 * the list shapes' member locationName):
 *   VpcSecurityGroupIds.VpcSecurityGroupId.N      (VpcSecurityGroupIdList)
 *   Tags.Tag.N.Key / Tags.Tag.N.Value              (TagList, Tag)
 *   Filters.Filter.N.Name / .Values.Value.M        (FilterList, FilterValueList)
 *   AvailabilityZones.AvailabilityZone.N           (AvailabilityZones)
 *   TagKeys.member.N                               (KeyList: no locationName -> "member")
 *   EnableCloudwatchLogsExports.member.N           (LogTypeList)
 * N and M count from 1. An empty list is sent as "Prefix=" (the query protocol
 * serialises empty lists). */
#ifndef DRR_AWS_QUERY_H
#define DRR_AWS_QUERY_H

#include <stddef.h>
#include "core/buf.h"

struct aws_param {
    char *key;
    char *value;
};

struct aws_params {
    struct aws_param *items;
    size_t n;
    size_t cap;
};

#define AWS_PARAMS_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

struct aws_tag {
    const char *key;
    const char *value;
};

struct aws_filter {
    const char *name;
    const char *const *values;
    size_t n_values;
};

void aws_params_release(struct aws_params *p);

/* Appends key=value (both copied). A NULL value is skipped: optional members
 * that are unset are simply not sent. */
void aws_params_add(struct aws_params *p, const char *key, const char *value);
/* Replaces the value of key if present, else appends (pagination: "Marker"). */
void aws_params_set(struct aws_params *p, const char *key, const char *value);
/* Removes key if present (e.g. "Marker" before the first page). */
void aws_params_remove(struct aws_params *p, const char *key);
/* The value of key, or NULL. */
const char *aws_params_get(const struct aws_params *p, const char *key);

void aws_params_add_int(struct aws_params *p, const char *key, long long value);
/* Booleans as the model wants them: "true" / "false". */
void aws_params_add_bool(struct aws_params *p, const char *key, int value);

/* A list of strings: Prefix.Member.1, Prefix.Member.2, ...
 * e.g. ("VpcSecurityGroupIds", "VpcSecurityGroupId", ids, n). */
void aws_params_add_list(struct aws_params *p, const char *prefix, const char *member,
                         const char *const *values, size_t n);
/* Tags.Tag.N.Key / Tags.Tag.N.Value (prefix is the member name, "Tags"). */
void aws_params_add_tags(struct aws_params *p, const char *prefix, const struct aws_tag *tags,
                         size_t n);
/* Filters.Filter.N.Name / Filters.Filter.N.Values.Value.M. */
void aws_params_add_filters(struct aws_params *p, const struct aws_filter *filters, size_t n);

/* The form-encoded body: "Action=A&Version=V&k1=v1&..." in insertion order, every
 * key and value percent-encoded exactly as SigV4 encodes (RFC 3986 unreserved
 * characters kept, everything else %XX, a space is %20). params may be NULL. */
void aws_query_encode(struct buf *out, const char *action, const char *version,
                      const struct aws_params *params);

#endif
