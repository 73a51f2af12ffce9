/* Exit codes shared by every command. One table, documented in docs/exit-codes.md
 * and printed by --help. Classes follow sysexits(3) where one exists. */
#ifndef DRR_EXITCODES_H
#define DRR_EXITCODES_H

enum drr_exit {
    DRR_EXIT_OK = 0,
    DRR_EXIT_USAGE = 64,          /* bad command line (EX_USAGE) */
    DRR_EXIT_INPUT = 65,          /* invalid input run document (EX_DATAERR) */
    DRR_EXIT_INTERNAL = 70,       /* bug or out of memory (EX_SOFTWARE) */
    DRR_EXIT_TEMPFAIL = 75,       /* temporary failure, worth retrying later (EX_TEMPFAIL) */
    DRR_EXIT_CONFIG = 78,         /* invalid configuration (EX_CONFIG) */
    DRR_EXIT_AWS = 80,            /* AWS rejected a request or credentials failed */
    DRR_EXIT_DBLAB = 81,          /* DBLab Engine error (HTTP, auth, bad answer) */
    DRR_EXIT_TIMEOUT = 82,        /* a wait ran past its timeout */
    DRR_EXIT_GUARD = 83,          /* refused by a safety guard; nothing was changed */
    DRR_EXIT_BUSY = 84,           /* another run owns the engine or the lock */
    DRR_EXIT_STALE = 85,          /* newest snapshot older than source.maxSnapshotAge */
    DRR_EXIT_NOT_FOUND = 86,      /* no usable snapshot / named resource missing */
    DRR_EXIT_CLONE_FAILED = 87,   /* the clone reached a terminal failure state */
    DRR_EXIT_REFRESH_FAILED = 88, /* the DBLab refresh ran and failed */
    DRR_EXIT_NOTHING_TO_DO = 99,  /* nothing to do (Airflow shows it as skipped) */
    DRR_EXIT_SIGNAL_BASE = 128    /* 128 + signal number when interrupted */
};

/* THE one table from an error kind (core/err.h) to the process exit code,
 * used only at a command's edge (app_finish, lambda_entry): several kinds share
 * one exit code (ERR_TLS and ERR_CONFIG are both 78). ERR_INTERRUPTED is 128 +
 * signo (signo 1..64; 128 + SIGTERM when signo is not a signal); ERR_OK is 0;
 * a value that is no kind is 70 (internal), never success. */
int err_exit_code(int kind, int signo);

/* Short stable name of an exit code ("usage", "aws", ...), "unknown" otherwise. */
const char *drr_exit_name(int code);
/* One-line description for --help and docs. */
const char *drr_exit_description(int code);
/* The table, for --help: writes "  CODE  name  description" lines. */
void drr_exit_print_table(void *stdio_file);

#endif
