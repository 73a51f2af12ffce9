/* The one start-up path every command uses, so a command's main stays small:
 *
 *   static const char *const required[] = { "source", "snapshot", NULL };
 *   int main(int argc, char **argv) {
 *       struct app a;
 *       int rc = app_start(&a, argc, argv, &cmd, required);
 *       if (rc != 0) { app_end(&a); return rc < 0 ? 0 : rc; }
 *       ... use a.cli, a.cfg, a.doc ...
 *       rc = app_output(&a);
 *       app_end(&a);
 *       return rc;
 *   }
 */
#ifndef DRR_APP_H
#define DRR_APP_H

#include <cjson/cJSON.h>
#include "cli.h"
#include "config.h"

struct app {
    struct cli cli;
    struct config cfg;
    cJSON *doc;          /* the input run document (cmd->reads_document), else NULL */
    int cfg_loaded;      /* 1 when cfg holds a loaded, valid configuration */
    const char *name;    /* the command's name (cmd->name) */
};

/* Installs the signal handlers (signals.h), parses the command line (cli.h; this
 * initialises logging), loads the configuration when cmd->needs_config or a
 * -config / $DBLAB_RDS_REFRESH_CONFIG was given (registering source.password and
 * dblab.token with redact_add_secret), and reads the run document when
 * cmd->reads_document is CLI_DOCUMENT_READ (app_read_document).
 * A document with "dryRun": true turns dry-run mode on (a dry pipeline stays
 * dry). Reading stdin when it is a terminal is refused (64) instead of waiting
 * forever for a document that is not coming. Returns 0 to continue, -1 when --help/--version was printed (exit 0),
 * or the exit code after logging the one-line error. *a is always initialised:
 * call app_end whatever the result. */
int app_start(struct app *a, int argc, char **argv, const struct cli_command *cmd,
              const char *const *required_sections);

/* Reads the run document (-in FILE or stdin; rundoc_read with required_sections,
 * which may be NULL) into a->doc. A command whose options decide whether it needs
 * one (cmd->reads_document == CLI_DOCUMENT_ON_DEMAND) calls it itself. Returns 0
 * or the exit code after logging the one-line error. */
int app_read_document(struct app *a, const char *const *required_sections);

/* The document to extend and write: the input document, or a new one when the
 * command reads none. Sets "dryRun": true in dry-run mode. Owned by a. */
cJSON *app_doc(struct app *a);

/* Writes app_doc(a) as one line on stdout (rundoc_write). Returns 0 or
 * DRR_EXIT_INTERNAL (logged by rundoc_write). */
int app_output(struct app *a);

/* Frees everything app_start allocated, and appends the command's counters to
 * $DRR_STATS_FILE when it is set (stats.h). */
void app_end(struct app *a);

#endif
