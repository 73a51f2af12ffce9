/* The run document: the JSON object the commands pass along (stdout of one is
 * stdin of the next). Versioned, one line, never a secret. Each step adds its
 * own section and keeps what it received. Schema: docs/run-document.schema.json.
 *
 *   { "apiVersion": "dblab-rds-refresh/v1", "pipeline": "...", "runId": "...",
 *     "source":   {...}, "snapshot": {...}, "clone": {...},
 *     "endpoint": {...}, "refresh":  {...}, "deleted":  {...} }
 */
#ifndef DRR_RUNDOC_H
#define DRR_RUNDOC_H

#include <cjson/cJSON.h>
#include "core/err.h"

#define RUNDOC_API_VERSION "dblab-rds-refresh/v1"

/* A new document with apiVersion set. */
cJSON *rundoc_new(void);

/* Reads one document from path (NULL or "-" = stdin). Checks that it is a JSON
 * object, that apiVersion matches, and that every section named in required
 * (NULL-terminated, may be NULL) is present and an object. Returns 0 or
 * ERR_INPUT with e->msg naming the source and the field, e.g.
 * "stdin: clone: missing section (run rds-clone-create first)". */
int rundoc_read(const char *path, const char *const *required, cJSON **out, struct err *e);
/* Same from memory (tests). */
int rundoc_parse(const char *text, const char *name, const char *const *required, cJSON **out,
                 struct err *e);

/* Replaces section name in doc with obj (takes ownership). */
void rundoc_set_section(cJSON *doc, const char *name, cJSON *obj);
/* The section, or NULL. */
cJSON *rundoc_section(const cJSON *doc, const char *name);

/* Typed field access inside a section for commands: returns 0 or ERR_INPUT
 * with e naming "section.field". */
int rundoc_get_string(const cJSON *doc, const char *section, const char *field, const char **out,
                      struct err *e);
int rundoc_get_int(const cJSON *doc, const char *section, const char *field, long long *out,
                   struct err *e);

/* Writes doc as ONE line + "\n" to stdout and flushes. Returns 0, or ERR_INTERNAL
 * after logging "stdout: write failed: REASON" (a full disk, a closed pipe). */
int rundoc_write(const cJSON *doc);

#endif
