/* A tiny HTTP/1.1 stub server for unit tests: listens on 127.0.0.1 (a free
 * port), serves each request from a handler in its own thread, answers with
 * "Connection: close", and records every request so tests can assert what the
 * client sent (method, path, headers, body). */
#ifndef DRR_TEST_HSTUB_H
#define DRR_TEST_HSTUB_H

#include <stddef.h>

struct hstub;

struct hstub_request {
    char method[16];
    char path[2048]; /* with the query string, as sent */
    char *headers;   /* raw header lines, "\r\n"-separated */
    char *body;      /* NUL-terminated */
    size_t body_len;
};

struct hstub_reply {
    int status;            /* default 200 */
    char content_type[96]; /* default "application/json" */
    char *body;            /* malloc'd by the handler (hstub_reply_set); may be NULL */
    int drop;              /* 1 = close the connection without answering */
    char headers[256];     /* more header lines, each ending "\r\n" (e.g. a Date) */
};

typedef void (*hstub_handler)(const struct hstub_request *req, struct hstub_reply *reply,
                              void *ctx);

/* A fixed route: method (NULL = any) and path (exact, query excluded) answered
 * with status and body. A table ends with a route whose path is NULL; anything
 * unmatched gets 404. Use as hstub_start(hstub_routes, table). */
struct hstub_route {
    const char *method;
    const char *path;
    int status;
    const char *body;
};
void hstub_routes(const struct hstub_request *req, struct hstub_reply *reply, void *ctx);

struct hstub *hstub_start(hstub_handler fn, void *ctx);
void hstub_stop(struct hstub *s);
int hstub_port(const struct hstub *s);
/* "http://127.0.0.1:PORT" + path; malloc'd. */
char *hstub_url(const struct hstub *s, const char *path);

/* Sets the reply (printf-style body). */
void hstub_reply_set(struct hstub_reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Requests served so far, and a copy of request i (0-based; NULL if none).
 * The copy is owned by the stub until hstub_stop. */
size_t hstub_count(struct hstub *s);
const struct hstub_request *hstub_get(struct hstub *s, size_t i);
/* Number of requests whose path (query excluded) equals path. */
size_t hstub_count_path(struct hstub *s, const char *path);
/* Value of header name (case-insensitive) in req; malloc'd or NULL. */
char *hstub_header(const struct hstub_request *req, const char *name);

#endif
