#!/bin/bash
# Bounds (issue 12): AWS describe pages are read as a stream, so one 54 MB page
# (60,000 snapshots in a single answer, as a hostile or broken endpoint could
# send) costs the page's text plus one item: rds-snapshot-latest finds the newest
# snapshot in it with a peak RSS under 64 MB (a libxml2 tree of it took 500 MB).
# The server is a few lines of Python answering DescribeDBSnapshots with that
# page (no signature check: the memory of the reader is what is measured).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${DRR_BIN:=$top/bin}"
T=$(mktemp -d "${TMPDIR:-/tmp}/test_bigpage.XXXXXX")
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
case " ${CFLAGS:-} ${DRR_BIN} " in *asan*|*valgrind*)
    echo "skip: RSS is not measured under a sanitizer build"; exit 77 ;; esac

/usr/bin/python3 - "$T/port" <<'PYEOF' &
import http.server, sys, datetime
N = 60000
base = datetime.datetime(2026, 1, 1)
items = []
for i in range(N):
    t = (base + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    items.append(
        "<DBSnapshot><DBSnapshotIdentifier>rds:production-db-%06d</DBSnapshotIdentifier>"
        "<DBInstanceIdentifier>production-db</DBInstanceIdentifier>"
        "<DBSnapshotArn>arn:aws:rds:us-east-1:123456789012:snapshot:rds:production-db-%06d</DBSnapshotArn>"
        "<SnapshotCreateTime>%s</SnapshotCreateTime><Engine>postgres</Engine>"
        "<EngineVersion>16.4</EngineVersion><AllocatedStorage>100</AllocatedStorage>"
        "<Status>available</Status><Port>5432</Port><SnapshotType>automated</SnapshotType>"
        "<Encrypted>true</Encrypted><KmsKeyId>arn:aws:kms:us-east-1:123456789012:key/abc</KmsKeyId>"
        "<StorageType>gp3</StorageType><TagList><Tag><Key>team</Key><Value>data-platform</Value>"
        "</Tag><Tag><Key>note</Key><Value>%s</Value></Tag></TagList></DBSnapshot>"
        % (i, i, t, "x" * 300))
body = ('<DescribeDBSnapshotsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
        "<DescribeDBSnapshotsResult><DBSnapshots>" + "".join(items) +
        "</DBSnapshots></DescribeDBSnapshotsResult><ResponseMetadata><RequestId>big</RequestId>"
        "</ResponseMetadata></DescribeDBSnapshotsResponse>").encode()

# The source instance, for the commands that look at it first.
instance = ('<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
            "<DescribeDBInstancesResult><DBInstances><DBInstance>"
            "<DBInstanceIdentifier>production-db</DBInstanceIdentifier>"
            "<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:production-db</DBInstanceArn>"
            "<DBInstanceStatus>available</DBInstanceStatus><Engine>postgres</Engine>"
            "<EngineVersion>16.4</EngineVersion><DBInstanceClass>db.r6g.large</DBInstanceClass>"
            "</DBInstance></DBInstances></DescribeDBInstancesResult>"
            "<ResponseMetadata><RequestId>i</RequestId></ResponseMetadata>"
            "</DescribeDBInstancesResponse>").encode()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        form = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if "Action=DescribeDBSnapshots" in form:
            status, out = 200, body
        elif "Action=DescribeDBInstances" in form:
            status, out = 200, instance
        else:
            status, out = 400, (b"<ErrorResponse><Error><Code>InvalidAction</Code><Message>"
                                b"not served here</Message></Error></ErrorResponse>")
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass

s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".size", "w").write(str(len(body)))
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.serve_forever()
PYEOF
srv=$!
for _ in $(seq 1 300); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "the page server did not start"
size=$(cat "$T/port.size")
[ "$size" -ge 54000000 ] || fail "the page is only $size bytes"

mkdir -m 700 "$T/c"
cat >"$T/c/config.yaml" <<YAML
source:
  type: rds
  identifier: production-db
clone:
  instanceClass: db.t3.medium
dblab:
  apiEndpoint: http://127.0.0.1:9
  token: \${DBLAB_TOKEN}
aws:
  region: us-east-1
  endpoint: http://127.0.0.1:$(cat "$T/port")
  maxAttempts: 1
YAML
export DBLAB_TOKEN=big-page-token AWS_ACCESS_KEY_ID=AKIDBIGPAGE AWS_SECRET_ACCESS_KEY=big-page-secret \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_RDS

/usr/bin/python3 - "$DRR_BIN/rds-snapshot-latest" "$T/c/config.yaml" "$T/out" <<'PYEOF' || exit 1
import os, sys, json
cmd, cfg, out = sys.argv[1:4]
with open(out, "wb") as fo, open(out + ".err", "wb") as fe:
    pid = os.posix_spawn(cmd, [cmd, "-config", cfg], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, fo.fileno(), 1),
                                                   (os.POSIX_SPAWN_DUP2, fe.fileno(), 2)])
    _, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
rss_mb = usage.ru_maxrss / 1024
print(f"rds-snapshot-latest on one 54 MB page: exit {code}, peak RSS {rss_mb:.1f} MB")
if code != 0:
    sys.stderr.write(open(out + ".err").read()[-2000:])
    sys.exit(f"FAIL: exit {code}")
doc = json.load(open(out))
if doc["snapshot"]["id"] != "rds:production-db-059999":
    sys.exit(f"FAIL: picked {doc['snapshot']['id']}, not the newest")
if rss_mb >= 64:
    sys.exit(f"FAIL: peak RSS {rss_mb:.1f} MB, not under 64 MB")
PYEOF
echo "PASS: a 54 MB page in bounded memory"
