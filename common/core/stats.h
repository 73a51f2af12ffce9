/* Per-process counters the driver reports for a whole run (the number of AWS
 * calls). Incremented where the work happens (aws_client, the credential
 * providers); when $DRR_STATS_FILE is set, app_end appends ONE JSON line
 *   {"command":"rds-clone-wait","awsCalls":12,"awsAttempts":13}
 * to that file, so a command's stdout stays the run document alone. */
#ifndef DRR_STATS_H
#define DRR_STATS_H

enum stats_counter {
    STATS_AWS_CALLS = 0, /* AWS API calls (an API call with retries counts once) */
    STATS_AWS_ATTEMPTS,  /* HTTP requests sent to AWS, retries included */
    STATS_N_COUNTERS
};

void stats_add(enum stats_counter c, unsigned long n);
unsigned long stats_get(enum stats_counter c);
/* Appends the line for command to $DRR_STATS_FILE (mode 0600, O_APPEND so the
 * steps of one run can share the file). No-op when unset. 0 ok, -1 on I/O error. */
int stats_write(const char *command);

#endif
