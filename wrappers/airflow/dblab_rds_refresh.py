"""DBLab Engine refresh from a temporary RDS/Aurora clone, as an Airflow DAG.

gc -> snapshot -> create -> wait -> refresh, and delete as the TEARDOWN of
create: it runs whenever create ran, also when wait or refresh failed, so a
clone is never left behind by a failed run. gc (rds-clone-gc) first collects
expired clones that earlier runs could not delete (tagged, past DeleteAfter).

Each task runs one dblab-rds-refresh command with BashOperator. A command writes
its run document as the LAST line of its output (Airflow merges stderr into
stdout and pushes the last line to XCom); the next task receives it through
`env`, never through Jinja inside the shell command (a rendered value in a shell
command is an injection risk).

Configuration (Admin -> Variables / Connections):
  Variable  dblab_rds_refresh_config    path of the YAML config on the workers
                                        (default /etc/dblab/rds-refresh.yaml)
  Variable  dblab_rds_refresh_schedule  cron expression (default "0 2 * * 0")
  Variable  dblab_rds_refresh_bin       directory of the commands (default /usr/local/bin)
  Connection dblab_engine               password = the DBLab verification token; the
                                        config reads it as ${DBLAB_TOKEN}. Airflow masks
                                        connection passwords in logs and rendered fields.
Works with Airflow 2.7+ and Airflow 3.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

try:  # Airflow 3: the task SDK and the standard provider
    from airflow.sdk import DAG, Variable
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2.7+
    from airflow import DAG
    from airflow.models import Variable
    from airflow.operators.bash import BashOperator

DAG_ID = "dblab_rds_refresh"


def _variable(key: str, default: str) -> str:
    """Variable.get with a default under both Airflow 2 (default_var) and 3 (default)."""
    try:
        return Variable.get(key, default=default)
    except TypeError:
        return Variable.get(key, default_var=default)


# The schedule is needed when the file is parsed; everything else is read when a
# task runs (Jinja below), so parsing the DAG file costs one Variable lookup.
SCHEDULE = _variable("dblab_rds_refresh_schedule", "0 2 * * 0")
CONFIG = "{{ var.value.get('dblab_rds_refresh_config', '/etc/dblab/rds-refresh.yaml') }}"
BIN = "{{ var.value.get('dblab_rds_refresh_bin', '/usr/local/bin') }}"

# Exit code 99 = nothing to do: BashOperator marks the task skipped.
SKIP_CODE = 99

# Environment every task gets. Values are Jinja templates rendered by Airflow;
# the shell commands below only ever read them as quoted variables.
BASE_ENV = {
    "DRR_CONFIG": CONFIG,
    "DRR_BIN": BIN,
    "DBLAB_TOKEN": "{{ conn.dblab_engine.password }}",
    # rds-clone-create derives the clone name from the run id, so a retried
    # create adopts the clone it already made instead of making a second one.
    "DRR_RUN_ID": "{{ run_id }}",
    "DRR_LOG_FORMAT": "text",
}


def _env(**documents: str) -> dict[str, str]:
    env = dict(BASE_ENV)
    env.update(documents)
    return env


def _doc_from(task_id: str) -> str:
    """Template for the run document another task pushed ('' when it did not run)."""
    return "{{ ti.xcom_pull(task_ids='%s') or '' }}" % task_id


# One shell prologue shared by the steps: strict mode, the command directory,
# and the previous step's document on stdin.
_PROLOGUE = 'set -eu; PATH="$DRR_BIN:$PATH"; '

default_args = {
    "owner": "dblab",
    "retries": 2,  # every step is idempotent: a retry adopts what the first try made
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
}

with DAG(
    dag_id=DAG_ID,
    description="Refresh DBLab Engine from a temporary clone of the latest RDS/Aurora snapshot",
    schedule=SCHEDULE,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["dblab", "rds"],
    doc_md=__doc__,
) as dag:
    # Only clones tagged ManagedBy + AutoDelete and past DeleteAfter (or
    # clone.maxAge) go; the refresh does not depend on it: a failure is a warning.
    gc = BashOperator(
        task_id="gc",
        bash_command=_PROLOGUE
        + 'rds-clone-gc -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT" '
        '|| echo "warning: rds-clone-gc failed (exit $?); continuing" >&2',
        env=_env(),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(minutes=15),
    )
    snapshot = BashOperator(
        task_id="snapshot",
        bash_command=_PROLOGUE + 'rds-snapshot-latest -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT"',
        env=_env(),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(minutes=10),
    )
    create = BashOperator(
        task_id="create",
        bash_command=_PROLOGUE
        + 'printf "%s\\n" "$DRR_DOC" | rds-clone-create -config "$DRR_CONFIG" -run-id "$DRR_RUN_ID"'
        ' -log-format "$DRR_LOG_FORMAT"',
        env=_env(DRR_DOC=_doc_from("snapshot")),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(minutes=15),
    )
    wait = BashOperator(
        task_id="wait",
        bash_command=_PROLOGUE
        + 'printf "%s\\n" "$DRR_DOC" | rds-clone-wait -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT"',
        env=_env(DRR_DOC=_doc_from("create")),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(hours=3),  # above clone.waitTimeout (default 2h)
    )
    refresh = BashOperator(
        task_id="refresh",
        bash_command=_PROLOGUE
        + 'printf "%s\\n" "$DRR_DOC" | dblab-refresh -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT"',
        env=_env(DRR_DOC=_doc_from("wait")),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(hours=5),  # above dblab.timeout (default 4h)
        retries=0,  # a second full refresh is a new multi-hour job: a human decides
    )
    # The teardown gets the most complete document there is: refresh's, else
    # wait's, else create's. rds-clone-delete is guarded (name prefix AND the
    # ManagedBy tag, checked against AWS) and idempotent. A failed delete fails
    # the DAG run (on_failure_fail_dagrun): it may have left a clone behind.
    delete = BashOperator(
        task_id="delete",
        bash_command=_PROLOGUE
        + 'doc=${DRR_DOC_REFRESH:-${DRR_DOC_WAIT:-$DRR_DOC_CREATE}}; '
        'if [ -z "$doc" ]; then echo "no clone was created: nothing to delete" >&2; exit 0; fi; '
        'printf "%s\\n" "$doc" | rds-clone-delete -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT"',
        env=_env(
            DRR_DOC_CREATE=_doc_from("create"),
            DRR_DOC_WAIT=_doc_from("wait"),
            DRR_DOC_REFRESH=_doc_from("refresh"),
        ),
        append_env=True,
        execution_timeout=timedelta(minutes=15),
    ).as_teardown(setups=create, on_failure_fail_dagrun=True)

    # Airflow runs no teardown for a setup that failed, but a create that failed may
    # still have made a clone: killed (or its worker lost) after AWS accepted the
    # restore, it printed no document. This deletes the clone by the name create
    # derives from the run id, through the same guard (prefix AND ManagedBy tag);
    # when there is none (create failed before AWS had it), it is success after
    # looking for 15 s. A retry of create that succeeds leaves this skipped.
    create_cleanup = BashOperator(
        task_id="create_cleanup",
        bash_command=_PROLOGUE
        + 'rds-clone-delete -config "$DRR_CONFIG" -run-id "$DRR_RUN_ID" -grace 15s'
        ' -log-format "$DRR_LOG_FORMAT" </dev/null',
        env=_env(),
        append_env=True,
        trigger_rule="one_failed",
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(minutes=15),
    )

    gc >> snapshot >> create >> wait >> refresh >> delete
    create >> create_cleanup
