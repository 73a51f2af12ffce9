/* AWS XML responses through libxml2 (never hand-parsed), and AWS errors.
 *
 * Lookups match elements by LOCAL name in any namespace: AWS puts every element of
 * a Query response in the service's default namespace
 * (xmlns="http://rds.amazonaws.com/doc/2014-10-31/"), and some proxies/emulators
 * answer without one; both parse the same. Paths are "A/B/C" relative to a node.
 *
 * A successful Query response looks like
 *   <DescribeDBSnapshotsResponse xmlns="...">
 *     <DescribeDBSnapshotsResult>
 *       <DBSnapshots><DBSnapshot>...</DBSnapshot>...</DBSnapshots>
 *       <Marker>...</Marker>                          (absent on the last page)
 *     </DescribeDBSnapshotsResult>
 *     <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
 *   </DescribeDBSnapshotsResponse>
 * and an error
 *   <ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code>...</Code>
 *     <Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>
 * (some services: <Response><Errors><Error>...</Error></Errors><RequestID>...). */
#ifndef DRR_AWS_XML_H
#define DRR_AWS_XML_H

#include <stddef.h>
#include <stdint.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "core/err.h"

/* An AWS error as the user sees it. Fixed-size so it can live on the stack;
 * over-long values are truncated. Empty strings when unknown. */
struct aws_error {
    long http_status; /* 0 when no HTTP answer arrived */
    char code[128];   /* "DBSnapshotNotFound", "Throttling", ... */
    char message[512];
    char request_id[128];
    char type[16]; /* "Sender" / "Receiver" when given */
};

void aws_error_clear(struct aws_error *ae);
/* The kind (core/err.h) of an error AWS answered and the retries did not cure:
 * ERR_AWS_UNAUTHORIZED for "who are you / you may not" (HTTP 401/403, or a code
 * of AWS's common authentication and authorization errors), ERR_AWS_BAD_ANSWER
 * for a 2xx that is no error document, else ERR_AWS_REJECTED. */
int aws_error_kind(const struct aws_error *ae);
/* Copies src (NULL = "") into one of ae's fields, truncated, on one line (an
 * error message must never break the log format). */
void aws_error_field(char *dst, size_t dstlen, const char *src);
/* "DBSnapshotNotFound: DBSnapshot x not found (HTTP 404, RequestId 5a3c...)"; when
 * the body was not an AWS error the code is replaced by "HTTP 503"; with no HTTP
 * answer at all (http_status 0, no code) just the message. */
void aws_error_format(const struct aws_error *ae, char *out, size_t outlen);

/* Parses the body of a non-2xx Query/REST-XML answer into ae (http_status set
 * from status). request_id_header: the x-amzn-RequestId / x-amz-request-id
 * header, used when the body has none (may be NULL). Never fails: a non-XML,
 * empty or truncated body gives an empty code and a message saying so, with a
 * short printable excerpt of the body. */
void aws_error_from_xml(long status, const char *body, size_t len, const char *request_id_header,
                        struct aws_error *ae);

/* libxml2's last error as "line N: message" (trailing blanks cut), else "not XML":
 * the reason of an "invalid XML" error, for the DOM and the stream reader alike. */
void aws_xml_error_reason(char *out, size_t outlen);

/* Every parse of an answer: no network, no DTD loading, no entity substitution,
 * so a hostile body cannot make us fetch or expand anything; errors are recorded,
 * not printed. */
#define AWS_XML_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* Called before every parse. libxml2 writes some errors (an encoding it cannot
 * convert) straight to stderr, past XML_PARSE_NOERROR, which would put a bare
 * line in the middle of our log: they are kept for aws_xml_error_reason only.
 * The last error is forgotten, so the reason given is this parse's. */
void aws_xml_parse_begin(void);

/* libxml2's push parser with AWS_XML_PARSE_OPTIONS, after aws_xml_parse_begin:
 * sax NULL builds a tree (ctxt->myDoc), else sax's callbacks get ud. The one
 * parser every answer goes through (the page reader runs on it too), so only
 * its code is paged in. NULL when out of memory. */
xmlParserCtxtPtr aws_xml_push_parser(xmlSAXHandler *sax, void *ud);

/* Parses body as XML without network access or entity expansion. Returns 0 and
 * *out (free with xmlFreeDoc), or ERR_AWS_BAD_ANSWER with e naming what (what =
 * "DescribeDBSnapshots response") and libxml2's reason. */
int aws_xml_parse(const char *body, size_t len, const char *what, xmlDoc **out, struct err *e);

/* First element child of parent with this local name, or NULL. */
xmlNode *aws_xml_child(const xmlNode *parent, const char *name);
/* Next element sibling with the same local name as node (iteration), or NULL:
 *   for (xmlNode *s = aws_xml_child(list, "DBSnapshot"); s; s = aws_xml_next(s)) */
xmlNode *aws_xml_next(const xmlNode *node);
/* First element child of any name / next element sibling of any name. */
xmlNode *aws_xml_first_element(const xmlNode *parent);
xmlNode *aws_xml_next_element(const xmlNode *node);
/* Element at path below from ("A/B/C"), or NULL. NULL or "" path = from. */
xmlNode *aws_xml_path(const xmlNode *from, const char *path);
/* Text of the element at path, or NULL when absent. The pointer stays valid as
 * long as the document (an element with several text pieces is merged once). */
const char *aws_xml_text(const xmlNode *from, const char *path);
/* Typed text. Return 0 ok, 1 absent (out untouched), -1 present but invalid. */
int aws_xml_int(const xmlNode *from, const char *path, long long *out);
int aws_xml_bool(const xmlNode *from, const char *path, int *out);     /* "true"/"false" */
int aws_xml_time(const xmlNode *from, const char *path, int64_t *out); /* ISO 8601 UTC */

/* The <ActionResult> element of a Query response (NULL when the action has no
 * output, e.g. AddTagsToResource), and its RequestId (NULL when absent). */
xmlNode *aws_xml_result(const xmlDoc *doc, const char *action);
const char *aws_xml_request_id(const xmlDoc *doc);

#endif
