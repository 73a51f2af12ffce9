#include "core/exitcodes.h"

#include <signal.h>
#include <stdio.h>

#include "core/err.h"

int err_exit_code(int kind, int signo)
{
    static const int codes[ERR_KIND_COUNT] = {
        [ERR_OK] = DRR_EXIT_OK,
        [ERR_USAGE] = DRR_EXIT_USAGE,
        [ERR_INPUT] = DRR_EXIT_INPUT,
        [ERR_INTERNAL] = DRR_EXIT_INTERNAL,
        [ERR_TRANSIENT] = DRR_EXIT_TEMPFAIL,
        [ERR_CONFIG] = DRR_EXIT_CONFIG,
        [ERR_TLS] = DRR_EXIT_CONFIG,
        [ERR_AWS_REJECTED] = DRR_EXIT_AWS,
        [ERR_AWS_UNAUTHORIZED] = DRR_EXIT_AWS,
        [ERR_AWS_BAD_ANSWER] = DRR_EXIT_AWS,
        [ERR_DBLAB_REJECTED] = DRR_EXIT_DBLAB,
        [ERR_DBLAB_UNAUTHORIZED] = DRR_EXIT_DBLAB,
        [ERR_DBLAB_BAD_ANSWER] = DRR_EXIT_DBLAB,
        [ERR_TIMEOUT] = DRR_EXIT_TIMEOUT,
        [ERR_GUARD] = DRR_EXIT_GUARD,
        [ERR_BUSY] = DRR_EXIT_BUSY,
        [ERR_STALE] = DRR_EXIT_STALE,
        [ERR_NOT_FOUND] = DRR_EXIT_NOT_FOUND,
        [ERR_CLONE_FAILED] = DRR_EXIT_CLONE_FAILED,
        [ERR_REFRESH_FAILED] = DRR_EXIT_REFRESH_FAILED,
        [ERR_NOTHING_TO_DO] = DRR_EXIT_NOTHING_TO_DO,
        [ERR_INTERRUPTED] = DRR_EXIT_SIGNAL_BASE,
    };
    if (kind == ERR_INTERRUPTED)
        return DRR_EXIT_SIGNAL_BASE + (signo > 0 && signo < 65 ? signo : SIGTERM);
    if (kind < 0 || kind >= ERR_KIND_COUNT)
        return DRR_EXIT_INTERNAL;
    return codes[kind];
}

struct exit_entry {
    int code;
    const char *name;
    const char *description;
};

static const struct exit_entry exit_table[] = {
    {DRR_EXIT_OK, "ok", "success"},
    {DRR_EXIT_USAGE, "usage", "bad command line"},
    {DRR_EXIT_INPUT, "input", "invalid input run document"},
    {DRR_EXIT_INTERNAL, "internal", "internal error (a bug, or out of memory)"},
    {DRR_EXIT_TEMPFAIL, "tempfail", "temporary failure (throttling, network); retry later"},
    {DRR_EXIT_CONFIG, "config", "invalid configuration"},
    {DRR_EXIT_AWS, "aws", "AWS rejected a request, or no usable credentials"},
    {DRR_EXIT_DBLAB, "dblab", "DBLab Engine error"},
    {DRR_EXIT_TIMEOUT, "timeout", "a wait ran past its timeout"},
    {DRR_EXIT_GUARD, "guard", "refused by a safety guard; nothing was changed"},
    {DRR_EXIT_BUSY, "busy", "another run owns the engine or the lock"},
    {DRR_EXIT_STALE, "stale", "newest snapshot is older than source.maxSnapshotAge"},
    {DRR_EXIT_NOT_FOUND, "not-found", "no usable snapshot, or a named resource is missing"},
    {DRR_EXIT_CLONE_FAILED, "clone-failed", "the clone reached a terminal failure state"},
    {DRR_EXIT_REFRESH_FAILED, "refresh-failed", "the DBLab refresh ran and failed"},
    {DRR_EXIT_NOTHING_TO_DO, "nothing-to-do", "nothing to do (Airflow shows the task as skipped)"},
};

static const struct exit_entry *find(int code)
{
    for (size_t i = 0; i < sizeof exit_table / sizeof exit_table[0]; i++)
        if (exit_table[i].code == code)
            return &exit_table[i];
    return NULL;
}

const char *drr_exit_name(int code)
{
    const struct exit_entry *x = find(code);
    if (x)
        return x->name;
    if (code > DRR_EXIT_SIGNAL_BASE && code < DRR_EXIT_SIGNAL_BASE + 65)
        return "signal";
    return "unknown";
}

const char *drr_exit_description(int code)
{
    const struct exit_entry *x = find(code);
    if (x)
        return x->description;
    if (code > DRR_EXIT_SIGNAL_BASE && code < DRR_EXIT_SIGNAL_BASE + 65)
        return "interrupted by a signal (128 + signal number)";
    return "unknown exit code";
}

void drr_exit_print_table(void *stdio_file)
{
    FILE *f = stdio_file;
    for (size_t i = 0; i < sizeof exit_table / sizeof exit_table[0]; i++)
        fprintf(f, "  %3d  %-15s %s\n", exit_table[i].code, exit_table[i].name,
                exit_table[i].description);
    fprintf(f, "  %3s  %-15s %s\n", "128+N", "signal",
            "interrupted by signal N (130 SIGINT, 143 SIGTERM)");
}
