/* stats: counters and the one-line record appended to $DRR_STATS_FILE. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "core/stats.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(counters_and_appended_lines)
{
    char dir[] = "/tmp/drr-stats.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/stats", dir);

    unsetenv("DRR_STATS_FILE");
    ck_assert_int_eq(stats_write("nothing"), 0); /* unset: no file */
    ck_assert_int_eq(access(path, F_OK), -1);

    stats_add(STATS_AWS_CALLS, 3);
    stats_add(STATS_AWS_ATTEMPTS, 5);
    stats_add(STATS_N_COUNTERS, 7); /* out of range: ignored */
    ck_assert_uint_eq(stats_get(STATS_AWS_CALLS), 3);
    ck_assert_uint_eq(stats_get(STATS_AWS_ATTEMPTS), 5);

    setenv("DRR_STATS_FILE", path, 1);
    ck_assert_int_eq(stats_write("rds-clone-wait"), 0);
    stats_add(STATS_AWS_CALLS, 1);
    ck_assert_int_eq(stats_write("rds-clone-delete"), 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);

    char *text = slurp(path);
    char *second = strchr(text, '\n');
    ck_assert_ptr_nonnull(second);
    *second++ = '\0';
    cJSON *a = cJSON_Parse(text), *b = cJSON_Parse(second);
    ck_assert_str_eq(cJSON_GetObjectItem(a, "command")->valuestring, "rds-clone-wait");
    ck_assert_int_eq(cJSON_GetObjectItem(a, "awsCalls")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(a, "awsAttempts")->valueint, 5);
    ck_assert_int_eq(cJSON_GetObjectItem(b, "awsCalls")->valueint, 4);
    cJSON_Delete(a);
    cJSON_Delete(b);

    setenv("DRR_STATS_FILE", "/nonexistent-dir/stats", 1);
    ck_assert_int_eq(stats_write("x"), -1);
    unsetenv("DRR_STATS_FILE");
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("stats", 0, counters_and_appended_lines), NULL);
}
