/* AWS answers as a stream: checked with a SAX pass, read with libxml2's
 * xmlTextReader. See aws_xml_stream.h. */
#include "aws/aws_xml_stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "aws/aws_xml.h"
#include "core/buf.h"
#include "core/err.h"

enum { NODE_ELEMENT = 1 }; /* XML_READER_TYPE_ELEMENT */

static xmlTextReaderPtr reader_new(const struct aws_xml_src *src)
{
    if (src->len == 0 || src->len > (size_t)INT32_MAX)
        return NULL;
    aws_xml_parse_begin();
    if (src->fd >= 0) {
        if (lseek(src->fd, 0, SEEK_SET) != 0)
            return NULL;
        return xmlReaderForFd(src->fd, "aws-response.xml", NULL, AWS_XML_PARSE_OPTIONS);
    }
    if (!src->data)
        return NULL;
    return xmlReaderForMemory(src->data, (int)src->len, "aws-response.xml", NULL,
                              AWS_XML_PARSE_OPTIONS);
}

static int invalid(const struct aws_xml_src *src, struct err *e)
{
    if (src->len == 0)
        return err_set(e, ERR_AWS_BAD_ANSWER, "the answer: empty body where XML was expected");
    char reason[256];
    aws_xml_error_reason(reason, sizeof reason);
    char head[160], ex[96]; /* more read than shown: a cut shows as "..." */
    size_t n = src->len < sizeof head ? src->len : sizeof head;
    if (src->fd >= 0) {
        ssize_t got = pread(src->fd, head, n, 0);
        n = got > 0 ? (size_t)got : 0;
    } else {
        memcpy(head, src->data, n);
    }
    err_excerpt(head, n, ex, sizeof ex);
    xmlResetLastError();
    return err_set(e, ERR_AWS_BAD_ANSWER, "the answer: invalid XML (%s): %s", reason, ex);
}

static const char *local_name(xmlTextReaderPtr r)
{
    const xmlChar *n = xmlTextReaderConstLocalName(r);
    return n ? (const char *)n : "";
}

/* What the check pass is looking for, filled in by its SAX callbacks. */
struct check_state {
    xmlParserCtxtPtr ctxt;
    const char *want;   /* {action}Response */
    const char *result; /* {action}Result */
    int depth, seen_result, ec2_style, rc;
    struct err *e;
};

static void check_stop(struct check_state *st, int rc)
{
    st->rc = rc;
    xmlStopParser(st->ctxt);
}

static void check_start(void *ud, const xmlChar *localname, const xmlChar *prefix,
                        const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                        int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces, (void)nb_attributes,
        (void)nb_defaulted, (void)attributes;
    struct check_state *st = ud;
    const char *name = (const char *)localname;
    int depth = st->depth++;
    if (st->rc)
        return;
    if (depth == 0) {
        if (strcmp(name, "ErrorResponse") == 0 || strcmp(name, "Error") == 0)
            check_stop(st, AWS_XML_ERROR_DOCUMENT);
        else if (strcmp(name, "Response") == 0)
            st->ec2_style = 1; /* <Response><Errors>: an error; anything else: wrong */
        else if (strcmp(name, st->want) != 0)
            check_stop(st, err_set(st->e, ERR_AWS_BAD_ANSWER, "the answer is <%.64s>, not <%s>",
                                   name, st->want));
    } else if (depth == 1) {
        if (st->ec2_style && strcmp(name, "Errors") == 0)
            check_stop(st, AWS_XML_ERROR_DOCUMENT);
        else if (strcmp(name, st->result) == 0)
            st->seen_result = 1;
    }
}

static void check_end(void *ud, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)localname, (void)prefix, (void)uri;
    ((struct check_state *)ud)->depth--;
}

/* Feeds the answer to the push parser a piece at a time: a spilled page is never
 * read into memory whole. -1 when its file cannot be read. */
static int check_feed(const struct aws_xml_src *src, struct check_state *st)
{
    enum { PIECE = 16 * 1024 };
    char *piece = src->fd >= 0 ? xmalloc(PIECE) : NULL;
    size_t done = 0;
    int rc = 0;
    while (done < src->len && st->rc == 0 && st->ctxt->wellFormed) {
        size_t n = src->len - done < PIECE ? src->len - done : PIECE;
        const char *p = src->data + done;
        if (piece) {
            ssize_t got = pread(src->fd, piece, n, (off_t)done);
            if (got <= 0) {
                rc = -1;
                break;
            }
            n = (size_t)got;
            p = piece;
        }
        xmlParseChunk(st->ctxt, p, (int)n, 0);
        done += n;
    }
    if (rc == 0 && st->rc == 0 && st->ctxt->wellFormed)
        xmlParseChunk(st->ctxt, NULL, 0, 1);
    free(piece);
    return rc;
}

/* A SAX pass, not the reader: no node is built for a check that only looks at
 * the first two levels (the reader-based check was 12 M of rds-snapshot-latest's
 * 75 M instructions, callgrind). */
int aws_xml_check_answer(const struct aws_xml_src *src, const char *action, int need_result,
                         struct err *e)
{
    if (src->len == 0 || (src->fd < 0 && !src->data))
        return invalid(src, e);
    char want[256], result[256];
    snprintf(want, sizeof want, "%sResponse", action);
    snprintf(result, sizeof result, "%sResult", action);
    struct check_state st = {NULL, want, result, 0, 0, 0, 0, e};
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = check_start;
    sax.endElementNs = check_end;
    st.ctxt = aws_xml_push_parser(&sax, &st);
    if (!st.ctxt)
        return invalid(src, e);
    int well_formed = check_feed(src, &st) == 0 && st.ctxt->wellFormed;
    /* libxml2 makes a document even for a SAX parse when the body declares
     * entities (xmlParseEntityDecl): the parser context does not free it. */
    xmlFreeDoc(st.ctxt->myDoc);
    xmlFreeParserCtxt(st.ctxt);
    if (st.rc)
        return st.rc;
    if (!well_formed)
        return invalid(src, e);
    if (st.ec2_style)
        return err_set(e, ERR_AWS_BAD_ANSWER, "the answer is <Response>, not <%s>", want);
    if (need_result && !st.seen_result)
        return err_set(e, ERR_AWS_BAD_ANSWER, "the answer has no <%s> element", result);
    return 0;
}

/* The text content of the element the reader is on (malloc'd, "" if none). */
static char *element_text(xmlTextReaderPtr r)
{
    xmlChar *s = xmlTextReaderReadString(r);
    char *out = xstrdup(s ? (const char *)s : "");
    xmlFree(s);
    return out;
}

int aws_xml_stream_items(const struct aws_xml_src *src, const char *action, const char *list_name,
                         const char *item_name, aws_xml_item_fn fn, void *ud, char **marker,
                         struct err *e)
{
    *marker = NULL;
    xmlTextReaderPtr r = reader_new(src);
    if (!r)
        return invalid(src, e);
    char result[256];
    snprintf(result, sizeof result, "%sResult", action);
    int in_result = 0, in_list = 0, rc = 0, ret = xmlTextReaderRead(r);
    while (ret == 1) {
        int type = xmlTextReaderNodeType(r);
        int depth = xmlTextReaderDepth(r);
        if (type == NODE_ELEMENT) {
            const char *name = local_name(r);
            if (depth == 1) {
                in_result = strcmp(name, result) == 0;
            } else if (depth == 2 && in_result) {
                in_list = strcmp(name, list_name) == 0 && !xmlTextReaderIsEmptyElement(r);
                if (strcmp(name, "Marker") == 0) {
                    free(*marker);
                    *marker = element_text(r);
                }
            } else if (depth == 3 && in_list && strcmp(name, item_name) == 0) {
                /* This item's subtree only; the reader frees it when it moves on. */
                xmlNode *item = xmlTextReaderExpand(r);
                if (!item) {
                    rc = invalid(src, e);
                    break;
                }
                rc = fn(item, ud, e);
                if (rc)
                    break;
                ret = xmlTextReaderNext(r);
                continue;
            }
        }
        ret = xmlTextReaderRead(r);
    }
    if (rc == 0 && ret != 0)
        rc = invalid(src, e);
    xmlFreeTextReader(r);
    if (*marker && !**marker) {
        free(*marker);
        *marker = NULL;
    }
    if (rc && rc != AWS_XML_STOP) {
        free(*marker);
        *marker = NULL;
    }
    return rc;
}
