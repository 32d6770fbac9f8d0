"""What the Dossier DAGs share: the asset, default task arguments, and the tasks more than one DAG runs.

Tasks import the ``dossier`` library inside their bodies, so parsing a DAG file stays cheap and
touches no database.
"""

import logging
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, XComArg, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

log = logging.getLogger(__name__)
#: Updated whenever clients get new history (imports, transcribed calls); ``dossier_refresh`` runs on it.
CLIENT_HISTORY = Asset("dossier_client_history")
START = datetime(2026, 1, 1, tzinfo=UTC)
#: Refresh batches running at once across all workers (one worker slot each): about the workers' total
#: cores. Read when the DAG files are parsed (set it on the DAG processor).
REFRESH_CONCURRENCY = int(os.environ.get("DOSSIER_REFRESH_CONCURRENCY", "2"))
DEFAULT_ARGS = {
    "owner": "dossier",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}


def run_day() -> date:
    """The day a DAG run is for (its logical date, else when it was due)."""
    context = get_current_context()
    return (context.get("logical_date") or context["dag_run"].run_after).date()


@task(outlets=[CLIENT_HISTORY])
def announce(changed: Iterable[list[int]]) -> int:
    """Emit the asset event for the clients that changed (skipped when none did); return their number."""
    client_ids = sorted({client_id for ids in changed if ids for client_id in ids})
    if not client_ids:
        raise AirflowSkipException("no client got new history")
    get_current_context()["outlet_events"][CLIENT_HISTORY].extra = {
        "clients": len(client_ids),
        "client_ids": client_ids[:1000],
    }
    return len(client_ids)


@task(max_active_tis_per_dag=REFRESH_CONCURRENCY)
def refresh_batch(client_ids: list[int]) -> int:
    """Refresh one batch of clients; if any failed, fail this task instance (after the rest of the batch)."""
    from dossier.jobs import refresh_clients

    result = refresh_clients(client_ids)
    if result.failed:
        lines = "; ".join(f"client {client_id}: {error}" for client_id, error in sorted(result.failed.items()))
        raise RuntimeError(f"{len(result.failed)} of {len(client_ids)} clients failed: {lines}")
    return len(result.refreshed)


@task(trigger_rule="all_done")
def tally(batches: list[list[int]]) -> dict[str, Any]:
    """Report the clients whose refresh failed, after every batch finished (runs whatever they did)."""
    from dossier.jobs import not_refreshed

    client_ids = [client_id for batch in batches for client_id in batch]
    failed = not_refreshed(client_ids, since=get_current_context()["dag_run"].start_date)
    if failed:
        log.warning("%d of %d clients were not refreshed: %s", len(failed), len(client_ids), failed)
    return {"requested": len(client_ids), "refreshed": len(client_ids) - len(failed), "failed": failed}


def refresh_all(batches: XComArg) -> XComArg:
    """Refresh ``batches`` of client ids, one mapped task instance each, then tally the outcome."""
    counts = tally(batches)
    refresh_batch.expand(client_ids=batches) >> counts
    return counts
