#include "app/app.h"
#include "core/stats.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/coredump.h"

#include "app/rundoc.h"
#include "core/err.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "core/sanitizer.h"
#include "core/signals.h"

void app_process_start(const char *name)
{
    if (coredump_disable() != 0)
        log_warn("cannot turn core dumps off: %s", strerror(errno));
    sanitizer_hooks_install(name);
    signals_install();
}

int app_start(struct app *a, int argc, char **argv, const struct cli_command *cmd,
              const char *const *required_sections)
{
    memset(a, 0, sizeof *a);
    a->name = cmd->name;
    /* Before any secret is read (the config, secret references, credentials). */
    app_process_start(cmd->name);

    struct err e = {0};
    int rc = cli_parse(argc, argv, cmd, &a->cli, &e);
    if (rc != 0) {
        log_error("%s", e.msg);
        return rc;
    }
    if (a->cli.exit_now)
        return -1;

    if (a->cli.config_path != NULL) {
        rc = config_load(a->cli.config_path, &a->cfg, &e);
        if (rc != 0) {
            log_error("%s", e.msg);
            return rc;
        }
        a->cfg_loaded = 1;
        /* Literal secrets are registered now; a secretsmanager:/ssm: reference
         * is not a secret itself, its resolved value is registered by secrets.c. */
        if (a->cfg.source.password != NULL && !config_is_secret_reference(a->cfg.source.password))
            redact_add_secret(a->cfg.source.password);
        if (a->cfg.dblab.token != NULL && !config_is_secret_reference(a->cfg.dblab.token))
            redact_add_secret(a->cfg.dblab.token);
        log_debug("configuration %s loaded", a->cli.config_path);
    }

    if (cmd->reads_document == CLI_DOCUMENT_READ)
        return app_read_document(a, required_sections);
    return 0;
}

int app_read_document(struct app *a, const char *const *required_sections)
{
    struct err e = {0};
    if (a->cli.in_path == NULL && isatty(STDIN_FILENO)) {
        log_error("no run document: stdin is a terminal (pipe the previous step's output "
                  "into %s, or use -in FILE)",
                  a->name);
        return ERR_USAGE;
    }
    int rc = rundoc_read(a->cli.in_path, required_sections, &a->doc, &e);
    if (rc != 0) {
        log_error("%s", e.msg);
        return rc;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a->doc, "dryRun")) && !a->cli.dry_run) {
        /* A warning, not info: a wrapper that feeds a planned (dry) document to a
         * real step, e.g. a delete in an error handler, would otherwise silently
         * change nothing and exit 0. */
        log_warn("the input run document comes from a dry run (dryRun: true): this step "
                 "runs dry too and changes nothing; feed it a real step's document");
        a->cli.dry_run = 1;
    }
    return 0;
}

cJSON *app_doc(struct app *a)
{
    if (a->doc == NULL)
        a->doc = rundoc_new();
    if (a->cli.dry_run) {
        cJSON *t = cJSON_CreateTrue();
        if (cJSON_GetObjectItemCaseSensitive(a->doc, "dryRun") != NULL)
            cJSON_ReplaceItemInObjectCaseSensitive(a->doc, "dryRun", t);
        else
            cJSON_AddItemToObject(a->doc, "dryRun", t);
    }
    return a->doc;
}

int app_main(int argc, char **argv, const struct cli_command *cmd,
             const char *const *required_sections, app_run_fn run)
{
    struct app a;
    struct err e = {0};
    int rc = app_start(&a, argc, argv, cmd, required_sections);
    if (rc == 0)
        rc = run(&a, &e);
    return app_finish(&a, rc, &e);
}

int app_finish(struct app *a, int rc, const struct err *e)
{
    int sig = signals_pending();
    const char *msg = e && e->msg[0] ? e->msg : NULL;
    int signo = rc == ERR_INTERRUPTED && e && e->signo ? e->signo : sig;
    if (rc > 0 && rc != ERR_INTERRUPTED && sig) {
        /* A signal cut a call short: the call's error is its effect, the signal
         * the cause, and the exit code says so. */
        log_error("interrupted by signal %d%s%s", sig, msg ? ": " : "", msg ? msg : "");
        rc = ERR_INTERRUPTED;
    } else if (rc > 0 && msg) {
        log_error("%s", msg);
    }
    app_end(a);
    /* The one place a command's kind becomes its exit code (core/exitcodes.c). */
    return rc < 0 ? 0 : err_exit_code(rc, signo);
}

void app_end(struct app *a)
{
    if (a == NULL)
        return;
    if (a->name)
        stats_write(a->name);
    cJSON_Delete(a->doc);
    a->doc = NULL;
    config_release(&a->cfg);
    a->cfg_loaded = 0;
}
