/* The command-line conventions every command shares. getopt_long_only accepts
 * both the original component's single-dash spelling (-config FILE, -dry-run)
 * and the GNU one (--config FILE, --config=FILE), and unique prefixes.
 *
 * Decisions:
 *  - a missing -config (and no $DBLAB_RDS_REFRESH_CONFIG) for a command that
 *    needs one is a usage error (64): the command line is what is wrong; a
 *    config file that is missing or invalid is a config error (78).
 *  - positional arguments are refused (64): every input has a named option.
 *  - -verbose and -quiet together are refused; -quiet shows warnings and errors.
 *  - the log format defaults to $DBLAB_RDS_REFRESH_LOG_FORMAT, else text, so a
 *    scheduler can switch every step to JSON lines with one variable.
 */
#include "app/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/exitcodes.h"

#ifndef DRR_VERSION
#define DRR_VERSION "0.0.0"
#endif

#define CONFIG_ENV     "DBLAB_RDS_REFRESH_CONFIG"
#define LOG_FORMAT_ENV "DBLAB_RDS_REFRESH_LOG_FORMAT"

enum {
    OPT_CONFIG = 1,
    OPT_IN,
    OPT_DRY_RUN,
    OPT_HELP,
    OPT_VERSION,
    OPT_LOG_FORMAT,
    OPT_VERBOSE,
    OPT_QUIET
};

struct common_opt {
    const char *name;
    int has_arg;
    int id;
    const char *arg_name;
    const char *help;
    int document_only; /* only for commands that read a run document */
};

static const struct common_opt common_opts[] = {
    {"config", required_argument, OPT_CONFIG, "FILE",
     "configuration file (default: $" CONFIG_ENV ")", 0},
    {"in", required_argument, OPT_IN, "FILE",
     "read the run document from FILE instead of stdin (\"-\" = stdin)", 1},
    {"dry-run", no_argument, OPT_DRY_RUN, NULL, "check everything, change nothing", 0},
    {"log-format", required_argument, OPT_LOG_FORMAT, "text|json",
     "log line format on stderr (default: $" LOG_FORMAT_ENV " or text)", 0},
    {"verbose", no_argument, OPT_VERBOSE, NULL, "log debug messages too", 0},
    {"quiet", no_argument, OPT_QUIET, NULL, "log only warnings and errors", 0},
    {"help", no_argument, OPT_HELP, NULL, "print this help and exit", 0},
    {"version", no_argument, OPT_VERSION, NULL, "print the version and exit", 0},
};
#define N_COMMON (sizeof common_opts / sizeof common_opts[0])

static size_t count_extra(const struct cli_command *cmd)
{
    size_t n = 0;
    if (cmd->extra != NULL)
        while (cmd->extra[n].name != NULL)
            n++;
    return n;
}

static void print_opt(FILE *f, const char *name, const char *arg_name, const char *help)
{
    char left[64];
    if (arg_name != NULL)
        snprintf(left, sizeof left, "-%s %s", name, arg_name);
    else
        snprintf(left, sizeof left, "-%s", name);
    fprintf(f, "  %-24s %s\n", left, help != NULL ? help : "");
}

void cli_print_help(const struct cli_command *cmd, void *stdio_file)
{
    FILE *f = stdio_file != NULL ? stdio_file : stdout;
    fprintf(f, "Usage: %s [options]%s\n", cmd->name,
            cmd->reads_document ? " [< run-document.json]" : "");
    if (cmd->summary != NULL)
        fprintf(f, "%s\n", cmd->summary);
    if (cmd->description != NULL)
        fprintf(f, "\n%s\n", cmd->description);
    fprintf(f, "\nOptions (one or two dashes; -opt VALUE or --opt=VALUE):\n");
    size_t n_extra = count_extra(cmd);
    for (size_t i = 0; i < n_extra; i++)
        print_opt(f, cmd->extra[i].name,
                  cmd->extra[i].has_arg != no_argument ? cmd->extra[i].arg_name : NULL,
                  cmd->extra[i].help);
    for (size_t i = 0; i < N_COMMON; i++) {
        if (common_opts[i].document_only && !cmd->reads_document)
            continue;
        print_opt(f, common_opts[i].name, common_opts[i].arg_name, common_opts[i].help);
    }
    fprintf(f,
            "\nEnvironment:\n"
            "  %-30s configuration file when -config is not given\n"
            "  %-30s default log format (text or json)\n",
            CONFIG_ENV, LOG_FORMAT_ENV);
    fprintf(f, "\nOutput: one JSON object on one line on stdout; logs on stderr.\n");
    fprintf(f, "\nExit codes:\n");
    drr_exit_print_table(f);
}

/* The option as the user typed it, for messages ("-confgi" or "--confgi=x"). */
static const char *typed_option(int argc, char **argv)
{
    int i = optind - 1;
    if (i >= 1 && i < argc)
        return argv[i];
    return "?";
}

int cli_parse(int argc, char **argv, const struct cli_command *cmd, struct cli *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->log_format = LOG_FORMAT_TEXT;
    log_init(cmd->name, LOG_FORMAT_TEXT, LOG_LEVEL_INFO);

    const char *fmt_env = getenv(LOG_FORMAT_ENV);
    if (fmt_env != NULL && fmt_env[0] != '\0' && log_parse_format(fmt_env, &out->log_format) != 0)
        return err_set(e, ERR_USAGE, "%s: unknown log format \"%s\" (text or json)", LOG_FORMAT_ENV,
                       fmt_env);

    size_t n_extra = count_extra(cmd);
    struct option *opts = xcalloc(N_COMMON + n_extra + 1, sizeof *opts);
    size_t k = 0;
    for (size_t i = 0; i < n_extra; i++)
        opts[k++] =
            (struct option){cmd->extra[i].name, cmd->extra[i].has_arg, NULL, cmd->extra[i].id};
    for (size_t i = 0; i < N_COMMON; i++) {
        if (common_opts[i].document_only && !cmd->reads_document)
            continue;
        opts[k++] =
            (struct option){common_opts[i].name, common_opts[i].has_arg, NULL, common_opts[i].id};
    }

    int rc = 0;
    int help = 0, version = 0;
    optind = 0; /* GNU: full re-initialisation, so tests can parse repeatedly */
    opterr = 0;
    for (;;) {
        int longindex = -1;
        int c = getopt_long_only(argc, argv, ":", opts, &longindex);
        if (c == -1)
            break;
        const char *arg = optarg;
        switch (c) {
        case OPT_CONFIG:
            if (arg[0] == '\0') {
                rc = err_set(e, ERR_USAGE, "-config: empty file name");
                goto done;
            }
            out->config_path = arg;
            break;
        case OPT_IN:
            out->in_path = strcmp(arg, "-") == 0 ? NULL : arg;
            break;
        case OPT_DRY_RUN:
            out->dry_run = 1;
            break;
        case OPT_HELP:
            help = 1;
            break;
        case OPT_VERSION:
            version = 1;
            break;
        case OPT_LOG_FORMAT:
            if (log_parse_format(arg, &out->log_format) != 0) {
                rc =
                    err_set(e, ERR_USAGE, "-log-format: unknown format \"%s\" (text or json)", arg);
                goto done;
            }
            break;
        case OPT_VERBOSE:
            out->verbose = 1;
            break;
        case OPT_QUIET:
            out->quiet = 1;
            break;
        case ':':
            rc = err_set(e, ERR_USAGE, "%s: missing argument (see %s -help)",
                         typed_option(argc, argv), cmd->name);
            goto done;
        case '?':
            rc = err_set(e, ERR_USAGE, "%s: unknown or ambiguous option (see %s -help)",
                         typed_option(argc, argv), cmd->name);
            goto done;
        default:
            if (c >= 1000 && cmd->on_option != NULL) {
                rc = cmd->on_option(c, arg, cmd->ctx, e);
                if (rc != 0) {
                    if (e != NULL && e->kind == ERR_OK)
                        rc = err_set(e, rc, "%s: invalid", typed_option(argc, argv));
                    goto done;
                }
                break;
            }
            rc = err_set(e, ERR_INTERNAL, "%s: option not handled", typed_option(argc, argv));
            goto done;
        }
    }

    if (help) {
        cli_print_help(cmd, stdout);
        fflush(stdout);
        out->exit_now = 1;
        goto done;
    }
    if (version) {
        printf("%s %s\n", cmd->name, DRR_VERSION);
        fflush(stdout);
        out->exit_now = 1;
        goto done;
    }
    if (optind < argc) {
        rc = err_set(e, ERR_USAGE, "unexpected argument \"%s\" (see %s -help)", argv[optind],
                     cmd->name);
        goto done;
    }
    if (out->verbose && out->quiet) {
        rc = err_set(e, ERR_USAGE, "-verbose and -quiet are mutually exclusive");
        goto done;
    }
    if (out->config_path == NULL) {
        const char *env = getenv(CONFIG_ENV);
        if (env != NULL && env[0] != '\0')
            out->config_path = env;
    }
    if (cmd->needs_config && out->config_path == NULL) {
        rc = err_set(e, ERR_USAGE, "-config: required (a configuration file, or set %s)",
                     CONFIG_ENV);
        goto done;
    }

done:
    free(opts);
    log_init(cmd->name, out->log_format,
             out->verbose ? LOG_LEVEL_DEBUG
             : out->quiet ? LOG_LEVEL_WARN
                          : LOG_LEVEL_INFO);
    return rc;
}
