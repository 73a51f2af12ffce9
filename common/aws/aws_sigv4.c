/* AWS Signature Version 4, header signing. See aws_sigv4.h and
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html */
#include "aws/aws_sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/clock.h"
#include "core/err.h"

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            buf_putc(out, (char)c);
        } else {
            char esc[3] = {'%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15]};
            buf_append(out, esc, 3);
        }
    }
}

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = HEX_LOWER[in[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    /* EVP_Digest only fails on allocation failure inside OpenSSL. */
    if (EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        abort();
    hex_encode(md, 32, out);
}

/* out (32 bytes) = HMAC-SHA256(key, msg). */
static void hmac_sha256(const void *key, size_t keylen, const char *msg, size_t msglen,
                        unsigned char out[32])
{
    unsigned int outlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, out, &outlen) ||
        outlen != 32)
        abort();
}

/* ---- canonical URI ---- */

void sigv4_canonical_uri(struct buf *out, const char *path, int normalize)
{
    if (!path || !*path) {
        buf_putc(out, '/');
        return;
    }
    if (!normalize) {
        sigv4_uri_encode(out, path, strlen(path), 1);
        return;
    }
    /* RFC 3986 remove_dot_segments, plus dropping empty segments ("//"), as the
     * SDKs do for every service but S3. Segments are kept as (start, len) pairs. */
    size_t plen = strlen(path);
    size_t cap = plen / 2 + 2, n = 0;
    const char **seg = xmalloc(cap * sizeof *seg);
    size_t *seglen = xmalloc(cap * sizeof *seglen);
    const char *p = path;
    int trailing_slash = 0;
    while (*p) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        trailing_slash = (*p == '/');
        if (len == 0)
            continue;
        if (len == 1 && start[0] == '.') {
            trailing_slash = 1; /* "/a/." names the directory "/a/" */
        } else if (len == 2 && start[0] == '.' && start[1] == '.') {
            if (n > 0)
                n--;
            trailing_slash = 1;
        } else {
            seg[n] = start;
            seglen[n] = len;
            n++;
        }
    }
    if (path[plen - 1] == '/')
        trailing_slash = 1;
    buf_putc(out, '/');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(out, '/');
        sigv4_uri_encode(out, seg[i], seglen[i], 0);
    }
    if (n > 0 && trailing_slash)
        buf_putc(out, '/');
    free(seg);
    free(seglen);
}

/* ---- canonical query ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in s[0..len) into out, then re-encodes it the SigV4 way, so a
 * query given raw ("ሴ=bar") or already encoded ("%E1%88%B4=bar") canonicalises
 * the same. An invalid escape is taken literally. */
static void reencode(struct buf *out, const char *s, size_t len)
{
    struct buf raw = BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            buf_putc(&raw, (char)(hi << 4 | lo));
            i += 2;
        } else {
            buf_putc(&raw, s[i]);
        }
    }
    sigv4_uri_encode(out, buf_cstr(&raw), raw.len, 0);
    buf_release(&raw);
}

struct qparam {
    char *key;
    char *value;
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

void sigv4_canonical_query(struct buf *out, const char *query)
{
    if (!query || !*query)
        return;
    size_t cap = 1;
    for (const char *q = query; *q; q++)
        if (*q == '&')
            cap++;
    struct qparam *params = xcalloc(cap, sizeof *params);
    size_t n = 0;
    const char *p = query;
    while (*p) {
        const char *end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        if (end > p) {
            const char *eq = memchr(p, '=', (size_t)(end - p));
            const char *kend = eq ? eq : end;
            struct buf k = BUF_INIT, v = BUF_INIT;
            reencode(&k, p, (size_t)(kend - p));
            if (eq)
                reencode(&v, eq + 1, (size_t)(end - eq - 1));
            params[n].key = buf_detach(&k);
            params[n].value = buf_detach(&v);
            n++;
        }
        p = *end ? end + 1 : end;
    }
    /* Sorted by encoded name, then encoded value (byte order). */
    qsort(params, n, sizeof *params, qparam_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(out, '&');
        buf_puts(out, params[i].key);
        buf_putc(out, '=');
        buf_puts(out, params[i].value);
        free(params[i].key);
        free(params[i].value);
    }
    free(params);
}

/* ---- canonical headers ---- */

struct cheader {
    char *name;       /* lower-case */
    struct buf value; /* trimmed, folded; duplicates joined with ',' */
    size_t order;     /* first appearance, keeps sorting stable */
};

static int cheader_cmp(const void *a, const void *b)
{
    const struct cheader *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends value trimmed, with every run of whitespace (including obsolete line
 * folding: CR/LF followed by spaces) turned into one space. */
static void append_trimmed(struct buf *out, const char *v)
{
    int pending_space = 0, any = 0;
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            pending_space = any;
            continue;
        }
        if (pending_space)
            buf_putc(out, ' ');
        pending_space = 0;
        buf_putc(out, *p);
        any = 1;
    }
}

static char *lowercase_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static int owned_header(const char *lname)
{
    return !strcmp(lname, "authorization") || !strcmp(lname, "x-amz-date") ||
           !strcmp(lname, "x-amz-security-token") || !strcmp(lname, "x-amz-content-sha256");
}

void sigv4_signed_release(struct sigv4_signed *s)
{
    if (!s)
        return;
    buf_release(&s->canonical_request);
    buf_release(&s->string_to_sign);
    free(s->signed_headers);
    free(s->authorization);
    memset(s, 0, sizeof *s);
}

static void add_out_header(struct sigv4_signed *out, const char *name, const char *value)
{
    out->headers[out->n_headers].name = name;
    out->headers[out->n_headers].value = value;
    out->n_headers++;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
               const struct sigv4_options *opt, struct sigv4_signed *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (!req || !req->method || !*req->method)
        return err_set(e, ERR_INTERNAL, "sigv4: request has no method");
    if (!creds || !creds->access_key_id || !*creds->access_key_id || !creds->secret_access_key ||
        !*creds->secret_access_key)
        return err_set(e, ERR_INTERNAL, "sigv4: no credentials to sign with");
    if (!opt || !opt->region || !*opt->region || !opt->service || !*opt->service)
        return err_set(e, ERR_INTERNAL, "sigv4: region and service are required");
    int has_token = creds->session_token && *creds->session_token;

    char date[9];
    clock_format_amz(opt->time, out->amz_date, sizeof out->amz_date);
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    sigv4_sha256_hex(req->body, req->body ? req->body_len : 0, out->payload_hash);

    /* Collect the headers to sign: the caller's plus the ones the signer adds. */
    size_t nh = req->n_headers + 3;
    struct cheader *hs = xcalloc(nh, sizeof *hs);
    size_t n = 0;
    int has_host = 0, rc = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        char *lname = lowercase_dup(req->headers[i].name);
        if (owned_header(lname)) {
            rc = err_set(e, ERR_INTERNAL, "sigv4: header %s is added by the signer",
                         req->headers[i].name);
            free(lname);
            goto done;
        }
        if (!strcmp(lname, "host"))
            has_host = 1;
        hs[n].name = lname;
        hs[n].order = n;
        append_trimmed(&hs[n].value, req->headers[i].value);
        n++;
    }
    if (!has_host) {
        rc = err_set(e, ERR_INTERNAL, "sigv4: request has no Host header");
        goto done;
    }
    hs[n].name = xstrdup("x-amz-date");
    hs[n].order = n;
    buf_puts(&hs[n].value, out->amz_date);
    n++;
    if (has_token && !opt->omit_session_token) {
        hs[n].name = xstrdup("x-amz-security-token");
        hs[n].order = n;
        append_trimmed(&hs[n].value, creds->session_token);
        n++;
    }
    if (opt->sign_body) {
        hs[n].name = xstrdup("x-amz-content-sha256");
        hs[n].order = n;
        buf_puts(&hs[n].value, out->payload_hash);
        n++;
    }
    qsort(hs, n, sizeof *hs, cheader_cmp);

    /* Canonical request. */
    struct buf *cr = &out->canonical_request;
    buf_puts(cr, req->method);
    buf_putc(cr, '\n');
    sigv4_canonical_uri(cr, req->path, opt->normalize_path);
    buf_putc(cr, '\n');
    sigv4_canonical_query(cr, req->query);
    buf_putc(cr, '\n');
    struct buf sh = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        /* Duplicate names become one line, values joined with ',' in request order. */
        if (i > 0 && !strcmp(hs[i].name, hs[i - 1].name)) {
            buf_putc(cr, ',');
        } else {
            if (i > 0) {
                buf_putc(cr, '\n');
                buf_putc(&sh, ';');
            }
            buf_puts(cr, hs[i].name);
            buf_putc(cr, ':');
            buf_puts(&sh, hs[i].name);
        }
        buf_puts(cr, buf_cstr(&hs[i].value));
    }
    buf_puts(cr, "\n\n");
    buf_puts(cr, buf_cstr(&sh));
    buf_putc(cr, '\n');
    buf_puts(cr, out->payload_hash);
    out->signed_headers = buf_detach(&sh);

    /* String to sign. */
    char cr_hash[SIGV4_HEX_LEN + 1];
    sigv4_sha256_hex(cr->data, cr->len, cr_hash);
    char *scope = xasprintf("%s/%s/%s/aws4_request", date, opt->region, opt->service);
    buf_printf(&out->string_to_sign, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, out->amz_date, scope,
               cr_hash);

    /* Signing key: HMAC chain from "AWS4" + secret; the intermediate keys are
     * secrets too, so they are wiped. */
    unsigned char k[32];
    char *kinit = xasprintf("AWS4%s", creds->secret_access_key);
    hmac_sha256(kinit, strlen(kinit), date, strlen(date), k);
    free_secret(kinit);
    hmac_sha256(k, 32, opt->region, strlen(opt->region), k);
    hmac_sha256(k, 32, opt->service, strlen(opt->service), k);
    hmac_sha256(k, 32, "aws4_request", 12, k);
    unsigned char sig[32];
    hmac_sha256(k, 32, out->string_to_sign.data, out->string_to_sign.len, sig);
    OPENSSL_cleanse(k, sizeof k);
    hex_encode(sig, 32, out->signature);

    out->authorization =
        xasprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", SIGV4_ALGORITHM,
                  creds->access_key_id, scope, out->signed_headers, out->signature);
    free(scope);

    add_out_header(out, "X-Amz-Date", out->amz_date);
    if (has_token)
        add_out_header(out, "X-Amz-Security-Token", creds->session_token);
    if (opt->sign_body)
        add_out_header(out, "X-Amz-Content-Sha256", out->payload_hash);
    add_out_header(out, "Authorization", out->authorization);

done:
    for (size_t i = 0; i < n; i++) {
        free(hs[i].name);
        buf_release(&hs[i].value);
    }
    free(hs);
    return rc;
}
