/* DBLab Engine API client (engine 3.5+ / 4.x), over common/core/http.h.
 *
 * Follows ../shared/reference/dblab/dblab_openapi.yaml where the engine agrees
 * with it, and the engine where it does not:
 *   - `retrieving.alerts` is an OBJECT keyed by alert type
 *     ({"refresh_failed": {level, message, lastSeen, count}}), not an array;
 *   - error bodies carry only {code, message};
 *   - `lastRefresh` / `nextRefresh` / `dataStateAt` use the engine's LocalTime
 *     format "2006-01-02 15:04:05 -07:00" (or "" / null when unset); RFC 3339
 *     is accepted too.
 *
 * Every call sends the Verification-Token header (GET /healthz needs none but
 * gets it anyway: harmless, and one code path). The token is registered with
 * redact_add_secret by dblab_client_new and never appears in a message.
 * TLS is verified unless opt->insecure (the caller logs the warning).
 *
 * Idempotent calls are retried on network errors and HTTP 500/502/503/504 by the
 * shared policy (core/retry.h, core/http_retry.h); the owner's cancellation
 * stops a call and its backoff at once.
 *
 * Every failure is ONE line naming the call, the HTTP status and the engine's
 * code/message, e.g. "DBLab POST /full-refresh: HTTP 400 BAD_REQUEST: ...".
 * Error kinds (core/err.h): network errors and HTTP 5xx -> ERR_TRANSIENT; TLS
 * problems -> ERR_TLS (from http.c); HTTP 401/403 -> ERR_DBLAB_UNAUTHORIZED;
 * other HTTP errors -> ERR_DBLAB_REJECTED; a 2xx that is not the answer (not
 * JSON, a field missing or of the wrong type) -> ERR_DBLAB_BAD_ANSWER; the
 * full-refresh refusals have their own (dblab_full_refresh). */
#ifndef DRR_DBLAB_H
#define DRR_DBLAB_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "core/cancel.h"
#include "core/err.h"

struct dblab_client;
struct retry;

struct dblab_options {
    const char *endpoint; /* dblab.apiEndpoint, e.g. https://dblab:2345 or http://host:2346/api */
    const char *token;    /* dblab.token (already resolved, never a reference) */
    const char *ca_cert;  /* dblab.caCert: PEM bundle of a private CA, or NULL */
    int insecure;         /* dblab.insecure: skip TLS verification */
    long timeout_ms;      /* per request; 0 = 60 s */
    int max_attempts;     /* for idempotent calls on network errors / 5xx; 0 = 3 */
};

/* Returns 0 or ERR_CONFIG (bad endpoint URL) / ERR_INTERNAL. */
int dblab_client_new(const struct dblab_options *opt, struct dblab_client **out, struct err *e);
void dblab_client_free(struct dblab_client *c);
/* Changes max_attempts (the refresh wait polls once per call and tolerates
 * failed polls itself). */
void dblab_client_set_max_attempts(struct dblab_client *c, int n);
/* The owner's cancellation (cancel.h) of every call and retry backoff; none by
 * default. A command installs signals_cancel(). */
void dblab_client_set_cancel(struct dblab_client *c, struct cancel cancel);
/* The client's retry policy (core/retry.h): base DBLAB_RETRY_BASE_DELAY, cap
 * DBLAB_RETRY_MAX_DELAY, full jitter; tests inject its random and sleep. */
#define DBLAB_RETRY_BASE_DELAY 0.5
#define DBLAB_RETRY_MAX_DELAY  8.0
struct retry *dblab_client_retry(struct dblab_client *c);

/* ---- GET /healthz -------------------------------------------------------- */
struct dblab_health {
    char *version; /* "v4.0.0-..." or NULL when not reported */
    char *edition;
    char *instance_id;
};
int dblab_healthz(struct dblab_client *c, struct dblab_health *out, struct err *e);
void dblab_health_release(struct dblab_health *h);

/* ---- GET /status (the Instance model) ------------------------------------ */
struct dblab_alert {
    char *type; /* the key: "refresh_failed", "refresh_skipped", ... */
    char *level;
    char *message;
    int64_t last_seen; /* epoch seconds; 0 = not reported */
    long long count;
};

struct dblab_status {
    char *status_code; /* status.code ("OK", "WARNING", ...) or NULL */
    char *status_message;
    char *engine_version;   /* engine.version or NULL */
    char *mode;             /* retrieving.mode: "logical", "physical", "unknown" */
    char *retrieval_status; /* retrieving.status: "inactive", "pending", "refreshing",
                               "snapshotting", "renewed", "finished", "failed" */
    int64_t last_refresh;   /* retrieving.lastRefresh; 0 = never */
    int64_t next_refresh;   /* retrieving.nextRefresh; 0 = scheduler off */
    struct dblab_alert *alerts;
    size_t n_alerts;
    int64_t data_state_at; /* newest pools[].dataStateAt; 0 = none reported */
};

int dblab_status_get(struct dblab_client *c, struct dblab_status *out, struct err *e);
void dblab_status_release(struct dblab_status *s);
/* The alert of that type, or NULL. */
const struct dblab_alert *dblab_status_alert(const struct dblab_status *s, const char *type);
/* 1 for the states in which a refresh is running or queued (another job owns
 * the engine): refreshing, snapshotting, renewed, pending. */
int dblab_retrieval_busy(const char *retrieval_status);

/* ---- /admin/config (the nested projection) ------------------------------- */
/* GET: *out is the projection object (caller cJSON_Delete). */
int dblab_config_get(struct dblab_client *c, cJSON **out, struct err *e);
/* POST a partial nested update; *applied (may be NULL) receives the engine's
 * re-projected answer. The body may hold a password: it is never logged. */
int dblab_config_set(struct dblab_client *c, const cJSON *update, cJSON **applied, struct err *e);

/* ---- POST /full-refresh -------------------------------------------------- */
/* 0 when the engine answered 200 (the refresh starts asynchronously). The 400
 * refusals map to: refresh/snapshot in progress -> ERR_BUSY; retrieval
 * pending -> ERR_BUSY (own message); no pool free of clones ->
 * ERR_TRANSIENT; 404 -> ERR_DBLAB_REJECTED "engine too old". Never retried:
 * a second trigger would be refused as "in progress". */
int dblab_full_refresh(struct dblab_client *c, struct err *e);

/* ---- Pure helpers (unit-tested without a server) ------------------------- */
/* Parsers of the bodies above. name is used in messages ("GET /status"). */
int dblab_parse_health(const char *body, const char *name, struct dblab_health *out, struct err *e);
int dblab_parse_status(const char *body, const char *name, struct dblab_status *out, struct err *e);
/* Builds the one-line message for a non-2xx answer into e, of that kind (returns it):
 * "DBLab <name>: HTTP <status> <CODE>: <message>", falling back to a cleaned
 * excerpt of a non-JSON body. */
int dblab_http_error(long status, const char *body, const char *name, enum err_kind kind,
                     struct err *e);
/* The engine's times: "" / NULL -> 0 (unset); LocalTime or RFC 3339 -> epoch.
 * Returns 0 ok, -1 invalid. */
int dblab_parse_time(const char *s, int64_t *out);

/* Dotted-path access to the nested projection ("retrieval.spec.logicalDump...").
 * set creates intermediate objects and replaces an existing leaf (takes
 * ownership of value). get returns the leaf or NULL. */
void dblab_projection_set(cJSON *root, const char *path, cJSON *value);
const cJSON *dblab_projection_get(const cJSON *root, const char *path);
/* 1 when the leaf at path in got equals want (strings equal; numbers equal,
 * a numeric string in got is accepted for a number). */
int dblab_projection_matches(const cJSON *got, const char *path, const cJSON *want);

#endif
