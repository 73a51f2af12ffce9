/* The run id: the name of ONE execution of a pipeline (clone.h says what a pipeline
 * is). It is chosen once, by the first step, and travels in the run document; the
 * clone's name and its dblab-rds-refresh:run-id tag are derived from it.
 *
 * Precedence (run_id_choose): the -run-id flag, then the document's runId, then the
 * scheduler's environment, then a freshly minted one. */
#ifndef DRR_RUN_ID_H
#define DRR_RUN_ID_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* An AWS tag value holds at most 256 characters. */
#define RUN_ID_MAX 256

/* 0 when id can be a run id: 1-RUN_ID_MAX characters, each an ASCII letter, digit
 * or one of _ . : / = + @ - (the ASCII part of what RDS accepts in a tag value:
 * "^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$", without blanks so that shell callers need no
 * quoting care). Else `kind` with e naming `what` (e.g. "-run-id", "runId") and
 * the first offending character. */
int run_id_check(const char *id, const char *what, enum err_kind kind, struct err *e);

/* The -run-id flag of every command that takes one: checked (ERR_USAGE naming
 * "-run-id"), then *out = arg. */
int run_id_flag(const char *arg, const char **out, struct err *e);

/* The scheduler's run id, copied into buf (RUN_ID_MAX + 1 bytes):
 *  - Airflow: "<AIRFLOW_CTX_DAG_ID>/<AIRFLOW_CTX_DAG_RUN_ID>" (a run_id is unique
 *    only within its DAG: two DAGs share "scheduled__<date>"), or the run id alone
 *    when no DAG id is exported;
 *  - Nomad: NOMAD_JOB_ID when it names a periodic/dispatched child job (contains
 *    '/'), else NOMAD_ALLOC_ID;
 *  - Rundeck: RD_JOB_EXECID.
 * Returns buf, or NULL when none is set (*var_name NULL) or the value is longer
 * than RUN_ID_MAX (then *var_name names it and run_id_check reports it). */
const char *run_id_from_env(char *buf, size_t n, const char **var_name);

/* A new run id: "YYYYMMDDTHHMMSSZ-" (UTC, for people) + 16 hex digits = 64 bits
 * from getrandom(2) (for uniqueness: two hosts starting in the same second). 0, or
 * ERR_INTERNAL when the kernel gives no randomness. */
int run_id_mint(int64_t now, char *out, size_t n, struct err *e);

/* The run id of this step into out (RUN_ID_MAX + 1 bytes), by the precedence above;
 * flag and doc_run_id may be NULL. *origin says where it came from ("-run-id",
 * "the document's runId", an environment variable, "minted"). Every source is
 * checked with run_id_check: a bad flag is ERR_USAGE, a bad document runId
 * ERR_INPUT, a bad environment value ERR_CONFIG. */
int run_id_choose(const char *flag, const char *doc_run_id, int64_t now, char *out, size_t n,
                  const char **origin, struct err *e);

#endif
