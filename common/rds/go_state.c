/* Reader of the Go original's state file (go_state.h). Fails closed: anything
 * that is not the JSON object CloneState marshals to is an error naming the
 * field, never "no clone recorded". */
#include "rds/go_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json_type.h"

#define GO_STATE_MAX_BYTES (64 * 1024)

void go_state_release(struct go_state *s)
{
    free(s->clone_id);
    free(s->aws_region);
    memset(s, 0, sizeof *s);
}

/* An optional string member: absent or "" leaves *out NULL. */
static int opt_string(const cJSON *o, const char *path, const char *name, char **out, struct err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return err_set(e, ERR_INPUT, "%s: %s: expected a string, got %s", path, name,
                       json_type_name(v));
    if (v->valuestring[0] != '\0')
        *out = xstrdup(v->valuestring);
    return 0;
}

int go_state_read(const char *path, struct go_state *out, int *found, struct err *e)
{
    memset(out, 0, sizeof *out);
    *found = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    }
    *found = 1;
    struct buf b = BUF_INIT;
    int got = buf_read_file(&b, f, GO_STATE_MAX_BYTES);
    int read_errno = errno;
    fclose(f);
    int rc = 0;
    if (got < 0)
        rc = err_set(e, ERR_INPUT, "%s: cannot read: %s", path, strerror(read_errno));
    else if (got > 0)
        rc = err_set(e, ERR_INPUT, "%s: larger than %d bytes (not a Go state file)", path,
                     GO_STATE_MAX_BYTES);
    if (rc) {
        buf_release(&b);
        return rc;
    }
    cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    buf_release(&b);
    if (j == NULL)
        return err_set(e, ERR_INPUT, "%s: not JSON (the Go tool writes a JSON object)", path);
    if (!cJSON_IsObject(j))
        rc = err_set(e, ERR_INPUT, "%s: expected a JSON object, got %s", path, json_type_name(j));
    if (rc == 0)
        rc = opt_string(j, path, "clone_id", &out->clone_id, e);
    if (rc == 0)
        rc = opt_string(j, path, "aws_region", &out->aws_region, e);
    if (rc == 0) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "is_cluster");
        if (c != NULL && !cJSON_IsBool(c))
            rc = err_set(e, ERR_INPUT, "%s: is_cluster: expected a boolean, got %s", path,
                         json_type_name(c));
        else
            out->is_cluster = cJSON_IsTrue(c);
    }
    cJSON_Delete(j);
    if (rc)
        go_state_release(out);
    return rc;
}
