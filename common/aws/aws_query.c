/* Query-protocol parameters and form encoding. See aws_query.h. */
#include "aws/aws_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_sigv4.h"

void aws_params_release(struct aws_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->n = p->cap = 0;
}

void aws_params_add(struct aws_params *p, const char *key, const char *value)
{
    if (!value)
        return;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    p->items[p->n].key = xstrdup(key);
    p->items[p->n].value = xstrdup(value);
    p->n++;
}

static long find(const struct aws_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return (long)i;
    return -1;
}

void aws_params_set(struct aws_params *p, const char *key, const char *value)
{
    long i = find(p, key);
    if (i < 0) {
        aws_params_add(p, key, value);
    } else if (!value) {
        aws_params_remove(p, key);
    } else {
        free(p->items[i].value);
        p->items[i].value = xstrdup(value);
    }
}

void aws_params_remove(struct aws_params *p, const char *key)
{
    long i = find(p, key);
    if (i < 0)
        return;
    free(p->items[i].key);
    free(p->items[i].value);
    memmove(&p->items[i], &p->items[i + 1], (p->n - (size_t)i - 1) * sizeof *p->items);
    p->n--;
}

const char *aws_params_get(const struct aws_params *p, const char *key)
{
    long i = find(p, key);
    return i < 0 ? NULL : p->items[i].value;
}

void aws_params_add_int(struct aws_params *p, const char *key, long long value)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", value);
    aws_params_add(p, key, v);
}

void aws_params_add_bool(struct aws_params *p, const char *key, int value)
{
    aws_params_add(p, key, value ? "true" : "false");
}

void aws_params_add_list(struct aws_params *p, const char *prefix, const char *member,
                         const char *const *values, size_t n)
{
    if (n == 0) {
        aws_params_add(p, prefix, "");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *key = xasprintf("%s.%s.%zu", prefix, member, i + 1);
        aws_params_add(p, key, values[i]);
        free(key);
    }
}

void aws_params_add_tags(struct aws_params *p, const char *prefix, const struct aws_tag *tags,
                         size_t n)
{
    if (n == 0) {
        aws_params_add(p, prefix, "");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *k = xasprintf("%s.Tag.%zu.Key", prefix, i + 1);
        char *v = xasprintf("%s.Tag.%zu.Value", prefix, i + 1);
        aws_params_add(p, k, tags[i].key);
        /* A tag's Value is optional in the model; an empty one is still sent. */
        aws_params_add(p, v, tags[i].value ? tags[i].value : "");
        free(k);
        free(v);
    }
}

void aws_params_add_filters(struct aws_params *p, const struct aws_filter *filters, size_t n)
{
    if (n == 0) {
        aws_params_add(p, "Filters", "");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *name = xasprintf("Filters.Filter.%zu.Name", i + 1);
        char *values = xasprintf("Filters.Filter.%zu.Values", i + 1);
        aws_params_add(p, name, filters[i].name);
        aws_params_add_list(p, values, "Value", filters[i].values, filters[i].n_values);
        free(name);
        free(values);
    }
}

static void encode_pair(struct buf *out, const char *key, const char *value)
{
    if (out->len > 0)
        buf_putc(out, '&');
    sigv4_uri_encode(out, key, strlen(key), 0);
    buf_putc(out, '=');
    sigv4_uri_encode(out, value, strlen(value), 0);
}

void aws_query_encode(struct buf *out, const char *action, const char *version,
                      const struct aws_params *params)
{
    buf_reset(out);
    encode_pair(out, "Action", action);
    encode_pair(out, "Version", version);
    for (size_t i = 0; params && i < params->n; i++)
        encode_pair(out, params->items[i].key, params->items[i].value);
}
