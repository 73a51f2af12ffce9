/* AWS Signature Version 4 (header signing), on OpenSSL's SHA-256 and HMAC.
 *
 * Passes every case of the official suite (awslabs/aws-c-auth
 * tests/aws-signing-test-suite/v4, in ../shared/reference/sigv4/v4): the
 * canonical request, the string to sign and the signature are exposed so the
 * unit test compares each byte for byte. Why not libcurl's CURLOPT_AWS_SIGV4:
 * docs/aws-client.md.
 *
 * The signer never logs. The caller must never log the Authorization or
 * X-Amz-Security-Token values it returns (log.h redacts them anyway). */
#ifndef DRR_AWS_SIGV4_H
#define DRR_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_HEX_LEN   64

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" for long-term keys */
};

struct sigv4_request {
    const char *method;                /* "POST" */
    const char *path;                  /* the path as the resource names it, NOT yet
                                       percent-encoded ("/" for the Query protocol);
                                       the signer encodes it (RFC 3986 unreserved kept) */
    const char *query;                 /* after '?', encoded or raw; NULL or "" = none */
    const struct http_header *headers; /* every header to sign; must include Host */
    size_t n_headers;
    const void *body; /* NULL = empty */
    size_t body_len;
};

struct sigv4_options {
    const char *region;     /* "us-east-1" */
    const char *service;    /* signing name: "rds", "sts", "secretsmanager", "ssm" */
    int64_t time;           /* epoch seconds (clock_now()) */
    int normalize_path;     /* 1 for every service but S3: remove "." / ".." and
                                       empty segments before encoding */
    int sign_body;          /* 1 = add and sign X-Amz-Content-Sha256 */
    int omit_session_token; /* 1 = add X-Amz-Security-Token after signing, unsigned
                                       (a few older services want this; none of ours) */
};

/* The headers to add to the request, in this order: X-Amz-Date,
 * [X-Amz-Security-Token], [X-Amz-Content-Sha256], Authorization. */
#define SIGV4_MAX_ADDED_HEADERS 4

struct sigv4_signed {
    struct buf canonical_request;
    struct buf string_to_sign;
    char signature[SIGV4_HEX_LEN + 1];
    char payload_hash[SIGV4_HEX_LEN + 1];
    char amz_date[17];                                   /* "20150830T123600Z" */
    char *signed_headers;                                /* "host;x-amz-date" */
    char *authorization;                                 /* full Authorization header value */
    struct http_header headers[SIGV4_MAX_ADDED_HEADERS]; /* values point into this struct
                                       and into the credentials passed to sigv4_sign */
    size_t n_headers;
};

/* Signs req. out is initialised here and must be released with
 * sigv4_signed_release whatever the result. Returns 0 or ERR_INTERNAL when the
 * request cannot be signed (missing Host, method or credentials, or a header the
 * signer owns such as Authorization already present). */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
               const struct sigv4_options *opt, struct sigv4_signed *out, struct err *e);
void sigv4_signed_release(struct sigv4_signed *s);

/* Building blocks, shared with the Query protocol's form encoding. */

/* Percent-encodes s[0..len) as SigV4 wants: RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~) as they are, everything else %XX with upper-case hex
 * (so a space is %20, never '+'); '/' is kept when keep_slash. */
void sigv4_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash);
/* Lower-case hex SHA-256 of data. */
void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1]);

/* The canonical pieces on their own (appended to out), for tests and tools. */
void sigv4_canonical_uri(struct buf *out, const char *path, int normalize);
void sigv4_canonical_query(struct buf *out, const char *query);

#endif
