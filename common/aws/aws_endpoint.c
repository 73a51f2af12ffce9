/* Endpoint resolution. See aws_endpoint.h. */
#include "aws/aws_endpoint.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"

struct service_info {
    const char *name;   /* our name and the SigV4 signing name */
    const char *prefix; /* endpoint prefix */
    const char *env;    /* service-specific endpoint variable */
};

static const struct service_info services[] = {
    {"rds", "rds", "AWS_ENDPOINT_URL_RDS"},
    {"sts", "sts", "AWS_ENDPOINT_URL_STS"},
    {"secretsmanager", "secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"},
    {"ssm", "ssm", "AWS_ENDPOINT_URL_SSM"},
    {"states", "states", "AWS_ENDPOINT_URL_SFN"}, /* Step Functions (service id SFN) */
};

const char *aws_endpoint_dns_suffix(const char *region)
{
    return region && strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
}

void aws_endpoint_release(struct aws_endpoint *ep)
{
    if (!ep)
        return;
    free(ep->url);
    free(ep->host);
    free(ep->path);
    free(ep->signing_name);
    free(ep->region);
    memset(ep, 0, sizeof *ep);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcasecmp(v, "true") == 0;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int valid_region(const char *r)
{
    if (!r || !*r || strlen(r) > 64)
        return 0;
    for (const char *p = r; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
            return 0;
    return 1;
}

/* Splits "scheme://host[:port][/path]" into ep->url, ep->host, ep->path. */
static int parse_url(const char *url, const char *from, struct aws_endpoint *ep, struct err *e)
{
    int https;
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        https = 1;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        https = 0;
        p = url + 7;
    } else {
        return err_set(e, ERR_CONFIG, "%s: endpoint \"%s\" must start with https:// or http://",
                       from, url);
    }
    size_t hostlen = strcspn(p, "/?#");
    if (strpbrk(p, "?#"))
        return err_set(e, ERR_CONFIG, "%s: endpoint \"%s\" must not have a query or fragment", from,
                       url);
    if (hostlen == 0)
        return err_set(e, ERR_CONFIG, "%s: endpoint \"%s\" has no host", from, url);
    char *authority = xstrndup(p, hostlen);
    if (strchr(authority, '@') || strpbrk(authority, " \t\r\n")) {
        free(authority);
        return err_set(
            e, ERR_CONFIG,
            "%s: endpoint must be scheme://host[:port][/path] without credentials or spaces", from);
    }
    /* Port: after the last ':' unless inside an IPv6 literal. */
    char *close = strrchr(authority, ']');
    char *colon = strrchr(close ? close : authority, ':');
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
            int rc = err_set(e, ERR_CONFIG, "%s: endpoint \"%s\" has an invalid port", from, url);
            free(authority);
            return rc;
        }
        if ((https && port == 443) || (!https && port == 80))
            *colon = '\0'; /* the Host header carries no default port */
    }
    for (char *c = authority; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    ep->host = authority;

    const char *path = p + hostlen;
    struct buf b = BUF_INIT;
    buf_puts(&b, *path ? path : "/");
    if (b.data[b.len - 1] != '/')
        buf_putc(&b, '/');
    ep->path = buf_detach(&b);
    ep->url = xasprintf("%s://%s%s", https ? "https" : "http", ep->host, ep->path);
    return 0;
}

int aws_endpoint_resolve(const char *service, const char *region, const char *override,
                         struct aws_endpoint *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    const struct service_info *svc = NULL;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        if (service && strcmp(services[i].name, service) == 0)
            svc = &services[i];
    if (!svc)
        return err_set(e, ERR_INTERNAL, "aws: unknown service \"%s\"", service ? service : "");
    if (!region || !*region)
        return err_set(e, ERR_CONFIG,
                       "aws.region: not set (set aws.region, AWS_REGION or AWS_DEFAULT_REGION)");
    if (!valid_region(region))
        return err_set(e, ERR_CONFIG, "aws.region: \"%s\" is not a region name (e.g. us-east-1)",
                       region);
    out->signing_name = xstrdup(svc->name);
    out->region = xstrdup(region);

    const char *url = NULL;
    int ignore_env = env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (override && *override) {
        url = override;
        out->source = "config";
    } else if (!ignore_env && (url = env_nonempty(svc->env)) != NULL) {
        out->source = svc->env;
    } else if (!ignore_env && (url = env_nonempty("AWS_ENDPOINT_URL")) != NULL) {
        out->source = "AWS_ENDPOINT_URL";
    }
    if (url) {
        int rc = parse_url(url, strcmp(out->source, "config") == 0 ? "aws.endpoint" : out->source,
                           out, e);
        if (rc)
            aws_endpoint_release(out);
        return rc;
    }
    out->source = "default";
    char *def = xasprintf("https://%s%s.%s.%s/", svc->prefix,
                          env_true("AWS_USE_FIPS_ENDPOINT") ? "-fips" : "", region,
                          aws_endpoint_dns_suffix(region));
    int rc = parse_url(def, "default endpoint", out, e);
    free(def);
    if (rc)
        aws_endpoint_release(out);
    return rc;
}
