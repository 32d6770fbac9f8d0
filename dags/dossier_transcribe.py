"""dossier_transcribe: transcribe new call recordings in batches and announce the clients that changed."""

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START, announce


@task
def find_recordings() -> list[list[int]]:
    """Batches of ids of recordings waiting for a transcript."""
    from dossier.jobs import pending_recording_batches

    return pending_recording_batches()


@task(max_active_tis_per_dag=1)
def transcribe(recording_ids: list[int]) -> list[int]:
    """Transcribe one batch (one model load; the model uses every core); return the clients with a new call."""
    from dossier.jobs import transcribe_batch

    return transcribe_batch(recording_ids)


@dag(
    dag_id="dossier_transcribe",
    schedule="*/15 * * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
)
def dossier_transcribe() -> None:
    announce.override(trigger_rule="all_done")(transcribe.expand(recording_ids=find_recordings()))


dossier_transcribe()
