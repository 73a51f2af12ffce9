/* dblab-rds-config -config FILE: validates a configuration and prints the
 * effective configuration (defaults and environment resolved) as one JSON line,
 * every secret redacted. Exit 0 when valid, 78 when not (like `nginx -t` or
 * `terraform validate`: run it before scheduling). */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "exitcodes.h"
#include "log.h"

static const struct cli_command cmd = {
    .name = "dblab-rds-config",
    .summary = "Validate a configuration file and print the effective configuration as JSON.",
    .description =
        "Loads the configuration like every other command does (${VAR} expansion,\n"
        "defaults, region/endpoint/profile from the environment), reports the first\n"
        "problem as FILE:LINE:COLUMN: KEY: PROBLEM and exits 78, or prints the\n"
        "effective configuration as one JSON line with dblab.token and\n"
        "source.password shown as \"[REDACTED]\" (secretsmanager:/ssm: references are\n"
        "shown as written) and exits 0.",
    .reads_document = 0,
    .needs_config = 1,
};

int main(int argc, char **argv)
{
    struct app a;
    int rc = app_start(&a, argc, argv, &cmd, NULL);
    if (rc != 0) {
        app_end(&a);
        return rc < 0 ? DRR_EXIT_OK : rc;
    }

    cJSON *json = config_to_json(&a.cfg);
    cJSON_AddBoolToObject(json, "valid", 1);
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (text == NULL) {
        log_error("cannot serialise the configuration");
        app_end(&a);
        return DRR_EXIT_INTERNAL;
    }
    /* config_to_json already replaced every literal secret; redact_apply is
     * not used here because it rewrites "password": null and would break the
     * JSON. */
    int bad = puts(text) == EOF || fflush(stdout) != 0;
    cJSON_free(text);
    if (bad) {
        log_error("stdout: write failed");
        app_end(&a);
        return DRR_EXIT_INTERNAL;
    }
    log_info("%s: valid", a.cli.config_path);
    app_end(&a);
    return DRR_EXIT_OK;
}
