#!/bin/bash
# dblab-refresh against the DBLab emulator: every refusal before the refresh runs.
#   401 wrong token, unhealthy engine (503, connection refused), physical mode,
#   busy (each busy state), no pool free of clones, config update rejected, a key
#   the engine would silently not apply, an engine too old, a document without
#   endpoint. Each one exits with its own code, one ERROR line, nothing on stdout,
#   and (except where the engine itself refuses the trigger) nothing changed.
. tests/lib/dblab_refresh_test.sh
drt_init
drt_emu_start --time-scale 600

# Nothing changed on the engine: no config POST, no trigger.
expect_untouched() {
    [ "$(drt_count_calls POST /admin/config)" = 0 ] || fail "the config was changed"
    [ "$(drt_count_calls POST /full-refresh)" = 0 ] || fail "a refresh was triggered"
}
# Exactly one ERROR line, and it is the last line.
expect_one_error() {
    [ "$(grep -c ' ERROR ' "$DRT_DIR/err")" = 1 ] || fail "not exactly one ERROR line"
    tail -n 1 "$DRT_DIR/err" | grep -q ' ERROR ' || fail "the ERROR is not the last line"
}
set_state() { drt_ctl POST /_emulator/set "$1" >/dev/null || fail "cannot set $1"; }
# server.yml edited by python statements over the parsed config (c), written back whole
set_yaml() {
    drt_state >"$DRT_DIR/state.json"
    "$PY" - "$DRT_DIR/state.json" "$DRT_DIR/set.json" "$1" <<'EOF'
import json, sys, yaml
c = yaml.safe_load(json.load(open(sys.argv[1]))["configYaml"])
dump = c["retrieval"]["spec"]["logicalDump"]["options"]
restore = c["retrieval"]["spec"]["logicalRestore"]["options"]
exec(sys.argv[3])
json.dump({"config": yaml.safe_dump(c, sort_keys=False)}, open(sys.argv[2], "w"))
EOF
    drt_ctl POST /_emulator/set "$(cat "$DRT_DIR/set.json")" >/dev/null || fail "cannot set the config"
}

drt_config
drt_doc

case_begin "401: wrong token"
DRT_TOKEN_SAVED=$DRT_TOKEN
drt_reset
DRT_TOKEN="tok-wrong-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" drt_run
expect_rc 81
expect_no_out
expect_err "ERROR .*DBLab GET /status: HTTP 401 UNAUTHORIZED: Check your verification token\."
expect_one_error
expect_untouched
DRT_TOKEN=$DRT_TOKEN_SAVED

case_begin "unhealthy engine: 503 on every call"
drt_reset
drt_fault '{"type":"down","seconds":30}'
drt_run
expect_rc 75
expect_no_out
expect_err "ERROR .*DBLab GET /healthz: HTTP 503"
expect_err "WARN .*attempt 1 of 3, retrying"
expect_one_error
drt_fault '{"clear":true}'

case_begin "unhealthy engine: connection refused (nothing listens)"
free_port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DRT_URL_SAVED=$DRT_URL
DRT_URL=http://127.0.0.1:$free_port drt_config
drt_run
expect_rc 75
expect_no_out
expect_err "ERROR .*DBLab GET /healthz: .*(onnect|refused)"
expect_one_error
DRT_URL=$DRT_URL_SAVED
drt_config

case_begin "physical mode: refused, nothing changed"
drt_reset
set_yaml "c['retrieval']['jobs'] = ['physicalRestore', 'physicalSnapshot']
c['retrieval']['spec'] = {'physicalRestore': {'options': {'tool': 'walg'}}, 'physicalSnapshot': {'options': {'skipStartSnapshot': False}}}"
drt_ctl DELETE /_emulator/calls >/dev/null
drt_run
expect_rc 83
expect_no_out
expect_err "ERROR .*retrieval mode is \"physical\", not \"logical\""
expect_one_error
expect_untouched

for st in refreshing snapshotting pending renewed; do
    case_begin "busy: $st"
    drt_reset
    set_state "{\"status\":\"$st\"}"
    drt_run
    expect_rc 84
    expect_no_out
    expect_err "ERROR .*busy \(retrieval status $st\): another job owns it; nothing was changed"
    expect_one_error
    expect_untouched
done

case_begin "no pool free of clones: the engine refuses the trigger"
drt_reset
set_state '{"clones":[{"id":"c1","pool":"dblab_pool/dataset_1"},{"id":"c2","pool":"dblab_pool/dataset_2"}]}'
drt_run
expect_rc 75
expect_no_out
expect_err "ERROR .*no pool free of clones.*Pool to perform full refresh not found. Skip refreshing\)$"
expect_one_error

# The status said idle, but another job won the race to the trigger: the
# engine's own 400 refusals (retrieval.go's texts), each with its own code.
for refusal in "The data refresh/snapshot is currently in progress. Skip a new data refresh iteration|84|busy: a refresh or snapshot is already running" \
    "Data retrieving suspended because Retrieval state is pending|84|retrieval is pending"; do
    text=${refusal%%|*}
    rest=${refusal#*|}
    code=${rest%%|*}
    want=${rest#*|}
    case_begin "the trigger refused by the engine: $text"
    drt_reset
    drt_fault "{\"type\":\"http\",\"status\":400,\"path\":\"/full-refresh\",\"message\":\"$text\"}"
    drt_run
    expect_rc "$code"
    expect_no_out
    expect_err "ERROR .*$want.*HTTP 400 BAD_REQUEST: $text"
    expect_one_error
    [ "$(drt_count_calls POST /full-refresh)" = 1 ] || fail "the trigger was not sent exactly once"
done

case_begin "the trigger answered 500: not retried (a second trigger would be refused)"
drt_reset
drt_fault '{"type":"http","status":500,"path":"/full-refresh","message":"boom"}'
drt_run
expect_rc 75
expect_err "ERROR .*DBLab POST /full-refresh: HTTP 500 INTERNAL_ERROR: boom \(whether the engine started the refresh is unknown\)$"
[ "$(drt_count_calls POST /full-refresh)" = 1 ] || fail "the trigger was retried"

case_begin "config update rejected by the engine (disabled by admin)"
drt_reset
set_state '{"disableConfigModification":true}'
drt_run
expect_rc 81
expect_no_out
expect_err "ERROR .*DBLab POST /admin/config: HTTP 400 BAD_REQUEST: configuration management via UI/API disabled by admin"
expect_one_error
[ "$(drt_count_calls POST /full-refresh)" = 0 ] || fail "a refresh was triggered"

case_begin "a key the engine would silently not apply: no rdsIam block in server.yml"
drt_reset
set_yaml "del dump['source']['rdsIam']"
drt_ctl DELETE /_emulator/calls >/dev/null
DRT_IAM=true drt_config
drt_run
expect_rc 78
expect_no_out
expect_err "ERROR .*server.yml has no retrieval.spec.logicalDump.options.source.rdsIam.dbInstanceIdentifier.*\`rdsIam:\` block.*Nothing was changed"
expect_one_error
expect_untouched
drt_config

case_begin "a key the engine would silently not apply: no logicalRestore parallelJobs"
drt_reset
set_yaml "del restore['parallelJobs']"
drt_ctl DELETE /_emulator/calls >/dev/null
drt_config "restoreParallelJobs: 2"
drt_run
expect_rc 78
expect_err "ERROR .*server.yml has no retrieval.spec.logicalRestore.options.parallelJobs"
expect_one_error
expect_untouched
drt_config

case_begin "engine too old for the refresh API"
drt_reset
set_state '{"engine":{"version":"v3.4.0-20230101-0000"}}'
drt_run
expect_rc 81
expect_no_out
expect_err "ERROR .*v3.4.0-20230101-0000 is too old"
expect_one_error
expect_untouched

case_begin "404 on the refresh API (a version string that does not tell)"
drt_reset
set_state '{"engine":{"version":"dev-build"}}'
drt_run
expect_rc 81
expect_no_out
expect_err "ERROR .*POST /full-refresh: HTTP 404: this engine has no full-refresh API"
expect_one_error

case_begin "input without endpoint"
drt_reset
drt_doc
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["endpoint"]; print(json.dumps(d))' \
    "$DRT_DIR/in.json" >"$DRT_DIR/in2.json"
mv "$DRT_DIR/in2.json" "$DRT_DIR/in.json"
drt_run
expect_rc 65
expect_no_out
expect_err "ERROR .*endpoint: missing section \(run rds-clone-wait first\)"
[ "$(drt_count_calls GET /healthz)" = 0 ] || fail "called the engine with a bad document"

echo "ok"
