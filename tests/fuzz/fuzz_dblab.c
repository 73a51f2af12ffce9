/* DBLab Engine answers: one body through every reader dblab-refresh uses --
 * GET /status, GET /healthz, an error answer at several HTTP statuses, the
 * admin config projection (get and compare at the paths the command sets),
 * and the engine's time format. */
#include <stdlib.h>
#include <cjson/cJSON.h>

#include "core/err.h"
#include "dblab/dblab.h"
#include "fuzz.h"

void fuzz_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_cstr(data, size);
    struct err e = {0};

    struct dblab_status st;
    if (dblab_parse_status(body, "GET /status", &st, &e) == 0) {
        (void)dblab_status_alert(&st, "refresh_failed");
        (void)dblab_retrieval_busy(st.retrieval_status);
    }
    dblab_status_release(&st);

    struct dblab_health h;
    (void)dblab_parse_health(body, "GET /healthz", &h, &e);
    dblab_health_release(&h);

    static const long statuses[] = {400, 401, 403, 404, 409, 500, 502};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        (void)dblab_http_error(statuses[i], body, "POST /admin/full-refresh", ERR_DBLAB_REJECTED,
                               &e);

    cJSON *cfg = cJSON_Parse(body);
    if (cfg != NULL) {
        static const char *const paths[] = {
            "retrieval.spec.logicalDump.options.source.connection.host",
            "retrieval.spec.logicalDump.options.source.connection.port",
            "retrieval.spec.logicalDump.options.source.rdsIam.dbInstanceIdentifier",
            "retrieval.spec.logicalDump.options.parallelJobs",
            "retrieval.refresh.timetable",
        };
        cJSON *want = cJSON_CreateNumber(5432);
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            (void)dblab_projection_get(cfg, paths[i]);
            (void)dblab_projection_matches(cfg, paths[i], want);
        }
        cJSON *copy = cJSON_Duplicate(cfg, 1);
        if (copy != NULL)
            dblab_projection_set(copy, paths[0], cJSON_CreateString("clone.example"));
        cJSON_Delete(copy);
        cJSON_Delete(want);
        cJSON_Delete(cfg);
    }

    int64_t t;
    (void)dblab_parse_time(body, &t);
    free(body);
    return 0;
}
