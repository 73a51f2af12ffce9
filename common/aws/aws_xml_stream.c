/* AWS answers as a stream (libxml2's xmlTextReader). See aws_xml_stream.h. */
#include "aws/aws_xml_stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    xmlResetLastError();
    /* No network, no DTD loading, no entity substitution: a hostile body cannot
     * make us fetch or expand anything. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    if (src->fd >= 0) {
        if (lseek(src->fd, 0, SEEK_SET) != 0)
            return NULL;
        return xmlReaderForFd(src->fd, "aws-response.xml", NULL, opts);
    }
    if (!src->data)
        return NULL;
    return xmlReaderForMemory(src->data, (int)src->len, "aws-response.xml", NULL, opts);
}

static int invalid(const struct aws_xml_src *src, struct err *e)
{
    if (src->len == 0)
        return err_set(e, ERR_AWS_BAD_ANSWER, "the answer: empty body where XML was expected");
    char reason[256];
    aws_xml_error_reason(reason, sizeof reason);
    /* A short printable excerpt of the start. */
    char head[92];
    size_t n = src->len < sizeof head ? src->len : sizeof head;
    if (src->fd >= 0) {
        ssize_t got = pread(src->fd, head, n, 0);
        n = got > 0 ? (size_t)got : 0;
    } else {
        memcpy(head, src->data, n);
    }
    char ex[96];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)head[i];
        ex[o++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    snprintf(ex + o, sizeof ex - o, "%s", n < src->len ? "..." : "");
    xmlResetLastError();
    return err_set(e, ERR_AWS_BAD_ANSWER, "the answer: invalid XML (%s): %s", reason, ex);
}

static const char *local_name(xmlTextReaderPtr r)
{
    const xmlChar *n = xmlTextReaderConstLocalName(r);
    return n ? (const char *)n : "";
}

int aws_xml_check_answer(const struct aws_xml_src *src, const char *action, int need_result,
                         struct err *e)
{
    xmlTextReaderPtr r = reader_new(src);
    if (!r)
        return invalid(src, e);
    char want[256], result[256];
    snprintf(want, sizeof want, "%sResponse", action);
    snprintf(result, sizeof result, "%sResult", action);
    int ret, rc = 0, seen_result = 0, ec2_style = 0;
    while ((ret = xmlTextReaderRead(r)) == 1) {
        if (xmlTextReaderNodeType(r) != NODE_ELEMENT)
            continue;
        int depth = xmlTextReaderDepth(r);
        const char *name = local_name(r);
        if (depth == 0) {
            if (strcmp(name, "ErrorResponse") == 0 || strcmp(name, "Error") == 0) {
                rc = AWS_XML_ERROR_DOCUMENT;
                break;
            }
            if (strcmp(name, "Response") == 0) {
                ec2_style = 1; /* <Response><Errors>: an error; anything else: wrong */
                continue;
            }
            if (strcmp(name, want) != 0) {
                rc = err_set(e, ERR_AWS_BAD_ANSWER, "the answer is <%.64s>, not <%s>", name, want);
                break;
            }
        } else if (depth == 1) {
            if (ec2_style && strcmp(name, "Errors") == 0) {
                rc = AWS_XML_ERROR_DOCUMENT;
                break;
            }
            if (strcmp(name, result) == 0)
                seen_result = 1;
        }
    }
    if (rc == 0 && ret != 0)
        rc = invalid(src, e);
    else if (rc == 0 && ec2_style)
        rc = err_set(e, ERR_AWS_BAD_ANSWER, "the answer is <Response>, not <%s>", want);
    else if (rc == 0 && need_result && !seen_result)
        rc = err_set(e, ERR_AWS_BAD_ANSWER, "the answer has no <%s> element", result);
    xmlFreeTextReader(r);
    return rc;
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
