"""dossier_meeting_briefs: every 5 minutes, read the calendars' coming meetings and brief each matched meeting's
organiser before it starts (once per occurrence). Each calendar syncs in its own mapped task: one failing calendar
fails only its task, and the briefs go out from what the others (and its last good sync) hold."""

import logging

from airflow.sdk import dag, task
from dossier_common import DEFAULT_ARGS, START

log = logging.getLogger(__name__)


@task
def calendars() -> list[str]:
    """The names of the calendar sources (`dossier sources add ics|caldav`)."""
    from dossier.jobs import calendar_names

    return calendar_names()


@task
def sync_calendar(name: str) -> int:
    """Read one calendar's coming meetings; return how many it holds."""
    from dossier.jobs import sync_calendar as sync

    return sync(name)


@task(trigger_rule="all_done")
def briefs(_synced: list[int]) -> int:
    """Queue and send the briefs of the meetings starting within DOSSIER_MEETING_LEAD_MINUTES; return how many
    were queued now."""
    from dossier.jobs import send_meeting_briefs

    run = send_meeting_briefs()
    log.info("%s", run.summary())
    return len(run.queued)


@dag(
    dag_id="dossier_meeting_briefs",
    schedule="*/5 * * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "retries": 1},
    tags=["dossier"],
)
def dossier_meeting_briefs() -> None:
    briefs(sync_calendar.expand(name=calendars()))


dossier_meeting_briefs()
