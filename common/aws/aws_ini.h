/* The AWS shared config and credentials files (~/.aws/config with [profile x]
 * sections, ~/.aws/credentials with [x] sections; AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE override the paths). Used for the profile's region
 * (config.c) and for profile credentials (aws_creds.c). */
#ifndef DRR_AWS_INI_H
#define DRR_AWS_INI_H

#include "core/err.h"

/* The largest AWS config or credentials file read (botocore has no cap). */
#define AWS_INI_MAX_BYTES (1024 * 1024)

/* Name of the active profile: explicit if non-NULL, else AWS_PROFILE, else "default". */
const char *aws_ini_profile_name(const char *explicit_profile);

/* Looks up key (case-insensitive) in the profile: the same profile in both files
 * is merged key by key and the credentials file wins (as botocore does), so any
 * key is looked up in the credentials file first, then the config file.
 * Returns malloc'd value or NULL when absent or empty (missing files are not
 * errors). The file rules are described at the top of aws_ini.c. */
char *aws_ini_get(const char *profile, const char *key);

/* Looks up key in a non-profile section of the config file: kind "services",
 * name "local" for [services local] (the SDKs' service-specific endpoints).
 * Returns malloc'd value or NULL. */
char *aws_ini_get_section(const char *kind, const char *name, const char *key);

/* The value of subkey inside a value made of sub-properties (an indented block,
 * "rds =\n  endpoint_url = http://x"), or NULL. Returns malloc'd value. */
char *aws_ini_subproperty(const char *value, const char *subkey);

/* 1 if the profile exists in either file. */
int aws_ini_profile_exists(const char *profile);

/* 0 if both files are readable within AWS_INI_MAX_BYTES (or missing), else
 * ERR_CONFIG with a one-line error naming the file. Lookups in a refused
 * file find nothing, so every entry point that reads these files calls this
 * first. */
int aws_ini_check(struct err *e);

#endif
