#!/bin/bash
# DBLab readers fail closed (issue 12): a proxy's HTTP 200 HTML page instead of the
# engine's JSON is exit 81 -- before the trigger (nothing triggered), for the
# trigger itself (whether it started is unknown, said so), and while waiting
# (never "finished", never exit 0) -- with one ERROR line and nothing on stdout.
. tests/lib/dblab_refresh_test.sh
drt_init
drt_emu_start --time-scale 600

case_begin "a 200 HTML page for /status before the trigger: 81, nothing triggered"
drt_config
drt_doc
drt_fault '{"type":"http","status":200,"path":"/status","calls":100,"message":"Sign in to the proxy"}'
drt_run
expect_rc 81
expect_no_out
expect_err "DBLab GET /status: .*not JSON"
[ "$(drt_count_calls POST /full-refresh)" = 0 ] || fail "a refresh was triggered"
drt_fault '{"clear":true}'

case_begin "a 200 HTML page for the trigger: 81, saying it may have started"
drt_reset
drt_fault '{"type":"http","status":200,"path":"/full-refresh","calls":1,"message":"Sign in"}'
drt_run
expect_rc 81
expect_no_out
expect_err "DBLab POST /full-refresh: HTTP 200 but the body is not JSON"
drt_fault '{"clear":true}'

case_begin "a 200 JSON answer to the trigger without the engine's status: 81"
drt_reset
drt_fault '{"type":"http","status":200,"path":"/full-refresh","calls":1,"json":{}}'
drt_run
expect_rc 81
expect_no_out
expect_err "DBLab POST /full-refresh: HTTP 200 without the engine's \"status\""
drt_fault '{"clear":true}'

case_begin "a 200 HTML page for /status while waiting: 81, never finished"
drt_reset
drt_config
drt_fault '{"type":"refresh-stuck"}'   # it stays refreshing: the poll sees the page
drt_run_bg
drt_wait_log "the refresh started"
drt_fault '{"type":"http","status":200,"path":"/status","calls":1000,"message":"Sign in"}'
drt_run_wait
expect_rc 81
expect_no_out
expect_err "DBLab GET /status: .*not JSON"
echo "PASS: DBLab readers fail closed"
