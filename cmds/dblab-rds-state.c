/* dblab-rds-state: the driver's state directory and its run record, in C so the
 * trust checks, O_NOFOLLOW and atomic writes are done once, correctly
 * (common/app/statedir.h). The record is the run id: written before the clone can
 * exist, so the next start deletes a killed run's clone by pipeline + run id. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/run_id.h"
#include "app/statedir.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "rds/clone.h"

#define RECORD "run.state"

enum {
    OPT_STATE_DIR = 1000,
    OPT_PREPARE,
    OPT_WORK,
    OPT_RECORD,
    OPT_PID,
    OPT_RUN_ID,
    OPT_GET,
    OPT_SHOW,
    OPT_CLEAR
};

static const struct cli_option options[] = {
    {"state-dir", required_argument, OPT_STATE_DIR, "DIR",
     "the state directory (default: see docs/driver.md)"},
    {"prepare", no_argument, OPT_PREPARE, NULL,
     "check (trust rule) and create the source's directory; print its path"},
    {"work", required_argument, OPT_WORK, "PID",
     "remove work directories of dead drivers, create work.PID; print its path"},
    {"record", required_argument, OPT_RECORD, "STEP",
     "write the run record (run.state) for STEP atomically; prints the clone name"},
    {"pid", required_argument, OPT_PID, "PID", "with -record: the driver's pid"},
    {"run-id", required_argument, OPT_RUN_ID, "ID", "with -record: the run id"},
    {"get", required_argument, OPT_GET, "KEY",
     "print KEY of the run record (exit 86 when there is no record)"},
    {"show", no_argument, OPT_SHOW, NULL, "print the run record (exit 86 when there is none)"},
    {"clear", no_argument, OPT_CLEAR, NULL, "remove the run record"},
    {NULL, 0, 0, NULL, NULL},
};

struct opts {
    const char *state_dir, *work, *record, *pid, *run_id, *get;
    int prepare, show, clear, actions;
};
static struct opts opts;

/* Values go into "key=value" lines: one line, printable. */
static int printable(const char *s)
{
    for (; *s; s++)
        if (iscntrl((unsigned char)*s))
            return 0;
    return 1;
}

static int on_option(int id, const char *arg, void *ctx, struct err *e)
{
    struct opts *o = ctx;
    for (const struct cli_option *op = options; arg && op->name; op++)
        if (op->id == id && (!*arg || !printable(arg)))
            return err_set(e, ERR_USAGE, "-%s: empty or has control characters", op->name);
    switch (id) {
    case OPT_STATE_DIR:
        o->state_dir = arg;
        return 0;
    case OPT_PID:
        o->pid = arg;
        return 0;
    case OPT_RUN_ID:
        return run_id_flag(arg, &o->run_id, e);
    case OPT_PREPARE:
        o->prepare = 1;
        break;
    case OPT_WORK:
        o->work = arg;
        break;
    case OPT_RECORD:
        o->record = arg;
        break;
    case OPT_GET:
        o->get = arg;
        break;
    case OPT_SHOW:
        o->show = 1;
        break;
    case OPT_CLEAR:
        o->clear = 1;
        break;
    }
    o->actions++;
    return 0;
}

static const struct cli_command cmd = {
    .name = "dblab-rds-state",
    .summary = "the driver's state directory and run record (trusted, atomic, no symlinks)",
    .description =
        "Used by dblab-rds-refresh. The directory is STATE/REGION.SOURCE; it and the state\n"
        "directory must be owned by the running user and not writable by group or others,\n"
        "and no symlink inside it is followed (exit 78 otherwise, nothing written). The run\n"
        "record run.state holds runId, pid, step, source, clone (derived from the pipeline\n"
        "and the run id by the one naming rule) and writtenAt as key=value lines.",
    .reads_document = 0,
    .needs_config = 1,
    .extra = options,
    .on_option = on_option,
    .ctx = &opts,
};

/* REGION.IDENTIFIER with anything but [A-Za-z0-9._-] as '_': one directory per source. */
static void source_key(const struct config *cfg, char *out, size_t n)
{
    const char *region = cfg->aws.region ? cfg->aws.region : "";
    snprintf(out, n, "%s%s%s", region, *region ? "." : "", cfg->source.identifier);
    for (char *p = out; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
            *p = '_';
}

static int write_record(int dfd, const struct config *cfg, struct err *e)
{
    char clone[CLONE_NAME_MAX + 1] = "";
    char at[32];
    clock_format_rfc3339(clock_now(), at, sizeof at);
    if (opts.run_id)
        clone_name(cfg->clone.pipeline, opts.run_id, clone, sizeof clone);
    char text[4096];
    int n =
        snprintf(text, sizeof text, "runId=%s\npid=%s\nstep=%s\nsource=%s\n%s%s%swrittenAt=%s\n",
                 opts.run_id ? opts.run_id : "", opts.pid ? opts.pid : "", opts.record,
                 cfg->source.identifier, *clone ? "clone=" : "", clone, *clone ? "\n" : "", at);
    if (n < 0 || (size_t)n >= sizeof text)
        return err_set(e, ERR_USAGE, "run record: values too long");
    int rc = statedir_write(dfd, RECORD, text, (size_t)n, 0600, e);
    if (rc == 0 && *clone)
        printf("%s\n", clone);
    return rc;
}

static int act(int dfd, const char *sdir, const struct config *cfg, struct err *e)
{
    if (opts.prepare)
        return printf("%s\n", sdir) < 0 ? ERR_INTERNAL : 0;
    if (opts.work) {
        char *end;
        long pid = strtol(opts.work, &end, 10);
        if (*end || pid <= 0)
            return err_set(e, ERR_USAGE, "-work: \"%s\" is not a pid", opts.work);
        int rc = statedir_work(dfd, pid, e);
        return rc ? rc : printf("%s/work.%ld\n", sdir, pid) < 0 ? ERR_INTERNAL : 0;
    }
    if (opts.record)
        return write_record(dfd, cfg, e);
    if (opts.clear) {
        if (unlinkat(dfd, RECORD, 0) != 0 && errno != ENOENT)
            return err_set(e, ERR_INTERNAL, "%s/%s: %s", sdir, RECORD, strerror(errno));
        return 0;
    }
    char *text;
    int rc = statedir_read(dfd, RECORD, &text, e);
    if (rc != 0)
        return rc;
    char *v = opts.get ? statedir_value(text, opts.get) : NULL;
    if (opts.show)
        fputs(text, stdout);
    else if (v)
        printf("%s\n", v);
    free(v);
    free(text);
    return 0;
}

static int run_command(struct app *a, struct err *e)
{
    int rc = 0;
    char base[4096], key[512], sdir[4096 + 512];
    int dfd = -1;
    if (opts.actions != 1)
        rc = err_set(e, ERR_USAGE, "give one of -prepare, -work, -record, -get, -show, -clear");
    else if (opts.record && !opts.pid)
        rc = err_set(e, ERR_USAGE, "-record needs -pid");
    if (rc == 0 && opts.state_dir)
        snprintf(base, sizeof base, "%s", opts.state_dir);
    else if (rc == 0)
        rc = statedir_default(base, sizeof base, e);
    if (rc == 0) {
        source_key(&a->cfg, key, sizeof key);
        snprintf(sdir, sizeof sdir, "%s/%s", base, key);
        rc = statedir_open(base, key, &dfd, e);
    }
    if (rc == 0)
        rc = act(dfd, sdir, &a->cfg, e);
    if (rc == 0 && fflush(stdout) != 0)
        rc = err_set(e, ERR_INTERNAL, "stdout: write failed: %s", strerror(errno));
    if (dfd >= 0)
        close(dfd);
    return rc; /* "no record" (86) has no message: silent */
}

int main(int argc, char **argv)
{
    return app_main(argc, argv, &cmd, NULL, run_command);
}
