/* The Go original's state file (postgres-ai/database-lab-engine, engine/internal/
 * rdsrefresh/cleanup.go at 9fbebc79: stateFileName "rds-refresh.state", struct
 * CloneState, written by StateFile.Write with json.MarshalIndent), read so that a
 * clone the Go tool recorded before a crash is deleted after switching to this
 * project, through the same guarded delete as any other clone.
 *
 *   {"clone_id": "dblab-refresh-20250115-020000", "is_cluster": false,
 *    "aws_region": "us-east-1", "created_at": "...", "delete_after": "...",
 *    "source_id": "..."}
 *
 * clone_id is "" while the Go run had chosen a snapshot but not yet created the
 * clone (refresher.go writes the state twice); source_id holds the SNAPSHOT id
 * (writeStateFile is called with snapshotID), so it is not used as a source. */
#ifndef DRR_GO_STATE_H
#define DRR_GO_STATE_H

#include "core/err.h"

#define GO_STATE_FILE_NAME "rds-refresh.state"

struct go_state {
    char *clone_id; /* NULL when the file records no clone ("" or absent) */
    int is_cluster;
    char *aws_region; /* NULL when absent */
};

/* 0 with *found = 1 and *out filled, or *found = 0 when path does not exist
 * (nothing recorded, as the Go StateFile.Read's nil); else ERR_INPUT naming the
 * file and field (not JSON, not an object, a field of the wrong type, larger
 * than 64 KiB). */
int go_state_read(const char *path, struct go_state *out, int *found, struct err *e);
void go_state_release(struct go_state *s);

#endif
