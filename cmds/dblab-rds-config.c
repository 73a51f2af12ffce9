/* dblab-rds-config -config FILE: validates a configuration and prints the
 * effective configuration (defaults and environment resolved) as one JSON line,
 * every secret redacted. Exit 0 when valid, 78 when not (like `nginx -t` or
 * `terraform validate`: run it before scheduling). */
#include <stdio.h>
#include <stdlib.h>

#include "app/app.h"
#include "app/rundoc.h"
#include "core/err.h"
#include "core/log.h"

static const struct cli_command cmd = {
    .name = "dblab-rds-config",
    .summary = "Validate a configuration file and print the effective configuration as JSON.",
    .description = "Loads the configuration like every other command does (${VAR} expansion,\n"
                   "defaults, region/endpoint/profile from the environment), reports the first\n"
                   "problem as FILE:LINE:COLUMN: KEY: PROBLEM and exits 78, or prints the\n"
                   "effective configuration as one JSON line with dblab.token and\n"
                   "source.password shown as \"[REDACTED]\" (secretsmanager:/ssm: references are\n"
                   "shown as written) and exits 0.",
    .reads_document = 0,
    .needs_config = 1,
};

static int run_command(struct app *a, struct err *e)
{
    (void)e; /* every failure here is logged where it happens */
    cJSON *json = config_to_json(&a->cfg);
    cJSON_AddBoolToObject(json, "valid", 1);
    /* config_to_json already replaced every literal secret; redact_apply is
     * not used here because it rewrites "password": null and would break the
     * JSON. One line, like a run document (a failed write is logged there). */
    int rc = rundoc_write(json);
    cJSON_Delete(json);
    if (rc == 0)
        log_info("%s: valid", a->cli.config_path);
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
