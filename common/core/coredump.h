/* No core dumps: a core of this process would hold the AWS secret key, the
 * session token, the DBLab token and the database password. */
#ifndef DRR_COREDUMP_H
#define DRR_COREDUMP_H

/* Sets RLIMIT_CORE to 0 (soft and hard, so a child cannot raise it again) and
 * PR_SET_DUMPABLE 0 (also covers a core_pattern that pipes to a handler, and
 * keeps other processes of the same user from ptrace-attaching or reading
 * /proc/PID/mem). Called first thing by app_start, before any secret is read.
 * Returns 0, or -1 with errno when either call failed (the caller warns). */
int coredump_disable(void);

#endif
