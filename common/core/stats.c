#include "core/log.h"
#include "core/stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long counters[STATS_N_COUNTERS];

void stats_add(enum stats_counter c, unsigned long n)
{
    if (c < STATS_N_COUNTERS)
        counters[c] += n;
}

unsigned long stats_get(enum stats_counter c)
{
    return c < STATS_N_COUNTERS ? counters[c] : 0;
}

int stats_write(const char *command)
{
    const char *path = getenv("DRR_STATS_FILE");
    if (!path || !*path)
        return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "command", command ? command : "");
    cJSON_AddNumberToObject(o, "awsCalls", (double)counters[STATS_AWS_CALLS]);
    cJSON_AddNumberToObject(o, "awsAttempts", (double)counters[STATS_AWS_ATTEMPTS]);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line)
        return -1;
    size_t len = strlen(line);
    line[len] = '\n'; /* replaces the NUL: written with its length below */
    int rc = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    /* One write() of a short line with O_APPEND lands whole even if steps overlap. */
    if (fd < 0 || write(fd, line, len + 1) != (ssize_t)(len + 1)) {
        log_warn("DRR_STATS_FILE %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}
