/* Growable byte buffer, always NUL-terminated. Aborts on out-of-memory (a
 * scheduler job cannot do anything useful without memory; the exit is 70). */
#ifndef DRR_BUF_H
#define DRR_BUF_H

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>

struct buf {
    char *data; /* NUL-terminated; NULL until first append */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_release(struct buf *b);
char *buf_detach(struct buf *b);           /* caller frees; never NULL */
const char *buf_cstr(const struct buf *b); /* "" when empty */
/* Appends the rest of f (to end of file) to b, but never more than max bytes of
 * it. Returns 0 at end of file, 1 when f holds more than max bytes (b holds part
 * of it), -1 on a read error (errno says which). Does not close f. */
int buf_read_file(struct buf *b, FILE *f, size_t max);

/* Allocation helpers that never return NULL (abort with exit 70 on OOM). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in -> NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Overwrite then free a secret string. */
void free_secret(char *s);

#endif
