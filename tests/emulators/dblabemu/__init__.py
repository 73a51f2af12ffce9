"""DBLab Engine 4.x emulator (test backend and demo backend of dblab-rds-refresh).

Modules: gojson (Go-compatible JSON and time rendering), projection (the engine's
config projection over a YAML node tree), cron (next run of a refresh timetable),
engine (retrieval state machine, faults, the AWS cross-check), server (HTTP API,
control API, TLS).
"""
