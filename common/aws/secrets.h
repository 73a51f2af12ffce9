/* Secret references in the configuration, resolved at run time so the secret
 * itself never sits in a file (the original component's practice: keep the
 * DBLab token in Secrets Manager):
 *
 *   secretsmanager:NAME_OR_ARN            the secret's SecretString
 *   secretsmanager:NAME_OR_ARN#jsonKey    one key of a JSON SecretString
 *   ssm:/path/to/param (or ssm:NAME / ARN) GetParameter WithDecryption=true
 *
 * Anything else is a plain value and passes through unchanged. Resolved values
 * are registered with redact_add_secret; error messages name the config key and
 * the reference, never a value. See docs/credentials.md. */
#ifndef DRR_SECRETS_H
#define DRR_SECRETS_H

#include "core/err.h"

struct aws_ctx;
struct config;

enum secret_ref_kind { SECRET_PLAIN = 0, SECRET_SECRETSMANAGER, SECRET_SSM };

struct secret_ref {
    enum secret_ref_kind kind;
    char *id;       /* secret name/ARN or parameter name/ARN; NULL for plain */
    char *json_key; /* secretsmanager "#key", or NULL */
};

/* Parses value. 0 (a plain value gives SECRET_PLAIN) or ERR_CONFIG for a
 * malformed reference ("secretsmanager:" with no name, an empty "#"), with e
 * naming key. Release with secret_ref_release. */
int secret_ref_parse(const char *key, const char *value, struct secret_ref *out, struct err *e);
void secret_ref_release(struct secret_ref *r);

/* Removes exactly ONE trailing newline ("\n" or "\r\n") from s in place: the
 * one a secret made from a file carries (`--secret-string file://token.txt`,
 * `echo token > file`). Anything else is kept, so a value with more line breaks
 * is still refused where it would go into a header. */
void secret_strip_newline(char *s);

/* Resolves value (config key `key`, for messages) into *out (malloc'd; a copy of
 * value when plain; a resolved value loses one trailing newline,
 * secret_strip_newline). Returns 0, ERR_CONFIG (malformed reference, missing
 * JSON key, binary or empty secret), or the AWS call's code (ERR_AWS_REJECTED, ERR_AWS_UNAUTHORIZED,
 * ERR_TRANSIENT, ...) with e prefixed by "key (reference)" (never "key: ...",
 * which the log redaction would take for a secret value). */
int secret_resolve(struct aws_ctx *aws, const char *key, const char *value, char **out,
                   struct err *e);

/* Resolves dblab.token and source.password of cfg in place (commands call it
 * after app_start, once they have an aws_ctx). A plain value is left as is. */
int secrets_resolve_config(struct aws_ctx *aws, struct config *cfg, struct err *e);

#endif
