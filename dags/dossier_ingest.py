"""dossier_ingest: import new files from the drop folders and announce the clients that changed."""

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START, announce


@task
def ingest() -> list[int]:
    """Import the drop folders (DOSSIER_DROP_DIRS); return the ids of clients with new history."""
    from dossier.jobs import ingest_drop_folders

    return ingest_drop_folders()


@dag(
    dag_id="dossier_ingest",
    schedule="*/15 * * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
)
def dossier_ingest() -> None:
    announce([ingest()])


dossier_ingest()
