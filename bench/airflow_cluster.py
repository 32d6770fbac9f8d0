"""A real Airflow deployment on loopback, for the distributed test and the refresh benchmark.

The project's ``airflow.cfg`` plus the environment overrides of docs/AIRFLOW.md: PostgreSQL metadata,
the scheduler, DAG processor and API server, and either the LocalExecutor or the CeleryExecutor with
workers of their own ``--celery-hostname`` (broker: Redis, result backend: the metadata database). Every
component runs in a process group of its own with its log under ``home/logs/<component>.log``;
:meth:`AirflowCluster.stop` ends them all (and the task processes they forked), whatever happened.

Runs are triggered with the ``airflow`` CLI; their state is read from the metadata database.
"""

import base64
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

import psutil
from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"
LOOPBACK = "127.0.0.1"
#: The environment variable :func:`worker_hostname` reads: one name per worker, as on separate machines.
WORKER_HOSTNAME = "AIRFLOW_WORKER_HOSTNAME"
FINISHED = {"success", "failed"}


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the cluster: the worker's own name (several share this machine)."""
    return os.environ.get(WORKER_HOSTNAME) or socket.getfqdn()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def shared_secrets() -> dict[str, str]:
    """The keys every component must share (tasks fail with "Invalid auth token" otherwise)."""
    return {
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


class TaskInstance(NamedTuple):
    """One task instance of a DAG run, as the metadata database holds it (its latest try)."""

    task_id: str
    map_index: int
    state: str | None
    hostname: str
    try_number: int


@dataclass
class ClusterConfig:
    """Where the cluster keeps its state and what it connects to; ``broker_url`` None: LocalExecutor."""

    home: Path
    metadata_url: str
    dossier_env: Mapping[str, str]
    broker_url: str | None = None
    workers: int = 2
    worker_concurrency: int = 1
    heartbeat_timeout_s: int = 20


@dataclass
class Component:
    """A started Airflow process (its own process group) and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    log_file: IO[bytes] = field(repr=False)


class AirflowCluster:
    """Airflow on loopback: ``start()`` (migrate the metadata database, start every component), trigger
    runs, read them, ``stop()``. Use it as a context manager."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.port = free_port()
        self.env = self._environment()
        self.components: dict[str, Component] = {}
        self.metadata: Engine = create_engine(config.metadata_url, pool_pre_ping=True)

    @property
    def executor(self) -> str:
        return "LocalExecutor" if self.config.broker_url is None else "CeleryExecutor"

    def worker_names(self) -> list[str]:
        """The workers' names (their task instances' hostnames): w1, w2, ..."""
        if self.config.broker_url is None:
            return []
        return [f"w{number}" for number in range(1, self.config.workers + 1)]

    def _environment(self) -> dict[str, str]:
        config = self.config
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DOSSIER_"))}
        env = {
            **inherited,
            **shared_secrets(),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": str(ROOT),  # the hostname callable (bench.airflow_cluster)
            "AIRFLOW_HOME": str(config.home),
            "AIRFLOW_CONFIG": str(DAGS / "airflow.cfg"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{LOOPBACK}:{self.port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": config.metadata_url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": config.metadata_url,
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{self.port}",
            # the caller triggers every run: no scheduled (cron) runs beside them
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(config.heartbeat_timeout_s),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            **config.dossier_env,
        }
        if config.broker_url is not None:
            env |= {
                "AIRFLOW__CELERY__BROKER_URL": config.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{config.metadata_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(config.worker_concurrency),
            }
        return env

    # ------------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> "AirflowCluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 300) -> None:
        """Migrate the metadata database, start every component, wait until the DAGs are parsed and the
        workers ready, and unpause ``dossier_refresh``."""
        (self.config.home / "logs").mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate", timeout=timeout)
        self._spawn("api-server", ["api-server"])
        self._spawn("scheduler", ["scheduler", "--skip-serve-logs"])
        self._spawn("dag-processor", ["dag-processor"])
        for name in self.worker_names():
            self.start_worker(name)
        deadline = time.monotonic() + timeout
        self._wait(lambda: self._dag_parsed("dossier_refresh"), deadline, "dossier_refresh parsed")
        for name in self.worker_names():
            self._wait(lambda name=name: self._worker_ready(name), deadline, f"worker {name} ready")
        self.airflow("dags", "unpause", "dossier_refresh")

    def start_worker(self, name: str) -> None:
        """Start the Celery worker ``name`` (``--celery-hostname name@%h``; no log server: loopback only)."""
        command = ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency"]
        self._spawn(
            name,
            [*command, str(self.config.worker_concurrency), "--skip-serve-logs"],
            {WORKER_HOSTNAME: name},
        )

    def ensure_workers(self, timeout: float = 120) -> None:
        """Start again every worker that is not running, and wait until each is ready."""
        for name in self.worker_names():
            if self.components[name].process.poll() is not None:
                self.components.pop(name).log_file.close()
                self.start_worker(name)
        deadline = time.monotonic() + timeout
        for name in self.worker_names():
            self._wait(lambda name=name: self._worker_ready(name), deadline, f"worker {name} ready")

    def _spawn(self, name: str, args: list[str], extra_env: Mapping[str, str] | None = None) -> None:
        log = self.config.home / "logs" / f"{name}.log"
        log_file = log.open("wb")  # a restarted worker starts a new log
        process = subprocess.Popen(
            ["airflow", *args],
            env={**self.env, **(extra_env or {})},
            cwd=self.config.home,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.components[name] = Component(name, process, log, log_file)

    def airflow(self, *args: str, timeout: float = 180) -> str:
        """Run one ``airflow`` CLI command with the cluster's environment; its output (raises on failure)."""
        result = subprocess.run(
            ["airflow", *args],
            env=self.env,
            cwd=self.config.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
        return result.stdout

    def kill(self, name: str) -> int:
        """SIGKILL a component and every process it forked (a lost machine); return its pid."""
        component = self.components[name]
        _kill_tree(component.process.pid, signal.SIGKILL)
        component.process.wait(timeout=30)
        return component.process.pid

    def stop(self) -> None:
        """Stop every component (SIGTERM to its process group, SIGKILL after 20 s) and the task processes."""
        for component in reversed(list(self.components.values())):
            if component.process.poll() is None:
                _kill_tree(component.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for component in self.components.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _kill_tree(component.process.pid, signal.SIGKILL)
            component.process.wait(timeout=30)
            component.log_file.close()
        self.components.clear()
        self.metadata.dispose()

    def logs(self, tail: int = 3000) -> str:
        """The end of every component's log (for a failure message)."""
        return "\n".join(f"--- {c.name}\n{c.log.read_text(errors='replace')[-tail:]}" for c in self.components.values())

    # ------------------------------------------------------------------------------------ runs

    def trigger(self, dag_id: str, run_id: str) -> str:
        """Trigger a run of ``dag_id`` named ``run_id``."""
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id)
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        with self.metadata.connect() as connection:
            return connection.execute(
                text("SELECT state FROM dag_run WHERE dag_id = :dag AND run_id = :run"), {"dag": dag_id, "run": run_id}
            ).scalar()

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait until the run finished; its state."""
        self._wait(lambda: self.run_state(dag_id, run_id) in FINISHED, time.monotonic() + timeout, f"run {run_id}")
        return str(self.run_state(dag_id, run_id))

    def run_seconds(self, dag_id: str, run_id: str) -> float:
        """Seconds from the run's start to its end, as the scheduler recorded them."""
        with self.metadata.connect() as connection:
            return float(
                connection.execute(
                    text(
                        "SELECT EXTRACT(EPOCH FROM end_date - start_date) FROM dag_run "
                        "WHERE dag_id = :dag AND run_id = :run"
                    ),
                    {"dag": dag_id, "run": run_id},
                ).scalar_one()
            )

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstance]:
        """The run's task instances (latest try of each), by task and map index."""
        with self.metadata.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT task_id, map_index, state, COALESCE(hostname, ''), try_number FROM task_instance "
                    "WHERE dag_id = :dag AND run_id = :run ORDER BY task_id, map_index"
                ),
                {"dag": dag_id, "run": run_id},
            ).all()
        return [TaskInstance(*row) for row in rows]

    def earlier_tries(self, dag_id: str, run_id: str) -> list[TaskInstance]:
        """The tries that were retried (``task_instance_history``)."""
        with self.metadata.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT task_id, map_index, state, COALESCE(hostname, ''), try_number FROM task_instance_history "
                    "WHERE dag_id = :dag AND run_id = :run ORDER BY task_id, map_index, try_number"
                ),
                {"dag": dag_id, "run": run_id},
            ).all()
        return [TaskInstance(*row) for row in rows]

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``predicate`` every 0.2 s until it holds; TimeoutError naming ``what`` otherwise."""
        self._wait(predicate, time.monotonic() + timeout, what)

    # ------------------------------------------------------------------------------------ internals

    def _wait(self, predicate: Callable[[], bool], deadline: float, what: str) -> None:
        while not predicate():
            dead = [c.name for c in self.components.values() if c.process.poll() is not None]
            if dead and any(name not in self.worker_names() for name in dead):
                raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}\n{self.logs()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(0.2)

    def _dag_parsed(self, dag_id: str) -> bool:
        with self.metadata.connect() as connection:
            return bool(
                connection.execute(
                    text("SELECT count(*) FROM serialized_dag WHERE dag_id = :dag"), {"dag": dag_id}
                ).scalar_one()
            )

    def _worker_ready(self, name: str) -> bool:
        return f"{name}@" in (log := self.components[name].log.read_text(errors="replace")) and " ready." in log


def _kill_tree(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to ``pid``'s process group and to every descendant (task processes lead groups of their
    own)."""
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    for child in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.send_signal(sig)
