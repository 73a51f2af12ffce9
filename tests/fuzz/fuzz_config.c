/* The configuration loader (config_load_string: libyaml, the key tables, every
 * typed setter, ${VAR}/$VAR expansion, duplicate keys, the cross-key rules).
 * The AWS files are pointed away (fuzz_aws_ini covers them). */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "config/config.h"
#include "fuzz.h"

void fuzz_init(void)
{
    /* The variables the seeds use; others stay unset (an error path). */
    setenv("DBLAB_TOKEN", "fuzz-token", 1);
    setenv("DRR_FUZZ_EMPTY", "", 1);
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_RDS");
    unsetenv("AWS_MAX_ATTEMPTS");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = fuzz_cstr(data, size);
    struct config cfg;
    struct err e = {0};
    if (config_load_string(yaml, "fuzz.yaml", &cfg, &e) == 0) {
        void *j = config_to_json(&cfg); /* the dblab-rds-config output path */
        cJSON_Delete(j);
    }
    config_release(&cfg);
    free(yaml);
    return 0;
}
