"""Airflow's overhead on the refresh: every client through ``dossier_refresh`` vs the library in one loop.

1. Imports an e-mail corpus (``bench/corpus.py``, cached under ``bench/.corpus/``): by default 20,000
   messages over 2,000 clients, a few each, into a fresh SQLite database under ``bench/out/``.
2. **Library** (the baseline): ``dossier.jobs.refresh_clients``, the function the DAG's mapped tasks call,
   over the same batches in one loop; and for reference ``summarize(all_clients=True)``.
3. **Airflow**: the same clients queued as dirty and refreshed by ``dossier_refresh`` with ``dag.test()``
   against a fresh SQLite metadata database: find_dirty, one mapped ``refresh_batch`` per batch, tally,
   notify. One untimed warm-up run first (a long-running scheduler has paid that already).
4. The three runs alternate for ``--rounds`` rounds (default 2); the best time of each counts.

Each run starts from its own copy of the imported database (no summaries; deleting summary nodes in
SQLite is slow), so all do the same full work with the grounded engine. ``dag.test`` runs task instances
one after another in this process, so the ratio is Airflow's own cost per run and per task instance
(state changes, XCom, the in-process execution API), not parallelism. Prints the times, the ratio and
clients/s per worker slot; writes ``bench/out/dag_refresh.json``.

    /work/venv/bin/python bench/dag_refresh.py [--emails 20000] [--clients 2000] [--batch-size 200] [--rounds 2]
"""

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.ingest import OUT_DIR, console, corpus  # noqa: E402

WORK = OUT_DIR / "dag-refresh"


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
    from dossier.settings import get_settings

    os.environ["DOSSIER_DATABASE_URL"] = f"sqlite:///{path}"
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


def markdown(rows: list[tuple[str, int, float]], baseline: float) -> str:
    lines = ["| path | clients | seconds | clients/s per worker | ratio |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {name} | {clients:,} | {seconds:.1f} | {clients / seconds:.1f} | {seconds / baseline:.2f} |"
        for name, clients, seconds in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=200, help="clients per mapped task instance")
    parser.add_argument("--rounds", type=int, default=2, help="library and DAG runs, alternated; best counts")
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
        (
            f"library loop: `jobs.refresh_clients` over batches of {args.batch_size} (**baseline**)",
            len(client_ids),
            lib,
        ),
        (
            f"`dossier_refresh` via `dag.test()`: {instances} mapped batches of {args.batch_size}",
            len(client_ids),
            dag_seconds,
        ),
        ("reference: `summarize(all_clients=True)`", len(client_ids), min(all_times)),
    ]
    table = markdown(rows, lib)
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
