/* secretsmanager: / ssm: references in the configuration (see secrets.h),
 * resolved through the awsJson1_1 call of aws_client.h. */
#include "aws/secrets.h"

#include "aws/aws_client.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define SM_PREFIX  "secretsmanager:"
#define SSM_PREFIX "ssm:"

void secret_ref_release(struct secret_ref *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->json_key);
    memset(r, 0, sizeof *r);
}

int secret_ref_parse(const char *key, const char *value, struct secret_ref *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!value)
        return 0;
    if (strncmp(value, SM_PREFIX, strlen(SM_PREFIX)) == 0) {
        const char *id = value + strlen(SM_PREFIX);
        /* Secret names and ARNs cannot contain '#': it starts the JSON key. */
        const char *hash = strchr(id, '#');
        size_t idlen = hash ? (size_t)(hash - id) : strlen(id);
        if (idlen == 0)
            return err_set(e, ERR_CONFIG, "%s (%s): names no secret", key, value);
        if (hash && hash[1] == '\0')
            return err_set(e, ERR_CONFIG, "%s (%s): empty JSON key after '#'", key, value);
        out->kind = SECRET_SECRETSMANAGER;
        out->id = xstrndup(id, idlen);
        out->json_key = hash ? xstrdup(hash + 1) : NULL;
        return 0;
    }
    if (strncmp(value, SSM_PREFIX, strlen(SSM_PREFIX)) == 0) {
        const char *name = value + strlen(SSM_PREFIX);
        if (!*name)
            return err_set(e, ERR_CONFIG, "%s (%s): names no parameter", key, value);
        out->kind = SECRET_SSM;
        out->id = xstrdup(name);
        return 0;
    }
    return 0;
}

/* The value of json_key in the JSON object secret_string (malloc'd). */
static int pick_json_key(const char *key, const char *ref, const char *secret_string,
                         const char *json_key, char **out, struct err *e)
{
    cJSON *obj = cJSON_Parse(secret_string);
    int rc = 0;
    if (!cJSON_IsObject(obj)) {
        rc = err_set(e, ERR_CONFIG,
                     "%s (%s): the secret is not a JSON object, so it has no "
                     "key \"%s\"",
                     key, ref, json_key);
    } else {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, json_key);
        if (cJSON_IsString(v)) {
            *out = xstrdup(v->valuestring);
        } else if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
            char *printed = cJSON_PrintUnformatted(v);
            *out = xstrdup(printed);
            cJSON_free(printed);
        } else {
            /* Key names are not secret: listing them helps fix a typo. */
            struct buf keys = BUF_INIT;
            for (const cJSON *it = obj->child; it; it = it->next)
                buf_printf(&keys, "%s\"%s\"", keys.len ? ", " : "", it->string);
            rc = err_set(e, ERR_CONFIG, "%s (%s): %s \"%s\" (keys: %s)", key, ref,
                         v ? "not a string or number:" : "no key", json_key,
                         keys.len ? keys.data : "none");
            buf_release(&keys);
        }
    }
    cJSON_Delete(obj);
    return rc;
}

static int get_secret_value(struct aws_ctx *aws, const char *key, const char *ref,
                            const struct secret_ref *r, char **out, struct err *e)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "SecretId", r->id);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cJSON *resp = NULL;
    struct aws_error ae;
    int rc =
        aws_json_call(aws, "secretsmanager", "secretsmanager.GetSecretValue", body, &resp, &ae, e);
    cJSON_free(body);
    if (rc != 0)
        return err_prefix(e, "%s (%s)", key, ref);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(resp, "SecretString");
    if (cJSON_IsString(s))
        redact_add_secret(s->valuestring);
    if (!cJSON_IsString(s)) {
        rc = err_set(e, ERR_CONFIG, "%s (%s): the secret has no SecretString%s", key, ref,
                     cJSON_GetObjectItemCaseSensitive(resp, "SecretBinary")
                         ? " (binary secrets are not supported)"
                         : "");
    } else if (r->json_key) {
        rc = pick_json_key(key, ref, s->valuestring, r->json_key, out, e);
    } else {
        *out = xstrdup(s->valuestring);
    }
    /* The answer holds the secret: wipe it before freeing. */
    if (cJSON_IsString(s))
        explicit_bzero(s->valuestring, strlen(s->valuestring));
    cJSON_Delete(resp);
    return rc;
}

static int get_parameter(struct aws_ctx *aws, const char *key, const char *ref,
                         const struct secret_ref *r, char **out, struct err *e)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "Name", r->id);
    cJSON_AddBoolToObject(req, "WithDecryption", 1);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cJSON *resp = NULL;
    struct aws_error ae;
    int rc = aws_json_call(aws, "ssm", "AmazonSSM.GetParameter", body, &resp, &ae, e);
    cJSON_free(body);
    if (rc != 0)
        return err_prefix(e, "%s (%s)", key, ref);
    const cJSON *param = cJSON_GetObjectItemCaseSensitive(resp, "Parameter");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(param, "Value");
    if (cJSON_IsString(v)) {
        redact_add_secret(v->valuestring);
        *out = xstrdup(v->valuestring);
        explicit_bzero(v->valuestring, strlen(v->valuestring));
    } else {
        rc = err_set(e, ERR_AWS_BAD_ANSWER, "%s (%s): the answer has no Parameter.Value", key, ref);
    }
    cJSON_Delete(resp);
    return rc;
}

void secret_strip_newline(char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 0 && s[n - 1] == '\n') {
        s[--n] = '\0';
        if (n > 0 && s[n - 1] == '\r')
            s[--n] = '\0';
    }
}

int secret_resolve(struct aws_ctx *aws, const char *key, const char *value, char **out,
                   struct err *e)
{
    *out = NULL;
    struct secret_ref r;
    int rc = secret_ref_parse(key, value, &r, e);
    if (rc != 0)
        return rc;
    if (r.kind == SECRET_PLAIN) {
        *out = xstrdup(value);
        return 0;
    }
    if (r.kind == SECRET_SECRETSMANAGER)
        rc = get_secret_value(aws, key, value, &r, out, e);
    else
        rc = get_parameter(aws, key, value, &r, out, e);
    if (rc == 0)
        secret_strip_newline(*out);
    if (rc == 0 && (*out)[0] == '\0') {
        free(*out);
        *out = NULL;
        rc = err_set(e, ERR_CONFIG, "%s (%s): resolved to an empty value", key, value);
    }
    if (rc == 0) {
        redact_add_secret(*out);
        log_info("resolved %s from %s (%s)", key,
                 r.kind == SECRET_SECRETSMANAGER ? "AWS Secrets Manager" : "SSM Parameter Store",
                 value);
    }
    secret_ref_release(&r);
    return rc;
}

static int resolve_field(struct aws_ctx *aws, const char *key, char **field, struct err *e)
{
    if (!*field || !config_is_secret_reference(*field))
        return 0;
    char *v = NULL;
    int rc = secret_resolve(aws, key, *field, &v, e);
    if (rc != 0)
        return rc;
    free(*field); /* the reference: not a secret */
    *field = v;
    return 0;
}

int secrets_resolve_config(struct aws_ctx *aws, struct config *cfg, struct err *e)
{
    int rc = resolve_field(aws, "dblab.token", &cfg->dblab.token, e);
    if (rc == 0)
        rc = resolve_field(aws, "source.password", &cfg->source.password, e);
    return rc;
}
