/* The one start-up path and the one ending every command uses, so a command's
 * main stays small:
 *
 *   static const char *const required[] = { "source", "snapshot", NULL };
 *   static int run_command(struct app *a, struct err *e) {
 *       int rc = ... use a->cli, a->cfg, app_doc(a); fail with err_set(e, ...) ...;
 *       if (rc == 0)
 *           rc = rundoc_write(app_doc(a));   // logs a failed write itself
 *       return rc;
 *   }
 *   int main(int argc, char **argv) {
 *       return app_main(argc, argv, &cmd, required, run_command);
 *   }
 */
#ifndef DRR_APP_H
#define DRR_APP_H

#include <cjson/cJSON.h>
#include "app/cli.h"
#include "config/config.h"
#include "core/err.h"

struct app {
    struct cli cli;
    struct config cfg;
    cJSON *doc;       /* the input run document (cmd->reads_document), else NULL */
    int cfg_loaded;   /* 1 when cfg holds a loaded, valid configuration */
    const char *name; /* the command's name (cmd->name) */
};

/* What every program of this project does first, before any secret is read: core
 * dumps off (a warning when that fails), the sanitizer report hooks, the signal
 * handlers (SIGPIPE ignored). app_start calls it; lambda-bootstrap, which is no
 * cli_command, calls it itself. */
void app_process_start(const char *name);

/* Installs the signal handlers (signals.h), parses the command line (cli.h; this
 * initialises logging), loads the configuration when cmd->needs_config or a
 * -config / $DBLAB_RDS_REFRESH_CONFIG was given (registering source.password and
 * dblab.token with redact_add_secret), and reads the run document when
 * cmd->reads_document is CLI_DOCUMENT_READ (app_read_document).
 * A document with "dryRun": true turns dry-run mode on (a dry pipeline stays
 * dry). Reading stdin when it is a terminal is refused (ERR_USAGE) instead of
 * waiting forever for a document that is not coming. Returns 0 to continue, -1
 * when --help/--version was printed (exit 0), or the error kind after logging the
 * one-line error. *a is always initialised:
 * call app_end whatever the result. */
int app_start(struct app *a, int argc, char **argv, const struct cli_command *cmd,
              const char *const *required_sections);

/* Reads the run document (-in FILE or stdin; rundoc_read with required_sections,
 * which may be NULL) into a->doc. A command whose options decide whether it needs
 * one (cmd->reads_document == CLI_DOCUMENT_ON_DEMAND) calls it itself. Returns 0
 * or the error kind after logging the one-line error. */
int app_read_document(struct app *a, const char *const *required_sections);

/* The document to extend and write: the input document, or a new one when the
 * command reads none. Sets "dryRun": true in dry-run mode. Owned by a. */
cJSON *app_doc(struct app *a);

/* The command's work, between the start-up and the ending: returns 0 or an error
 * kind, with e set (or the failure already logged where it happened). */
typedef int (*app_run_fn)(struct app *a, struct err *e);

/* Every command's main: app_start (signals, CLI, config, document), then run
 * unless the start-up ended the command (-help, or an error already logged),
 * then app_finish. Returns the process's exit code. */
int app_main(int argc, char **argv, const struct cli_command *cmd,
             const char *const *required_sections, app_run_fn run);

/* The one ending and the one place a command's error kind becomes its exit code
 * (err_exit_code, core/exitcodes.c): logs e's message when rc (a kind) says
 * failure (once; e may be NULL or empty when the failure was logged where it
 * happened), turns a failure caused by a pending signal into ERR_INTERRUPTED
 * (128+N), frees a (app_end) and returns the exit code (0 for rc < 0, i.e. after
 * -help). */
int app_finish(struct app *a, int rc, const struct err *e);

/* Frees everything app_start allocated, and appends the command's counters to
 * $DRR_STATS_FILE when it is set (stats.h). */
void app_end(struct app *a);

#endif
