"""`dossier airflow`: Airflow standalone on loopback with the project's ``airflow.cfg``, for a local UI."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from dossier.errors import DossierError
from dossier.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
AIRFLOW_CFG = REPO_ROOT / "airflow.cfg"
AIRFLOW_HOME = REPO_ROOT / ".airflow"
LOOPBACK = "127.0.0.1"


def airflow_environment(port: int) -> dict[str, str]:
    """The environment of ``airflow standalone``: the project's config, loopback, the venv's bin first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW_CONFIG": str(AIRFLOW_CFG),
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{port}",
        "DOSSIER_DATABASE_URL": absolute_database_url(get_settings().database_url),
    }


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
    AIRFLOW_HOME.mkdir(exist_ok=True)
    (AIRFLOW_HOME / ".gitignore").write_text("*\n")
    typer.echo(f"Airflow UI on http://{LOOPBACK}:{port} (state in {AIRFLOW_HOME}; the admin password is printed "
               "below); Ctrl-C stops it")
    process = subprocess.Popen([executable, "standalone"], env=airflow_environment(port))
    # standalone only stops its children on SIGINT: turn a SIGTERM to us into one
    signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGINT))
    try:
        code = process.wait()
    except KeyboardInterrupt:  # the terminal sent SIGINT to standalone too; let it finish stopping
        code = process.wait()
    raise typer.Exit(code)
