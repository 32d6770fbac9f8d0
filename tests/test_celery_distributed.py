"""``dossier_refresh`` on a real CeleryExecutor deployment with two workers, on loopback.

PostgreSQL (a fresh metadata database and a fresh Dossier database on the test server), Redis (the
Celery broker, a database number of its own), the scheduler, DAG processor and API server, and two
Celery workers (``--celery-hostname w1@%h`` / ``w2@%h``, one slot each): the project's airflow.cfg
plus the environment overrides of docs/AIRFLOW.md (``bench/airflow_cluster.py`` starts them). The
Dossier database holds generated clients; the expected state is what the library itself makes of them
(``jobs.refresh_clients`` in this process), and each run must end in exactly that state.

Runs in ``.ci/run``'s PostgreSQL pass (slow: a few minutes on 2 cores).
"""

import importlib.metadata
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import POSTGRES_ADMIN_URL, _admin_execute, _database_url

REDIS_URL = os.environ.get("DOSSIER_TEST_REDIS_URL")
if not (POSTGRES_ADMIN_URL and REDIS_URL):
    pytest.skip(
        "the CeleryExecutor test needs PostgreSQL and Redis: set DOSSIER_TEST_POSTGRES_URL and DOSSIER_TEST_REDIS_URL "
        "(.ci/run does, with .ci/services.sh)",
        allow_module_level=True,
    )
try:  # by its distribution: finding the module would import airflow, configuring it before test_dags does
    importlib.metadata.distribution("apache-airflow-providers-celery")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("needs apache-airflow-providers-celery: pip install 'dossier[airflow]'", allow_module_level=True)

from bench.airflow_cluster import AirflowCluster, ClusterConfig  # noqa: E402
from bench.histories import create_histories  # noqa: E402
from dossier import jobs  # noqa: E402
from dossier.settings import get_settings  # noqa: E402
from storage import summaries  # noqa: E402
from storage.changes import Change, ChangeKind, record_change  # noqa: E402
from storage.db import get_engine, session_scope  # noqa: E402
from storage.models import RefreshRequest, RenderedSummary, SummaryNode, SummaryRun  # noqa: E402

pytestmark = pytest.mark.slow

CLIENTS = 240
BATCH_SIZE = 40  # 6 mapped refresh_batch instances (a task instance costs ~5-15 s of start-up on 2 busy cores)
BROKER_DB = 7  # the Celery broker's Redis database: no other test uses it
DAG = "dossier_refresh"
RUN_TIMEOUT_S = 420


class Population:
    """The Dossier database the workers use, its clients and what a refresh of them must produce."""

    def __init__(self, url: str, client_ids: list[int], expected: dict[str, Any]) -> None:
        self.url, self.client_ids, self.expected = url, client_ids, expected

    def queue_everyone_without_summaries(self) -> None:
        """Back to the start: no summaries, no summary runs, every client queued for a refresh."""
        with session_scope(self.url) as session:
            for model in (SummaryNode, RenderedSummary, SummaryRun):
                session.execute(delete(model))
            record_change(session, [Change(client_id, ChangeKind.INTERACTION) for client_id in self.client_ids])

    def summarized_clients(self) -> int:
        """Clients summarized by the finished summary runs, summed (a client refreshed twice counts twice)."""
        with session_scope(self.url) as session:
            return int(session.scalar(select(func.coalesce(func.sum(SummaryRun.clients), 0))))

    def snapshot(self) -> dict[str, Any]:
        return snapshot(self.url)


def snapshot(url: str) -> dict[str, Any]:
    """Everything a refresh produces, without timestamps or ids: trees, renderings, the queue."""
    with session_scope(url) as session:
        rendered = {
            (r.client_id, r.scope_key, r.format, r.language, r.stale): (r.root_hash, r.markdown)
            for r in session.scalars(select(RenderedSummary))
        }
        nodes = {
            (n.client_id, n.scope_key, n.level, n.bucket_start, n.chunk): n.input_hash
            for n in session.scalars(select(SummaryNode))
        }
        queue = sorted(session.scalars(select(RefreshRequest.client_id)))
        fresh = summaries.fresh_clients(session, summaries.client_ids_with_history(session))
    return {"rendered": rendered, "nodes": nodes, "queue": queue, "fresh": fresh}


def dossier_environment(url: str) -> dict[str, str]:
    """The Dossier settings of every worker (and of the reference refresh in this process)."""
    return {
        "DOSSIER_DATABASE_URL": url,
        "DOSSIER_ENGINE": "grounded",
        "DOSSIER_REFRESH_DEBOUNCE_SECONDS": "0",
        "DOSSIER_REFRESH_BATCH_SIZE": str(BATCH_SIZE),
    }


def broker_url() -> str:
    from redis import Redis

    assert REDIS_URL
    url = REDIS_URL.rsplit("/", 1)[0] + f"/{BROKER_DB}"
    Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="module")
def population(postgres_template: str) -> Iterator[Population]:
    """A fresh Dossier database of generated clients, and the state the library's refresh leaves in it."""
    name = f"dossier_celery_app_{os.getpid()}"
    _admin_execute(
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name} TEMPLATE {postgres_template}"
    )
    url = _database_url(name)
    try:
        create_histories(url, clients=CLIENTS, per_client=8)
        with pytest.MonkeyPatch.context() as patch:
            for key in [key for key in os.environ if key.startswith("DOSSIER_")]:
                patch.delenv(key)
            for key, value in dossier_environment(url).items():
                patch.setenv(key, value)
            get_settings.cache_clear()
            population = Population(url, [], {})
            with session_scope(url) as session:
                population.client_ids = summaries.client_ids_with_history(session)
            population.queue_everyone_without_summaries()
            for batch in jobs.batches(population.client_ids, BATCH_SIZE):
                assert not jobs.refresh_clients(batch, database_url=url).failed
            population.expected = population.snapshot()
        get_settings.cache_clear()
        assert len(population.expected["fresh"]) == CLIENTS and population.expected["queue"] == []
        yield population
    finally:
        get_engine(url).dispose()
        get_engine.cache_clear()
        _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def cluster(population: Population, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowCluster]:
    """Airflow with the CeleryExecutor and two workers, on loopback; stopped at the end, whatever happened."""
    name = f"dossier_celery_meta_{os.getpid()}"
    _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    config = ClusterConfig(
        home=Path(tmp_path_factory.mktemp("celery-airflow")),
        metadata_url=_database_url(name),
        dossier_env=dossier_environment(population.url),
        broker_url=broker_url(),
        workers=2,
        worker_concurrency=1,
    )
    try:
        with AirflowCluster(config) as running:
            yield running
    finally:
        broker_url()  # flushed
        _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def refresh_batches(cluster: AirflowCluster, run_id: str) -> list[Any]:
    return [ti for ti in cluster.task_instances(DAG, run_id) if ti.task_id == "refresh_batch"]


def test_mapped_batches_run_on_both_workers_and_refresh_every_client_once(
    cluster: AirflowCluster, population: Population
) -> None:
    cluster.ensure_workers()
    population.queue_everyone_without_summaries()
    run_id = cluster.trigger(DAG, "celery-both-workers")
    state = cluster.wait_for_run(DAG, run_id, timeout=RUN_TIMEOUT_S)

    instances = cluster.task_instances(DAG, run_id)
    assert state == "success", (instances, cluster.logs())
    batches = refresh_batches(cluster, run_id)
    assert len(batches) == math.ceil(CLIENTS / BATCH_SIZE)
    assert {ti.state for ti in instances} == {"success"}
    assert {ti.hostname for ti in batches} == {"w1", "w2"}
    assert population.summarized_clients() == CLIENTS
    assert population.snapshot() == population.expected


def test_a_worker_killed_mid_run_leaves_the_same_final_state_after_retries(
    cluster: AirflowCluster, population: Population
) -> None:
    cluster.ensure_workers()
    population.queue_everyone_without_summaries()
    run_id = cluster.trigger(DAG, "celery-worker-killed")

    def running_on_w1() -> list[Any]:
        return [ti for ti in refresh_batches(cluster, run_id) if ti.state == "running" and ti.hostname == "w1"]

    cluster.wait_until(lambda: bool(running_on_w1()), timeout=RUN_TIMEOUT_S, what="a refresh batch running on w1")
    killed = running_on_w1()[0]
    cluster.kill("w1")
    state = cluster.wait_for_run(DAG, run_id, timeout=RUN_TIMEOUT_S)

    assert state == "success", (cluster.task_instances(DAG, run_id), cluster.logs())
    retried = next(ti for ti in refresh_batches(cluster, run_id) if ti.map_index == killed.map_index)
    assert (retried.state, retried.hostname) == ("success", "w2") and retried.try_number > killed.try_number
    earlier = [ti for ti in cluster.earlier_tries(DAG, run_id) if ti.map_index == killed.map_index]
    assert [(ti.hostname, ti.try_number) for ti in earlier][:1] == [("w1", killed.try_number)]
    assert population.snapshot() == population.expected
