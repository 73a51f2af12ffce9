/* credential_process: runs the profile's command with /bin/sh -c (the command
 * line is the user's, written in their profile; none of our secrets is ever
 * put in its argv or environment beyond what we inherited) and reads the JSON
 * Version 1 document on its stdout. Its stderr goes to ours, as with the SDKs,
 * so a helper's own diagnostics reach the log. A hung helper is killed after
 * PROCESS_TIMEOUT seconds; a signal to us stops waiting. */
#include "aws/aws_creds_internal.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCESS_TIMEOUT    60
#define PROCESS_MAX_OUTPUT (64 * 1024)

extern char **environ;

struct process_source {
    struct creds_source base;
    struct creds_ctx *c; /* its transport's cancellation stops the wait */
    char *profile;
    char *command;
};

static void child_exec(const char *command, int out_fd)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        if (devnull != STDIN_FILENO)
            close(devnull);
    }
    if (dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(127);
    /* Nothing of ours (sockets, files) leaks into the helper. */
    close_range(3, ~0U, 0);
    /* Default signal dispositions for the helper. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    char *const argv[] = {(char *)"sh", (char *)"-c", (char *)command, NULL};
    execve("/bin/sh", argv, environ);
    _exit(127);
}

/* Reads the child's stdout until EOF, the size limit, the timeout or a signal.
 * Returns 0, or a message in e (the child is then killed by the caller). */
static int read_output(const struct cancel *cancel, int fd, const char *profile, struct buf *out,
                       struct err *e)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char chunk[4096];
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed_ms =
            (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed_ms >= PROCESS_TIMEOUT * 1000L)
            return err_set(e, ERR_AWS_UNAUTHORIZED,
                           "AWS profile \"%s\": credential_process did not finish within %d s",
                           profile, PROCESS_TIMEOUT);
        int stop = cancel_check(cancel);
        if (stop) {
            char what[300];
            snprintf(what, sizeof what, "AWS profile \"%s\": credential_process", profile);
            return cancel_err(e, stop, what, "while waiting for it");
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, 200);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return err_set(e, ERR_INTERNAL, "credential_process: poll: %s", strerror(errno));
        if (pr == 0)
            continue;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return err_set(e, ERR_AWS_UNAUTHORIZED,
                           "AWS profile \"%s\": credential_process: read: %s", profile,
                           strerror(errno));
        if (n == 0)
            return 0;
        buf_append(out, chunk, (size_t)n);
        if (out->len > PROCESS_MAX_OUTPUT)
            return err_set(e, ERR_AWS_UNAUTHORIZED,
                           "AWS profile \"%s\": credential_process printed more than %d bytes",
                           profile, PROCESS_MAX_OUTPUT);
    }
}

static int process_fetch(struct creds_source *s, struct aws_credentials *out, struct err *e)
{
    struct process_source *ps = (struct process_source *)s;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return err_set(e, ERR_INTERNAL, "credential_process: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        return err_set(e, ERR_INTERNAL, "credential_process: fork: %s", strerror(saved));
    }
    if (pid == 0) {
        close(fds[0]);
        child_exec(ps->command, fds[1]);
    }
    close(fds[1]);

    struct buf output = BUF_INIT;
    int rc = read_output(creds_cancel(ps->c), fds[0], ps->profile, &output, e);
    close(fds[0]);
    if (rc != 0)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            rc = err_set(e, ERR_AWS_UNAUTHORIZED,
                         "AWS profile \"%s\": credential_process exited with status %d",
                         ps->profile, WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            rc = err_set(e, ERR_AWS_UNAUTHORIZED,
                         "AWS profile \"%s\": credential_process killed by signal %d", ps->profile,
                         WTERMSIG(status));
    }
    if (rc == 0) {
        char what[512];
        snprintf(what, sizeof what, "AWS profile \"%s\": credential_process output", ps->profile);
        rc = creds_from_json(buf_cstr(&output), "SessionToken", 1, out, what, e);
    }
    free_secret(buf_detach(&output));
    return rc;
}

static void process_source_free(struct creds_source *s)
{
    struct process_source *ps = (struct process_source *)s;
    free(ps->profile);
    free(ps->command);
    free(ps);
}

struct creds_source *creds_process_new(struct creds_ctx *c, const char *profile,
                                       const char *command)
{
    struct process_source *ps = xcalloc(1, sizeof *ps);
    ps->c = c;
    ps->base.name = xasprintf("credential-process (profile:%s)", profile);
    ps->base.fetch = process_fetch;
    ps->base.free = process_source_free;
    ps->profile = xstrdup(profile);
    ps->command = xstrdup(command);
    return &ps->base;
}
