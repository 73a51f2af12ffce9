#include "app/run_summary.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/rundoc.h"
#include "app/statedir.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/exitcodes.h"
#include "core/log.h"

#define MAX_STEPS 32

struct step {
    char name[32];
    char action[32];
    int rc;
    long long t0, t1;
};

/* A small file of the work directory, NUL-terminated, or NULL. */
static char *slurp(const char *work, const char *name, const char *suffix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", work, name, suffix);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct buf b = BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < (1u << 20))
        buf_append(&b, chunk, (size_t)n);
    close(fd);
    return buf_detach(&b);
}

/* The last line of a text (taken: freed here), parsed as JSON, or NULL. */
static cJSON *last_json_line(char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    char *line = strrchr(text, '\n');
    cJSON *j = cJSON_Parse(line ? line + 1 : text);
    free(text);
    return j;
}

static int read_steps(const char *work, struct step *st)
{
    char *text = work ? slurp(work, "steps", "") : NULL;
    int n = 0;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL;
         line && n < MAX_STEPS; line = strtok_r(NULL, "\n", &save)) {
        struct step *s = &st[n];
        s->action[0] = '\0';
        if (sscanf(line, "%31s %d %lld %lld %31s", s->name, &s->rc, &s->t0, &s->t1, s->action) >= 4)
            n++;
    }
    free(text);
    return n;
}

static double seconds(long long ns)
{
    return ns > 0 ? round((double)ns / 1e6) / 1000.0 : 0.0;
}

/* AWS calls a step's commands reported (stats.h), or -1 when none did. */
static long long aws_calls(const char *work, const char *name)
{
    char *text = slurp(work, name, ".stats");
    long long sum = -1;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "awsCalls");
        if (cJSON_IsNumber(c) && c->valuedouble >= 0)
            sum = (sum < 0 ? 0 : sum) + (long long)c->valuedouble;
        cJSON_Delete(o);
    }
    free(text);
    return sum;
}

static cJSON *recovery_entry(const char *work, const struct step *s)
{
    cJSON *o = cJSON_CreateObject();
    char *rec = slurp(work, "recovery", ".state");
    char *rid = rec ? statedir_value(rec, "runId") : NULL;
    char *clone = rec ? statedir_value(rec, "clone") : NULL;
    cJSON_AddItemToObject(o, "runId", rid && *rid ? cJSON_CreateString(rid) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "clone",
                          clone && *clone ? cJSON_CreateString(clone) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "action", s->action[0] ? s->action : "none");
    cJSON *doc = last_json_line(slurp(work, "recovery", ".out"));
    cJSON *gone = cJSON_GetObjectItemCaseSensitive(rundoc_section(doc, "deleted"), "alreadyGone");
    if (cJSON_IsBool(gone))
        cJSON_AddBoolToObject(o, "alreadyGone", cJSON_IsTrue(gone));
    cJSON_Delete(doc);
    free(rid);
    free(clone);
    free(rec);
    return o;
}

/* "steps" in order, the total AWS calls (-1: none reported), and the
 * recovery/gc entries for a cleanup document. */
static cJSON *steps_object(const char *work, const struct step *st, int n, long long *total,
                           cJSON **recovery, cJSON **gc)
{
    cJSON *steps = cJSON_CreateObject();
    *total = -1;
    for (int i = 0; i < n; i++) {
        const struct step *s = &st[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "durationSeconds", seconds(s->t1 - s->t0));
        cJSON_AddNumberToObject(o, "exitCode", s->rc);
        long long calls = aws_calls(work, s->name);
        if (calls >= 0) {
            cJSON_AddNumberToObject(o, "awsCalls", (double)calls);
            *total = (*total < 0 ? 0 : *total) + calls;
        }
        if (strcmp(s->name, "recovery") == 0) {
            cJSON *r = recovery_entry(work, s);
            for (cJSON *m = r->child; m; m = m->next)
                cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, 1));
            cJSON_Delete(*recovery);
            *recovery = r;
        }
        if (strcmp(s->name, "gc") == 0) {
            cJSON *report = last_json_line(slurp(work, "gc", ".out"));
            if (cJSON_IsObject(report)) {
                cJSON_Delete(*gc);
                *gc = cJSON_Duplicate(report, 1);
                cJSON_AddItemToObject(o, "report", report);
            } else {
                cJSON_Delete(report);
            }
        }
        char name[48];
        snprintf(name, sizeof name, "%s", s->name);
        for (int k = 2; cJSON_GetObjectItemCaseSensitive(steps, name); k++)
            snprintf(name, sizeof name, "%s%d", s->name, k);
        cJSON_AddItemToObject(steps, name, o);
    }
    return steps;
}

/* The document the accepted delete printed: the whole run document (delete -in
 * DOC) replaces base; a delete by run id printed only its section: grafted. */
static cJSON *with_deleted(const char *work, const struct step *del, cJSON *base)
{
    cJSON *d = del ? last_json_line(slurp(work, del->name, ".out")) : NULL;
    cJSON *sec = rundoc_section(d, "deleted");
    if (sec && rundoc_section(d, "clone")) {
        cJSON_Delete(base);
        return d;
    }
    if (sec && base)
        rundoc_set_section(base, "deleted", cJSON_Duplicate(sec, 1));
    cJSON_Delete(d);
    return base;
}

/* 1 when the delete step found the clone there (deleted.alreadyGone false). */
static int delete_found_clone(const char *work, const struct step *del)
{
    cJSON *d = del ? last_json_line(slurp(work, del->name, ".out")) : NULL;
    const cJSON *gone =
        cJSON_GetObjectItemCaseSensitive(rundoc_section(d, "deleted"), "alreadyGone");
    int found = cJSON_IsFalse(gone);
    cJSON_Delete(d);
    return found;
}

static void add_time(cJSON *o, const char *key, int64_t ns)
{
    char t[40];
    clock_format_rfc3339(ns / 1000000000, t, sizeof t);
    cJSON_AddStringToObject(o, key, t);
}

cJSON *run_summary_build(const struct run_summary *s, cJSON *base)
{
    struct step st[MAX_STEPS];
    int n = read_steps(s->work, st);
    const struct step *create = NULL, *del = NULL;
    for (int i = 0; i < n; i++) {
        if (!create && strcmp(st[i].name, "create") == 0)
            create = &st[i];
        if (strncmp(st[i].name, "delete", 6) == 0 && st[i].rc == 0)
            del = &st[i];
    }
    long long total = -1;
    cJSON *recovery = NULL, *gc = NULL;
    cJSON *steps = s->work ? steps_object(s->work, st, n, &total, &recovery, &gc) : NULL;
    cJSON *outcome = cJSON_CreateObject();
    cJSON_AddStringToObject(outcome, "status", s->status);
    cJSON_AddNumberToObject(outcome, "exitCode", s->exit_code);

    if (s->kind) { /* cleanup */
        cJSON_Delete(base);
        cJSON *doc = rundoc_new();
        cJSON_AddStringToObject(doc, "kind", s->kind);
        if (s->dry_run)
            cJSON_AddBoolToObject(doc, "dryRun", 1);
        cJSON_AddItemToObject(doc, "recovery", recovery ? recovery : cJSON_CreateNull());
        cJSON_AddItemToObject(doc, "gc", gc ? gc : cJSON_CreateNull());
        cJSON_AddItemToObject(doc, "steps", steps ? steps : cJSON_CreateObject());
        if (steps && total >= 0)
            cJSON_AddNumberToObject(doc, "awsCalls", (double)total);
        cJSON_AddItemToObject(doc, "outcome", outcome);
        return doc;
    }
    cJSON_Delete(recovery);
    cJSON_Delete(gc);
    /* A create that failed before AWS made anything (a preflight refusal, a
     * restore AWS refused), whose delete then found nothing: no clone ever
     * existed, so none was deleted and it had no lifetime (docs/driver.md). */
    int made = create && (create->rc == 0 || delete_found_clone(s->work, del));
    int clone_deleted = s->clone_deleted && made;
    if (s->step)
        cJSON_AddStringToObject(outcome, "step", s->step);
    if (!s->work) { /* before any step: config, lock */
        cJSON_Delete(base);
        cJSON *doc = rundoc_new();
        cJSON_AddItemToObject(doc, "outcome", outcome);
        return doc;
    }
    if (s->signal) {
        char sig[32];
        snprintf(sig, sizeof sig, "SIG%s", s->signal);
        cJSON_AddStringToObject(outcome, "signal", sig);
    }
    if (s->clone_id) {
        cJSON_AddStringToObject(outcome, "cloneId", s->clone_id);
        cJSON_AddBoolToObject(outcome, "cloneDeleted", clone_deleted);
    }
    if (!base) {
        base = rundoc_new();
        if (s->run_id)
            cJSON_AddStringToObject(base, "runId", s->run_id);
        if (s->dry_run)
            cJSON_AddBoolToObject(base, "dryRun", 1);
    }
    cJSON *doc = s->clone_deleted ? with_deleted(s->work, del, base) : base;
    cJSON_AddItemToObject(doc, "outcome", outcome);
    cJSON_AddItemToObject(doc, "steps", steps);
    if (create && del && clone_deleted && del->t1 >= create->t0)
        cJSON_AddNumberToObject(doc, "cloneLifetimeSeconds", seconds(del->t1 - create->t0));
    else
        cJSON_AddNullToObject(doc, "cloneLifetimeSeconds");
    if (total >= 0)
        cJSON_AddNumberToObject(doc, "awsCalls", (double)total);
    add_time(doc, "startedAt", s->started_ns);
    add_time(doc, "finishedAt", s->now_ns);
    cJSON_AddNumberToObject(doc, "durationSeconds",
                            s->started_ns ? seconds(s->now_ns - s->started_ns) : 0.0);
    cJSON_AddNumberToObject(doc, "exitCode", s->exit_code);
    if (s->exit_code != 0) {
        char msg[256];
        if (s->signal)
            snprintf(msg, sizeof msg, "interrupted by SIG%s during %s", s->signal,
                     s->step ? s->step : "start");
        else
            snprintf(msg, sizeof msg, "step %s failed: %s (exit %d); see the log on stderr",
                     s->step ? s->step : "?", drr_exit_description(s->exit_code), s->exit_code);
        cJSON_AddStringToObject(doc, "error", msg);
    }
    return doc;
}

/* ---------------------------------------------------------------- metrics */

static void metric(struct buf *b, const char *name, const char *help, const char *label, double v)
{
    buf_printf(b, "# HELP dblab_rds_refresh_%s %s\n# TYPE dblab_rds_refresh_%s gauge\n", name, help,
               name);
    buf_printf(b, "dblab_rds_refresh_%s{%s} %.15g\n", name, label, v);
}

/* The value of metric dblab_rds_refresh_NAME in the previous file, or -1: what a failed
 * run keeps (the engine still holds the data of the last run that succeeded). */
static double previous_value(const char *path, const char *name)
{
    FILE *f = fopen(path, "re");
    double v = -1;
    char line[1024], key[128];
    snprintf(key, sizeof key, "dblab_rds_refresh_%s{", name);
    while (f && fgets(line, sizeof line, f)) {
        char *end = strncmp(line, key, strlen(key)) == 0 ? strstr(line, "} ") : NULL;
        if (end)
            v = strtod(end + 2, NULL);
    }
    if (f)
        fclose(f);
    return v;
}

/* A time string of doc at section.key (section NULL: top level) as seconds, or -1. */
static double doc_time(const cJSON *doc, const char *section, const char *key)
{
    const cJSON *obj = section ? cJSON_GetObjectItemCaseSensitive(doc, section) : doc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    int64_t t;
    if (!cJSON_IsString(v) || clock_parse_rfc3339(v->valuestring, &t) != 0)
        return -1;
    return (double)t;
}

/* The age of the data the engine holds after a successful run: this run's values; after a
 * failed one, the previous file's (the engine still serves the older data). */
static double data_time(const struct run_summary *s, const cJSON *doc, const char *path,
                        const char *metric_name, const char *section, const char *key)
{
    return s->exit_code == 0 ? doc_time(doc, section, key) : previous_value(path, metric_name);
}

void run_summary_log_data_age(const cJSON *doc)
{
    const cJSON *as_of = cJSON_GetObjectItemCaseSensitive(doc, "dataAsOf");
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(doc, "refresh");
    const cJSON *state_at = cJSON_GetObjectItemCaseSensitive(rf, "dataStateAt");
    const cJSON *age = cJSON_GetObjectItemCaseSensitive(rf, "dataAgeAtStartSeconds");
    if (!cJSON_IsString(as_of) || !cJSON_IsObject(rf))
        return;
    char age_text[64] = "";
    if (cJSON_IsNumber(age))
        snprintf(age_text, sizeof age_text, ", %.0f s old when the refresh started",
                 age->valuedouble);
    /* The engine's dataStateAt is when its dump ran, not how old the data is
     * (docs/dblab-refresh.md): both are shown so nobody reads the label as the age. */
    log_info("the engine now holds data as of %s (dataAsOf%s); the engine labels it %s "
             "(dataStateAt, the time of its dump)",
             as_of->valuestring, age_text,
             cJSON_IsString(state_at) ? state_at->valuestring : "with no time");
}

int run_summary_metrics(const struct run_summary *s, const cJSON *doc, const char *source,
                        const char *path, struct err *e)
{
    struct buf label = BUF_INIT;
    buf_puts(&label, "source=\"");
    for (const char *p = source; p && *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_append(&label, "\\", 1);
        buf_append(&label, p, 1);
    }
    buf_puts(&label, "\"");
    const char *lb = buf_cstr(&label);
    double now = (double)(s->now_ns / 1000000000);
    double last_ok =
        s->exit_code == 0 ? now : previous_value(path, "last_success_timestamp_seconds");
    double data_at = data_time(s, doc, path, "data_timestamp_seconds", NULL, "dataAsOf");
    double engine_at =
        data_time(s, doc, path, "engine_data_state_timestamp_seconds", "refresh", "dataStateAt");
    struct buf b = BUF_INIT;
    metric(&b, "last_run_success", "1 if the last refresh run succeeded, else 0.", lb,
           s->exit_code == 0);
    metric(&b, "last_run_exit_code", "Exit code of the last refresh run (0 ok, 128+N signal N).",
           lb, s->exit_code);
    metric(&b, "last_run_timestamp_seconds", "End time of the last refresh run.", lb, now);
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(doc, "durationSeconds");
    metric(&b, "last_run_duration_seconds", "Wall time of the last refresh run.", lb,
           cJSON_IsNumber(dur) ? dur->valuedouble : 0);
    if (last_ok >= 0)
        metric(&b, "last_success_timestamp_seconds", "End time of the last successful refresh run.",
               lb, last_ok);
    if (data_at >= 0)
        metric(&b, "data_timestamp_seconds",
               "Time the engine's data is from (dataAsOf: the snapshot's creation or the "
               "restore time) after the last successful refresh.",
               lb, data_at);
    if (engine_at >= 0)
        metric(&b, "engine_data_state_timestamp_seconds",
               "The engine's dataStateAt after the last successful refresh (when its dump ran, "
               "not the data's age).",
               lb, engine_at);
    buf_puts(&b, "# HELP dblab_rds_refresh_step_duration_seconds Duration of each step of "
                 "the last refresh run.\n# TYPE dblab_rds_refresh_step_duration_seconds gauge\n");
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "steps"))
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "durationSeconds");
        buf_printf(&b, "dblab_rds_refresh_step_duration_seconds{%s,step=\"%s\"} %.15g\n", lb,
                   m->string, cJSON_IsNumber(d) ? d->valuedouble : 0);
    }
    const cJSON *life = cJSON_GetObjectItemCaseSensitive(doc, "cloneLifetimeSeconds");
    if (cJSON_IsNumber(life))
        metric(&b, "clone_lifetime_seconds",
               "Seconds from the clone's create request to its delete request, last run.", lb,
               life->valuedouble);
    metric(&b, "clone_left",
           "1 if the last run recorded a clone it could not delete (left for recovery), else 0.",
           lb, s->clone_id && !s->clone_deleted);
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(doc, "awsCalls");
    if (cJSON_IsNumber(calls))
        metric(&b, "aws_calls", "AWS API calls made by the last refresh run.", lb,
               calls->valuedouble);

    char *dcopy = strdup(path), *bcopy = strdup(path);
    int rc = 0;
    if (!dcopy || !bcopy) {
        rc = err_set(e, ERR_INTERNAL, "%s: out of memory", path);
    } else {
        const char *dir = dirname(dcopy);
        mkdir(dir, 0755); /* the textfile collector's directory, when missing */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            rc = err_set(e, ERR_INTERNAL, "%s: %s", dir, strerror(errno));
        else
            rc = statedir_write(dfd, basename(bcopy), buf_cstr(&b), b.len, 0644, e);
        if (dfd >= 0)
            close(dfd);
    }
    free(dcopy);
    free(bcopy);
    buf_release(&b);
    buf_release(&label);
    return rc;
}
