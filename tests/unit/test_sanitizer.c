/* The sanitizer report hooks (common/core/sanitizer.h). Under `make asan` each kind of
 * report (an ASan error, a UBSan error, a leak) in a child process must leave its
 * marker in $DRR_SANITIZER_DIR, and a clean child none; in a normal build the
 * hooks must do nothing at all. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "core/sanitizer.h"
#include "tmpfiles.h"

enum fault { CLEAN, HEAP_OVERFLOW, SIGNED_OVERFLOW, LEAK };

static volatile int sink;
static void *volatile leaked;

static void do_fault(enum fault f)
{
    switch (f) {
    case CLEAN:
        break;
    case HEAP_OVERFLOW: {
        char *volatile p = malloc(8);
        volatile int i = 8;
        sink = p[i];
        free(p);
        break;
    }
    case SIGNED_OVERFLOW: {
        volatile int x = 0x7fffffff, y = 1;
        sink = x + y;
        break;
    }
    case LEAK:
        leaked = malloc(64);
        leaked = NULL; /* lost: LeakSanitizer reports it at exit */
        break;
    }
}

/* Runs fault f in a child with DRR_SANITIZER_DIR=dir (when dir is not NULL);
 * returns how many markers the child left. */
static int markers_after(enum fault f, const char *dir, int *status)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* The deliberate reports are not shown: a log searched for sanitizer
         * reports must only hold real ones. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        if (dir != NULL)
            setenv("DRR_SANITIZER_DIR", dir, 1);
        else
            unsetenv("DRR_SANITIZER_DIR");
        sanitizer_hooks_install("test-cmd");
        do_fault(f);
        exit(0);
    }
    ck_assert_int_eq(waitpid(pid, status, 0), pid);
    int n = 0;
    if (dir == NULL)
        return 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    char want[64];
    snprintf(want, sizeof want, "test-cmd.%ld", (long)pid);
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d))
        if (strcmp(de->d_name, want) == 0)
            n++;
    closedir(d);
    return n;
}

START_TEST(each_report_leaves_a_marker)
{
    char *dir = tmp_dir_new();
    int status = 0;
    ck_assert_int_eq(markers_after(CLEAN, dir, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!sanitizer_build()) {
        /* A normal build: nothing is hooked, a clean run leaves nothing behind. */
        ck_assert_int_eq(markers_after(LEAK, dir, &status), 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        tmp_dir_remove(dir);
        return;
    }
    static const enum fault faults[] = {HEAP_OVERFLOW, SIGNED_OVERFLOW, LEAK};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        ck_assert_msg(markers_after(faults[i], dir, &status) == 1, "fault %d: no marker",
                      (int)faults[i]);
        ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) != 0,
                      "fault %d: the child exited 0", (int)faults[i]);
    }
    /* Without the variable a report is only a report (and still a failure). */
    ck_assert_int_eq(markers_after(HEAP_OVERFLOW, NULL, &status), 0);
    ck_assert(!WIFEXITED(status) || WEXITSTATUS(status) != 0);
    tmp_dir_remove(dir);
}
END_TEST

int main(void)
{
    return run_suites(SUITE_OF_TESTS("sanitizer", 60, each_report_leaves_a_marker), NULL);
}
