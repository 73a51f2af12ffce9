#include "rds/instance_class.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Sizes with the same vCPU count in every family that offers them. */
static const struct {
    const char *size;
    int vcpus;
} sizes[] = {
    {"medium", 2},
    {"large", 2},
    {"xlarge", 4},
};

/* Exceptions, by full class: burstable micro/small and metal sizes. */
static const struct {
    const char *cls;
    int vcpus;
} classes[] = {
    {"db.t2.micro", 1},     {"db.t2.small", 1},       {"db.t3.micro", 2},    {"db.t3.small", 2},
    {"db.t4g.micro", 2},    {"db.t4g.small", 2},      {"db.m5.metal", 96},   {"db.m5d.metal", 96},
    {"db.r5.metal", 96},    {"db.r5d.metal", 96},     {"db.m6i.metal", 128}, {"db.r6i.metal", 128},
    {"db.m6id.metal", 128}, {"db.r6id.metal", 128},   {"db.m6g.metal", 64},  {"db.r6g.metal", 64},
    {"db.m6gd.metal", 64},  {"db.r6gd.metal", 64},    {"db.m7g.metal", 64},  {"db.r7g.metal", 64},
    {"db.x2g.metal", 64},   {"db.x2iedn.metal", 128},
};

int instance_class_vcpus(const char *cls)
{
    if (!cls || strncmp(cls, "db.", 3) != 0)
        return -1;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(cls, classes[i].cls) == 0)
            return classes[i].vcpus;
    const char *family = cls + 3;
    const char *size = strchr(family, '.');
    if (!size || size == family || strchr(size + 1, '.'))
        return -1;
    size++;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(size, sizes[i].size) == 0)
            return sizes[i].vcpus;
    /* "Nxlarge" = N x 4 vCPUs (2xlarge = 8, 16xlarge = 64, 48xlarge = 192). */
    if (isdigit((unsigned char)size[0])) {
        char *end;
        long n = strtol(size, &end, 10);
        if (n > 0 && n <= 64 && strcmp(end, "xlarge") == 0)
            return (int)(n * 4);
    }
    return -1;
}
