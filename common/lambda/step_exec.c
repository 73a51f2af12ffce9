#include "lambda/step_exec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/exitcodes.h"

extern char **environ;

void step_result_release(struct step_result *r)
{
    buf_release(&r->out);
    memset(r, 0, sizeof *r);
}

/* Keeps the message of an error line in either log format (log.c): text
 * "TIME ERROR component: message" or JSON {"level":"error","msg":...}. */
static void note_line(struct step_result *r, const char *line)
{
    if (line[0] == '{') {
        cJSON *o = cJSON_Parse(line);
        const cJSON *lvl = cJSON_GetObjectItemCaseSensitive(o, "level");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "msg");
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(o, "component");
        if (cJSON_IsString(lvl) && strcmp(lvl->valuestring, "error") == 0 && cJSON_IsString(msg))
            snprintf(r->last_error, sizeof r->last_error, "%s: %s",
                     cJSON_IsString(comp) ? comp->valuestring : "?", msg->valuestring);
        cJSON_Delete(o);
        return;
    }
    const char *p = strstr(line, " ERROR ");
    if (!p)
        return;
    p += 7;
    while (*p == ' ')
        p++;
    snprintf(r->last_error, sizeof r->last_error, "%s", p);
}

struct line_buf {
    char data[4096];
    size_t len;
};

/* Passes stderr through to ours line by line, noting error lines. */
static void feed_stderr(struct step_result *r, struct line_buf *lb, const char *p, size_t n,
                        int flush)
{
    for (size_t i = 0; i < n || (flush && lb->len); i++) {
        int end = i >= n;
        char c = end ? '\n' : p[i];
        if (c != '\n' && lb->len < sizeof lb->data - 1) {
            lb->data[lb->len++] = c;
            continue;
        }
        if (c != '\n')
            continue; /* an over-long line: the rest is dropped until its end */
        lb->data[lb->len] = '\0';
        fprintf(stderr, "%s\n", lb->data);
        note_line(r, lb->data);
        lb->len = 0;
        if (end)
            break;
    }
    fflush(stderr);
}

static int spawn(const struct step_exec *x, int in_fd, int out_fd, int err_fd, pid_t *pid,
                 struct err *e)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    /* The runtime ignores SIGPIPE; the command gets the default back. */
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGHUP);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    /* spawnp: a bare command name is looked up in $PATH; a path is used as it is */
    int rc = posix_spawnp(pid, x->argv[0], &fa, &at, (char *const *)x->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "cannot start %s: %s", x->argv[0], strerror(rc));
    return 0;
}

/* SIGTERM once term_at has come (the command stops cleanly on it), SIGKILL once
 * kill_at has. */
static void enforce_deadline(const struct step_exec *x, pid_t pid, double now, int *termed,
                             int *killed, struct step_result *r)
{
    if (!*termed && x->term_at > 0 && now >= x->term_at) {
        kill(pid, SIGTERM);
        *termed = r->stopped = 1;
    }
    if (!*killed && x->kill_at > 0 && now >= x->kill_at) {
        kill(pid, SIGKILL);
        *killed = r->stopped = 1;
    }
}

int step_exec_run(const struct step_exec *x, struct step_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
        int rc = err_set(e, ERR_INTERNAL, "pipe: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0)
                close(in[i]);
            if (out[i] >= 0)
                close(out[i]);
            if (errp[i] >= 0)
                close(errp[i]);
        }
        return rc;
    }
    pid_t pid;
    int rc = spawn(x, in[0], out[1], errp[1], &pid, e);
    close(in[0]);
    close(out[1]);
    close(errp[1]);
    if (rc) {
        close(in[1]);
        close(out[0]);
        close(errp[0]);
        return rc;
    }
    const char *input = x->input ? x->input : "";
    size_t in_len = strlen(input), in_off = 0;
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    if (in_len == 0) {
        close(in[1]);
        in[1] = -1;
    }
    struct line_buf lb = {.len = 0};
    int termed = 0, killed = 0;
    while (out[0] >= 0 || errp[0] >= 0) {
        double now = clock_monotonic();
        enforce_deadline(x, pid, now, &termed, &killed, r);
        double next = !termed && x->term_at > 0   ? x->term_at
                      : !killed && x->kill_at > 0 ? x->kill_at
                                                  : 0;
        int timeout_ms = next > 0 ? (int)((next - now) * 1000) + 1 : -1;
        struct pollfd p[3] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        int n = poll(p, 3, timeout_ms);
        if (n < 0 && errno != EINTR)
            break;
        char chunk[8192];
        if (p[0].revents) {
            ssize_t k = read(out[0], chunk, sizeof chunk);
            if (k > 0 && r->out.len + (size_t)k <= STEP_MAX_OUTPUT) {
                buf_append(&r->out, chunk, (size_t)k);
            } else if (k > 0) {
                r->output_too_big = 1;
                kill(pid, SIGKILL);
                killed = 1;
            } else if (k == 0 || errno != EINTR) {
                close(out[0]);
                out[0] = -1;
            }
        }
        if (p[1].revents) {
            ssize_t k = read(errp[0], chunk, sizeof chunk);
            if (k > 0) {
                feed_stderr(r, &lb, chunk, (size_t)k, 0);
            } else if (k == 0 || errno != EINTR) {
                close(errp[0]);
                errp[0] = -1;
            }
        }
        if (in[1] >= 0 && p[2].revents) {
            ssize_t k =
                (p[2].revents & POLLOUT) ? write(in[1], input + in_off, in_len - in_off) : -1;
            if (k > 0)
                in_off += (size_t)k;
            if (k < 0 && errno == EAGAIN)
                continue;
            if (k <= 0 || in_off == in_len) {
                close(in[1]);
                in[1] = -1;
            }
        }
    }
    feed_stderr(r, &lb, "", 0, 1);
    if (in[1] >= 0)
        close(in[1]);
    if (out[0] >= 0)
        close(out[0]);
    if (errp[0] >= 0)
        close(errp[0]);
    /* Both pipes are closed: the child is gone or closed them; wait for it, still
     * within the deadline. */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = 0;
            break;
        }
        enforce_deadline(x, pid, clock_monotonic(), &termed, &killed, r);
        usleep(10000);
    }
    r->signaled = WIFSIGNALED(status);
    r->exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? DRR_EXIT_SIGNAL_BASE + WTERMSIG(status)
                                         : DRR_EXIT_INTERNAL;
    return 0;
}
