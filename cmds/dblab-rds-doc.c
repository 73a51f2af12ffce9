/* dblab-rds-doc: what the driver needs from documents, in C, so the shell
 * driver neither parses nor builds JSON:
 *   -field PATH      a value of a run document ("runId", "clone.id", "a.0.b")
 *   -summary ...     the driver's final document (common/app/run_summary.h) and metrics
 *   -log LEVEL       one log line as every command writes it (text or JSON)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/run_summary.h"
#include "app/rundoc.h"
#include "core/err.h"
#include "core/log.h"

enum {
    OPT_FIELD = 1000,
    OPT_SUMMARY,
    OPT_LOG,
    OPT_MESSAGE,
    OPT_WORK,
    OPT_KIND,
    OPT_STATUS,
    OPT_EXIT,
    OPT_STEP,
    OPT_SIGNAL,
    OPT_CLONE,
    OPT_DELETED,
    OPT_STARTED,
    OPT_RUN_ID,
    OPT_METRICS
};

static const struct cli_option options[] = {
    {"field", required_argument, OPT_FIELD, "PATH",
     "print the value at PATH of the document (strings raw, others as JSON); exit 86 when "
     "absent"},
    {"summary", no_argument, OPT_SUMMARY, NULL, "print the driver's final document"},
    {"work", required_argument, OPT_WORK, "DIR", "summary: the driver's work directory"},
    {"kind", required_argument, OPT_KIND, "KIND",
     "summary: \"cleanup\" for dblab-rds-refresh cleanup"},
    {"status", required_argument, OPT_STATUS, "STATUS", "summary: outcome.status"},
    {"exit-code", required_argument, OPT_EXIT, "N", "summary: the run's exit code"},
    {"step", required_argument, OPT_STEP, "NAME", "summary: the first failed step"},
    {"signal", required_argument, OPT_SIGNAL, "NAME", "summary: the signal (TERM, INT, HUP)"},
    {"clone-id", required_argument, OPT_CLONE, "NAME", "summary: the clone the run named"},
    {"clone-deleted", no_argument, OPT_DELETED, NULL, "summary: its delete was accepted"},
    {"started-at", required_argument, OPT_STARTED, "NS", "summary: run start, ns since the epoch"},
    {"run-id", required_argument, OPT_RUN_ID, "ID", "summary: the run id (no document yet)"},
    {"metrics-file", required_argument, OPT_METRICS, "PATH", "summary: write Prometheus metrics"},
    {"log", required_argument, OPT_LOG, "LEVEL",
     "log -message as dblab-rds-refresh (info, warn, "
     "error)"},
    {"message", required_argument, OPT_MESSAGE, "TEXT", "the message of -log"},
    {NULL, 0, 0, NULL, NULL},
};

struct opts {
    const char *field, *log, *message, *metrics;
    int summary;
    struct run_summary s;
};
static struct opts opts = {.s = {.status = "success"}};

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    char *end = NULL;
    switch (id) {
    case OPT_FIELD:
        o->field = arg;
        break;
    case OPT_SUMMARY:
        o->summary = 1;
        break;
    case OPT_LOG:
        o->log = arg;
        break;
    case OPT_MESSAGE:
        o->message = arg;
        break;
    case OPT_WORK:
        o->s.work = *arg ? arg : NULL;
        break;
    case OPT_KIND:
        o->s.kind = arg;
        break;
    case OPT_STATUS:
        o->s.status = arg;
        break;
    case OPT_STEP:
        o->s.step = *arg ? arg : NULL;
        break;
    case OPT_SIGNAL:
        o->s.signal = *arg ? arg : NULL;
        break;
    case OPT_CLONE:
        o->s.clone_id = *arg ? arg : NULL;
        break;
    case OPT_DELETED:
        o->s.clone_deleted = 1;
        break;
    case OPT_RUN_ID:
        o->s.run_id = *arg ? arg : NULL;
        break;
    case OPT_METRICS:
        o->metrics = *arg ? arg : NULL;
        break;
    case OPT_EXIT:
        o->s.exit_code = (int)strtol(arg, &end, 10);
        break;
    case OPT_STARTED:
        o->s.started_ns = strtoll(arg, &end, 10);
        break;
    }
    if (end && (*end || end == arg))
        return err_set(e, ERR_USAGE, "\"%s\" is not a number", arg);
    return 0;
}

static const struct cli_command cmd = {
    .name = "dblab-rds-doc",
    .summary = "field queries, the final document and log lines for the dblab-rds-refresh driver",
    .description = "-field PATH reads a run document (-in FILE or stdin) and prints one value:\n"
                   "a string as is, anything else as compact JSON; exit 86 when PATH is absent,\n"
                   "65 when the document is invalid. -summary builds the driver's final document\n"
                   "from its work directory (docs/driver.md) and writes -metrics-file. -log LEVEL\n"
                   "-message TEXT writes one log line in the driver's name.",
    .reads_document = CLI_DOCUMENT_ON_DEMAND,
    .needs_config = 0,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

static const cJSON *at_path(const cJSON *v, const char *path)
{
    char *copy = strdup(path);
    char *save = NULL;
    for (char *k = copy ? strtok_r(copy, ".", &save) : NULL; k && v;
         k = strtok_r(NULL, ".", &save)) {
        char *end;
        long i = strtol(k, &end, 10);
        if (cJSON_IsArray(v) && *k && !*end)
            v = cJSON_GetArrayItem(v, (int)i);
        else
            v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, k) : NULL;
    }
    free(copy);
    return copy ? v : NULL;
}

static int print_field(struct app *a)
{
    /* A field query changes nothing, so a dry run's document is no cause for the
     * warning that the reading step runs dry too: the driver checks every step's
     * output, and the preflight's is always a dry run's (a WARN in every run). */
    a->cli.dry_run = 1;
    int rc = app_read_document(a, NULL);
    if (rc != 0)
        return rc;
    const cJSON *v = at_path(a->doc, opts.field);
    if (!v)
        return ERR_NOT_FOUND;
    if (cJSON_IsString(v))
        return printf("%s\n", v->valuestring) < 0 ? ERR_INTERNAL : 0;
    char *text = cJSON_PrintUnformatted(v);
    rc = text && printf("%s\n", text) >= 0 ? 0 : ERR_INTERNAL;
    cJSON_free(text);
    return rc;
}

static int summary(struct app *a)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    opts.s.now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    opts.s.dry_run = a->cli.dry_run;
    int rc = a->cli.in_path ? app_read_document(a, NULL) : 0;
    if (rc != 0)
        return rc;
    cJSON *doc = run_summary_build(&opts.s, a->doc);
    a->doc = doc;
    if (opts.s.exit_code == 0 && !a->cli.dry_run)
        run_summary_log_data_age(doc);
    if (opts.metrics && !a->cli.dry_run) {
        struct err e = {0};
        const char *source = a->cfg_loaded ? a->cfg.source.identifier : "";
        if (run_summary_metrics(&opts.s, doc, source, opts.metrics, &e) != 0)
            log_warn("cannot write the metrics file: %s", e.msg);
    }
    return rundoc_write(doc);
}

static int log_line(const struct app *a)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int l = LOG_LEVEL_DEBUG; l <= LOG_LEVEL_ERROR; l++)
        if (strcmp(opts.log, names[l]) == 0) {
            log_init("dblab-rds-refresh", a->cli.log_format, LOG_LEVEL_DEBUG);
            log_msg((enum log_level)l, "%s", opts.message ? opts.message : "");
            return 0;
        }
    log_error("-log: \"%s\" is not debug, info, warn or error", opts.log);
    return ERR_USAGE;
}

static int run_command(struct app *a, struct err *e)
{
    int rc;
    if (!!opts.field + opts.summary + !!opts.log != 1)
        rc = err_set(e, ERR_USAGE, "give one of -field, -summary, -log");
    else if (opts.field)
        rc = print_field(a);
    else if (opts.summary)
        rc = summary(a);
    else
        rc = log_line(a);
    if (rc == 0 && fflush(stdout) != 0)
        rc = err_set(e, ERR_INTERNAL, "stdout: write failed: %s", strerror(errno));
    a->name = NULL; /* its own counters are not the run's */
    return rc;
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
