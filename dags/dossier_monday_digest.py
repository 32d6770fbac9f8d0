"""dossier_monday_digest: Monday morning, queue and send each manager's (team) and rep's (own clients) digest."""

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START, run_day


@task
def managers() -> list[int]:
    """Ids of the users who get a digest."""
    from dossier.jobs import digest_managers

    return digest_managers()


@task
def digest(user_id: int) -> int:
    """Queue one manager's digest for this week (once); return the delivery id."""
    from dossier.jobs import build_digest

    return build_digest(user_id, run_day())


@dag(
    dag_id="dossier_monday_digest",
    schedule="0 6 * * 1",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
)
def dossier_monday_digest() -> None:
    digest.expand(user_id=managers())


dossier_monday_digest()
