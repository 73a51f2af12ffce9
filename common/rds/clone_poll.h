/* The adaptive poll schedule of rds-clone-wait (and of rds-clone-delete -wait):
 * frequent at first (a restore can fail fast, and the not-found of eventual
 * consistency clears in seconds), then backing off geometrically to a cap, with
 * jitter so that many waiters do not poll in step. The jitter only ever shortens
 * an interval: the cap is the worst-case delay between a status change and its
 * detection. */
#ifndef DRR_CLONE_POLL_H
#define DRR_CLONE_POLL_H

#include <stdint.h>

struct poll_schedule {
    double first;  /* first interval, seconds */
    double factor; /* growth per poll */
    double cap;    /* longest interval = worst-case detection delay */
    double jitter; /* fraction of an interval that may be cut at random (0..1) */
    double base;   /* current un-jittered interval */
    uint64_t rng;  /* xorshift state */
};

#define POLL_FIRST  5.0
#define POLL_FACTOR 1.5
#define POLL_CAP    30.0
#define POLL_JITTER 0.1

/* Tests run against an emulator whose clock runs faster than real time:
 * DBLAB_RDS_REFRESH_POLL_SCALE (a positive factor, default 1) scales every wait
 * interval and grace period of these commands by the same factor. */
double poll_scale(void);

/* Defaults above (times poll_scale()); seed 0 = seeded from time and pid. */
void poll_init(struct poll_schedule *p, uint64_t seed);
/* The next interval to sleep, in seconds. */
double poll_next(struct poll_schedule *p);

/* Simulation of a wait of `duration` seconds where the change happens at the end:
 * the number of describe calls made (the first one at t=0) and the detection delay. */
void poll_simulate(struct poll_schedule *p, double duration, int *calls, double *delay);

#endif
