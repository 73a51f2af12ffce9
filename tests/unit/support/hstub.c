/* Tiny threaded HTTP stub server for unit tests (see hstub.h). One connection
 * at a time, one request per connection ("Connection: close"), so a client
 * holding several pooled connections can never deadlock it. */
#include "hstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct hstub {
    int listen_fd;
    int stop_pipe[2];
    int port;
    hstub_handler fn;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    struct hstub_request *reqs;
    size_t n, cap;
};

static void *xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void hstub_reply_set(struct hstub_reply *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(r->body);
    r->body = NULL;
    if (vasprintf(&r->body, fmt, ap) < 0)
        abort();
    va_end(ap);
    r->status = status;
}

void hstub_routes(const struct hstub_request *req, struct hstub_reply *reply, void *ctx)
{
    const struct hstub_route *routes = ctx;
    size_t plen = strcspn(req->path, "?");
    for (size_t i = 0; routes[i].path; i++) {
        if (routes[i].method && strcmp(routes[i].method, req->method) != 0)
            continue;
        if (strlen(routes[i].path) != plen || strncmp(routes[i].path, req->path, plen) != 0)
            continue;
        hstub_reply_set(reply, routes[i].status, "%s", routes[i].body ? routes[i].body : "");
        return;
    }
    hstub_reply_set(reply, 404, "{\"message\":\"no route\"}");
}

char *hstub_header(const struct hstub_request *req, const char *name)
{
    size_t n = strlen(name);
    const char *p = req->headers ? req->headers : "";
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            return strndup(v, len - (size_t)(v - p));
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    return NULL;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, s, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Reads one request from fd into req. 0 ok, -1 on EOF/garbage. */
static int read_request(int fd, struct hstub_request *req)
{
    size_t cap = 8192, len = 0;
    char *data = xalloc(cap + 1);
    char *hdr_end = NULL;
    while (!hdr_end) {
        if (len == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
            if (!data)
                abort();
        }
        ssize_t r = recv(fd, data + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(data);
            return -1;
        }
        len += (size_t)r;
        data[len] = '\0';
        hdr_end = strstr(data, "\r\n\r\n");
    }
    char *line_end = strstr(data, "\r\n");
    *line_end = '\0';
    char path[sizeof req->path];
    if (sscanf(data, "%15s %2047s", req->method, path) != 2) {
        free(data);
        return -1;
    }
    snprintf(req->path, sizeof req->path, "%s", path);
    size_t hlen = (size_t)(hdr_end - (line_end + 2));
    req->headers = strndup(line_end + 2, hlen);
    char *cl = hstub_header(req, "Content-Length");
    size_t body_len = cl ? (size_t)strtoul(cl, NULL, 10) : 0;
    free(cl);
    size_t have = len - (size_t)(hdr_end + 4 - data);
    req->body = xalloc(body_len + 1);
    memcpy(req->body, hdr_end + 4, have < body_len ? have : body_len);
    size_t got = have < body_len ? have : body_len;
    while (got < body_len) {
        ssize_t r = recv(fd, req->body + got, body_len - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    req->body_len = got;
    free(data);
    return 0;
}

static void record(struct hstub *s, const struct hstub_request *req)
{
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->reqs = realloc(s->reqs, s->cap * sizeof *s->reqs);
        if (!s->reqs)
            abort();
    }
    struct hstub_request *c = &s->reqs[s->n];
    *c = *req;
    c->headers = strdup(req->headers ? req->headers : "");
    c->body = xalloc(req->body_len + 1);
    memcpy(c->body, req->body, req->body_len);
    s->n++;
    pthread_mutex_unlock(&s->mu);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void serve(struct hstub *s, int fd)
{
    struct hstub_request req;
    memset(&req, 0, sizeof req);
    if (read_request(fd, &req) != 0)
        return;
    record(s, &req);
    struct hstub_reply reply;
    memset(&reply, 0, sizeof reply);
    reply.status = 200;
    snprintf(reply.content_type, sizeof reply.content_type, "application/json");
    s->fn(&req, &reply, s->ctx);
    if (!reply.drop) {
        size_t blen = reply.body ? strlen(reply.body) : 0;
        char head[768];
        int hl =
            snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "x-amzn-RequestId: stub-request-id\r\n%sConnection: close\r\n\r\n",
                     reply.status, reason(reply.status), reply.content_type, blen, reply.headers);
        if (write_all(fd, head, (size_t)hl) == 0 && blen)
            write_all(fd, reply.body, blen);
    }
    free(reply.body);
    free(req.headers);
    free(req.body);
}

static void *run(void *arg)
{
    struct hstub *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->listen_fd, POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept(s->listen_fd, NULL, NULL);
            if (fd < 0)
                continue;
            serve(s, fd);
            shutdown(fd, SHUT_WR);
            close(fd);
        }
    }
    return NULL;
}

struct hstub *hstub_start(hstub_handler fn, void *ctx)
{
    struct hstub *s = xalloc(sizeof *s);
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0)
        abort();
    int one = 1;
    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->listen_fd, 16) != 0)
        abort();
    socklen_t al = sizeof a;
    getsockname(s->listen_fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    if (pipe2(s->stop_pipe, O_CLOEXEC) != 0)
        abort();
    if (pthread_create(&s->thread, NULL, run, s) != 0)
        abort();
    return s;
}

void hstub_stop(struct hstub *s)
{
    if (!s)
        return;
    if (write(s->stop_pipe[1], "x", 1) != 1)
        abort();
    pthread_join(s->thread, NULL);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    close(s->listen_fd);
    for (size_t i = 0; i < s->n; i++) {
        free(s->reqs[i].headers);
        free(s->reqs[i].body);
    }
    free(s->reqs);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int hstub_port(const struct hstub *s)
{
    return s->port;
}

char *hstub_url(const struct hstub *s, const char *path)
{
    char *u = NULL;
    if (asprintf(&u, "http://127.0.0.1:%d%s", s->port, path ? path : "") < 0)
        abort();
    return u;
}

size_t hstub_count(struct hstub *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const struct hstub_request *hstub_get(struct hstub *s, size_t i)
{
    pthread_mutex_lock(&s->mu);
    const struct hstub_request *r = i < s->n ? &s->reqs[i] : NULL;
    pthread_mutex_unlock(&s->mu);
    return r;
}

size_t hstub_count_path(struct hstub *s, const char *path)
{
    pthread_mutex_lock(&s->mu);
    size_t count = 0, plen = strlen(path);
    for (size_t i = 0; i < s->n; i++) {
        size_t l = strcspn(s->reqs[i].path, "?");
        if (l == plen && strncmp(s->reqs[i].path, path, plen) == 0)
            count++;
    }
    pthread_mutex_unlock(&s->mu);
    return count;
}
