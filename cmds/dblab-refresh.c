/* dblab-refresh: points the DBLab Engine at the ready clone and runs a full
 * refresh to the end.
 *
 *   healthz -> status (logical mode, not busy) -> the config projection
 *   (pre-checked against GET /admin/config, POSTed, read back and verified)
 *   -> POST /full-refresh once -> wait for start, then for the end.
 *
 * Reads the run document with `endpoint` (and `clone`), writes it back with
 * `refresh`. Nothing is changed on the engine until every check passed; a
 * refusal (physical mode, busy, a key the engine would ignore) leaves it as it
 * was. See docs/dblab-refresh.md.
 *
 * For a scheduler that does the waiting (the Step Functions state machine,
 * deploy/sam) the run splits in two: -start does everything up to the trigger
 * and writes the baseline the wait compares against into the `refresh` section;
 * -status makes ONE check of the wait (the same refresh_check the blocking
 * wait loops over), counting the timeouts from refresh.startedAt: finished =
 * 0 with refresh.status "finished", not yet = 75 with refresh.status "running". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/rundoc.h"
#include "app/waitline.h"
#include "aws/aws_client.h"
#include "config/config.h"
#include "aws/secrets.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/http.h"
#include "core/json_type.h"
#include "core/log.h"
#include "core/signals.h"
#include "dblab/dblab.h"
#include "rds/clone_secret.h"
#include "rds/instance_class.h"
#include "rds/rds_cli.h"

#define KEY_SOURCE       "retrieval.spec.logicalDump.options.source"
#define KEY_HOST         KEY_SOURCE ".connection.host"
#define KEY_PORT         KEY_SOURCE ".connection.port"
#define KEY_DBNAME       KEY_SOURCE ".connection.dbname"
#define KEY_USERNAME     KEY_SOURCE ".connection.username"
#define KEY_PASSWORD     KEY_SOURCE ".connection.password"
#define KEY_RDSIAM_ID    KEY_SOURCE ".rdsIam.dbInstanceIdentifier"
#define KEY_DUMP_JOBS    "retrieval.spec.logicalDump.options.parallelJobs"
#define KEY_RESTORE_JOBS "retrieval.spec.logicalRestore.options.parallelJobs"

/* Failed polls in a row that the wait tolerates (engine restart, network blip). */
#define MAX_FAILED_POLLS 5

enum { OPT_START = 1000, OPT_STATUS, OPT_EXPECT };

static const struct cli_option options[] = {
    {"start", no_argument, OPT_START, NULL,
     "the checks, the config and the trigger only; the document carries what -status needs"},
    {"status", no_argument, OPT_STATUS, NULL,
     "one check of a refresh -start began: 0 when finished, 75 with refresh.status \"running\""},
    {"expect", required_argument, OPT_EXPECT, "DURATION",
     "the refresh's expected duration (the driver passes the previous run's), shown with the "
     "progress"},
    {NULL, 0, 0, NULL, NULL},
};

enum run_mode { MODE_BLOCKING, MODE_START, MODE_STATUS };
static enum run_mode mode = MODE_BLOCKING;
static int64_t expect;

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    (void)ctx;
    if (id == OPT_EXPECT) {
        if (duration_parse(arg, &expect) != 0)
            return err_set(e, ERR_USAGE, "-expect: \"%s\" is not a duration (e.g. 2h)", arg);
        return 0;
    }
    enum run_mode m = id == OPT_START ? MODE_START : MODE_STATUS;
    if (mode != MODE_BLOCKING && mode != m)
        return err_set(e, ERR_USAGE, "-start and -status exclude each other");
    mode = m;
    return 0;
}

static const struct cli_command cmd = {
    .name = "dblab-refresh",
    .summary = "point the DBLab Engine at the clone and run a full refresh to the end",
    .description =
        "Reads the run document (with `endpoint` from rds-clone-wait), checks the engine\n"
        "(healthz, logical mode, no refresh running), sets the logicalDump source to the\n"
        "clone through POST /admin/config and verifies that every value took effect,\n"
        "triggers POST /full-refresh once and waits until the refresh finishes. Writes the\n"
        "document with a `refresh` section. With -dry-run: the checks only, and the config\n"
        "it would send (password redacted) on stderr.",
    .reads_document = 1,
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
};

/* Where the server.yml needs a key for the engine to accept it: the engine only
 * rewrites keys its YAML already has, and drops the others without a word. */
static const char *server_yml_hint(const char *key)
{
    if (strcmp(key, KEY_RDSIAM_ID) == 0)
        return "add under retrieval.spec.logicalDump.options.source: `type: rdsIam` and an "
               "`rdsIam:` block with `awsRegion`, `dbInstanceIdentifier` and `sslRootCert` "
               "(any placeholder value; this tool rewrites it each run)";
    if (strcmp(key, KEY_DUMP_JOBS) == 0)
        return "add `parallelJobs: 1` under retrieval.spec.logicalDump.options";
    if (strcmp(key, KEY_RESTORE_JOBS) == 0)
        return "add `parallelJobs: 1` under retrieval.spec.logicalRestore.options";
    return "add under retrieval.spec.logicalDump.options.source a `connection:` block with "
           "`host`, `port`, `dbname`, `username` and `password` (placeholder values are fine; "
           "this tool rewrites them each run)";
}

/* The update this run sends, and the keys to verify afterwards. */
struct projection {
    cJSON *update;       /* the nested object POSTed to /admin/config */
    const char *keys[9]; /* every leaf set, in order */
    int optional[9];     /* 1: dropped (not an error) when server.yml lacks it */
    size_t n_keys;
};

static void proj_set(struct projection *p, const char *key, cJSON *value, int optional)
{
    dblab_projection_set(p->update, key, value);
    p->optional[p->n_keys] = optional;
    p->keys[p->n_keys++] = key;
}

/* Removes key i from the update, and the parents it leaves empty. */
static void proj_drop(struct projection *p, size_t i)
{
    char path[160];
    snprintf(path, sizeof path, "%s", p->keys[i]);
    char *dot;
    while ((dot = strrchr(path, '.')) != NULL) {
        *dot = '\0'; /* path is now the parent, dot + 1 the child's name */
        cJSON *parent = (cJSON *)dblab_projection_get(p->update, path);
        cJSON_DeleteItemFromObjectCaseSensitive(parent, dot + 1);
        if (parent->child)
            break;
    }
    if (!dot)
        cJSON_DeleteItemFromObjectCaseSensitive(p->update, path);
    memmove(&p->keys[i], &p->keys[i + 1], (p->n_keys - i - 1) * sizeof p->keys[0]);
    memmove(&p->optional[i], &p->optional[i + 1], (p->n_keys - i - 1) * sizeof p->optional[0]);
    p->n_keys--;
}

/* One parallelJobs setting: PARALLEL_UNSET leaves the engine's own value. */
static int resolve_jobs(int setting, const char *cfg_key, int auto_value, const char *auto_why,
                        int *out, struct err *e)
{
    *out = 0;
    if (setting == PARALLEL_UNSET)
        return 0;
    if (setting != PARALLEL_AUTO) {
        *out = setting;
        log_info("%s: %d", cfg_key, setting);
        return 0;
    }
    if (auto_value < 1)
        return err_set(e, ERR_CONFIG, "%s: auto: %s; set a number instead", cfg_key, auto_why);
    *out = auto_value;
    log_info("%s: auto = %d (%s)", cfg_key, auto_value, auto_why);
    return 0;
}

/* The clone's endpoint from the run document. A dry run that precedes any clone
 * gets placeholders (the upstream dry run created none). Checked once before any
 * network call, so a bad document is 65 whatever the engine's state. */
static int read_endpoint(const cJSON *doc, int dry, const char **host, long long *port,
                         struct err *e)
{
    *host = "<clone endpoint>";
    *port = 5432;
    if (!rundoc_section(doc, "endpoint") && dry)
        return 0;
    int rc = rundoc_get_string(doc, "endpoint", "host", host, e);
    if (rc == 0)
        rc = rundoc_get_int(doc, "endpoint", "port", port, e);
    if (rc)
        return rc;
    if (*port < 1 || *port > 65535)
        return err_set(e, ERR_INPUT, "endpoint.port: %lld is not a TCP port", *port);
    return 0;
}

/* The credentials DBLab gets: the clone's own (clone.masterPassword managed), or
 * source.username / source.password (keep), read from the configuration when the
 * projection is built (after its secret references are resolved). */
struct credentials {
    int clone_own;
    const char *user;
    const char *password;
};

static int build_projection(struct app *a, const struct credentials *cr, struct projection *p,
                            struct err *e)
{
    const struct config *cfg = &a->cfg;
    const cJSON *doc = a->doc;
    const cJSON *endpoint = rundoc_section(doc, "endpoint");
    const cJSON *clone = rundoc_section(doc, "clone");
    int dry = a->cli.dry_run;
    p->update = cJSON_CreateObject();
    p->n_keys = 0;

    /* connection: the clone's endpoint */
    const char *host;
    long long port;
    int rc = read_endpoint(doc, dry, &host, &port, e);
    if (rc)
        return rc;
    /* With rdsIam the engine finds the endpoint from the instance id and does
     * not read host/port: a server.yml without them is fine. */
    int iam = cfg->clone.enable_iam_auth == TRI_TRUE;
    proj_set(p, KEY_HOST, cJSON_CreateString(host), iam);
    proj_set(p, KEY_PORT, cJSON_CreateNumber((double)port), iam);
    if (cfg->source.db_name)
        proj_set(p, KEY_DBNAME, cJSON_CreateString(cfg->source.db_name), 0);
    const char *user = cr->clone_own ? cr->user : cfg->source.username;
    const char *password = cr->clone_own ? cr->password : cfg->source.password;
    if (user)
        proj_set(p, KEY_USERNAME, cJSON_CreateString(user), 0);
    if (password)
        proj_set(p, KEY_PASSWORD, cJSON_CreateString(password), 0);

    /* rdsIam: the engine calls DescribeDBInstances with this id to build its
     * IAM token, so for Aurora it must be the writer INSTANCE, never the cluster. */
    if (cfg->clone.enable_iam_auth == TRI_TRUE) {
        const char *id = NULL;
        const cJSON *v = endpoint ? cJSON_GetObjectItemCaseSensitive(endpoint, "instanceId") : NULL;
        if (cJSON_IsString(v) && v->valuestring[0])
            id = v->valuestring;
        v = clone ? cJSON_GetObjectItemCaseSensitive(clone, "writerInstanceId") : NULL;
        if (!id && cJSON_IsString(v) && v->valuestring[0])
            id = v->valuestring;
        const cJSON *kind = clone ? cJSON_GetObjectItemCaseSensitive(clone, "kind") : NULL;
        v = clone ? cJSON_GetObjectItemCaseSensitive(clone, "id") : NULL;
        if (!id && cJSON_IsString(v) && v->valuestring[0] &&
            !(cJSON_IsString(kind) && strcmp(kind->valuestring, "cluster") == 0))
            id = v->valuestring;
        if (!id && !dry)
            return err_set(e, ERR_INPUT,
                           "endpoint.instanceId: missing (clone.enableIAMAuth needs the clone's "
                           "instance id; for Aurora the writer instance, clone.writerInstanceId)");
        proj_set(p, KEY_RDSIAM_ID, cJSON_CreateString(id ? id : "<clone instance id>"), 0);
    }

    /* Parallelism is opt-in: pg_dump -j cannot run with the engine's
     * immediateRestore mode, and the engine then fails silently. */
    const char *cls = NULL;
    const cJSON *c = clone ? cJSON_GetObjectItemCaseSensitive(clone, "instanceClass") : NULL;
    cls = cJSON_IsString(c) ? c->valuestring : cfg->clone.instance_class;
    int vcpus = instance_class_vcpus(cls);
    char why[160];
    if (vcpus > 0)
        snprintf(why, sizeof why, "half of %s's %d vCPUs", cls, vcpus);
    else
        snprintf(why, sizeof why, "the vCPUs of instance class \"%s\" are unknown", cls ? cls : "");
    int dump_jobs, restore_jobs;
    rc = resolve_jobs(cfg->dblab.dump_parallel_jobs, "dblab.dumpParallelJobs",
                      vcpus > 0 ? (vcpus / 2 > 1 ? vcpus / 2 : 1) : -1, why, &dump_jobs, e);
    if (rc)
        return rc;
    long local = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(why, sizeof why, "the %ld vCPUs of this machine, which should be the DBLab host",
             local);
    rc = resolve_jobs(cfg->dblab.restore_parallel_jobs, "dblab.restoreParallelJobs",
                      local > 0 ? (int)local : 1, why, &restore_jobs, e);
    if (rc)
        return rc;
    if (dump_jobs > 1)
        log_warn("dblab.dumpParallelJobs: pg_dump -j %d is incompatible with the engine's "
                 "immediateRestore mode (the refresh then fails silently): make sure "
                 "logicalDump.options.immediateRestore is off",
                 dump_jobs);
    if (dump_jobs)
        proj_set(p, KEY_DUMP_JOBS, cJSON_CreateNumber(dump_jobs), 0);
    if (restore_jobs)
        proj_set(p, KEY_RESTORE_JOBS, cJSON_CreateNumber(restore_jobs), 0);
    return 0;
}

/* The update as it may be shown: password replaced. Caller frees. */
static char *projection_for_log(const struct projection *p)
{
    cJSON *copy = cJSON_Duplicate(p->update, 1);
    if (dblab_projection_get(copy, KEY_PASSWORD))
        dblab_projection_set(copy, KEY_PASSWORD, cJSON_CreateString("[REDACTED]"));
    char *s = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    return s;
}

/* The engine answers GET /admin/config with the keys its YAML has, never a
 * password. A key it lacks would be dropped silently by the POST. */
static int check_keys(struct projection *p, const cJSON *cfg, int after_post, struct err *e)
{
    for (size_t i = 0; i < p->n_keys; i++) {
        const char *k = p->keys[i];
        if (strcmp(k, KEY_PASSWORD) == 0)
            continue; /* never returned: cannot be verified, only sent */
        const cJSON *want = dblab_projection_get(p->update, k);
        if (!after_post && p->optional[i] && !dblab_projection_get(cfg, k)) {
            log_info("server.yml has no %s: not sent (the rdsIam source does not use it)", k);
            proj_drop(p, i--);
            continue;
        }
        if (!after_post) {
            if (!dblab_projection_get(cfg, k))
                return err_set(e, ERR_CONFIG,
                               "DBLab server.yml has no %s, so the engine would silently ignore "
                               "it and %s; %s. Nothing was changed",
                               k,
                               strncmp(k, KEY_SOURCE, strlen(KEY_SOURCE)) == 0
                                   ? "refresh from its old source"
                                   : "keep its old value",
                               server_yml_hint(k));
        } else if (!dblab_projection_matches(cfg, k, want)) {
            const cJSON *got = dblab_projection_get(cfg, k);
            char *gs = got ? cJSON_PrintUnformatted(got) : NULL;
            int rc = err_set(e, ERR_CONFIG,
                             "DBLab did not apply %s (it reads back %s): the engine ignores keys "
                             "its server.yml does not contain; %s",
                             k, gs ? gs : "nothing", server_yml_hint(k));
            cJSON_free(gs);
            return rc;
        }
    }
    return 0;
}

static void fmt_time(int64_t t, char *out, size_t n)
{
    if (t > 0)
        clock_format_rfc3339(t, out, n);
    else
        snprintf(out, n, "never");
}

/* What the refresh must be compared against: the engine before the trigger. */
struct baseline {
    int64_t trigger_time;
    int64_t last_refresh;
    int had_alert;      /* a refresh_failed alert was there before the trigger */
    int64_t alert_seen; /* its lastSeen and count */
    long long alert_count;
};

/* The engine's clock may run behind ours by this much. */
#define CLOCK_SLACK 300

/* A refresh_failed alert raised after the trigger, or NULL. The alert that was
 * there before (a previous run's: the stale-failed race) does not count; an
 * alert counts when it appeared or changed (lastSeen, count) since then and its
 * lastSeen is not older than the trigger (minus the clock slack). */
static const struct dblab_alert *new_failure(const struct dblab_status *s, const struct baseline *b)
{
    const struct dblab_alert *al = dblab_status_alert(s, "refresh_failed");
    if (!al)
        return NULL;
    int changed = !b->had_alert || al->last_seen != b->alert_seen || al->count != b->alert_count;
    if (!changed)
        return NULL;
    if (al->last_seen > 0 && al->last_seen < b->trigger_time - CLOCK_SLACK)
        return NULL;
    return al;
}

static int signal_exit(int sig, const char *when)
{
    log_error("interrupted by signal %d %s", sig, when);
    /* The exit code (128 + sig) is app_finish's: the signal stays pending. */
    return ERR_INTERRUPTED;
}

/* The wait's state between two checks: in memory for the blocking wait, in the
 * document's `refresh` section for -status. */
struct progress {
    struct baseline b;
    int started;
    int failed_polls;
    char last_state[64];
};

/* One check of the refresh, `elapsed` seconds after the trigger: *finished = 1
 * (*final receives the status) or 0 (not yet); returns 0 or the error's kind.
 * The blocking wait and -status both make exactly this check. */
static int refresh_check(struct dblab_client *c, const struct config *cfg, struct progress *p,
                         double elapsed, struct dblab_status *final, int *finished, struct err *e)
{
    *finished = 0;
    const struct baseline *b = &p->b;
    char tbuf[32], dbuf[32];
    struct dblab_status s;
    struct err pe = {0};
    int rc = dblab_status_get(c, &s, &pe);
    if (signals_pending())
        return signal_exit(signals_pending(),
                           "while waiting for the refresh; the engine "
                           "continues it and may still be reading from the clone");
    if (rc) {
        if (rc != ERR_TRANSIENT || ++p->failed_polls > MAX_FAILED_POLLS)
            return err_set(e, rc,
                           "%s%s; the refresh may still be running and reading from "
                           "the clone",
                           pe.msg, rc == ERR_TRANSIENT ? " (too many failed polls in a row)" : "");
        log_warn("poll %d of %d tolerated: %s", p->failed_polls, MAX_FAILED_POLLS, pe.msg);
    } else {
        if (p->failed_polls)
            log_info("the engine answers again after %d failed poll%s", p->failed_polls,
                     p->failed_polls == 1 ? "" : "s");
        p->failed_polls = 0;
        const char *st = s.retrieval_status;
        if (strcmp(p->last_state, st) != 0) {
            log_info("retrieval status: %s", st);
            snprintf(p->last_state, sizeof p->last_state, "%s", st);
        }
        const struct dblab_alert *al = new_failure(&s, b);
        if (al) {
            rc = err_set(e, ERR_REFRESH_FAILED, "the DBLab refresh failed: %s",
                         al->message && al->message[0] ? al->message : "(no message)");
            dblab_status_release(&s);
            return rc;
        }
        if (!p->started && (s.last_refresh != b->last_refresh || strcmp(st, "refreshing") == 0 ||
                            strcmp(st, "snapshotting") == 0)) {
            p->started = 1;
            fmt_time(s.last_refresh, tbuf, sizeof tbuf);
            log_info("the refresh started (lastRefresh %s)", tbuf);
        }
        if (p->started && strcmp(st, "failed") == 0) {
            rc = err_set(e, ERR_REFRESH_FAILED,
                         "the DBLab refresh failed (status failed, no refresh_failed alert "
                         "with details: see the engine's log)");
            dblab_status_release(&s);
            return rc;
        }
        if (p->started && strcmp(st, "inactive") == 0) {
            rc = err_set(e, ERR_REFRESH_FAILED,
                         "the DBLab refresh stopped: retrieval status became inactive");
            dblab_status_release(&s);
            return rc;
        }
        if (p->started && strcmp(st, "finished") == 0) {
            *final = s;
            *finished = 1;
            return 0;
        }
        /* Before the start, a "finished" or "failed" is the previous run's. */
        dblab_status_release(&s);
    }

    if (!p->started && elapsed >= (double)cfg->dblab.start_timeout) {
        duration_format(cfg->dblab.start_timeout, dbuf, sizeof dbuf);
        fmt_time(b->last_refresh, tbuf, sizeof tbuf);
        return err_set(e, ERR_TIMEOUT,
                       "the engine accepted the refresh but did not start it within %s "
                       "(lastRefresh still %s, status %s): it failed before starting and "
                       "only its log says why (a bad job config, missing AWS credentials "
                       "for rdsIam); dblab.startTimeout sets this limit",
                       dbuf, tbuf, p->last_state[0] ? p->last_state : "unknown");
    }
    if (elapsed >= (double)cfg->dblab.timeout) {
        duration_format(cfg->dblab.timeout, dbuf, sizeof dbuf);
        return err_set(e, ERR_TIMEOUT,
                       "the refresh did not finish within dblab.timeout %s (status %s); "
                       "the engine may still be reading from the clone",
                       dbuf, p->last_state[0] ? p->last_state : "unknown");
    }
    return 0;
}

/* Polls /status until the refresh started and finished. *final receives the
 * last status on success. */
static int wait_refresh(struct dblab_client *c, const struct config *cfg, struct progress *p,
                        struct dblab_status *final, struct err *e)
{
    double t0 = clock_monotonic();
    double poll = cfg->dblab.poll_interval > 0 ? (double)cfg->dblab.poll_interval : 30.0;

    dblab_client_set_max_attempts(c, 1); /* the loop is the retry */
    struct waitline wl;
    waitline_init(&wl, "refresh", expect);
    for (;;) {
        int finished = 0;
        int rc = refresh_check(c, cfg, p, clock_monotonic() - t0, final, &finished, e);
        if (rc || finished)
            return rc;
        waitline_status(&wl, p->last_state);
        double elapsed = clock_monotonic() - t0;
        double sleep_for = poll;
        double limit =
            (p->started ? (double)cfg->dblab.timeout
                        : fmin((double)cfg->dblab.start_timeout, (double)cfg->dblab.timeout)) -
            elapsed;
        if (sleep_for > limit)
            sleep_for = limit;
        int sig = waitline_sleep(&wl, sleep_for);
        if (sig)
            return signal_exit(sig, "while waiting for the refresh; the engine continues it "
                                    "and may still be reading from the clone");
    }
}

/* -start writes the progress into the `refresh` section; -status reads it back. */
static void save_progress(cJSON *r, const struct progress *p)
{
    cJSON_AddStringToObject(r, "status", "running");
    char tb[32];
    clock_format_rfc3339(p->b.trigger_time, tb, sizeof tb);
    cJSON_AddStringToObject(r, "startedAt", tb);
    cJSON *bl = cJSON_AddObjectToObject(r, "baseline");
    if (p->b.last_refresh > 0) {
        clock_format_rfc3339(p->b.last_refresh, tb, sizeof tb);
        cJSON_AddStringToObject(bl, "lastRefresh", tb);
    } else {
        cJSON_AddNullToObject(bl, "lastRefresh");
    }
    if (p->b.had_alert) {
        cJSON *al = cJSON_AddObjectToObject(bl, "refreshFailedAlert");
        cJSON_AddNumberToObject(al, "lastSeen", (double)p->b.alert_seen);
        cJSON_AddNumberToObject(al, "count", (double)p->b.alert_count);
    }
    cJSON_AddBoolToObject(r, "observedStart", p->started);
    cJSON_AddNumberToObject(r, "failedPolls", p->failed_polls);
    if (p->last_state[0])
        cJSON_AddStringToObject(r, "engineStatus", p->last_state);
}

static int load_time(const cJSON *obj, const char *name, const char *path, int64_t *out,
                     struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = 0;
    if (cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || clock_parse_rfc3339(v->valuestring, out) != 0)
        return err_set(e, ERR_INPUT,
                       "%s: missing or not an RFC 3339 time (run "
                       "dblab-refresh -start first)",
                       path);
    return 0;
}

static int load_progress(const cJSON *doc, struct progress *p, struct err *e)
{
    memset(p, 0, sizeof *p);
    const cJSON *r = rundoc_section(doc, "refresh");
    const cJSON *bl = r ? cJSON_GetObjectItemCaseSensitive(r, "baseline") : NULL;
    if (!cJSON_IsObject(bl))
        return err_set(e, ERR_INPUT,
                       "refresh.baseline: missing (run dblab-refresh -start "
                       "first)");
    int rc = load_time(r, "startedAt", "refresh.startedAt", &p->b.trigger_time, e);
    if (rc == 0 && p->b.trigger_time == 0)
        rc = err_set(e, ERR_INPUT, "refresh.startedAt: missing");
    if (rc == 0)
        rc = load_time(bl, "lastRefresh", "refresh.baseline.lastRefresh", &p->b.last_refresh, e);
    if (rc)
        return rc;
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(bl, "refreshFailedAlert");
    if (al) {
        const cJSON *seen = cJSON_GetObjectItemCaseSensitive(al, "lastSeen");
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(al, "count");
        long long seen_at, n;
        if (json_integer(seen, &seen_at) != 0 || json_integer(count, &n) != 0)
            return err_set(e, ERR_INPUT,
                           "refresh.baseline.refreshFailedAlert: needs "
                           "whole numbers lastSeen and count");
        p->b.had_alert = 1;
        p->b.alert_seen = (int64_t)seen_at;
        p->b.alert_count = n;
    }
    p->started = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "observedStart"));
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(r, "failedPolls");
    if (cJSON_IsNumber(fp) && fp->valuedouble >= 0 && fp->valuedouble <= MAX_FAILED_POLLS)
        p->failed_polls = (int)fp->valuedouble;
    const cJSON *es = cJSON_GetObjectItemCaseSensitive(r, "engineStatus");
    if (cJSON_IsString(es))
        snprintf(p->last_state, sizeof p->last_state, "%s", es->valuestring);
    return 0;
}

/* The engine's dataStateAt is when its dump STARTED (the engine sets it to
 * time.Now() before pg_dump: engine/internal/retrieval/engine/postgres/logical/
 * dump.go), not how old the data is; the document's dataAsOf is (the snapshot's
 * time or the restore time). Records the data's age when the refresh started and
 * warns when the engine's value is in the future or far from dataAsOf. */
#define DATA_STATE_DRIFT 3600

static void check_data_age(const cJSON *doc, const struct baseline *b, int64_t data_state_at,
                           int64_t now, cJSON *r)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "dataAsOf");
    int64_t as_of = 0;
    if (cJSON_IsString(v) && clock_parse_rfc3339(v->valuestring, &as_of) == 0 && as_of > 0)
        cJSON_AddNumberToObject(r, "dataAgeAtStartSeconds", (double)(b->trigger_time - as_of));
    char dsbuf[32], asbuf[32], nowbuf[32];
    fmt_time(data_state_at, dsbuf, sizeof dsbuf);
    fmt_time(now, nowbuf, sizeof nowbuf);
    if (data_state_at > now + CLOCK_SLACK)
        log_warn("the engine reports dataStateAt %s, in the future (now %s): its clock is "
                 "wrong; the data is from %s",
                 dsbuf, nowbuf,
                 as_of > 0 ? v->valuestring : "an unknown time (no dataAsOf in the document)");
    if (as_of > 0 && data_state_at > 0 &&
        llabs((long long)(data_state_at - as_of)) > DATA_STATE_DRIFT) {
        char agebuf[32];
        duration_format(data_state_at > as_of ? data_state_at - as_of : as_of - data_state_at,
                        agebuf, sizeof agebuf);
        fmt_time(as_of, asbuf, sizeof asbuf);
        log_warn("the engine labels the data %s (dataStateAt: when its dump started), but the "
                 "data is from %s (dataAsOf), %s %s: DBLab users see the label, not the age",
                 dsbuf, asbuf, agebuf, data_state_at > as_of ? "older" : "newer");
    }
}

/* The `refresh` section of a finished refresh; written by both modes. */
static int write_finished(struct app *a, const struct progress *p, const struct dblab_status *final,
                          const char *engine_version)
{
    int64_t finished = clock_now();
    cJSON *r = cJSON_CreateObject();
    char sbuf[32], fbuf[32], dsbuf[32];
    clock_format_rfc3339(p->b.trigger_time, sbuf, sizeof sbuf);
    clock_format_rfc3339(finished, fbuf, sizeof fbuf);
    cJSON_AddStringToObject(r, "startedAt", sbuf);
    cJSON_AddStringToObject(r, "finishedAt", fbuf);
    cJSON_AddNumberToObject(r, "durationSeconds", (double)(finished - p->b.trigger_time));
    cJSON_AddStringToObject(r, "status", final->retrieval_status);
    if (final->data_state_at > 0) {
        clock_format_rfc3339(final->data_state_at, dsbuf, sizeof dsbuf);
        cJSON_AddStringToObject(r, "dataStateAt", dsbuf);
    }
    if (engine_version)
        cJSON_AddStringToObject(r, "engineVersion", engine_version);
    cJSON *doc = app_doc(a);
    check_data_age(doc, &p->b, final->data_state_at, finished, r);
    rundoc_set_section(doc, "refresh", r);
    log_info("refresh finished in %llds%s%s", (long long)(finished - p->b.trigger_time),
             final->data_state_at > 0 ? "; data state at " : "",
             final->data_state_at > 0 ? dsbuf : "");
    return rundoc_write(doc);
}

/* secretsmanager:/ssm: references in dblab.token and source.password are
 * resolved here (secrets.h registers the values with redact_add_secret). The
 * AWS client is made only when there is one: a plain config needs no AWS
 * credentials in this step. */
static int resolve_secrets(struct app *a, struct err *e)
{
    if (!config_is_secret_reference(a->cfg.dblab.token) &&
        !(a->cfg.source.password && config_is_secret_reference(a->cfg.source.password)))
        return 0;
    struct aws_ctx *aws;
    int rc = aws_ctx_new_from_config(&a->cfg, &aws, e);
    if (rc)
        return rc;
    aws_ctx_set_cancel(aws, signals_cancel());
    rc = secrets_resolve_config(aws, &a->cfg, e);
    aws_ctx_free(aws);
    return rc;
}

/* The secrets resolved and the client made: the same for every mode. */
static int open_engine(struct app *a, struct dblab_client **cp, struct err *e)
{
    const struct config *cfg = &a->cfg;
    int rc = resolve_secrets(a, e);
    if (rc)
        return rc;
    struct dblab_options opt = {
        .endpoint = cfg->dblab.api_endpoint,
        .token = cfg->dblab.token,
        .ca_cert = cfg->dblab.ca_cert,
        .insecure = cfg->dblab.insecure,
    };
    if (cfg->dblab.insecure)
        log_warn("dblab.insecure: TLS certificate verification of %s is OFF; anyone on the path "
                 "can read the token and the clone's credentials",
                 cfg->dblab.api_endpoint);
    rc = dblab_client_new(&opt, cp, e);
    if (rc == 0)
        dblab_client_set_cancel(*cp, signals_cancel());
    return rc;
}

/* -status: one check of the refresh -start triggered. */
static int run_status(struct app *a, struct dblab_client **cp, struct err *e)
{
    struct progress p;
    int rc = load_progress(a->doc, &p, e);
    if (rc == 0)
        rc = open_engine(a, cp, e);
    if (rc)
        return rc;
    dblab_client_set_max_attempts(*cp, 1); /* the scheduler's loop is the retry */
    const cJSON *r = rundoc_section(a->doc, "refresh");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(r, "engineVersion");
    char *engine_version = cJSON_IsString(ev) ? xstrdup(ev->valuestring) : NULL;
    struct dblab_status final = {0};
    int finished = 0;
    rc = refresh_check(*cp, &a->cfg, &p, (double)(clock_now() - p.b.trigger_time), &final,
                       &finished, e);
    if (rc == 0 && finished) {
        rc = write_finished(a, &p, &final, engine_version);
    } else if (rc == 0) {
        cJSON *nr = cJSON_CreateObject();
        save_progress(nr, &p);
        if (engine_version)
            cJSON_AddStringToObject(nr, "engineVersion", engine_version);
        cJSON *doc = app_doc(a);
        rundoc_set_section(doc, "refresh", nr);
        log_info("the refresh is not finished yet (%s); check again later",
                 p.last_state[0] ? p.last_state : "no answer");
        rc = rundoc_write(doc);
        if (rc == 0)
            rc = ERR_TRANSIENT; /* "not yet": refresh.status "running" says so too */
    }
    dblab_status_release(&final);
    free(engine_version);
    return rc;
}

/* clone.masterPassword managed: the clone's master user and its password from
 * the clone's RDS-managed secret, read now (a dry run reads nothing). */
static int clone_credentials(struct app *a, char **user, char **password, struct err *e)
{
    *user = *password = NULL;
    if (config_master_password(&a->cfg) != MASTER_PASSWORD_MANAGED)
        return 0;
    if (a->cli.dry_run) {
        log_info("dry run: DBLab would connect as the clone's master user with the clone's own "
                 "password (its RDS-managed secret, read at refresh time)");
        *user = xstrdup("<clone master user>");
        return 0;
    }
    const char *id, *kind_s;
    enum rds_kind kind;
    int rc = rundoc_get_string(a->doc, "clone", "id", &id, e);
    if (rc == 0)
        rc = rundoc_get_string(a->doc, "clone", "kind", &kind_s, e);
    if (rc == 0 && rds_cli_parse_kind(kind_s, &kind) != 0)
        rc = err_set(e, ERR_INPUT, "clone.kind: \"%s\" is neither instance nor cluster", kind_s);
    if (rc)
        return rc;
    struct aws_ctx *aws;
    if ((rc = rds_cli_aws_new(&a->cfg, &aws, e)))
        return rc;
    rc = clone_secret_read(aws, kind, id, user, password, e);
    rds_cli_aws_free(aws);
    return rc;
}

static int run_with(struct app *a, const struct credentials *cr, struct dblab_client **cp,
                    struct err *e);

static int run(struct app *a, struct dblab_client **cp, struct err *e)
{
    int dry = a->cli.dry_run;
    int rc;
    if (!dry && !rundoc_section(a->doc, "endpoint"))
        return err_set(e, ERR_INPUT, "endpoint: missing section (run rds-clone-wait first)");
    const char *host;
    long long port;
    if ((rc = read_endpoint(a->doc, dry, &host, &port, e)))
        return rc;
    char *clone_user = NULL, *clone_password = NULL;
    if ((rc = clone_credentials(a, &clone_user, &clone_password, e)))
        return rc;
    struct credentials cr = {clone_user != NULL, clone_user, clone_password};
    rc = run_with(a, &cr, cp, e);
    free(clone_user);
    clone_secret_free(clone_password);
    return rc;
}

static int run_with(struct app *a, const struct credentials *cr, struct dblab_client **cp,
                    struct err *e)
{
    const struct config *cfg = &a->cfg;
    int dry = a->cli.dry_run;
    int rc;

    if ((rc = open_engine(a, cp, e)))
        return rc;
    struct dblab_client *c = *cp;

    /* 1. health */
    struct dblab_health h;
    if ((rc = dblab_healthz(c, &h, e)))
        return rc;
    log_info("DBLab Engine %s (%s edition) at %s", h.version ? h.version : "(version unknown)",
             h.edition ? h.edition : "unknown", cfg->dblab.api_endpoint);
    char *engine_version = h.version ? xstrdup(h.version) : NULL;
    dblab_health_release(&h);
    int major, minor;
    if (engine_version && sscanf(engine_version, "v%d.%d", &major, &minor) == 2 &&
        (major < 3 || (major == 3 && minor < 5))) {
        rc = err_set(e, ERR_DBLAB_REJECTED,
                     "DBLab Engine %s is too old: the full-refresh and admin "
                     "config APIs need 3.5 or newer; nothing was changed",
                     engine_version);
        free(engine_version);
        return rc;
    }

    /* 2. status: mode, busy, scheduler */
    struct dblab_status st;
    struct projection p = {0};
    cJSON *current = NULL, *applied = NULL;
    struct dblab_status final = {0};
    if ((rc = dblab_status_get(c, &st, e)))
        goto out_version;
    if (!engine_version && st.engine_version)
        engine_version = xstrdup(st.engine_version);
    char tbuf[32];
    fmt_time(st.last_refresh, tbuf, sizeof tbuf);
    log_info("retrieval: mode %s, status %s, last refresh %s", st.mode, st.retrieval_status, tbuf);
    if (strcmp(st.mode, "logical") != 0) {
        rc = err_set(e, ERR_GUARD,
                     "the DBLab Engine's retrieval mode is \"%s\", not \"logical\": it cannot "
                     "refresh from an RDS clone with pg_dump (and does not check this itself); "
                     "nothing was changed",
                     st.mode);
        goto out;
    }
    if (dblab_retrieval_busy(st.retrieval_status)) {
        rc = err_set(e, ERR_BUSY,
                     "the DBLab Engine is busy (retrieval status %s): another job owns it; "
                     "nothing was changed",
                     st.retrieval_status);
        goto out;
    }
    if (st.next_refresh > 0) {
        fmt_time(st.next_refresh, tbuf, sizeof tbuf);
        log_warn("the engine's own refresh scheduler is on (next refresh %s): it will later "
                 "refresh from a deleted clone or from whatever source it has; set "
                 "retrieval.refresh.timetable: \"\" in server.yml",
                 tbuf);
    }

    /* 3. the config projection: checked before anything is changed */
    if ((rc = build_projection(a, cr, &p, e)))
        goto out;
    char *shown = projection_for_log(&p);
    if (dry)
        log_info("dry run: would send POST /admin/config %s", shown);
    else
        log_debug("POST /admin/config %s", shown);
    cJSON_free(shown);
    if ((rc = dblab_config_get(c, &current, e)))
        goto out;
    if ((rc = check_keys(&p, current, 0, e)))
        goto out;
    if (dry) {
        log_info("dry run: the engine is healthy, logical and idle, and has every key; "
                 "no change made, no refresh triggered");
        rc = rundoc_write(app_doc(a));
        goto out;
    }
    if (signals_pending()) {
        rc = signal_exit(signals_pending(), "before changing the engine; nothing was changed");
        goto out;
    }
    if ((rc = dblab_config_set(c, p.update, &applied, e)))
        goto out;
    cJSON_Delete(current);
    current = NULL;
    if ((rc = dblab_config_get(c, &current, e)))
        goto out;
    if ((rc = check_keys(&p, current, 1, e)))
        goto out;
    const cJSON *hv = dblab_projection_get(p.update, KEY_HOST);
    const cJSON *pv = dblab_projection_get(p.update, KEY_PORT);
    const cJSON *iv = dblab_projection_get(p.update, KEY_RDSIAM_ID);
    if (cJSON_IsString(hv) && cJSON_IsNumber(pv))
        log_info("the engine's logicalDump source is now %s:%d", hv->valuestring,
                 (int)pv->valuedouble);
    if (cJSON_IsString(iv))
        log_info("the engine's rdsIam source is now DB instance %s", iv->valuestring);

    /* 4. trigger, once */
    if (signals_pending()) {
        rc = signal_exit(signals_pending(), "before the refresh was triggered");
        goto out;
    }
    struct progress prog = {.b = {.trigger_time = clock_now(), .last_refresh = st.last_refresh}};
    const struct dblab_alert *al = dblab_status_alert(&st, "refresh_failed");
    if (al) {
        prog.b.had_alert = 1;
        prog.b.alert_seen = al->last_seen;
        prog.b.alert_count = al->count;
    }
    if ((rc = dblab_full_refresh(c, e)))
        goto out;
    if (mode == MODE_START) {
        cJSON *r = cJSON_CreateObject();
        save_progress(r, &prog);
        if (engine_version)
            cJSON_AddStringToObject(r, "engineVersion", engine_version);
        rundoc_set_section(app_doc(a), "refresh", r);
        log_info("full refresh triggered; dblab-refresh -status checks it (start within %llds, "
                 "finish within %llds)",
                 (long long)cfg->dblab.start_timeout, (long long)cfg->dblab.timeout);
        rc = rundoc_write(app_doc(a));
        goto out;
    }
    log_info("full refresh triggered; waiting (poll every %llds, start within %llds, "
             "finish within %llds)",
             (long long)cfg->dblab.poll_interval, (long long)cfg->dblab.start_timeout,
             (long long)cfg->dblab.timeout);

    /* 5. wait */
    if ((rc = wait_refresh(c, cfg, &prog, &final, e)))
        goto out;
    rc = write_finished(a, &prog, &final, engine_version);

out:
    dblab_status_release(&final);
    cJSON_Delete(applied);
    cJSON_Delete(current);
    cJSON_Delete(p.update);
    dblab_status_release(&st);
out_version:
    free(engine_version);
    return rc;
}

static int run_command(struct app *a, struct err *e)
{
    struct dblab_client *c = NULL;
    int rc = mode == MODE_STATUS ? run_status(a, &c, e) : run(a, &c, e);
    dblab_client_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = app_main(argc, argv, &cmd, NULL, run_command);
    http_global_cleanup();
    return rc;
}
