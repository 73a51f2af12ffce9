/* cli: the shared command-line conventions, and app_start, the start-up path. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "check_main.h"
#include "app/cli.h"
#include "core/exitcodes.h"
#include "core/log.h"
#include "tmpfiles.h"

static char *dir;
static struct cli cli;
static struct err e;
static char *seen_run_id;
static int seen_wait;

enum { OPT_RUN_ID = 1000, OPT_WAIT };

static int on_option(int id, const char *arg, void *ctx, struct err *err)
{
    (void)ctx;
    if (id == OPT_RUN_ID) {
        if (strchr(arg, ' ') != NULL)
            return err_set(err, ERR_USAGE, "-run-id: must not contain blanks");
        free(seen_run_id);
        seen_run_id = strdup(arg);
    } else if (id == OPT_WAIT) {
        seen_wait = 1;
    }
    return 0;
}

static const struct cli_option extra[] = {
    {"run-id", required_argument, OPT_RUN_ID, "ID", "the run's identifier"},
    {"wait", no_argument, OPT_WAIT, NULL, "wait until it is gone"},
    {NULL, 0, 0, NULL, NULL}};

static const struct cli_command doc_cmd = {
    .name = "rds-clone-test",
    .summary = "A test command.",
    .description = "Longer text.",
    .reads_document = 1,
    .needs_config = 1,
    .extra = extra,
    .on_option = on_option,
};

static const struct cli_command plain_cmd = {
    .name = "plain-test",
    .summary = "No document, no config needed.",
};

static void setup(void)
{
    dir = tmp_dir_new();
    unsetenv("DBLAB_RDS_REFRESH_CONFIG");
    unsetenv("DBLAB_RDS_REFRESH_LOG_FORMAT");
    setenv("AWS_CONFIG_FILE", "/nonexistent/drr-test/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/drr-test/credentials", 1);
    unsetenv("AWS_REGION");
    unsetenv("AWS_PROFILE");
    memset(&e, 0, sizeof e);
    seen_run_id = NULL;
    seen_wait = 0;
}

static void teardown(void)
{
    free(seen_run_id);
    tmp_dir_remove(dir);
}

/* Parses a NULL-terminated list of arguments (argv[0] added). */
static int parse(const struct cli_command *cmd, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)cmd->name;
    for (size_t i = 0; args[i] != NULL; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    memset(&e, 0, sizeof e);
    return cli_parse(argc, argv, cmd, &cli, &e);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Runs fn with stdout redirected to a file; returns the captured text. */
static char *capture_stdout(int (*fn)(void), int *rc)
{
    char *path = NULL;
    ck_assert_int_ge(asprintf(&path, "%s/stdout", dir), 0);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 1);
    close(fd);
    *rc = fn();
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    free(path);
    return text;
}

START_TEST(config_spellings)
{
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "a.yaml")), 0);
    ck_assert_str_eq(cli.config_path, "a.yaml");
    ck_assert_int_eq(parse(&doc_cmd, ARGS("--config", "b.yaml")), 0);
    ck_assert_str_eq(cli.config_path, "b.yaml");
    ck_assert_int_eq(parse(&doc_cmd, ARGS("--config=c.yaml")), 0);
    ck_assert_str_eq(cli.config_path, "c.yaml");
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config=d.yaml")), 0);
    ck_assert_str_eq(cli.config_path, "d.yaml");
    /* the environment is the fallback, the option wins */
    setenv("DBLAB_RDS_REFRESH_CONFIG", "env.yaml", 1);
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-dry-run")), 0);
    ck_assert_str_eq(cli.config_path, "env.yaml");
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "opt.yaml")), 0);
    ck_assert_str_eq(cli.config_path, "opt.yaml");
}
END_TEST

START_TEST(missing_config_is_usage)
{
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-dry-run")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "-config: required"));
    ck_assert_ptr_nonnull(strstr(e.msg, "DBLAB_RDS_REFRESH_CONFIG"));
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "")), ERR_USAGE);
    /* a command that does not need one */
    ck_assert_int_eq(parse(&plain_cmd, ARGS("-verbose")), 0);
    ck_assert_ptr_null(cli.config_path);
}
END_TEST

START_TEST(flags)
{
    ck_assert_int_eq(
        parse(&doc_cmd, ARGS("-config", "x", "-dry-run", "-in", "doc.json", "-verbose")), 0);
    ck_assert_int_eq(cli.dry_run, 1);
    ck_assert_str_eq(cli.in_path, "doc.json");
    ck_assert_int_eq(cli.verbose, 1);
    ck_assert_int_eq(cli.quiet, 0);
    ck_assert_int_eq(cli.log_format, LOG_FORMAT_TEXT);
    ck_assert_int_eq(cli.exit_now, 0);
    ck_assert_int_eq(log_enabled(LOG_LEVEL_DEBUG), 1);

    ck_assert_int_eq(parse(&doc_cmd, ARGS("--config", "x", "--dry-run", "--in", "-", "--quiet",
                                          "--log-format", "json")),
                     0);
    ck_assert_int_eq(cli.dry_run, 1);
    ck_assert_ptr_null(cli.in_path);
    ck_assert_int_eq(cli.quiet, 1);
    ck_assert_int_eq(cli.log_format, LOG_FORMAT_JSON);
    ck_assert_int_eq(log_enabled(LOG_LEVEL_INFO), 0);
    ck_assert_int_eq(log_enabled(LOG_LEVEL_WARN), 1);

    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x")), 0);
    ck_assert_int_eq(cli.dry_run, 0);
    ck_assert_ptr_null(cli.in_path);
    ck_assert_int_eq(log_enabled(LOG_LEVEL_INFO), 1);
    ck_assert_int_eq(log_enabled(LOG_LEVEL_DEBUG), 0);

    /* unique prefixes, as getopt_long_only allows */
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-conf", "x", "-dry")), 0);
    ck_assert_int_eq(cli.dry_run, 1);
}
END_TEST

START_TEST(usage_errors)
{
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "-bogus")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "-bogus: unknown or ambiguous option"));
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "--dry-runn")), ERR_USAGE);
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "-config: missing argument"));
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "stray")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "unexpected argument \"stray\""));
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "-log-format", "xml")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "-log-format: unknown format \"xml\""));
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "-verbose", "-quiet")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "mutually exclusive"));
    /* "-v" is ambiguous (verbose, version) */
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "-v")), ERR_USAGE);
    /* -in only exists for commands that read a document */
    ck_assert_int_eq(parse(&plain_cmd, ARGS("-in", "doc.json")), ERR_USAGE);
    setenv("DBLAB_RDS_REFRESH_LOG_FORMAT", "yaml", 1);
    ck_assert_int_eq(parse(&plain_cmd, ARGS("-quiet")), ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "DBLAB_RDS_REFRESH_LOG_FORMAT"));
    setenv("DBLAB_RDS_REFRESH_LOG_FORMAT", "json", 1);
    ck_assert_int_eq(parse(&plain_cmd, ARGS("-quiet")), 0);
    ck_assert_int_eq(cli.log_format, LOG_FORMAT_JSON);
    ck_assert_int_eq(parse(&plain_cmd, ARGS("-log-format", "text")), 0);
    ck_assert_int_eq(cli.log_format, LOG_FORMAT_TEXT);
}
END_TEST

START_TEST(extra_options)
{
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "-run-id", "r-42", "-wait")), 0);
    ck_assert_str_eq(seen_run_id, "r-42");
    ck_assert_int_eq(seen_wait, 1);
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "--run-id=a b")), ERR_USAGE);
    ck_assert_str_eq(e.msg, "-run-id: must not contain blanks");
    ck_assert_int_eq(parse(&doc_cmd, ARGS("-config", "x", "-run-id")), ERR_USAGE);
}
END_TEST

static int do_help(void)
{
    return parse(&doc_cmd, ARGS("-help"));
}

static int do_version(void)
{
    return parse(&plain_cmd, ARGS("--version"));
}

START_TEST(help_and_version)
{
    int rc;
    char *out = capture_stdout(do_help, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(cli.exit_now, 1);
    ck_assert_ptr_nonnull(strstr(out, "Usage: rds-clone-test [options]"));
    ck_assert_ptr_nonnull(strstr(out, "A test command."));
    ck_assert_ptr_nonnull(strstr(out, "-run-id ID"));
    ck_assert_ptr_nonnull(strstr(out, "-config FILE"));
    ck_assert_ptr_nonnull(strstr(out, "-in FILE"));
    ck_assert_ptr_nonnull(strstr(out, "-dry-run"));
    ck_assert_ptr_nonnull(strstr(out, "-log-format text|json"));
    ck_assert_ptr_nonnull(strstr(out, "DBLAB_RDS_REFRESH_CONFIG"));
    ck_assert_ptr_nonnull(strstr(out, "Exit codes"));
    ck_assert_ptr_nonnull(strstr(out, "64"));
    ck_assert_ptr_nonnull(strstr(out, "78"));
    ck_assert_ptr_nonnull(strstr(out, "99"));
    free(out);

    out = capture_stdout(do_version, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(cli.exit_now, 1);
    ck_assert_ptr_nonnull(strstr(out, "plain-test "));
    ck_assert_ptr_null(strstr(out, "-in FILE"));
    free(out);
}
END_TEST

START_TEST(exit_code_names)
{
    ck_assert_str_eq(drr_exit_name(DRR_EXIT_USAGE), "usage");
    ck_assert_int_eq(DRR_EXIT_USAGE, 64);
    ck_assert_int_eq(DRR_EXIT_INPUT, 65);
    ck_assert_int_eq(DRR_EXIT_CONFIG, 78);
    ck_assert_int_eq(DRR_EXIT_TEMPFAIL, 75);
    ck_assert_int_eq(DRR_EXIT_NOTHING_TO_DO, 99);
    ck_assert_str_ne(drr_exit_name(DRR_EXIT_CONFIG), "unknown");
    ck_assert_str_ne(drr_exit_name(DRR_EXIT_INPUT), "unknown");
}
END_TEST

/* ---- app_start -------------------------------------------------------- */

static const char *valid_yaml =
    "source:\n  type: rds\n  identifier: production-db\n"
    "clone:\n  instanceClass: db.t3.medium\n"
    "dblab:\n  apiEndpoint: http://127.0.0.1:2345\n  token: app-test-token-1234\n"
    "aws:\n  region: us-east-1\n";

static int app_run(struct app *a, const struct cli_command *cmd, const char *const *required,
                   const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)cmd->name;
    for (size_t i = 0; args[i] != NULL; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    return app_start(a, argc, argv, cmd, required);
}

START_TEST(app_happy_path)
{
    char *cfgp = tmp_write(dir, "c.yaml", valid_yaml);
    char *docp =
        tmp_write(dir, "doc.json",
                  "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"source\":{\"identifier\":\"p\"},"
                  "\"snapshot\":{\"id\":\"s\"}}\n");
    static const char *const req[] = {"source", "snapshot", NULL};
    struct app a;
    ck_assert_int_eq(app_run(&a, &doc_cmd, req, ARGS("-config", cfgp, "-in", docp)), 0);
    ck_assert_int_eq(a.cfg_loaded, 1);
    ck_assert_str_eq(a.cfg.source.identifier, "production-db");
    ck_assert_ptr_nonnull(a.doc);
    ck_assert_int_eq(a.cli.dry_run, 0);
    /* the token is registered with the redaction layer */
    char *r = redact_apply("value app-test-token-1234 here");
    ck_assert_ptr_null(strstr(r, "app-test-token-1234"));
    free(r);
    cJSON *doc = app_doc(&a);
    ck_assert_ptr_eq(doc, a.doc);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(doc, "dryRun"));
    app_end(&a);
    free(cfgp);
    free(docp);
}
END_TEST

START_TEST(app_errors)
{
    char *cfgp = tmp_write(dir, "c.yaml", valid_yaml);
    char *bad = tmp_write(dir, "bad.yaml", "clone:\n  instanceClas: db.t3.medium\n");
    char *docp =
        tmp_write(dir, "doc.json", "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"source\":{}}");
    static const char *const req[] = {"source", "clone", NULL};
    struct app a;
    FILE *devnull = fopen("/dev/null", "w");
    log_set_stream(devnull);
    ck_assert_int_eq(app_run(&a, &doc_cmd, req, ARGS("-config", bad, "-in", docp)), ERR_CONFIG);
    app_end(&a);
    ck_assert_int_eq(app_run(&a, &doc_cmd, req, ARGS("-config", cfgp, "-in", docp)), ERR_INPUT);
    app_end(&a);
    ck_assert_int_eq(app_run(&a, &doc_cmd, req, ARGS("-nope")), ERR_USAGE);
    app_end(&a);
    ck_assert_int_eq(
        app_run(&a, &doc_cmd, req, ARGS("-config", cfgp, "-in", "/nonexistent/drr/doc.json")),
        ERR_INPUT);
    app_end(&a);
    log_set_stream(NULL);
    fclose(devnull);
    free(cfgp);
    free(bad);
    free(docp);
}
END_TEST

static int do_app_help(void)
{
    struct app a;
    int rc = app_run(&a, &doc_cmd, NULL, ARGS("-help"));
    app_end(&a);
    return rc;
}

START_TEST(app_help_returns_minus_one)
{
    int rc;
    char *out = capture_stdout(do_app_help, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(out, "Usage:"));
    free(out);
}
END_TEST

START_TEST(app_dry_run)
{
    char *cfgp = tmp_write(dir, "c.yaml", valid_yaml);
    char *docp =
        tmp_write(dir, "doc.json", "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"dryRun\":true}");
    struct app a;
    char *logged = NULL;
    size_t logged_len = 0;
    FILE *logf = open_memstream(&logged, &logged_len);
    log_set_stream(logf);
    /* a dry document makes the next step dry, and says so as a warning: a real step
     * fed a planned document would otherwise change nothing and exit 0 */
    ck_assert_int_eq(app_run(&a, &doc_cmd, NULL, ARGS("-config", cfgp, "-in", docp)), 0);
    ck_assert_int_eq(a.cli.dry_run, 1);
    app_end(&a);
    fflush(logf);
    ck_assert_ptr_nonnull(strstr(logged, "WARN"));
    ck_assert_ptr_nonnull(strstr(logged, "comes from a dry run"));
    FILE *devnull = fopen("/dev/null", "w");
    log_set_stream(devnull);
    fclose(logf);
    free(logged);
    /* a command reading no document gets a fresh one, marked dry with -dry-run */
    setenv("DBLAB_RDS_REFRESH_CONFIG", cfgp, 1);
    static const struct cli_command cfg_cmd = {.name = "t", .needs_config = 1};
    ck_assert_int_eq(app_run(&a, &cfg_cmd, NULL, ARGS("-dry-run")), 0);
    ck_assert_ptr_null(a.doc);
    cJSON *doc = app_doc(&a);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(doc, "apiVersion")->valuestring,
                     "dblab-rds-refresh/v1");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "dryRun")));
    ck_assert_ptr_eq(app_doc(&a), doc);
    app_end(&a);
    log_set_stream(NULL);
    fclose(devnull);
    free(cfgp);
    free(docp);
}
END_TEST

START_TEST(app_refuses_terminal_stdin)
{
    char *cfgp = tmp_write(dir, "c.yaml", valid_yaml);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) {
        free(cfgp);
        return; /* no pseudo-terminals here: nothing to test */
    }
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    int saved = dup(0);
    dup2(slave, 0);
    FILE *devnull = fopen("/dev/null", "w");
    log_set_stream(devnull);
    struct app a;
    int rc = app_run(&a, &doc_cmd, NULL, ARGS("-config", cfgp));
    app_end(&a);
    /* -in FILE is fine whatever stdin is */
    char *docp = tmp_write(dir, "doc.json", "{\"apiVersion\":\"dblab-rds-refresh/v1\"}");
    int rc2 = app_run(&a, &doc_cmd, NULL, ARGS("-config", cfgp, "-in", docp));
    app_end(&a);
    dup2(saved, 0);
    close(saved);
    close(slave);
    close(master);
    log_set_stream(NULL);
    fclose(devnull);
    ck_assert_int_eq(rc, ERR_USAGE);
    ck_assert_int_eq(rc2, 0);
    free(cfgp);
    free(docp);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, config_spellings);
    tcase_add_test(tc, missing_config_is_usage);
    tcase_add_test(tc, flags);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, extra_options);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, exit_code_names);
    suite_add_tcase(s, tc);
    TCase *ta = tcase_create("app");
    tcase_add_checked_fixture(ta, setup, teardown);
    tcase_add_test(ta, app_happy_path);
    tcase_add_test(ta, app_errors);
    tcase_add_test(ta, app_help_returns_minus_one);
    tcase_add_test(ta, app_dry_run);
    tcase_add_test(ta, app_refuses_terminal_stdin);
    suite_add_tcase(s, ta);
    return s;
}

int main(void)
{
    return run_suites(cli_suite(), NULL);
}
