/* libxml2 helpers for AWS responses, and AWS error parsing. See aws_xml.h. */
#include "aws/aws_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"

void aws_error_clear(struct aws_error *ae)
{
    memset(ae, 0, sizeof *ae);
}

void aws_error_field(char *dst, size_t dstlen, const char *src)
{
    snprintf(dst, dstlen, "%s", src ? src : "");
    /* One line: an error message must never break the log format. */
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* AWS's common errors (the "Common Errors" page of every API reference:
 * AccessDeniedException, IncompleteSignature, InvalidClientTokenId,
 * MissingAuthenticationToken, NotAuthorized, UnrecognizedClientException,
 * ExpiredTokenException), the Query protocol's spellings (AccessDenied,
 * ExpiredToken, SignatureDoesNotMatch, InvalidAccessKeyId) and EC2's
 * (UnauthorizedOperation, AuthFailure). */
static const char *const unauthorized_codes[] = {
    "AccessDenied",
    "AccessDeniedException",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "NotAuthorized",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "UnauthorizedOperation",
    "AuthFailure",
};

int aws_error_kind(const struct aws_error *ae)
{
    for (size_t i = 0; i < sizeof unauthorized_codes / sizeof unauthorized_codes[0]; i++)
        if (strcmp(ae->code, unauthorized_codes[i]) == 0)
            return ERR_AWS_UNAUTHORIZED;
    if (ae->http_status == 401 || ae->http_status == 403)
        return ERR_AWS_UNAUTHORIZED;
    if (!ae->code[0] && ae->http_status >= 200 && ae->http_status < 300)
        return ERR_AWS_BAD_ANSWER;
    return ERR_AWS_REJECTED;
}

void aws_error_format(const struct aws_error *ae, char *out, size_t outlen)
{
    char status[32] = "";
    if (ae->http_status > 0)
        snprintf(status, sizeof status, "HTTP %ld, ", ae->http_status);
    const char *rid = ae->request_id[0] ? ae->request_id : "none";
    if (!ae->code[0] && ae->http_status == 0) { /* no HTTP answer: nothing from AWS to cite */
        snprintf(out, outlen, "%s", ae->message[0] ? ae->message : "no answer");
        return;
    }
    if (ae->code[0])
        snprintf(out, outlen, "%s: %s (%sRequestId %s)", ae->code,
                 ae->message[0] ? ae->message : "(no message)", status, rid);
    else
        snprintf(out, outlen, "HTTP %ld: %s (RequestId %s)", ae->http_status,
                 ae->message[0] ? ae->message : "(no message)", rid);
}

static int name_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

xmlNode *aws_xml_first_element(const xmlNode *parent)
{
    if (!parent)
        return NULL;
    for (xmlNode *c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

xmlNode *aws_xml_next_element(const xmlNode *node)
{
    if (!node)
        return NULL;
    for (xmlNode *c = node->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

xmlNode *aws_xml_child(const xmlNode *parent, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNode *c = parent->children; c; c = c->next)
        if (name_is(c, name))
            return c;
    return NULL;
}

xmlNode *aws_xml_next(const xmlNode *node)
{
    if (!node)
        return NULL;
    for (xmlNode *c = node->next; c; c = c->next)
        if (name_is(c, (const char *)node->name))
            return c;
    return NULL;
}

xmlNode *aws_xml_path(const xmlNode *from, const char *path)
{
    xmlNode *cur = (xmlNode *)from;
    if (!path)
        return cur;
    const char *p = path;
    char name[256];
    while (cur && *p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len >= sizeof name)
            return NULL;
        memcpy(name, p, len);
        name[len] = '\0';
        cur = aws_xml_child(cur, name);
        p += len;
        if (*p == '/')
            p++;
    }
    return cur;
}

const char *aws_xml_text(const xmlNode *from, const char *path)
{
    xmlNode *n = aws_xml_path(from, path);
    if (!n)
        return NULL;
    xmlNode *only = NULL;
    size_t pieces = 0;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            only = c;
            pieces++;
        }
    }
    if (pieces == 0)
        return "";
    if (pieces == 1)
        return only->content ? (const char *)only->content : "";
    /* Several pieces (text split by CDATA or comments): merge them into one text
     * node once, so the returned pointer lives as long as the document. */
    struct buf b = BUF_INIT;
    xmlNode *c = n->children;
    while (c) {
        xmlNode *next = c->next;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content)
                buf_puts(&b, (const char *)c->content);
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
    xmlNode *t = xmlNewDocText(n->doc, (const xmlChar *)buf_cstr(&b));
    buf_release(&b);
    if (!t)
        return NULL;
    xmlAddChild(n, t);
    return t->content ? (const char *)t->content : "";
}

int aws_xml_int(const xmlNode *from, const char *path, long long *out)
{
    const char *s = aws_xml_text(from, path);
    if (!s)
        return 1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno)
        return -1;
    *out = v;
    return 0;
}

int aws_xml_bool(const xmlNode *from, const char *path, int *out)
{
    const char *s = aws_xml_text(from, path);
    if (!s)
        return 1;
    if (strcmp(s, "true") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

int aws_xml_time(const xmlNode *from, const char *path, int64_t *out)
{
    const char *s = aws_xml_text(from, path);
    if (!s)
        return 1;
    int64_t t;
    if (clock_parse_rfc3339(s, &t) != 0)
        return -1;
    *out = t;
    return 0;
}

xmlNode *aws_xml_result(const xmlDoc *doc, const char *action)
{
    char name[256];
    snprintf(name, sizeof name, "%sResult", action);
    return aws_xml_child(xmlDocGetRootElement(doc), name);
}

const char *aws_xml_request_id(const xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    const char *rid = aws_xml_text(root, "ResponseMetadata/RequestId");
    if (!rid)
        rid = aws_xml_text(root, "RequestId");
    if (!rid)
        rid = aws_xml_text(root, "RequestID");
    return rid;
}

static void keep_quiet(void *ud, xmlError *error)
{
    (void)ud, (void)error;
}

void aws_xml_parse_begin(void)
{
    /* The structured handler takes every error, the parser's and the encoders'
     * (which have no parser context), after libxml2 has recorded it as the last
     * error. Per thread in libxml2, hence on every call and not once. */
    xmlSetStructuredErrorFunc(NULL, keep_quiet);
    xmlResetLastError();
}

xmlParserCtxtPtr aws_xml_push_parser(xmlSAXHandler *sax, void *ud)
{
    aws_xml_parse_begin();
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(sax, ud, NULL, 0, "aws-response.xml");
    if (ctxt)
        xmlCtxtUseOptions(ctxt, AWS_XML_PARSE_OPTIONS);
    return ctxt;
}

void aws_xml_error_reason(char *out, size_t outlen)
{
    const xmlError *xe = xmlGetLastError();
    snprintf(out, outlen, "not XML");
    if (xe && xe->message) {
        snprintf(out, outlen, "line %d: %s", xe->line, xe->message);
        size_t rl = strlen(out);
        while (rl > 0 && (out[rl - 1] == '\n' || out[rl - 1] == ' '))
            out[--rl] = '\0';
    }
}

int aws_xml_parse(const char *body, size_t len, const char *what, xmlDoc **out, struct err *e)
{
    *out = NULL;
    if (!body || len == 0)
        return err_set(e, ERR_AWS_BAD_ANSWER, "%s: empty body where XML was expected", what);
    if (len > (size_t)INT32_MAX)
        return err_set(e, ERR_AWS_BAD_ANSWER, "%s: body too large", what);
    /* The push parser, not xmlReadMemory's pull parser, which cost
     * rds-clone-delete 200 KiB of RSS for its code pages. */
    xmlDoc *doc = NULL;
    xmlParserCtxtPtr ctxt = aws_xml_push_parser(NULL, NULL);
    if (ctxt) {
        xmlParseChunk(ctxt, body, (int)len, 1);
        doc = ctxt->myDoc;
        ctxt->myDoc = NULL;
        if (!ctxt->wellFormed) {
            xmlFreeDoc(doc);
            doc = NULL;
        }
        xmlFreeParserCtxt(ctxt);
    }
    if (!doc || !xmlDocGetRootElement(doc)) {
        char reason[256];
        aws_xml_error_reason(reason, sizeof reason);
        char ex[96];
        err_excerpt(body, len, ex, sizeof ex);
        xmlFreeDoc(doc);
        xmlResetLastError();
        return err_set(e, ERR_AWS_BAD_ANSWER, "%s: invalid XML (%s): %s", what, reason, ex);
    }
    *out = doc;
    return 0;
}

void aws_error_from_xml(long status, const char *body, size_t len, const char *request_id_header,
                        struct aws_error *ae)
{
    aws_error_clear(ae);
    ae->http_status = status;
    aws_error_field(ae->request_id, sizeof ae->request_id, request_id_header);

    xmlDoc *doc = NULL;
    struct err pe = {0};
    if (aws_xml_parse(body, len, "error response", &doc, &pe) != 0) {
        char ex[160];
        err_excerpt(body, body ? len : 0, ex, sizeof ex);
        if (!body || len == 0)
            aws_error_field(ae->message, sizeof ae->message, "empty error body");
        else
            snprintf(ae->message, sizeof ae->message, "error body is not AWS XML: %s", ex);
        return;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *error = NULL;
    const char *rid = NULL;
    if (name_is(root, "ErrorResponse")) { /* Query protocol (RDS, STS) */
        error = aws_xml_child(root, "Error");
        rid = aws_xml_text(root, "RequestId");
    } else if (name_is(root, "Response")) { /* EC2-style */
        error = aws_xml_path(root, "Errors/Error");
        rid = aws_xml_text(root, "RequestID");
        if (!rid)
            rid = aws_xml_text(root, "RequestId");
    } else if (name_is(root, "Error")) { /* REST-XML (S3-style) */
        error = root;
        rid = aws_xml_text(root, "RequestId");
    }
    if (!error) {
        snprintf(ae->message, sizeof ae->message, "unexpected XML error body <%s>",
                 root && root->name ? (const char *)root->name : "?");
    } else {
        aws_error_field(ae->code, sizeof ae->code, aws_xml_text(error, "Code"));
        aws_error_field(ae->message, sizeof ae->message, aws_xml_text(error, "Message"));
        aws_error_field(ae->type, sizeof ae->type, aws_xml_text(error, "Type"));
    }
    if (rid && *rid)
        aws_error_field(ae->request_id, sizeof ae->request_id, rid);
    xmlFreeDoc(doc);
}
