/* lambda-bootstrap: the Lambda custom runtime of the container image (Dockerfile
 * target `lambda`). One process serves invocation after invocation through the
 * Runtime API (lambda_runtime.h):
 *
 *   lambda-bootstrap step    one pipeline step per invocation (lambda_step.h), the
 *                            Task of every state of deploy/sam/statemachine.asl.json
 *   lambda-bootstrap entry   the seed's {"dryRun": true|false} entry (lambda_entry.h)
 *
 * The mode is the image's CMD (the function's ImageConfig.Command), else $_HANDLER,
 * else "step". Each step is stopped before Lambda's deadline (Lambda-Runtime-
 * Deadline-Ms): SIGTERM $DRR_LAMBDA_STOP_MARGIN_MS (default 10000) before it, at the
 * latest halfway through the time left, SIGKILL one second before it. The commands
 * are found by commands_dir() below and read the configuration from
 * $DBLAB_RDS_REFRESH_CONFIG. See docs/deploy-aws.md. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/exitcodes.h"
#include "core/http.h"
#include "core/log.h"
#include "core/signals.h"
#include "lambda/lambda_entry.h"
#include "lambda/lambda_runtime.h"
#include "lambda/lambda_step.h"

#define DEFAULT_STOP_MARGIN_MS 10000

static void usage(FILE *f)
{
    fprintf(f, "usage: lambda-bootstrap [step|entry]\n"
               "The Lambda custom runtime of dblab-rds-refresh's container image: serves\n"
               "invocations from $AWS_LAMBDA_RUNTIME_API. step: one pipeline step per\n"
               "invocation ({\"step\": NAME, \"document\": DOC}); entry: the seed's\n"
               "{\"dryRun\": true|false}.\n"
               "The commands it runs are taken from the first of: $DRR_LAMBDA_BIN_DIR; the\n"
               "directory of this program as started (argv[0] with a '/', symlinks\n"
               "resolved, then as written) if the commands are there; $LAMBDA_TASK_ROOT if\n"
               "they are there; else each by name from $PATH. See docs/deploy-aws.md.\n");
}

/* Where the commands a step runs are. Lambda starts a custom runtime by its path:
 * a container image's ENTRYPOINT (ours: /usr/local/bin/lambda-bootstrap), else
 * "bootstrap" in the function's code ($LAMBDA_TASK_ROOT, /var/task), else in a
 * layer (/opt/bootstrap) ("Building a custom runtime for AWS Lambda", Using a
 * custom runtime: docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html; the
 * same order in aws/aws-lambda-runtime-interface-emulator, cmd/aws-lambda-rie/
 * main.go getBootstrap: /var/task/bootstrap, /opt/bootstrap, /var/runtime/
 * bootstrap, each run by its full path). So argv[0] names this program's
 * directory there; elsewhere (a shell's PATH lookup gives a bare name) it may not,
 * and asking the kernel for the running program's path is Linux's alone (procfs). The first that holds the commands wins:
 *   1. $DRR_LAMBDA_BIN_DIR, as given (the image sets it; tests point it at stand-ins);
 *   2. the directory of argv[0] when it holds a '/': symlinks resolved (a
 *      /var/task/bootstrap link to the installed program), then as written (a copy
 *      next to its commands);
 *   3. $LAMBDA_TASK_ROOT (a zip whose commands sit beside its bootstrap);
 *   4. none: each command by name from $PATH (out is left empty, NULL returned). */
static const char *commands_dir(const char *argv0, char *out, size_t n)
{
    const char *env = getenv("DRR_LAMBDA_BIN_DIR");
    if (env && *env)
        return env;
    if (argv0 && strchr(argv0, '/')) {
        char *real = realpath(argv0, NULL);
        if (real) {
            snprintf(out, n, "%s", dirname(real));
            free(real);
            if (lambda_step_commands_in(out))
                return out;
        }
        char written[PATH_MAX];
        snprintf(written, sizeof written, "%s", argv0);
        snprintf(out, n, "%s", dirname(written));
        if (lambda_step_commands_in(out))
            return out;
    }
    const char *task_root = getenv("LAMBDA_TASK_ROOT");
    if (task_root && *task_root && lambda_step_commands_in(task_root))
        return task_root;
    out[0] = '\0';
    return NULL;
}

static long long stop_margin_ms(void)
{
    const char *s = getenv("DRR_LAMBDA_STOP_MARGIN_MS");
    if (!s || !*s)
        return DEFAULT_STOP_MARGIN_MS;
    char *end;
    long long v = strtoll(s, &end, 10);
    return (*end == '\0' && v >= 0 && v <= 900000) ? v : DEFAULT_STOP_MARGIN_MS;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When to stop the step: before Lambda's deadline kills the whole environment. */
static void stop_times(long long deadline_ms, struct lambda_step_ctx *ctx)
{
    ctx->term_at = ctx->kill_at = 0;
    if (deadline_ms <= 0)
        return;
    long long left = deadline_ms - now_ms();
    if (left < 10)
        left = 10;
    long long term_in = left - stop_margin_ms();
    if (term_in < left / 2)
        term_in = left / 2;
    long long kill_in = left - (left / 10 < 1000 ? left / 10 : 1000);
    double mono = clock_monotonic();
    ctx->term_at = mono + (double)term_in / 1000.0;
    ctx->kill_at = mono + (double)kill_in / 1000.0;
}

static int serve_one(struct lambda_runtime *rt, int entry, struct lambda_step_ctx *ctx,
                     struct lambda_invocation *inv, struct err *e)
{
    double t0 = clock_monotonic();
    struct lambda_step_outcome out = {0};
    cJSON *event = cJSON_ParseWithLength(buf_cstr(&inv->event), inv->event.len);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(event, "step");
    stop_times(inv->deadline_ms, ctx);
    ctx->request_id = inv->request_id;
    if (!cJSON_IsObject(event)) {
        snprintf(out.error_type, sizeof out.error_type, "drr.input");
        snprintf(out.error_message, sizeof out.error_message, "the event is not a JSON object");
    } else if (entry) {
        lambda_entry_run(ctx, event, &out);
    } else {
        lambda_step_run(ctx, event, &out);
    }
    int rc;
    if (out.document) {
        char *json = cJSON_PrintUnformatted(out.document);
        rc = lambda_runtime_respond(rt, inv->request_id, json, e);
        cJSON_free(json);
    } else {
        rc = lambda_runtime_fail(rt, inv->request_id, out.error_type, out.error_message, e);
    }
    log_info("request %s: %s: %s in %.0f ms", inv->request_id,
             entry                  ? "entry"
             : cJSON_IsString(step) ? step->valuestring
                                    : "?",
             out.document ? "answered" : out.error_type, (clock_monotonic() - t0) * 1000);
    lambda_step_outcome_release(&out);
    cJSON_Delete(event);
    return rc;
}

int main(int argc, char **argv)
{
    /* Lambda's environment holds the role's session credentials: no core of it,
     * first thing (the steps it runs turn them off again in app_start). */
    app_process_start("lambda-bootstrap");
    const char *mode = argc > 1 ? argv[1] : getenv("_HANDLER");
    if (mode &&
        (strcmp(mode, "-help") == 0 || strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (mode && (strcmp(mode, "-version") == 0 || strcmp(mode, "--version") == 0)) {
        printf("lambda-bootstrap %s\n", DRR_VERSION);
        return 0;
    }
    if (!mode || !*mode)
        mode = "step";
    enum log_format fmt = LOG_FORMAT_TEXT;
    const char *f = getenv("DBLAB_RDS_REFRESH_LOG_FORMAT");
    if (f && log_parse_format(f, &fmt) != 0)
        fmt = LOG_FORMAT_TEXT;
    log_init("lambda-bootstrap", fmt, LOG_LEVEL_INFO);

    struct err e = {0};
    struct lambda_runtime *rt = NULL;
    int rc = lambda_runtime_new(&rt, &e);
    if (rc) {
        log_error("%s", e.msg);
        return err_exit_code(rc, 0);
    }
    int entry = strcmp(mode, "entry") == 0;
    if (!entry && strcmp(mode, "step") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown handler \"%.64s\": the image's CMD is step or entry",
                 mode);
        log_error("%s", msg);
        if (lambda_runtime_init_error(rt, "drr.usage", msg, &e) != 0)
            log_error("%s", e.msg);
        lambda_runtime_free(rt);
        http_global_cleanup();
        return err_exit_code(ERR_USAGE, 0);
    }
    char dir[PATH_MAX];
    struct lambda_step_ctx ctx = {.bin_dir = commands_dir(argv[0], dir, sizeof dir)};
    log_info("serving %s invocations from the Lambda runtime API (commands in %s)", mode,
             ctx.bin_dir ? ctx.bin_dir : "$PATH");

    /* One invocation after another until Lambda stops the environment. */
    int failures = 0;
    for (;;) {
        struct lambda_invocation inv;
        rc = lambda_runtime_next(rt, &inv, &e);
        if (rc == 0) {
            failures = 0;
            rc = serve_one(rt, entry, &ctx, &inv, &e);
            if (rc)
                log_error("%s", e.msg);
            lambda_invocation_release(&inv);
            continue;
        }
        lambda_invocation_release(&inv);
        if (rc == ERR_INTERRUPTED || signals_pending()) {
            log_info("stopping: signal %d", signals_pending());
            rc = ERR_INTERRUPTED;
            break;
        }
        log_error("%s", e.msg);
        if (rc != ERR_TRANSIENT || ++failures > 5)
            break;
        signals_sleep(0.2 * failures);
    }
    lambda_runtime_free(rt);
    http_global_cleanup();
    return err_exit_code(rc, rc == ERR_INTERRUPTED && e.signo ? e.signo : signals_pending());
}
