"""dossier_quarterly_review: first day of each quarter, review reports of the past quarter for key accounts."""

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START, refresh_batch, run_day


@task
def accounts() -> list[int]:
    """The key accounts (most won deal value, then most history)."""
    from dossier.jobs import key_accounts

    return key_accounts()


@task
def review(client_id: int) -> int:
    """One client's quarterly review (once per quarter); return the report id."""
    from dossier.jobs import quarterly_review

    return quarterly_review(client_id, run_day())


@dag(
    dag_id="dossier_quarterly_review",
    schedule="0 3 1 1,4,7,10 *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
)
def dossier_quarterly_review() -> None:
    clients = accounts()
    refresh_batch(clients) >> review.override(trigger_rule="all_done").expand(client_id=clients)


dossier_quarterly_review()
