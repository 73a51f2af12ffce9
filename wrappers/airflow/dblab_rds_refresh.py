"""DBLab Engine refresh from a temporary RDS/Aurora clone, as an Airflow DAG.

    gc -> snapshot -> create -> wait -> refresh -> delete -> report

- gc (rds-clone-gc) collects expired clones earlier runs left (tagged, past
  DeleteAfter). snapshot runs once gc is done, whatever gc's outcome (all_done).
- delete is the TEARDOWN of snapshot and create: Airflow runs it once refresh is
  done (whatever its outcome) when at least one of them succeeded. So it also runs
  when create failed: a create killed after AWS accepted the restore printed no
  document, and delete then finds the clone by the name derived from the run id.
- report is the run's verdict: it needs gc, refresh and delete to have succeeded.
  Airflow decides a run's state from its effective leaves (dagrun.py,
  _tis_for_dagrun_state); a teardown with on_failure_fail_dagrun would be the only
  leaf and hide a failed wait or refresh behind a successful delete. With report
  downstream of all three, the run is FAILED whenever gc, snapshot, create, wait,
  refresh or delete failed; SUCCESS when everything succeeded or there was nothing
  to do (a command exiting 99 is skipped, and so is everything after it).

Each task runs one dblab-rds-refresh command with BashOperator. A command writes
its run document as the LAST line of its output (Airflow merges stderr into
stdout and pushes the last line to XCom); the next task receives it through
`env`, never through Jinja inside the shell command (a rendered value in a shell
command is an injection risk).

The clone's name is derived (by the commands) from the run id
"<dag_id>/<run_id>": two DAGs, or two copies of this one, never share a clone.

Configuration:
  DBLAB_RDS_REFRESH_SCHEDULE  environment of the scheduler/DAG processor: cron
                              expression (default "0 2 * * 0"). An environment
                              variable, not an Airflow Variable: the file is
                              parsed every 30 s and must not query the database.
  Variable  dblab_rds_refresh_config  path of the YAML config on the workers
                                      (default /etc/dblab/rds-refresh.yaml)
  Variable  dblab_rds_refresh_bin     directory of the commands (default /usr/local/bin)
                                      (both read when a task runs, through Jinja)
  Connection dblab_engine             password = the DBLab verification token; the
                                      config reads it as ${DBLAB_TOKEN}. Airflow masks
                                      connection passwords in logs and rendered fields.
Works with Airflow 2.7+ and Airflow 3.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

try:  # Airflow 3: the task SDK and the standard provider
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2.7+
    from airflow import DAG
    from airflow.operators.bash import BashOperator

DAG_ID = "dblab_rds_refresh"

# Read when the file is parsed: the environment only (no Variable, no database).
SCHEDULE = os.environ.get("DBLAB_RDS_REFRESH_SCHEDULE", "0 2 * * 0")
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
    # The commands derive the clone name from the run id, so a retried create
    # adopts the clone it already made, and delete finds it without a document.
    # Airflow's run ids repeat across DAGs (scheduled__<date>): the DAG id makes
    # it unique, as the env default of the commands does
    # (AIRFLOW_CTX_DAG_ID/AIRFLOW_CTX_DAG_RUN_ID).
    "DRR_RUN_ID": "{{ dag.dag_id }}/{{ run_id }}",
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
    # clone.maxAge) go. Its failure does not stop the refresh (snapshot runs on
    # all_done) but fails the run (report needs it): expired clones cost money.
    gc = BashOperator(
        task_id="gc",
        bash_command=_PROLOGUE + 'rds-clone-gc -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT"',
        env=_env(),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        execution_timeout=timedelta(minutes=15),
    )
    snapshot = BashOperator(
        task_id="snapshot",
        bash_command=_PROLOGUE
        + 'rds-snapshot-latest -config "$DRR_CONFIG" -run-id "$DRR_RUN_ID" -log-format "$DRR_LOG_FORMAT"',
        env=_env(),
        append_env=True,
        skip_on_exit_code=SKIP_CODE,
        trigger_rule="all_done",
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
    # wait's, else create's; with none (create failed: maybe killed after AWS
    # accepted the restore), it deletes the clone of this run id, looking again for
    # 15 s in case the create is not visible yet. rds-clone-delete is guarded (name
    # prefix AND the ManagedBy tag, checked against AWS) and idempotent. Its setups
    # are snapshot AND create, so it runs when create failed too (snapshot
    # succeeded); it is skipped when snapshot was (nothing to do), and
    # UPSTREAM_FAILED when snapshot failed (no clone can exist).
    delete = BashOperator(
        task_id="delete",
        bash_command=_PROLOGUE
        + 'doc=${DRR_DOC_REFRESH:-${DRR_DOC_WAIT:-$DRR_DOC_CREATE}}; '
        'if [ -n "$doc" ]; then '
        'printf "%s\\n" "$doc" | rds-clone-delete -config "$DRR_CONFIG" -log-format "$DRR_LOG_FORMAT"; '
        'else rds-clone-delete -config "$DRR_CONFIG" -run-id "$DRR_RUN_ID" -grace 15s'
        ' -log-format "$DRR_LOG_FORMAT" </dev/null; fi',
        env=_env(
            DRR_DOC_CREATE=_doc_from("create"),
            DRR_DOC_WAIT=_doc_from("wait"),
            DRR_DOC_REFRESH=_doc_from("refresh"),
        ),
        append_env=True,
        execution_timeout=timedelta(minutes=15),
    ).as_teardown(setups=[snapshot, create], on_failure_fail_dagrun=True)

    # The verdict (see the module doc): runs only when gc, refresh and delete all
    # succeeded, and prints the final run document (with `deleted`).
    report = BashOperator(
        task_id="report",
        bash_command='printf "%s\\n" "$DRR_DOC"',
        env={"DRR_DOC": _doc_from("delete")},
        append_env=True,
        execution_timeout=timedelta(minutes=1),
    )

    gc >> snapshot >> create >> wait >> refresh >> delete
    [gc, refresh, delete] >> report
