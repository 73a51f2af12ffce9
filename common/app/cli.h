/* Command-line conventions shared by every command (getopt_long_only, so both
 * `--config FILE` and the original component's `-config FILE`, `-dry-run` work):
 *   -config FILE   (else $DBLAB_RDS_REFRESH_CONFIG)
 *   -in FILE       run document input (default stdin; "-" = stdin)
 *   -dry-run, -help, -version, -log-format text|json, -verbose, -quiet
 * A command adds its own options through cli_command.extra. */
#ifndef DRR_CLI_H
#define DRR_CLI_H

#include <getopt.h>
#include "core/err.h"
#include "core/log.h"

struct cli_option {
    const char *name;     /* long name without dashes, e.g. "run-id" */
    int has_arg;          /* no_argument / required_argument */
    int id;               /* value passed to on_option, >= 1000 */
    const char *arg_name; /* "ID" for help, NULL if no argument */
    const char *help;     /* one line */
};

enum {
    CLI_DOCUMENT_NONE = 0,      /* reads no run document */
    CLI_DOCUMENT_READ = 1,      /* app_start reads it */
    CLI_DOCUMENT_ON_DEMAND = 2, /* the command calls app_read_document when it needs one */
};

struct cli_command {
    const char *name;               /* "rds-clone-create" */
    const char *summary;            /* one line for --help */
    const char *description;        /* paragraph(s) for --help, may be NULL */
    int reads_document;             /* CLI_DOCUMENT_*: accepts -in FILE / stdin when not 0 */
    int needs_config;               /* 1 = -config is required */
    const struct cli_option *extra; /* terminated by {NULL} */
    /* Called for each extra option; returns 0 or a ERR_USAGE with e set. */
    int (*on_option)(int id, const char *arg, void *ctx, struct err *e);
    void *ctx;
};

struct cli {
    const char *config_path;
    const char *in_path; /* NULL = stdin */
    int dry_run;
    int verbose;
    int quiet;
    enum log_format log_format;
    int exit_now; /* 1 after --help/--version were printed: exit 0 */
};

/* Parses argv. Returns 0, or ERR_USAGE with a one-line e->msg. On --help or
 * --version prints to stdout and sets out->exit_now. Also initialises logging. */
int cli_parse(int argc, char **argv, const struct cli_command *cmd, struct cli *out, struct err *e);
void cli_print_help(const struct cli_command *cmd, void *stdio_file);

#endif
