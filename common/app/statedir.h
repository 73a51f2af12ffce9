/* The driver's state directory (docs/driver.md "State directory"): where a run
 * records its run id before its clone can exist, so the next start can delete
 * a clone left by a killed run.
 *
 * Trust rule (the one OpenSSH applies to ~/.ssh): the state directory and the
 * per-source directory inside it are directories (never symlinks) owned by the
 * running user and not writable by group or others; every ancestor is owned by
 * root or the running user and not writable by others unless sticky (/tmp).
 * Anything else is refused with ERR_CONFIG naming the path and why, before
 * anything is written. Files inside are opened with O_NOFOLLOW and written to a
 * fresh random temporary name (O_EXCL) then renamed, so a crash never leaves
 * half a file and a planted name is never followed. */
#ifndef DRR_STATEDIR_H
#define DRR_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

/* The default state directory when -state-dir is not given: $DRR_STATE_DIR,
 * $STATE_DIRECTORY (first entry), /var/lib/dblab-rds-refresh for root (or when
 * it exists and belongs to the running user), $XDG_STATE_HOME/dblab-rds-refresh,
 * $HOME/.local/state/dblab-rds-refresh; never /tmp. Returns 0, or
 * ERR_CONFIG saying which flag to pass. */
int statedir_default(char *out, size_t n, struct err *e);

/* Checks base (creating it and missing parents mode 0700) and base/sub
 * (created 0700 when missing) under the trust rule; *dirfd is base/sub opened
 * O_DIRECTORY|O_NOFOLLOW. Returns 0 or ERR_CONFIG. */
int statedir_open(const char *base, const char *sub, int *dirfd, struct err *e);

/* Writes len bytes to name inside dirfd atomically (random temporary name,
 * O_EXCL|O_NOFOLLOW, fsync, rename), with mode. Returns 0 or ERR_INTERNAL. */
int statedir_write(int dirfd, const char *name, const char *text, size_t len, mode_t mode,
                   struct err *e);

/* Reads name (O_NOFOLLOW, a regular file of at most 64 KiB) into a malloc'd NUL-
 * terminated *text. Returns 0, ERR_NOT_FOUND when it does not exist, or
 * ERR_CONFIG (not a regular file, a symlink) / ERR_INTERNAL. */
int statedir_read(int dirfd, const char *name, char **text, struct err *e);

/* The value of key in "key=value" lines (text), malloc'd, or NULL. */
char *statedir_value(const char *text, const char *key);

/* Removes the work directories "work.PID" whose PID is no longer running (a
 * driver killed with SIGKILL leaves its own), then creates work.<pid> (0700).
 * Returns 0 or ERR_INTERNAL. */
int statedir_work(int dirfd, long pid, struct err *e);

#endif
