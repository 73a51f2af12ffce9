#include "rds/clone_poll.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

double poll_scale(void)
{
    const char *s = getenv("DBLAB_RDS_REFRESH_POLL_SCALE");
    if (!s || !*s)
        return 1.0;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !(v > 0) || v > 1000)
        return 1.0;
    return v;
}

void poll_init(struct poll_schedule *p, uint64_t seed)
{
    double k = poll_scale();
    p->first = POLL_FIRST * k;
    p->factor = POLL_FACTOR;
    p->cap = POLL_CAP * k;
    p->jitter = POLL_JITTER;
    p->base = 0;
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    }
    p->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

double poll_next(struct poll_schedule *p)
{
    p->base = p->base <= 0 ? p->first : p->base * p->factor;
    if (p->base > p->cap)
        p->base = p->cap;
    double r = (double)(xorshift(&p->rng) >> 11) / (double)(1ULL << 53); /* [0,1) */
    return p->base * (1.0 - p->jitter * r);
}

void poll_simulate(struct poll_schedule *p, double duration, int *calls, double *delay)
{
    double t = 0;
    int n = 1; /* the call at t = 0 */
    while (t < duration) {
        t += poll_next(p);
        n++;
    }
    *calls = n;
    *delay = t - duration;
}
