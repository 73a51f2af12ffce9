/* The driver's final document and metrics (docs/driver.md "Output and exit code",
 * "Metrics"), built in C from what the driver recorded in its work directory:
 *
 *   WORK/steps        one line per step that ran: "NAME EXITCODE START_NS END_NS [ACTION]"
 *   WORK/NAME.stats   the step's $DRR_STATS_FILE (stats.h: one JSON line per command)
 *   WORK/NAME.out     the step's stdout (gc: its report; delete*: the deleted document)
 *   WORK/recovery.state  the run record recovery found (key=value: runId, clone)
 */
#ifndef DRR_RUN_SUMMARY_H
#define DRR_RUN_SUMMARY_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/err.h"

struct run_summary {
    const char *work;   /* the work directory, NULL: no step ran (early exit) */
    const char *kind;   /* NULL: a refresh run; "cleanup" */
    const char *status; /* success, failed, interrupted, skipped, busy */
    int exit_code;
    const char *step;     /* the first failed step, or NULL */
    const char *signal;   /* "TERM" etc., or NULL */
    const char *clone_id; /* the clone named by this run, or NULL */
    int clone_deleted;
    int dry_run;
    const char *run_id; /* for a run that has no document yet */
    int64_t started_ns; /* when the run started, ns since the epoch; 0 unknown */
    int64_t now_ns;     /* when it ended */
};

/* The final document: base (taken; the newest run document or NULL) with the
 * delete's section grafted, plus outcome, steps, cloneLifetimeSeconds, awsCalls,
 * startedAt, finishedAt, durationSeconds, exitCode and error. For kind
 * "cleanup": kind, recovery, gc, steps, awsCalls, outcome. */
cJSON *run_summary_build(const struct run_summary *s, cJSON *base);

/* Writes the Prometheus text metrics of the document built above to path
 * (temporary name + rename, mode 0644), keeping the last success time from the
 * previous file when this run failed. Returns 0 or ERR_INTERNAL. */
/* Logs, after a run that refreshed, the time the data is from (dataAsOf) next to the
 * engine's dataStateAt label. Nothing when the document has no refresh. */
void run_summary_log_data_age(const cJSON *doc);

int run_summary_metrics(const struct run_summary *s, const cJSON *doc, const char *source,
                        const char *path, struct err *e);

#endif
