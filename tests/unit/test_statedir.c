/* statedir: the driver's state directory trust rule, atomic O_NOFOLLOW writes,
 * the run record's values, the sweep of dead drivers' work directories; and
 * run_summary, the driver's final document built from its work directory. */
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "tmpfiles.h"
#include "app/run_summary.h"
#include "app/statedir.h"

static char *top;

static void setup(void)
{
    top = tmp_dir_new();
}

static void teardown(void)
{
    tmp_dir_remove(top);
    top = NULL;
}

static void path(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", top, rel);
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

START_TEST(creates_and_trusts_own_directories)
{
    char base[512], sub[600];
    path(base, sizeof base, "a/b/state");
    struct err e = {0};
    int fd;
    ck_assert_int_eq(statedir_open(base, "us-east-1.db", &fd, &e), 0);
    snprintf(sub, sizeof sub, "%s/us-east-1.db", base);
    struct stat st;
    ck_assert_int_eq(stat(sub, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    close(fd);
    /* again: existing directories are fine */
    ck_assert_int_eq(statedir_open(base, "us-east-1.db", &fd, &e), 0);
    close(fd);
}
END_TEST

START_TEST(refuses_symlink_and_loose_modes)
{
    char base[512], victim[512], link[600];
    path(base, sizeof base, "state");
    path(victim, sizeof victim, "victim");
    ck_assert_int_eq(mkdir(base, 0700), 0);
    ck_assert_int_eq(mkdir(victim, 0755), 0);
    snprintf(link, sizeof link, "%s/src", base);
    ck_assert_int_eq(symlink(victim, link), 0);
    struct err e = {0};
    int fd;
    ck_assert_int_eq(statedir_open(base, "src", &fd, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "/state/src: is a symbolic link"));
    ck_assert_int_eq(fd, -1);
    ck_assert_int_eq(entries(victim), 0);
    unlink(link);

    ck_assert_int_eq(chmod(base, 0777), 0);
    ck_assert_int_eq(statedir_open(base, "src", &fd, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "writable by group or others (mode 0777)"));
    ck_assert_int_eq(entries(base), 0); /* nothing written */

    /* a loose parent, not sticky */
    ck_assert_int_eq(chmod(base, 0700), 0);
    char parent[512];
    path(parent, sizeof parent, "loose");
    ck_assert_int_eq(mkdir(parent, 0700), 0);
    ck_assert_int_eq(chmod(parent, 0777), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/state", parent);
    ck_assert_int_eq(statedir_open(inner, "src", &fd, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "parent"));
    ck_assert_ptr_nonnull(strstr(e.msg, "not sticky"));
    /* sticky (like /tmp) is fine */
    ck_assert_int_eq(chmod(parent, 01777), 0);
    ck_assert_int_eq(statedir_open(inner, "src", &fd, &e), 0);
    close(fd);
}
END_TEST

START_TEST(atomic_write_read_and_values)
{
    char base[512];
    path(base, sizeof base, "s");
    struct err e = {0};
    int fd;
    ck_assert_int_eq(statedir_open(base, "k", &fd, &e), 0);
    char *text = NULL;
    ck_assert_int_eq(statedir_read(fd, "run.state", &text, &e), ERR_NOT_FOUND);
    const char *rec = "runId=a b\nclone=x\nrunId=later\n";
    ck_assert_int_eq(statedir_write(fd, "run.state", rec, strlen(rec), 0600, &e), 0);
    ck_assert_int_eq(statedir_read(fd, "run.state", &text, &e), 0);
    ck_assert_str_eq(text, rec);
    char *v = statedir_value(text, "runId");
    ck_assert_str_eq(v, "later"); /* the last one wins */
    free(v);
    ck_assert_ptr_null(statedir_value(text, "run"));
    free(text);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/k", base);
    ck_assert_int_eq(entries(sub), 1); /* no temporary file left */

    /* a planted symlink is neither read nor followed by a write */
    char target[512], link[700];
    path(target, sizeof target, "target");
    FILE *f = fopen(target, "w");
    fputs("keep", f);
    fclose(f);
    snprintf(link, sizeof link, "%s/run.state", sub);
    unlink(link);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(statedir_read(fd, "run.state", &text, &e), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "symbolic link"));
    ck_assert_int_eq(statedir_write(fd, "run.state", "x=1\n", 4, 0600, &e), 0);
    f = fopen(target, "r");
    char buf[16] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "keep"); /* the rename replaced the link, not its target */
    close(fd);
}
END_TEST

START_TEST(work_directories_of_dead_drivers_are_removed)
{
    char base[512], sub[600], dead[700], mine[700], alive[700];
    path(base, sizeof base, "s");
    struct err e = {0};
    int fd;
    ck_assert_int_eq(statedir_open(base, "k", &fd, &e), 0);
    snprintf(sub, sizeof sub, "%s/k", base);
    /* pid 2^22+1 is above Linux's pid_max limit: never running */
    snprintf(dead, sizeof dead, "%s/work.4194305", sub);
    snprintf(alive, sizeof alive, "%s/work.%ld", sub, (long)getppid());
    ck_assert_int_eq(mkdir(dead, 0700), 0);
    ck_assert_int_eq(mkdir(alive, 0700), 0);
    char file[800];
    snprintf(file, sizeof file, "%s/steps", dead);
    fclose(fopen(file, "w"));
    ck_assert_int_eq(statedir_work(fd, (long)getpid(), &e), 0);
    snprintf(mine, sizeof mine, "%s/work.%ld", sub, (long)getpid());
    ck_assert_int_eq(access(dead, F_OK), -1);
    ck_assert_int_eq(access(alive, F_OK), 0);
    ck_assert_int_eq(access(mine, F_OK), 0);
    close(fd);
}
END_TEST

static void put(const char *dir, const char *name, const char *text)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(summary_from_the_work_directory)
{
    const char *w = top;
    put(w, "steps",
        "recovery 0 1000000000 1500000000 delete\n"
        "gc 0 1500000000 2000000000\n"
        "create 0 3000000000 4000000000\n"
        "delete 0 9000000000 9250000000\n");
    put(w, "recovery.state", "runId=old\nclone=dblab-refresh-old-1\n");
    put(w, "recovery.out",
        "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"deleted\":{\"id\":\"x\",\"alreadyGone\":true}}\n");
    put(w, "gc.out", "{\"kind\":\"gc\",\"deleted\":[]}\n");
    put(w, "gc.stats", "{\"command\":\"rds-clone-gc\",\"awsCalls\":2}\n");
    put(w, "create.stats", "{\"awsCalls\":3}\n{\"awsCalls\":1}\n");
    put(w, "delete.out", "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"deleted\":{\"id\":\"c\"}}\n");
    struct run_summary s = {.work = w,
                            .status = "failed",
                            .exit_code = 88,
                            .step = "refresh",
                            .clone_id = "c",
                            .clone_deleted = 1,
                            .started_ns = 1000000000,
                            .now_ns = 10000000000};
    cJSON *base = cJSON_Parse("{\"apiVersion\":\"dblab-rds-refresh/v1\",\"runId\":\"r\"}");
    cJSON *doc = run_summary_build(&s, base);
    char *text = cJSON_PrintUnformatted(doc);
    ck_assert_ptr_nonnull(strstr(text, "\"runId\":\"r\""));
    ck_assert_ptr_nonnull(strstr(text, "\"deleted\":{\"id\":\"c\"}"));
    ck_assert_ptr_nonnull(strstr(text,
                                 "\"outcome\":{\"status\":\"failed\",\"exitCode\":88,"
                                 "\"step\":\"refresh\",\"cloneId\":\"c\",\"cloneDeleted\":true}"));
    ck_assert_ptr_nonnull(strstr(text, "\"recovery\":{\"durationSeconds\":0.5,\"exitCode\":0,"
                                       "\"runId\":\"old\",\"clone\":\"dblab-refresh-old-1\","
                                       "\"action\":\"delete\",\"alreadyGone\":true}"));
    ck_assert_ptr_nonnull(strstr(text, "\"report\":{\"kind\":\"gc\",\"deleted\":[]}"));
    ck_assert_ptr_nonnull(
        strstr(text, "\"create\":{\"durationSeconds\":1,\"exitCode\":0,\"awsCalls\":4}"));
    ck_assert_ptr_nonnull(strstr(text, "\"cloneLifetimeSeconds\":6.25"));
    ck_assert_ptr_nonnull(strstr(text, "\"awsCalls\":6"));
    ck_assert_ptr_nonnull(strstr(text, "\"durationSeconds\":9,\"exitCode\":88,"
                                       "\"error\":\"step refresh failed: the DBLab refresh ran and "
                                       "failed (exit 88); see the log on stderr\""));
    cJSON_free(text);

    /* metrics: written atomically, the last success kept from the previous file */
    char prom[600];
    snprintf(prom, sizeof prom, "%s/m/x.prom", top);
    char mdir[600];
    snprintf(mdir, sizeof mdir, "%s/m", top);
    ck_assert_int_eq(mkdir(mdir, 0755), 0);
    put(top, "m/x.prom", "dblab_rds_refresh_last_success_timestamp_seconds{source=\"a\"} 1234\n");
    struct err e = {0};
    ck_assert_int_eq(run_summary_metrics(&s, doc, "a\"b", prom, &e), 0);
    FILE *f = fopen(prom, "r");
    char all[8192];
    size_t n = fread(all, 1, sizeof all - 1, f);
    all[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(all, "dblab_rds_refresh_last_run_success{source=\"a\\\"b\"} 0\n"));
    ck_assert_ptr_nonnull(
        strstr(all, "dblab_rds_refresh_last_success_timestamp_seconds{source=\"a\\\"b\"} 1234\n"));
    ck_assert_ptr_nonnull(
        strstr(all, "step_duration_seconds{source=\"a\\\"b\",step=\"delete\"} 0.25\n"));
    ck_assert_ptr_nonnull(strstr(all, "dblab_rds_refresh_clone_left{source=\"a\\\"b\"} 0\n"));
    struct stat st;
    ck_assert_int_eq(stat(prom, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    cJSON_Delete(doc);

    /* a create that failed before anything existed (preflight refusal), whose
     * delete found nothing: no clone was deleted and it had no lifetime */
    put(w, "steps", "create 78 3000000000 3100000000\ndelete 0 3200000000 3300000000\n");
    put(w, "delete.out",
        "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"deleted\":{\"id\":\"c\","
        "\"alreadyGone\":true}}\n");
    struct run_summary never = {.work = w,
                                .status = "failed",
                                .exit_code = 78,
                                .step = "create",
                                .clone_id = "c",
                                .clone_deleted = 1,
                                .started_ns = 1000000000,
                                .now_ns = 4000000000};
    cJSON *d2 = run_summary_build(&never, NULL);
    text = cJSON_PrintUnformatted(d2);
    ck_assert_ptr_nonnull(strstr(text, "\"cloneId\":\"c\",\"cloneDeleted\":false}"));
    ck_assert_ptr_nonnull(strstr(text, "\"cloneLifetimeSeconds\":null"));
    cJSON_free(text);
    cJSON_Delete(d2);
    /* the same failed create, but the delete found the clone (AWS made it): deleted */
    put(w, "delete.out",
        "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"deleted\":{\"id\":\"c\","
        "\"alreadyGone\":false}}\n");
    d2 = run_summary_build(&never, NULL);
    text = cJSON_PrintUnformatted(d2);
    ck_assert_ptr_nonnull(strstr(text, "\"cloneDeleted\":true}"));
    ck_assert_ptr_nonnull(strstr(text, "\"cloneLifetimeSeconds\":0.3"));
    cJSON_free(text);
    cJSON_Delete(d2);

    /* before any step: apiVersion and outcome only */
    struct run_summary early = {.status = "busy", .exit_code = 84, .step = "lock"};
    doc = run_summary_build(&early, NULL);
    text = cJSON_PrintUnformatted(doc);
    ck_assert_str_eq(text,
                     "{\"apiVersion\":\"dblab-rds-refresh/v1\",\"outcome\":{\"status\":\"busy\","
                     "\"exitCode\":84,\"step\":\"lock\"}}");
    cJSON_free(text);
    cJSON_Delete(doc);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("statedir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, creates_and_trusts_own_directories);
    tcase_add_test(tc, refuses_symlink_and_loose_modes);
    tcase_add_test(tc, atomic_write_read_and_values);
    tcase_add_test(tc, work_directories_of_dead_drivers_are_removed);
    tcase_add_test(tc, summary_from_the_work_directory);
    Suite *s = suite_create("statedir");
    suite_add_tcase(s, tc);
    return run_suites(s, NULL);
}
