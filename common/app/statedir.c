#include "app/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

#define STATEDIR_NAME     "dblab-rds-refresh"
#define STATEDIR_SYSTEM   "/var/lib/" STATEDIR_NAME
#define STATEDIR_MAX_FILE (64 * 1024)

static int put(char *out, size_t n, struct err *e, const char *fmt, const char *a, const char *b)
{
    int w = snprintf(out, n, fmt, a, b);
    if (w < 0 || (size_t)w >= n)
        return err_set(e, ERR_CONFIG, "state directory %s%s: path too long", a, b);
    return 0;
}

int statedir_default(char *out, size_t n, struct err *e)
{
    const char *v = getenv("DRR_STATE_DIR"); /* the container image's volume */
    if (v && *v)
        return put(out, n, e, "%s%s", v, "");
    v = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory=; ':'-separated */
    if (v && *v) {
        size_t len = strcspn(v, ":");
        if (len + 1 > n)
            return err_set(e, ERR_CONFIG, "$STATE_DIRECTORY: path too long");
        memcpy(out, v, len);
        out[len] = '\0';
        return 0;
    }
    struct stat st;
    if (geteuid() == 0 ||
        (lstat(STATEDIR_SYSTEM, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()))
        return put(out, n, e, "%s%s", STATEDIR_SYSTEM, "");
    /* The XDG Base Directory spec: a relative $XDG_STATE_HOME is invalid, ignored. */
    v = getenv("XDG_STATE_HOME");
    if (v && v[0] == '/')
        return put(out, n, e, "%s/%s", v, STATEDIR_NAME);
    v = getenv("HOME");
    if (v && v[0] == '/')
        return put(out, n, e, "%s/.local/state/%s", v, STATEDIR_NAME);
    return err_set(e, ERR_CONFIG,
                   "no state directory: $HOME and $XDG_STATE_HOME are unset and %s is not "
                   "the running user's; pass -state-dir DIR (or set DRR_STATE_DIR)",
                   STATEDIR_SYSTEM);
}

/* The trust rule for the state directory and the per-source directory. */
static int check_own(const char *path, const struct stat *st, struct err *e)
{
    if (!S_ISDIR(st->st_mode))
        return err_set(e, ERR_CONFIG, "state directory %s: not a directory", path);
    if (st->st_uid != geteuid())
        return err_set(e, ERR_CONFIG,
                       "state directory %s: owned by uid %lu, not by the running user (uid %lu); "
                       "refusing it (pass -state-dir DIR of your own)",
                       path, (unsigned long)st->st_uid, (unsigned long)geteuid());
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return err_set(e, ERR_CONFIG,
                       "state directory %s: writable by group or others (mode %04o); "
                       "refusing it (chmod go-w, or pass -state-dir DIR)",
                       path, (unsigned)(st->st_mode & 07777));
    return 0;
}

/* The rule for an ancestor: root's or ours, and nobody else can rename what is
 * inside it (not writable by group/others, unless sticky like /tmp). */
static int check_ancestor(const char *path, struct err *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(e, ERR_CONFIG, "state directory: %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ERR_CONFIG, "state directory: %s: not a directory", path);
    if (st.st_uid != 0 && st.st_uid != geteuid())
        return err_set(e, ERR_CONFIG,
                       "state directory: parent %s is owned by uid %lu (neither root nor the "
                       "running user); refusing it (pass -state-dir DIR)",
                       path, (unsigned long)st.st_uid);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return err_set(e, ERR_CONFIG,
                       "state directory: parent %s is writable by group or others (mode %04o) "
                       "and not sticky; refusing it (pass -state-dir DIR)",
                       path, (unsigned)(st.st_mode & 07777));
    return 0;
}

/* Walks the ancestors of abs (an absolute path) from "/", creating missing
 * ones mode 0700; then abs itself. */
static int walk(char *abs, struct err *e)
{
    for (char *p = abs + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int rc = 0;
        struct stat st;
        if (stat(abs, &st) != 0 && (errno != ENOENT || mkdir(abs, 0700) != 0))
            rc = err_set(e, ERR_CONFIG,
                         "state directory: cannot create %s: %s (pass "
                         "-state-dir DIR)",
                         abs, strerror(errno));
        if (rc == 0 && saved != '\0')
            rc = check_ancestor(abs, e);
        /* the parent of the first component, "/", is root's: checked by its children */
        *p = saved;
        if (rc != 0 || saved == '\0')
            return rc;
        while (p[1] == '/')
            p++;
    }
}

int statedir_open(const char *base, const char *sub, int *dirfd, struct err *e)
{
    *dirfd = -1;
    if (!base || !*base)
        return err_set(e, ERR_CONFIG, "state directory: empty path");
    if (!sub || !*sub || strchr(sub, '/') || strcmp(sub, ".") == 0 || strcmp(sub, "..") == 0)
        return err_set(e, ERR_INTERNAL, "state directory: bad source key \"%s\"", sub ? sub : "");
    char abs[4096];
    char cwd[4096];
    int w;
    if (base[0] == '/')
        w = snprintf(abs, sizeof abs, "%s", base);
    else if (getcwd(cwd, sizeof cwd) != NULL)
        w = snprintf(abs, sizeof abs, "%s/%s", cwd, base);
    else
        return err_set(e, ERR_CONFIG, "state directory %s: %s", base, strerror(errno));
    if (w < 0 || (size_t)w >= sizeof abs)
        return err_set(e, ERR_CONFIG, "state directory %s: path too long", base);
    size_t len = strlen(abs);
    while (len > 1 && abs[len - 1] == '/')
        abs[--len] = '\0';

    int rc = walk(abs, e);
    if (rc != 0)
        return rc;
    int bfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0)
        return err_set(e, ERR_CONFIG, "state directory %s: %s", abs, strerror(errno));
    struct stat st;
    if (fstat(bfd, &st) != 0 || (rc = check_own(abs, &st, e)) != 0) {
        close(bfd);
        return rc ? rc : err_set(e, ERR_CONFIG, "state directory %s: %s", abs, strerror(errno));
    }
    char path[4096 + 256];
    snprintf(path, sizeof path, "%s/%s", abs, sub);
    if (fstatat(bfd, sub, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT || mkdirat(bfd, sub, 0700) != 0) {
            rc = err_set(e, ERR_CONFIG, "state directory %s: %s", path, strerror(errno));
            close(bfd);
            return rc;
        }
    } else if (S_ISLNK(st.st_mode)) {
        close(bfd);
        return err_set(e, ERR_CONFIG,
                       "state directory %s: is a symbolic link; refusing to follow it", path);
    }
    int fd = openat(bfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc =
            err_set(e, ERR_CONFIG, "state directory %s: %s", path,
                    errno == ELOOP ? "is a symbolic link; refusing to follow it" : strerror(errno));
        close(bfd);
        return rc;
    }
    close(bfd);
    if (fstat(fd, &st) != 0 || (rc = check_own(path, &st, e)) != 0) {
        close(fd);
        return rc ? rc : err_set(e, ERR_CONFIG, "state directory %s: %s", path, strerror(errno));
    }
    *dirfd = fd;
    return 0;
}

int statedir_write(int dirfd, const char *name, const char *text, size_t len, mode_t mode,
                   struct err *e)
{
    unsigned char rnd[6];
    char tmp[512];
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            return err_set(e, ERR_INTERNAL, "%s: getrandom: %s", name, strerror(errno));
        snprintf(tmp, sizeof tmp, "%s.tmp.%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2],
                 rnd[3], rnd[4], rnd[5]);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            return err_set(e, ERR_INTERNAL, "%s: cannot create: %s", tmp, strerror(errno));
    }
    if (fd < 0)
        return err_set(e, ERR_INTERNAL, "%s: no free temporary name", name);
    int bad = fchmod(fd, mode) != 0;
    for (size_t off = 0; !bad && off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        bad = n <= 0;
        off += n > 0 ? (size_t)n : 0;
    }
    int saved = errno;
    bad = bad || fsync(fd) != 0;
    if (!bad)
        saved = errno;
    bad = close(fd) != 0 || bad;
    if (!bad && renameat(dirfd, tmp, dirfd, name) == 0)
        return 0;
    saved = saved ? saved : errno;
    unlinkat(dirfd, tmp, 0);
    return err_set(e, ERR_INTERNAL, "%s: write failed: %s", name, strerror(saved ? saved : EIO));
}

int statedir_read(int dirfd, const char *name, char **text, struct err *e)
{
    *text = NULL;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return ERR_NOT_FOUND;
        return err_set(e, errno == ELOOP ? ERR_CONFIG : ERR_INTERNAL, "%s: %s", name,
                       errno == ELOOP ? "is a symbolic link; refusing to follow it"
                                      : strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATEDIR_MAX_FILE) {
        close(fd);
        return err_set(e, ERR_CONFIG, "%s: not a regular file of at most %d bytes", name,
                       STATEDIR_MAX_FILE);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    ssize_t n = 1;
    while (buf && n > 0 && got < (size_t)st.st_size) {
        n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            n = 1;
        else if (n > 0)
            got += (size_t)n;
    }
    close(fd);
    if (!buf || n < 0) {
        free(buf);
        return err_set(e, ERR_INTERNAL, "%s: cannot read", name);
    }
    buf[got] = '\0';
    *text = buf;
    return 0;
}

char *statedir_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    char *found = NULL;
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t llen = end ? (size_t)(end - line) : strlen(line);
        if (llen > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            free(found); /* the last one wins */
            found = strndup(line + klen + 1, llen - klen - 1);
        }
        line = end ? end + 1 : NULL;
    }
    return found;
}

/* Removes dir name (files only, never following a link) inside dirfd. */
static void remove_flat(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(fd, de->d_name, 0);
    closedir(d);
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

static int work_pid(const char *name, long *pid)
{
    if (strncmp(name, "work.", 5) != 0 || name[5] == '\0')
        return 0;
    char *end;
    errno = 0;
    *pid = strtol(name + 5, &end, 10);
    return errno == 0 && *end == '\0' && *pid > 0;
}

int statedir_work(int dirfd, long pid, struct err *e)
{
    int dfd = dup(dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return err_set(e, ERR_INTERNAL, "state directory: %s", strerror(errno));
    }
    struct dirent *de;
    long other;
    while ((de = readdir(d)) != NULL)
        if (work_pid(de->d_name, &other) &&
            (other == pid || (kill((pid_t)other, 0) != 0 && errno == ESRCH)))
            remove_flat(dirfd, de->d_name); /* its owner died (or it is our stale pid) */
    closedir(d);
    char name[64];
    snprintf(name, sizeof name, "work.%ld", pid);
    if (mkdirat(dirfd, name, 0700) != 0)
        return err_set(e, ERR_INTERNAL, "state directory: cannot create %s: %s", name,
                       strerror(errno));
    return 0;
}
