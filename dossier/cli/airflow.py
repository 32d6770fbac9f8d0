"""`dossier airflow`: Airflow standalone on loopback with the installed DAGs and their airflow.cfg, for a local UI."""

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from dossier.settings import get_settings
from storage.errors import DossierError

DAGS_FOLDER = files("dags")  # the DAG files and airflow.cfg, package data of the installed ``dags``
AIRFLOW_CFG = DAGS_FOLDER / "airflow.cfg"
AIRFLOW_HOME = Path(".airflow")  # Airflow's state, in the working directory (as the embedded database is)
LOOPBACK = "127.0.0.1"


def airflow_environment(port: int) -> dict[str, str]:
    """The environment of ``airflow standalone``: the project's config, loopback, the venv's bin first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        **local_secrets(),
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "AIRFLOW_HOME": str(state_dir().resolve()),
        "AIRFLOW_CONFIG": str(AIRFLOW_CFG),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{port}",
        "DOSSIER_DATABASE_URL": absolute_database_url(get_settings().database_url),
    }


def local_secrets() -> dict[str, str]:
    """Keys every Airflow component must share (the project's airflow.cfg holds none): made once, kept in
    ``.airflow/secrets.json``. Without them each component draws its own and tasks fail with "Invalid auth
    token"."""
    path = state_dir() / "secrets.json"
    if not path.exists():
        keys = {
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
        path.touch(mode=0o600)
        path.write_text(json.dumps(keys))
    return json.loads(path.read_text())


def state_dir() -> Path:
    """``.airflow/`` in the working directory (git-ignored): database, logs, keys, admin password."""
    AIRFLOW_HOME.mkdir(exist_ok=True)
    (AIRFLOW_HOME / ".gitignore").write_text("*\n")
    return AIRFLOW_HOME


def absolute_database_url(url: str) -> str:
    """``url`` with a relative SQLite path made absolute, so task processes find the same file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or os.path.isabs(parsed.database):
        return url
    return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)


def airflow_command(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI and API on 127.0.0.1.")] = 8080,
) -> None:
    """Run Airflow standalone (scheduler, DAG processor, triggerer, UI) on loopback with the Dossier DAGs."""
    executable = shutil.which("airflow", path=str(Path(sys.executable).parent))
    if executable is None:
        raise DossierError("Airflow is not installed: pip install 'dossier[airflow]'")
    typer.echo(
        f"Airflow UI on http://{LOOPBACK}:{port} (state in {AIRFLOW_HOME.resolve()}; the admin password is "
        "printed below); Ctrl-C stops it"
    )
    environment = airflow_environment(port)
    process: subprocess.Popen[bytes] | None = None

    def stop(*_: object) -> None:  # standalone stops its components only on SIGINT, sent to it alone
        if process is not None:
            process.send_signal(signal.SIGINT)

    # handlers set before the start: standalone then gets default dispositions (even when ours ignore SIGINT)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    process = subprocess.Popen([executable, "standalone"], env=environment, process_group=0)
    raise typer.Exit(process.wait())
