/* The profile provider: reads the active profile of the shared config and
 * credentials files (aws_ini.h) and builds the source it describes, in the
 * SDKs' precedence:
 *   role_arn + web_identity_token_file  -> AssumeRoleWithWebIdentity
 *   role_arn + source_profile           -> AssumeRole signed with the source
 *                                          profile's credentials (chains, cycle-safe)
 *   role_arn + credential_source        -> AssumeRole signed with Environment /
 *                                          Ec2InstanceMetadata / EcsContainer credentials
 *   aws_access_key_id                   -> static keys (+ aws_session_token)
 *   credential_process                  -> the command's JSON (Version 1)
 * Not supported (a clear error, never a silent fall-through): mfa_serial (needs
 * a person to type a code) and IAM Identity Center (sso_*). */
#include "aws/aws_creds_internal.h"
#include "aws/aws_ini.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROLE_CHAIN 8

struct profile_vals {
    char *role_arn, *source_profile, *credential_source, *web_identity_token_file;
    char *role_session_name, *external_id, *duration_seconds, *mfa_serial;
    char *access_key_id, *secret_access_key, *session_token;
    char *credential_process, *sso_start_url, *sso_session;
};

static void profile_vals_load(const char *profile, struct profile_vals *v)
{
    v->role_arn = aws_ini_get(profile, "role_arn");
    v->source_profile = aws_ini_get(profile, "source_profile");
    v->credential_source = aws_ini_get(profile, "credential_source");
    v->web_identity_token_file = aws_ini_get(profile, "web_identity_token_file");
    v->role_session_name = aws_ini_get(profile, "role_session_name");
    v->external_id = aws_ini_get(profile, "external_id");
    v->duration_seconds = aws_ini_get(profile, "duration_seconds");
    v->mfa_serial = aws_ini_get(profile, "mfa_serial");
    v->access_key_id = aws_ini_get(profile, "aws_access_key_id");
    v->secret_access_key = aws_ini_get(profile, "aws_secret_access_key");
    v->session_token = aws_ini_get(profile, "aws_session_token");
    v->credential_process = aws_ini_get(profile, "credential_process");
    v->sso_start_url = aws_ini_get(profile, "sso_start_url");
    v->sso_session = aws_ini_get(profile, "sso_session");
    if (v->secret_access_key)
        redact_add_secret(v->secret_access_key);
    if (v->session_token)
        redact_add_secret(v->session_token);
}

static void profile_vals_release(struct profile_vals *v)
{
    free(v->role_arn);
    free(v->source_profile);
    free(v->credential_source);
    free(v->web_identity_token_file);
    free(v->role_session_name);
    free(v->external_id);
    free(v->duration_seconds);
    free(v->mfa_serial);
    free(v->access_key_id);
    free_secret(v->secret_access_key);
    free_secret(v->session_token);
    free(v->credential_process);
    free(v->sso_start_url);
    free(v->sso_session);
}

static int static_keys(const char *profile, const struct profile_vals *v, struct creds_source **out,
                       struct err *e)
{
    if (!v->secret_access_key)
        return err_set(e, ERR_CONFIG,
                       "AWS profile \"%s\": aws_access_key_id without aws_secret_access_key",
                       profile);
    char *name = xasprintf("profile:%s", profile);
    *out = creds_static_new(name, v->access_key_id, v->secret_access_key, v->session_token);
    free(name);
    return 0;
}

static int credential_source(struct creds_ctx *c, const char *profile, const char *cs,
                             struct creds_source **out, struct err *e)
{
    int rc;
    *out = NULL;
    if (strcmp(cs, "Environment") == 0) {
        rc = creds_env_detect(c, out, e);
        if (rc == 0 && !*out)
            rc = err_set(e, ERR_CONFIG,
                         "AWS profile \"%s\": credential_source Environment, but "
                         "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set",
                         profile);
    } else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
        rc = creds_imds_detect(c, out, e);
        if (rc == 0 && !*out)
            rc = err_set(e, ERR_CONFIG,
                         "AWS profile \"%s\": credential_source Ec2InstanceMetadata, but "
                         "AWS_EC2_METADATA_DISABLED is true",
                         profile);
    } else if (strcmp(cs, "EcsContainer") == 0) {
        rc = creds_container_detect(c, out, e);
        if (rc == 0 && !*out)
            rc = err_set(e, ERR_CONFIG,
                         "AWS profile \"%s\": credential_source EcsContainer, but neither "
                         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set",
                         profile);
    } else {
        rc = err_set(e, ERR_CONFIG,
                     "AWS profile \"%s\": credential_source \"%s\" is not one of Environment, "
                     "Ec2InstanceMetadata, EcsContainer",
                     profile, cs);
    }
    return rc;
}

static int parse_duration(const char *profile, const char *s, int *out, struct err *e)
{
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < 900 || v > 43200)
        return err_set(e, ERR_CONFIG,
                       "AWS profile \"%s\": duration_seconds \"%s\" is not a number of seconds "
                       "between 900 and 43200",
                       profile, s ? s : "");
    *out = (int)v;
    return 0;
}

static int resolve_profile(struct creds_ctx *c, const char *profile, const char **chain, int depth,
                           struct creds_source **out, struct err *e);

static int assume_role(struct creds_ctx *c, const char *profile, const struct profile_vals *v,
                       const char **chain, int depth, struct creds_source **out, struct err *e)
{
    struct creds_source *source = NULL;
    int rc = 0;
    if (v->mfa_serial)
        return err_set(e, ERR_CONFIG,
                       "AWS profile \"%s\": mfa_serial is not supported (an unattended job "
                       "cannot type an MFA code); use a role that does not require MFA",
                       profile);
    if (v->source_profile && v->credential_source)
        return err_set(e, ERR_CONFIG,
                       "AWS profile \"%s\": source_profile and credential_source are mutually "
                       "exclusive",
                       profile);
    if (!v->source_profile && !v->credential_source)
        return err_set(e, ERR_CONFIG,
                       "AWS profile \"%s\": role_arn needs source_profile, credential_source "
                       "or web_identity_token_file",
                       profile);
    struct creds_assume_params p = {v->role_arn, v->role_session_name, v->external_id, 0};
    if (v->duration_seconds &&
        (rc = parse_duration(profile, v->duration_seconds, &p.duration_seconds, e)) != 0)
        return rc;

    if (v->credential_source) {
        rc = credential_source(c, profile, v->credential_source, &source, e);
    } else if (strcmp(v->source_profile, profile) == 0) {
        /* Self-reference: the profile's own keys sign the AssumeRole. */
        if (!v->access_key_id)
            return err_set(e, ERR_CONFIG,
                           "AWS profile \"%s\": source_profile is itself but it has no "
                           "aws_access_key_id",
                           profile);
        rc = static_keys(profile, v, &source, e);
    } else {
        for (int i = 0; i <= depth; i++)
            if (strcmp(chain[i], v->source_profile) == 0)
                return err_set(e, ERR_CONFIG,
                               "AWS profile \"%s\": source_profile \"%s\" makes a cycle", profile,
                               v->source_profile);
        if (depth + 1 >= MAX_ROLE_CHAIN)
            return err_set(e, ERR_CONFIG,
                           "AWS profile \"%s\": source_profile chain longer than %d profiles",
                           profile, MAX_ROLE_CHAIN);
        if (!aws_ini_profile_exists(v->source_profile))
            return err_set(e, ERR_CONFIG,
                           "AWS profile \"%s\": source_profile \"%s\" not found in the AWS "
                           "config or credentials file",
                           profile, v->source_profile);
        chain[depth + 1] = v->source_profile;
        rc = resolve_profile(c, v->source_profile, chain, depth + 1, &source, e);
        if (rc == 0 && !source)
            rc = err_set(e, ERR_CONFIG,
                         "AWS profile \"%s\": source_profile \"%s\" has no credentials", profile,
                         v->source_profile);
    }
    if (rc != 0)
        return rc;
    char *name =
        xasprintf("assume-role %s (profile:%s via %s)", v->role_arn, profile, source->name);
    *out = creds_assume_role_new(c, name, &p, source);
    free(name);
    return 0;
}

static int resolve_profile(struct creds_ctx *c, const char *profile, const char **chain, int depth,
                           struct creds_source **out, struct err *e)
{
    struct profile_vals v = {0};
    int rc = 0;
    *out = NULL;
    profile_vals_load(profile, &v);
    if (v.role_arn && v.web_identity_token_file) {
        char *name = xasprintf("web-identity (profile:%s)", profile);
        *out = creds_webid_new(c, name, v.web_identity_token_file, v.role_arn, v.role_session_name);
        free(name);
    } else if (v.role_arn) {
        rc = assume_role(c, profile, &v, chain, depth, out, e);
    } else if (v.access_key_id) {
        rc = static_keys(profile, &v, out, e);
    } else if (v.secret_access_key) {
        rc =
            err_set(e, ERR_CONFIG,
                    "AWS profile \"%s\": aws_secret_access_key without aws_access_key_id", profile);
    } else if (v.credential_process) {
        *out = creds_process_new(c, profile, v.credential_process);
    } else if (v.web_identity_token_file) {
        rc = err_set(e, ERR_CONFIG, "AWS profile \"%s\": web_identity_token_file needs role_arn",
                     profile);
    } else if (v.sso_start_url || v.sso_session) {
        rc = err_set(e, ERR_CONFIG,
                     "AWS profile \"%s\": IAM Identity Center (sso_*) is not supported; use "
                     "credential_process = aws configure export-credentials --profile %s "
                     "--format process",
                     profile, profile);
    }
    profile_vals_release(&v);
    return rc;
}

int creds_profile_detect(struct creds_ctx *c, struct creds_source **out, struct err *e)
{
    *out = NULL;
    const char *profile = aws_ini_profile_name(c->profile);
    int explicit_profile = c->profile || creds_getenv("AWS_PROFILE");
    int rc = aws_ini_check(e);
    if (rc != 0)
        return rc;
    if (!aws_ini_profile_exists(profile)) {
        if (explicit_profile)
            return err_set(e, ERR_CONFIG,
                           "AWS profile \"%s\" not found in the AWS config file (%s) or "
                           "credentials file (%s)",
                           profile,
                           creds_getenv("AWS_CONFIG_FILE") ? creds_getenv("AWS_CONFIG_FILE")
                                                           : "~/.aws/config",
                           creds_getenv("AWS_SHARED_CREDENTIALS_FILE")
                               ? creds_getenv("AWS_SHARED_CREDENTIALS_FILE")
                               : "~/.aws/credentials");
        return 0;
    }
    const char *chain[MAX_ROLE_CHAIN];
    chain[0] = profile;
    return resolve_profile(c, profile, chain, 0, out, e);
}
