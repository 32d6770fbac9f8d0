"""Airflow's overhead on the refresh: every client through ``dossier_refresh`` vs the library in one loop.

1. Imports an e-mail corpus (``bench/corpus.py``, cached under ``bench/.corpus/``): by default 20,000
   messages over 2,000 clients, a few each, into a fresh SQLite database under ``bench/out/``.
2. **Library** (the baseline): ``dossier.jobs.refresh_clients``, the function the DAG's mapped tasks call,
   over the same batches in one loop; and for reference ``summarize(all_clients=True)``.
3. **Airflow**: the same clients queued as dirty and refreshed by ``dossier_refresh`` with ``dag.test()``
   against a fresh SQLite metadata database: find_dirty, one mapped ``refresh_batch`` per batch, tally,
   notify. One untimed warm-up run first (a long-running scheduler has paid that already).
4. The three runs alternate for ``--rounds`` rounds (default 2); the best time of each counts.
5. **Deployments** (with ``--postgres``, default ``$DOSSIER_TEST_POSTGRES_URL``): the same corpus imported
   into PostgreSQL, then the library loop on it (the deployments' baseline) and ``dossier_refresh`` on a
   real Airflow on loopback (``bench/airflow_cluster.py``: PostgreSQL metadata, scheduler, DAG processor,
   API server) with the LocalExecutor (2 task slots) and, with ``--redis`` (default
   ``$DOSSIER_TEST_REDIS_URL``), the CeleryExecutor with 2 workers of 1 slot each. Each deployment runs
   ``--rounds`` times on its own database (summaries deleted, every client queued before each run); the
   time is the DAG run's own, start to end, as the scheduler recorded it.

Each run starts from its own copy of the imported database (no summaries; deleting summary nodes in
SQLite is slow), so all do the same full work with the grounded engine. ``dag.test`` runs task instances
one after another in this process, so the ratio is Airflow's own cost per run and per task instance
(state changes, XCom, the in-process execution API), not parallelism. Prints the times, the ratio and
clients/s per worker slot; writes ``bench/out/dag_refresh.json``.

    /work/venv/bin/python bench/dag_refresh.py [--emails 20000] [--clients 2000] [--batch-size 200] [--rounds 2] \
        [--postgres postgresql+psycopg://postgres@127.0.0.1:PORT/postgres] [--redis redis://127.0.0.1:PORT/0]
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.ingest import OUT_DIR, console, corpus  # noqa: E402

WORK = OUT_DIR / "dag-refresh"
PG_PREFIX = "dossier_dagbench"  # the PostgreSQL databases this benchmark creates (and drops)
BROKER_DB = 7  # the Celery broker's Redis database number


def configure(batch_size: int) -> None:
    """A fresh work folder; the environment set before Airflow is imported."""
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "airflow").mkdir(parents=True)
    os.environ.update(
        {
            "DOSSIER_ENGINE": "grounded",
            "DOSSIER_REFRESH_DEBOUNCE_SECONDS": "0",
            "DOSSIER_REFRESH_BATCH_SIZE": str(batch_size),
            "DOSSIER_SUMMARY_LANGUAGES": "en",
            "AIRFLOW_HOME": str(WORK / "airflow"),
            "AIRFLOW_CONFIG": str(ROOT / "dags" / "airflow.cfg"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{WORK / 'airflow' / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT / "dags"))  # as Airflow's DAG bundle does


def use_database(path: Path) -> None:
    """Make ``path`` the configured application database (read by the library and the DAG's tasks)."""
    use_url(f"sqlite:///{path}")


def use_url(url: str) -> None:
    """Make ``url`` the configured application database."""
    from dossier.settings import get_settings

    os.environ["DOSSIER_DATABASE_URL"] = url
    get_settings.cache_clear()


def load(paths: list[Path]) -> tuple[Path, list[int]]:
    """Import the corpus into a fresh database, kept as a template; (its path, ids of clients with history)."""
    from sqlalchemy import delete

    from dossier.settings import get_settings
    from ingest.pipeline import import_paths
    from storage import summaries
    from storage.db import get_engine, session_scope, upgrade_schema
    from storage.models import RefreshRequest

    template = WORK / "imported.db"
    use_database(template)
    settings = get_settings()
    upgrade_schema(settings.database_url)
    started = time.perf_counter()
    report = import_paths(paths, database_url=settings.database_url, options=settings.import_options())
    console.print(f"import: {report.summary()} in {time.perf_counter() - started:.1f} s")
    with session_scope(settings.database_url) as session:
        client_ids = summaries.client_ids_with_history(session)
        session.execute(delete(RefreshRequest))  # the import queued everyone: each copy says whom to queue
    get_engine(f"sqlite:///{template}").dispose()  # the last connection folds the WAL into the file
    return template, client_ids


def copy_of(template: Path, name: str, *, queue: list[int]) -> None:
    """A copy of the imported database, without summaries, as the configured one; ``queue`` marked dirty."""
    from dossier.settings import get_settings
    from storage.changes import Change, ChangeKind, record_change
    from storage.db import session_scope

    target = WORK / f"{name}.db"
    shutil.copyfile(template, target)
    use_database(target)
    with session_scope(get_settings().database_url) as session:
        record_change(session, [Change(client_id, ChangeKind.INTERACTION) for client_id in queue])


def summarize_all(template: Path, name: str) -> float:
    """Seconds to summarize every client in one library call (reference)."""
    from dossier.engines import summarize

    copy_of(template, name, queue=[])
    started = time.perf_counter()
    report = summarize(all_clients=True)
    seconds = time.perf_counter() - started
    assert report.results and not report.failed, report.summary()
    return seconds


def library_loop(template: Path, name: str, client_ids: list[int], batch_size: int) -> float:
    """Seconds to refresh every client with the function the DAG's tasks call, over the same batches, in
    one loop (the baseline)."""
    from dossier.jobs import batches, refresh_clients

    copy_of(template, name, queue=client_ids)
    started = time.perf_counter()
    for batch in batches(client_ids, batch_size):
        assert not refresh_clients(batch).failed
    return time.perf_counter() - started


def refresh_dag(template: Path) -> tuple[Any, float]:
    """A fresh metadata database and the parsed ``dossier_refresh``; (the DAG, seconds of a warm-up run)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.resetdb()
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["dossier_refresh"]
    copy_of(template, "warm-up", queue=[])
    started = time.perf_counter()
    dag.test()
    return dag, time.perf_counter() - started


def airflow(dag: Any, template: Path, name: str, client_ids: list[int]) -> tuple[float, int]:
    """(seconds to refresh every client through the DAG, its mapped task instances)."""
    from dossier.jobs import not_refreshed
    from storage.repository import utcnow

    copy_of(template, name, queue=client_ids)
    since = utcnow()
    started = time.perf_counter()
    dag_run = dag.test()
    seconds = time.perf_counter() - started
    instances = [ti for ti in dag_run.get_task_instances() if ti.task_id == "refresh_batch"]
    assert str(dag_run.state) == "success" and all(str(ti.state) == "success" for ti in instances)
    assert not_refreshed(client_ids, since=since) == [], "some clients were not refreshed"
    return seconds, len(instances)


class Row(NamedTuple):
    """One line of the table: a path, what it refreshed, in how long, on how many task slots, against what."""

    name: str
    clients: int
    seconds: float
    slots: int
    baseline: float


def markdown(rows: list[Row]) -> str:
    lines = [
        "| path | clients | seconds | clients/s | task slots | clients/s per slot | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.name} | {r.clients:,} | {r.seconds:.1f} | {r.clients / r.seconds:.1f} | {r.slots} | "
        f"{r.clients / r.seconds / r.slots:.1f} | {r.seconds / r.baseline:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- deployments


def admin_execute(admin_url: str, *statements: str) -> None:
    """Run statements on the PostgreSQL server of ``admin_url``, outside a transaction."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def postgres_database(admin_url: str, name: str, template: str | None = None) -> str:
    """A new (or renewed) database ``name`` on that server, empty or a copy of ``template``; its URL."""
    from sqlalchemy.engine import make_url

    copy = f" TEMPLATE {template}" if template else ""
    admin_execute(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}{copy}")
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def load_postgres(paths: list[Path], admin_url: str) -> str:
    """Import the corpus into a fresh PostgreSQL database, kept as the template of the deployments' ones."""
    from sqlalchemy import delete

    from dossier.settings import get_settings
    from ingest.pipeline import import_paths
    from storage.db import get_engine, session_scope, upgrade_schema
    from storage.models import RefreshRequest

    url = postgres_database(admin_url, f"{PG_PREFIX}_imported")
    use_url(url)
    upgrade_schema(url)
    started = time.perf_counter()
    report = import_paths(paths, database_url=url, options=get_settings().import_options())
    console.print(f"import into PostgreSQL: {report.summary()} in {time.perf_counter() - started:.1f} s")
    with session_scope(url) as session:
        session.execute(delete(RefreshRequest))
    get_engine(url).dispose()
    return f"{PG_PREFIX}_imported"


def queue_everyone_without_summaries(url: str, client_ids: list[int]) -> None:
    """No summaries, no summary runs, every client queued: each run does the same full work."""
    from sqlalchemy import delete

    from storage.changes import Change, ChangeKind, record_change
    from storage.db import session_scope
    from storage.models import RenderedSummary, SummaryNode, SummaryRun

    with session_scope(url) as session:
        for model in (SummaryNode, RenderedSummary, SummaryRun):
            session.execute(delete(model))
        record_change(session, [Change(client_id, ChangeKind.INTERACTION) for client_id in client_ids])


def postgres_library_loop(admin_url: str, template: str, client_ids: list[int], batch_size: int) -> float:
    """The library loop on a PostgreSQL copy of the corpus (the deployments' baseline)."""
    from dossier.jobs import batches, refresh_clients
    from storage.db import get_engine

    url = postgres_database(admin_url, f"{PG_PREFIX}_library", template)
    use_url(url)
    queue_everyone_without_summaries(url, client_ids)
    started = time.perf_counter()
    for batch in batches(client_ids, batch_size):
        assert not refresh_clients(batch).failed
    seconds = time.perf_counter() - started
    get_engine(url).dispose()
    admin_execute(admin_url, f"DROP DATABASE IF EXISTS {PG_PREFIX}_library WITH (FORCE)")
    return seconds


class DeploymentResult(NamedTuple):
    """The DAG run times of one deployment, its mapped task instances and the hosts they ran on."""

    seconds: list[float]
    instances: int
    hosts: dict[str, int]


def deployment(
    admin_url: str, template: str, broker_url: str | None, client_ids: list[int], batch_size: int, rounds: int
) -> DeploymentResult:
    """``dossier_refresh`` on a real Airflow (LocalExecutor, or CeleryExecutor on ``broker_url`` with two
    workers), ``rounds`` runs on its own copy of the corpus."""
    from collections import Counter

    from bench.airflow_cluster import AirflowCluster, ClusterConfig
    from dossier.jobs import not_refreshed
    from storage.db import get_engine
    from storage.repository import utcnow

    kind = "local" if broker_url is None else "celery"
    app_url = postgres_database(admin_url, f"{PG_PREFIX}_{kind}", template)
    config = ClusterConfig(
        home=WORK / f"airflow-{kind}",
        metadata_url=postgres_database(admin_url, f"{PG_PREFIX}_{kind}_meta"),
        dossier_env={key: value for key, value in os.environ.items() if key.startswith("DOSSIER_")}
        | {"DOSSIER_DATABASE_URL": app_url},
        broker_url=broker_url,
    )
    times, hosts, instances = [], Counter[str](), 0
    try:
        with AirflowCluster(config) as cluster:
            for round_number in range(1, rounds + 1):
                queue_everyone_without_summaries(app_url, client_ids)
                since = utcnow()
                run_id = cluster.trigger("dossier_refresh", f"bench-{round_number}")
                assert cluster.wait_for_run("dossier_refresh", run_id, timeout=3600) == "success", cluster.logs()
                assert not_refreshed(client_ids, since=since, database_url=app_url) == [], "not all refreshed"
                times.append(cluster.run_seconds("dossier_refresh", run_id))
                batches = [
                    ti for ti in cluster.task_instances("dossier_refresh", run_id) if ti.task_id == "refresh_batch"
                ]
                instances, hosts = len(batches), Counter(ti.hostname for ti in batches)
                console.print(f"{cluster.executor} round {round_number}: {times[-1]:.1f} s, batches by host {hosts}")
    finally:
        get_engine(app_url).dispose()
        admin_execute(
            admin_url,
            f"DROP DATABASE IF EXISTS {PG_PREFIX}_{kind} WITH (FORCE)",
            f"DROP DATABASE IF EXISTS {PG_PREFIX}_{kind}_meta WITH (FORCE)",
        )
    return DeploymentResult(times, instances, dict(hosts))


def deployment_rows(args: argparse.Namespace, paths: list[Path], client_ids: list[int]) -> list[Row]:
    """The PostgreSQL library loop, then the LocalExecutor and (with Redis) the CeleryExecutor deployment."""
    template = load_postgres(paths, args.postgres)
    library = min(
        postgres_library_loop(args.postgres, template, client_ids, args.batch_size) for _ in range(args.rounds)
    )
    rows = [Row("PostgreSQL: library loop (**deployments' baseline**)", len(client_ids), library, 1, library)]
    local = deployment(args.postgres, template, None, client_ids, args.batch_size, args.rounds)
    rows.append(
        Row(
            f"PostgreSQL: LocalExecutor (scheduler, 2 slots), {local.instances} mapped batches",
            len(client_ids),
            min(local.seconds),
            2,
            library,
        )
    )
    if args.redis:
        from redis import Redis

        broker = args.redis.rsplit("/", 1)[0] + f"/{BROKER_DB}"
        Redis.from_url(broker).flushdb()
        celery = deployment(args.postgres, template, broker, client_ids, args.batch_size, args.rounds)
        Redis.from_url(broker).flushdb()
        per_host = ", ".join(f"{host} {count}" for host, count in sorted(celery.hosts.items()))
        rows.append(
            Row(
                f"PostgreSQL: CeleryExecutor, 2 workers x 1 slot ({per_host} batches)",
                len(client_ids),
                min(celery.seconds),
                2,
                library,
            )
        )
    admin_execute(args.postgres, f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=200, help="clients per mapped task instance")
    parser.add_argument("--rounds", type=int, default=2, help="library and DAG runs, alternated; best counts")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("DOSSIER_TEST_POSTGRES_URL"),
        help="admin URL of a PostgreSQL server: adds the deployment rows (LocalExecutor, CeleryExecutor)",
    )
    parser.add_argument(
        "--redis", default=os.environ.get("DOSSIER_TEST_REDIS_URL"), help="Redis URL: adds the CeleryExecutor row"
    )
    args = parser.parse_args(argv)

    paths = corpus(args.emails, args.clients, args.seed)
    configure(args.batch_size)
    template, client_ids = load(paths)
    dag, warm_up = refresh_dag(template)
    all_times, lib_times, dag_times = [], [], []
    for round_number in range(1, args.rounds + 1):  # alternated, so load from others hits all alike
        all_times.append(summarize_all(template, f"summarize-{round_number}"))
        lib_times.append(library_loop(template, f"library-{round_number}", client_ids, args.batch_size))
        seconds, instances = airflow(dag, template, f"airflow-{round_number}", client_ids)
        dag_times.append(seconds)
        console.print(
            f"round {round_number}: summarize {all_times[-1]:.1f} s, library loop {lib_times[-1]:.1f} s, "
            f"dossier_refresh {seconds:.1f} s"
        )
    lib, dag_seconds = min(lib_times), min(dag_times)
    overhead = dag_seconds / lib - 1
    rows = [
        Row(
            f"library loop: `jobs.refresh_clients` over batches of {args.batch_size} (**baseline**)",
            len(client_ids),
            lib,
            1,
            lib,
        ),
        Row(
            f"`dossier_refresh` via `dag.test()`: {instances} mapped batches of {args.batch_size}",
            len(client_ids),
            dag_seconds,
            1,
            lib,
        ),
        Row("reference: `summarize(all_clients=True)`", len(client_ids), min(all_times), 1, lib),
    ]
    if args.postgres:
        rows += deployment_rows(args, paths, client_ids)
    table = markdown(rows)
    console.print(table)
    console.print(
        f"Airflow overhead: {overhead:+.1%} (goal <= +25 %), best of {args.rounds} rounds; "
        f"first dag.test() in the process (empty queue): {warm_up:.1f} s"
    )
    (OUT_DIR / "dag_refresh.json").write_text(
        json.dumps(
            {
                "clients": len(client_ids),
                "emails": args.emails,
                "batch_size": args.batch_size,
                "summarize_all_s": all_times,
                "library_loop_s": lib_times,
                "airflow_s": dag_times,
                "warm_up_s": warm_up,
                "mapped_instances": instances,
                "overhead": overhead,
                "markdown": table,
            },
            indent=2,
        )
    )
    return 0 if overhead <= 0.25 else 1


if __name__ == "__main__":
    sys.exit(main())
