/* AWS Query answers read as a stream: checked by a SAX pass that builds no
 * node, then read with libxml2's xmlTextReader, so a page costs the memory of
 * one item, never a DOM of the whole answer (a 54 MB page cost 500 MB as a
 * tree). Both run on libxml2's push parser, without network access or entity
 * expansion.
 *
 *   <DescribeDBSnapshotsResponse>             depth 0: the answer of `action`
 *     <DescribeDBSnapshotsResult>             depth 1
 *       <DBSnapshots>                         depth 2: list_name
 *         <DBSnapshot>...</DBSnapshot>        depth 3: item_name, expanded alone
 *       </DBSnapshots>
 *       <Marker>...</Marker>                  depth 2: the next page, if any
 *     </DescribeDBSnapshotsResult>
 *   </DescribeDBSnapshotsResponse> */
#ifndef DRR_AWS_XML_STREAM_H
#define DRR_AWS_XML_STREAM_H

#include <stddef.h>
#include <libxml/tree.h>
#include "core/err.h"

/* Where an answer's text is: in memory (data, len; fd < 0), or in a file (fd,
 * len bytes from offset 0: a body too large to keep in memory, http.h's
 * spill_above). */
struct aws_xml_src {
    const char *data;
    size_t len;
    int fd;
};

/* aws_xml_check_answer's answer when the body is an AWS error document
 * (<ErrorResponse>, <Error>, <Response><Errors>): the caller parses the error. */
#define AWS_XML_ERROR_DOCUMENT (-2)

/* Checks, in one streaming pass, that body is well-formed XML whose root is
 * <{action}Response> with an <{action}Result> child (need_result). Returns 0,
 * AWS_XML_ERROR_DOCUMENT, or ERR_AWS_BAD_ANSWER with e saying what is wrong ("the
 * answer: invalid XML (...)", "the answer is <html>, not <...Response>", "the
 * answer has no <...Result> element"). */
int aws_xml_check_answer(const struct aws_xml_src *src, const char *action, int need_result,
                         struct err *e);

/* One item, expanded alone: valid only during the call. Returns 0 to go on,
 * AWS_XML_STOP to stop (the walk then returns AWS_XML_STOP), or an error kind
 * with e set (returned). */
#define AWS_XML_STOP (-1)
typedef int (*aws_xml_item_fn)(const xmlNode *item, void *ud, struct err *e);

/* Hands each <item_name> of <list_name> in the <{action}Result> of an answer
 * that passed aws_xml_check_answer to fn, and the text of the Result's <Marker>
 * to *marker (malloc'd; NULL when absent or empty). A missing list is no items
 * (botocore reads it so). */
int aws_xml_stream_items(const struct aws_xml_src *src, const char *action, const char *list_name,
                         const char *item_name, aws_xml_item_fn fn, void *ud, char **marker,
                         struct err *e);

#endif
