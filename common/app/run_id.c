/* The run id: check, scheduler environment, mint, choose (run_id.h). */
#include "app/run_id.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/err.h"

static int run_id_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("_.:/=+@-", c) != NULL);
}

int run_id_check(const char *id, const char *what, enum err_kind kind, struct err *e)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0)
        return err_set(e, kind, "%s: empty run id", what);
    if (len > RUN_ID_MAX)
        return err_set(e, kind,
                       "%s: run id longer than %d characters (it is stored in an AWS tag value)",
                       what, RUN_ID_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!run_id_char_ok(c)) {
            char shown[8];
            if (c >= 0x21 && c < 0x7f)
                snprintf(shown, sizeof shown, "'%c'", c);
            else
                snprintf(shown, sizeof shown, "0x%02x", c);
            return err_set(e, kind,
                           "%s: run id has %s at offset %zu; an AWS tag value holds only letters, "
                           "digits and _ . : / = + @ -",
                           what, shown, i);
        }
    }
    return 0;
}

int run_id_flag(const char *arg, const char **out, struct err *e)
{
    int rc = run_id_check(arg, "-run-id", ERR_USAGE, e);
    if (rc == 0)
        *out = arg;
    return rc;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

const char *run_id_from_env(char *buf, size_t n, const char **var_name)
{
    const char *v, *dag = NULL, *which = NULL;
    /* Airflow exports the context of the task it runs: airflow/utils/operator_helpers.py,
     * AIRFLOW_VAR_NAME_FORMAT_MAPPING (AIRFLOW_CTX_DAG_ID, AIRFLOW_CTX_DAG_RUN_ID) used by
     * context_to_airflow_vars(in_env_var_format=True). */
    if ((v = env_nonempty("AIRFLOW_CTX_DAG_RUN_ID"))) {
        which = "AIRFLOW_CTX_DAG_RUN_ID";
        dag = env_nonempty("AIRFLOW_CTX_DAG_ID");
    } else if ((v = env_nonempty("NOMAD_JOB_ID")) && strchr(v, '/')) {
        /* "name/periodic-1700000000" or "name/dispatch-...": one per launch */
        which = "NOMAD_JOB_ID";
    } else if ((v = env_nonempty("NOMAD_ALLOC_ID"))) {
        which = "NOMAD_ALLOC_ID";
    } else if ((v = env_nonempty("RD_JOB_EXECID"))) {
        which = "RD_JOB_EXECID";
    } else {
        v = NULL;
    }
    if (var_name)
        *var_name = which;
    if (!v)
        return NULL;
    int len = dag ? snprintf(buf, n, "%s/%s", dag, v) : snprintf(buf, n, "%s", v);
    if (len < 0 || (size_t)len >= n || len > RUN_ID_MAX)
        return NULL;
    return buf;
}

int run_id_mint(int64_t now, char *out, size_t n, struct err *e)
{
    unsigned char r[8];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return err_set(e, ERR_INTERNAL, "minting a run id: getrandom: %s",
                           k < 0 ? strerror(errno) : "no bytes");
        got += (size_t)k;
    }
    char stamp[32];
    clock_format_amz(now, stamp, sizeof stamp); /* 20261203T083027Z */
    snprintf(out, n, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", stamp, r[0], r[1], r[2], r[3], r[4],
             r[5], r[6], r[7]);
    return 0;
}

int run_id_choose(const char *flag, const char *doc_run_id, int64_t now, char *out, size_t n,
                  const char **origin, struct err *e)
{
    const char *v = NULL;
    enum err_kind kind = ERR_OK;
    char envbuf[RUN_ID_MAX + 1];
    if (flag) {
        v = flag, *origin = "-run-id", kind = ERR_USAGE;
    } else if (doc_run_id) {
        v = doc_run_id, *origin = "the document's runId", kind = ERR_INPUT;
    } else {
        const char *var = NULL;
        v = run_id_from_env(envbuf, sizeof envbuf, &var);
        if (var) {
            *origin = var, kind = ERR_CONFIG;
            if (!v)
                return err_set(e, kind,
                               "%s: run id longer than %d characters (it is stored "
                               "in an AWS tag value)",
                               var, RUN_ID_MAX);
        }
    }
    if (!v) {
        *origin = "minted";
        return run_id_mint(now, out, n, e);
    }
    int rc = run_id_check(v, *origin, kind, e);
    if (rc)
        return rc;
    snprintf(out, n, "%s", v);
    return 0;
}
