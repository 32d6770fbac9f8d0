"""dossier_refresh: refresh dirty clients when history changes (and every 10 minutes for debounced ones),
then notify owners of important events (deal won/lost, complaint, escalation); and suggest CRM updates from the
new history."""

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from dossier_common import CLIENT_HISTORY, DEFAULT_ARGS, START, refresh_all


@task
def find_dirty() -> list[list[int]]:
    """Clients due a refresh (important ones first), in batches."""
    from dossier.jobs import batches, dirty_clients

    return batches(dirty_clients())


@task
def notify(clients: list[list[int]]) -> int:
    """Queue one notification per new important event of the refreshed clients; return how many."""
    from dossier.jobs import notify_events

    return len(notify_events([client_id for batch in clients for client_id in batch]))


@task
def suggest() -> int:
    """Suggest CRM updates from the history stored since the last run; return how many clients got some."""
    from dossier.jobs import propose_suggestions

    return len(propose_suggestions())


@dag(
    dag_id="dossier_refresh",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("*/10 * * * *", timezone="UTC"), assets=CLIENT_HISTORY),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
)
def dossier_refresh() -> None:
    clients = find_dirty()
    refresh_all(clients) >> notify(clients)
    suggest()


dossier_refresh()
