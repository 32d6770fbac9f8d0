"""dossier_weekly_refresh: Sunday night, refresh every active client (only changed tree nodes recompute)."""

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START, refresh_all


@task
def plan() -> list[list[int]]:
    """Every active client with history, in batches."""
    from dossier.jobs import active_clients, batches

    return batches(active_clients())


@dag(
    dag_id="dossier_weekly_refresh",
    schedule="0 23 * * 0",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
)
def dossier_weekly_refresh() -> None:
    refresh_all(plan())


dossier_weekly_refresh()
