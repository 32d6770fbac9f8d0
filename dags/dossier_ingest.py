"""dossier_ingest: import new files from the drop folders and new mail from the IMAP sources; announce the clients
that changed. Each mailbox syncs in its own mapped task: one failing mailbox fails only its task."""

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START, announce


@task
def ingest() -> list[int]:
    """Import the drop folders (DOSSIER_DROP_DIRS); return the ids of clients with new history."""
    from dossier.jobs import ingest_drop_folders

    return ingest_drop_folders()


@task
def mailboxes() -> list[str]:
    """The names of the IMAP sources (`dossier sources add imap`)."""
    from dossier.jobs import mailbox_names

    return mailbox_names()


@task
def sync_mailbox(name: str) -> list[int]:
    """Fetch one mailbox's new mail; return the ids of clients with new history."""
    from dossier.jobs import sync_mailbox as sync

    return sync(name)


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
    announce.override(task_id="announce_mail", trigger_rule="all_done")(sync_mailbox.expand(name=mailboxes()))


dossier_ingest()
