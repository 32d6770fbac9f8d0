"""The Airflow DAGs run for real: ``dag.test()`` against a real metadata database, on generated data.

One metadata database per pytest session (SQLite in a temporary AIRFLOW_HOME; PostgreSQL when
``DOSSIER_TEST_POSTGRES_URL`` is set); each test gets its own application database (``database_url``).
Tasks run in this process, so monkeypatching the library reaches them. Retries are turned off here so
a failing task does not wait for its backoff.
"""

import importlib.util
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from dossier import jobs
from dossier.settings import get_settings
from storage import summaries
from storage.changes import Change, ChangeKind, record_change
from storage.errors import DossierError
from storage.models import (
    Client,
    Delivery,
    Interaction,
    QuarantineItem,
    Recording,
    RefreshRequest,
    RenderedSummary,
    Report,
    SummaryNode,
)
from tests.conftest import POSTGRES_ADMIN_URL, REPO_ROOT, _admin_execute, _database_url
from tests.db import session_scope
from tests.test_jobs import client_id, count

if importlib.util.find_spec("airflow") is None:
    pytest.skip("apache-airflow is not installed: pip install 'dossier[airflow]'", allow_module_level=True)

DAGS = REPO_ROOT / "dags"
SCHEDULES = {
    "dossier_ingest": "*/15 * * * *",
    "dossier_meeting_briefs": "*/5 * * * *",
    "dossier_transcribe": "*/15 * * * *",
    "dossier_weekly_refresh": "0 23 * * 0",
    "dossier_monday_digest": "0 6 * * 1",
    "dossier_quarterly_review": "0 3 1 1,4,7,10 *",
    "dossier_handover": None,
}
HANDOVER = {"client": "Alfa Group", "from_manager": "esokolova", "to_manager": "mkowalski"}

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Airflow configured by the project's airflow.cfg, with a fresh metadata database for this session."""
    home = tmp_path_factory.mktemp("airflow-home")
    name = f"dossier_airflow_{os.getpid()}"
    if POSTGRES_ADMIN_URL:
        _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        url = _database_url(name)
    else:
        url = f"sqlite:///{home / 'airflow.db'}"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(DAGS / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
    }
    if POSTGRES_ADMIN_URL:  # psycopg 3 serves both; Airflow would otherwise ask for asyncpg
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] = url
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.syspath_prepend(str(DAGS))  # as Airflow's DAG bundle does for the DAG processor and workers
        from airflow.utils import db

        db.resetdb()
        yield env
        from airflow import settings

        settings.dispose_orm()
    if POSTGRES_ADMIN_URL:
        _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def dagbag(airflow_env: dict[str, str]) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    for dag in bag.dags.values():
        for task in dag.tasks:
            task.retries = 0
    return bag


def run(dagbag: Any, dag_id: str, conf: dict[str, Any] | None = None) -> tuple[str, dict[str, list[str]]]:
    """Execute one run of the DAG; (run state, task id -> the states of its instances, sorted)."""
    dag_run = dagbag.dags[dag_id].test(run_conf=conf)
    states: dict[str, list[str]] = defaultdict(list)
    for ti in dag_run.get_task_instances():
        states[ti.task_id].append(str(ti.state))
    return str(dag_run.state), {task_id: sorted(values) for task_id, values in states.items()}


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """No debounce, two clients per mapped refresh task."""
    monkeypatch.setenv("DOSSIER_REFRESH_DEBOUNCE_SECONDS", "0")
    monkeypatch.setenv("DOSSIER_REFRESH_BATCH_SIZE", "2")
    get_settings.cache_clear()


def fresh_clients() -> set[int]:
    """Clients with history whose summaries all exist and are fresh."""
    with session_scope() as session:
        return set(summaries.fresh_clients(session, summaries.client_ids_with_history(session)))


def snapshot() -> dict[str, Any]:
    """Everything a refresh produces, without timestamps: trees, renderings, the queue."""
    with session_scope() as session:
        names = dict(session.execute(select(Client.id, Client.name)).all())
        rendered = {
            (names[r.client_id], r.format, r.language, r.stale): (r.root_hash, r.markdown)
            for r in session.scalars(select(RenderedSummary))
        }
        nodes = {
            (names[n.client_id], n.scope_key, n.level, n.bucket_start, n.chunk): n.input_hash
            for n in session.scalars(select(SummaryNode))
        }
        queue = sorted(names[cid] for cid in session.scalars(select(RefreshRequest.client_id)))
    return {"rendered": rendered, "nodes": nodes, "queue": queue}


def test_dagbag_has_no_errors_and_the_schedules(airflow_env: dict[str, str]) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import AssetOrTimeSchedule

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert sorted(bag.dags) == sorted([*SCHEDULES, "dossier_refresh"])
    for dag_id, schedule in SCHEDULES.items():
        assert bag.dags[dag_id].schedule == schedule, dag_id
    refresh = bag.dags["dossier_refresh"]
    assert isinstance(refresh.schedule, AssetOrTimeSchedule)
    assert refresh.schedule.asset_condition.name == "dossier_client_history"
    assert refresh.schedule.timetable.expression == "*/10 * * * *"
    batch = refresh.task_dict["refresh_batch"]
    assert (batch.max_active_tis_per_dag, batch.retries, batch.retry_exponential_backoff) == (2, 3, 2.0)
    assert set(bag.dags["dossier_handover"].params) == set(HANDOVER)
    assert all(dag.max_active_runs == 1 for dag_id, dag in bag.dags.items() if dag_id != "dossier_handover")


def test_parsing_the_dags_imports_no_library_code(airflow_env: dict[str, str]) -> None:
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; bag = DagBag(sys.argv[1]); "
        "assert not bag.import_errors, bag.import_errors; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dossier', 'storage', 'summarizer', 'ingest'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(DAGS)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(DAGS)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_ingest_then_refresh_and_notify(dagbag: Any, drop: Path, fast: None) -> None:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events_before = session.scalar(select(func.count()).select_from(AssetEvent))
    assert run(dagbag, "dossier_ingest") == (
        "success",
        {
            "ingest": ["success"],
            "announce": ["success"],
            "mailboxes": ["success"],
            "sync_mailbox": ["skipped"],
            "announce_mail": ["skipped"],
        },
    )
    with create_session() as session:
        event = session.scalars(select(AssetEvent).order_by(AssetEvent.id.desc())).first()
        assert session.scalar(select(func.count()).select_from(AssetEvent)) == events_before + 1
    assert event.extra["clients"] == 5 and count(QuarantineItem) >= 5
    interactions = count(Interaction)

    state, tasks = run(dagbag, "dossier_refresh")
    assert state == "success"
    assert tasks == {
        "find_dirty": ["success"],
        "refresh_batch": ["success"] * 3,
        "tally": ["success"],
        "notify": ["success"],
        "suggest": ["success"],
    }
    assert len(fresh_clients()) == 5 and count(RefreshRequest) == 0
    notifications = count(Delivery)
    assert notifications > 0

    assert run(dagbag, "dossier_ingest") == (
        "success",
        {
            "ingest": ["success"],
            "announce": ["skipped"],
            "mailboxes": ["success"],
            "sync_mailbox": ["skipped"],
            "announce_mail": ["skipped"],
        },
    )
    state, tasks = run(dagbag, "dossier_refresh")
    assert (state, tasks["refresh_batch"]) == ("success", ["skipped"])
    assert (count(Interaction), count(Delivery)) == (interactions, notifications)


def test_a_failing_client_fails_only_its_own_task_instance(
    dagbag: Any,
    drop: Path,
    fast: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from summarizer import service

    jobs.ingest_drop_folders()
    bad, real = client_id("Harbor & Finch"), service.summarize_client

    def flaky(session, client, *args, **kwargs):
        if client.id == bad:
            raise TimeoutError("model timed out")
        return real(session, client, *args, **kwargs)

    monkeypatch.setattr(service, "summarize_client", flaky)
    state, tasks = run(dagbag, "dossier_refresh")
    assert state == "success"
    assert tasks["refresh_batch"] == ["failed", "success", "success"]
    assert (tasks["tally"], tasks["notify"]) == (["success"], ["success"])
    assert len(fresh_clients()) == 4 and bad not in fresh_clients()
    assert jobs.dirty_clients() == [bad]

    monkeypatch.setattr(service, "summarize_client", real)
    assert run(dagbag, "dossier_refresh")[1]["refresh_batch"] == ["success"]
    assert len(fresh_clients()) == 5 and count(RefreshRequest) == 0


def test_each_mailbox_syncs_in_its_own_task_and_a_failing_one_fails_alone(
    dagbag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def sync(name: str, database_url: str | None = None) -> list[int]:
        if name == "broken":
            raise DossierError("mailbox broken: login as 'sales' refused")
        return [7]

    monkeypatch.setattr(jobs, "mailbox_names", lambda database_url=None: ["broken", "sales"])
    monkeypatch.setattr(jobs, "sync_mailbox", sync)
    _state, tasks = run(dagbag, "dossier_ingest")
    assert tasks["sync_mailbox"] == ["failed", "success"]
    assert (tasks["ingest"], tasks["announce_mail"]) == (["success"], ["success"])


def test_each_calendar_syncs_in_its_own_task_and_the_briefs_go_out_when_one_fails(
    dagbag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []

    def sync(name: str, *, now: Any = None, database_url: str | None = None) -> int:
        if name == "broken":
            raise DossierError("calendar broken: login as 'sales' refused")
        synced.append(name)
        return 3

    monkeypatch.setattr(jobs, "calendar_names", lambda database_url=None: ["broken", "work"])
    monkeypatch.setattr(jobs, "sync_calendar", sync)
    monkeypatch.setattr(jobs, "send_meeting_briefs", lambda **_: jobs.BriefRun(queued=[11, 12]))
    _state, tasks = run(dagbag, "dossier_meeting_briefs")
    assert tasks["sync_calendar"] == ["failed", "success"]
    assert tasks["briefs"] == ["success"] and synced == ["work"]


class Killed(BaseException):
    """The worker dies mid-batch: not an error the library may catch and record."""


def test_a_refresh_killed_mid_run_then_rerun_equals_a_clean_run(
    dagbag: Any,
    drop: Path,
    fast: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from summarizer import service

    changed = jobs.ingest_drop_folders()
    run(dagbag, "dossier_refresh")
    clean = snapshot()
    assert clean["queue"] == [] and len(clean["rendered"]) == 5 * 4

    with session_scope() as session:
        session.execute(delete(SummaryNode))
        session.execute(delete(RenderedSummary))
        record_change(session, [Change(client_id, ChangeKind.INTERACTION) for client_id in changed])
    real, calls = service.summarize_client, []

    def dies_on_the_third_client(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "summarize_client", dies_on_the_third_client)
    state, tasks = run(dagbag, "dossier_refresh")  # the runner outlives its task: the other batches go on
    assert "failed" in tasks["refresh_batch"]
    killed = snapshot()
    assert 0 < len(killed["queue"]) < 5 and killed != clean

    monkeypatch.setattr(service, "summarize_client", real)
    state, tasks = run(dagbag, "dossier_refresh")
    assert state == "success" and set(tasks["refresh_batch"]) == {"success"}
    assert snapshot() == clean


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is None, reason="needs the audio extra")
def test_transcribe_maps_batches_and_announces(dagbag: Any, drop: Path) -> None:
    from tests.audio_files import copy_fixture_call, write_corrupt, write_sidecar

    copy_fixture_call(drop / "calls")
    write_sidecar(write_corrupt(drop / "calls" / "corrupt.wav"), client="Delta Retail", language="en")
    jobs.ingest_drop_folders()
    with session_scope() as session:
        session.execute(delete(RefreshRequest))
    state, tasks = run(dagbag, "dossier_transcribe")
    assert (state, tasks) == (
        "success",
        {"find_recordings": ["success"], "transcribe": ["success"], "announce": ["success"]},
    )
    with session_scope() as session:
        statuses = sorted(session.scalars(select(Recording.status)))
    assert statuses == ["done", "quarantined"]
    assert jobs.dirty_clients(debounce=timedelta(0)) == [client_id("Delta Retail")]
    assert run(dagbag, "dossier_transcribe")[1]["transcribe"] == ["skipped"]


def test_no_recordings_nothing_to_transcribe(dagbag: Any) -> None:
    assert run(dagbag, "dossier_transcribe") == (
        "success",
        {"find_recordings": ["success"], "transcribe": ["skipped"], "announce": ["skipped"]},
    )


def test_weekly_refresh_digest_quarterly_and_handover(dagbag: Any, drop: Path, fast: None) -> None:
    jobs.ingest_drop_folders()
    state, tasks = run(dagbag, "dossier_weekly_refresh")
    assert (state, tasks["refresh_batch"], tasks["tally"]) == ("success", ["success"] * 3, ["success"])
    assert len(fresh_clients()) == 5

    recipients = len(jobs.digest_managers())  # 2 managers and the 4 reps who own clients
    for _ in range(2):
        assert run(dagbag, "dossier_monday_digest") == (
            "success",
            {"managers": ["success"], "digest": ["success"] * recipients},
        )
        with session_scope() as session:
            digests = session.scalars(select(Delivery).where(Delivery.kind == "digest")).all()
        assert len(digests) == recipients == 6 and all(d.text_body for d in digests)

    for _ in range(2):
        state, tasks = run(dagbag, "dossier_quarterly_review")
        assert (state, tasks["review"]) == ("success", ["success"] * 5)
        assert count(Report) == 5

    assert run(dagbag, "dossier_handover", HANDOVER) == ("success", {"handover_report": ["success"]})
    with session_scope() as session:
        handover = session.scalars(select(Report).where(Report.kind == "handover")).one()
        assert handover.client_id == client_id("Alfa Group") and Path(handover.html_path).is_file()
    state, tasks = run(dagbag, "dossier_handover", {**HANDOVER, "client": "No Such Client"})
    assert (state, tasks) == ("failed", {"handover_report": ["failed"]})


def test_dossier_airflow_runs_standalone_on_loopback_with_the_project_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dossier.cli import airflow as airflow_command
    from dossier.cli.airflow import absolute_database_url, airflow_environment

    monkeypatch.setattr(airflow_command, "AIRFLOW_HOME", tmp_path / ".airflow")
    monkeypatch.setenv("DOSSIER_DATABASE_URL", "sqlite:///dossier.db")
    get_settings.cache_clear()
    env = airflow_environment(8093)
    assert airflow_environment(8093)["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert (tmp_path / ".airflow" / ".gitignore").read_text() == "*\n"
    assert env["AIRFLOW_CONFIG"] == str(DAGS / "airflow.cfg") and env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS) and env["AIRFLOW_HOME"] == str(tmp_path / ".airflow")
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:8093" and env["AIRFLOW__API__PORT"] == "8093"
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["DOSSIER_DATABASE_URL"] == f"sqlite:///{Path.cwd() / 'dossier.db'}"
    assert absolute_database_url("postgresql+psycopg://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
