"""The wheel holds every file the code reads, and the code finds them installed, away from the checkout.

One wheel is built per module (from a clean copy of the sources, so a stale ``build/`` cannot leak into
it) and unpacked into a folder that a subprocess puts first on its path, run from another directory.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

#: Folders whose every file ships in the wheel: prompts and labels, templates, static files, migrations.
DATA_DIRS = (
    "prompts",
    "dossier/delivery/templates",
    "dossier/web/templates",
    "dossier/web/static",
    "dossier/web/labels",
    "storage/migrations",
)
NOT_SOURCES = shutil.ignore_patterns(
    ".*", "build", "dist", "bench", "docs", "tests", "__pycache__", "*.egg-info", "*.db", "dossier-demo"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as ``.ci/run`` builds it."""
    work = tmp_path_factory.mktemp("wheel")
    sources = work / "src"
    shutil.copytree(REPO_ROOT, sources, ignore=NOT_SOURCES)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(sources)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next((work / "dist").glob("dossier-*.whl"))


def _shipped_files() -> set[str]:
    """Every data file of the packages (relative to the repository), and the Airflow DAGs with their config."""
    files = {
        path.relative_to(REPO_ROOT).as_posix()
        for folder in DATA_DIRS
        for path in (REPO_ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return (
        files
        | {path.relative_to(REPO_ROOT).as_posix() for path in (REPO_ROOT / "dags").glob("*.py")}
        | {"dags/airflow.cfg"}
    )


def test_the_wheel_holds_the_prompts_labels_templates_static_files_migrations_and_airflow_config(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _shipped_files()
    assert {
        "prompts/system.md",
        "prompts/render/en.toml",
        "dossier/delivery/templates/labels/en.toml",
        "dossier/web/static/dossier.css",
        "storage/migrations/env.py",
        "dags/airflow.cfg",
    } <= expected
    assert expected - names == set()
    link = REPO_ROOT / "dags" / "airflow.cfg"  # one airflow.cfg, at the top level; the DAGs' copy is a link to it
    assert link.is_symlink() and link.resolve() == (REPO_ROOT / "airflow.cfg").resolve()


INSTALLED_LOOKUPS = textwrap.dedent("""
    import json, sys
    from pathlib import Path

    from dossier.cli import airflow as airflow_command
    from dossier.delivery import templating
    from dossier.web.templating import templates
    from storage.db import schema_revision, upgrade_schema
    from summarizer import prompts, render

    site = Path(sys.argv[1])
    modules = (airflow_command, templating, prompts, render, sys.modules["storage.db"], sys.modules["dossier.web"])
    print(json.dumps({
        "outside": [m.__name__ for m in modules if not Path(m.__file__).is_relative_to(site)],
        "languages": render.available_languages(),
        "brief_title": render.load_labels("en")["titles"]["brief"],
        "system_prompt": prompts.load_prompt("map").messages[0].prompt.template[:20],
        "prompt_version": prompts.PROMPT_VERSION,
        "digest": templating.environment().get_template("digest.txt.j2").filename,
        "output_labels": sorted(templating.labels("pl")),
        "card": templates.get_template("card.html").filename,
        "revision": upgrade_schema("sqlite:///installed.db"),
        "head": schema_revision("sqlite:///installed.db"),
        "airflow_cfg": Path(str(airflow_command.AIRFLOW_CFG)).is_file(),
    }))
""")


def test_the_installed_code_reads_its_files_from_the_installed_packages(wheel: Path, tmp_path: Path) -> None:
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", INSTALLED_LOOKUPS, str(site)],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    from summarizer.prompts import PROMPT_VERSION

    assert found["outside"] == []
    assert found["languages"] == ["en", "pl", "ru"] and found["brief_title"]
    assert found["system_prompt"] and found["prompt_version"] == PROMPT_VERSION
    assert Path(found["digest"]).is_relative_to(site) and Path(found["card"]).is_relative_to(site)
    assert {"channels", "sides", "statuses"} <= set(found["output_labels"])
    assert found["revision"] and found["head"] == [found["revision"], found["revision"]]
    assert found["airflow_cfg"] is True
    assert (elsewhere / "installed.db").is_file()
