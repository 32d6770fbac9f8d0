"""The import picture of docs/ARCHITECTURE.md, checked by walking every module's imports with ``ast``.

Each rule lists all its violations at once, as ``path:line: what``. Imports inside functions and under
``TYPE_CHECKING`` count: a dependency is a dependency. So does ``importlib.resources.files("pkg")`` or
``import_module("pkg")`` with a literal name, which is how ``summarizer`` reads ``prompts``.
"""

import ast
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import REPO_ROOT

#: Our top-level packages; any other name is stdlib or third party.
FIRST_PARTY = frozenset(
    {"dossier", "storage", "ingest", "summarizer", "transcription", "prompts", "dags", "tests", "bench"}
)
#: The library layers: no application package, no settings, no environment.
LOWER_LAYERS = ("storage", "ingest", "transcription", "summarizer")
#: Which of our packages each library package may import, besides itself.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "storage": frozenset({"transcription"}),  # transcription's typed results are what storage keeps of a call
    "prompts": frozenset(),
    "transcription": frozenset(),
    "ingest": frozenset({"storage"}),
    "summarizer": frozenset({"storage", "prompts"}),
}
#: What a DAG file may import besides the stdlib, Airflow and its sibling DAG modules.
DAG_MAY_IMPORT = ("dossier.jobs", "dags")
#: What builds summaries: the web process queues a build and answers with what exists, it never builds.
SUMMARY_BUILDERS = (
    "summarizer.service.make_engines",
    "summarizer.service.summarize_client",
    "summarizer.service.summarize_batch",
    "summarizer.service.summarize",
    "summarizer.tree",
    "summarizer.engines",
    "dossier.engines.summarize",
    "dossier.engines.engine_spec",
)
#: Ways to read the process environment: ``os.<name>`` and modules whose job it is.
ENVIRONMENT_READERS = frozenset({"environ", "environb", "getenv", "getenvb"})
ENVIRONMENT_MODULES = ("pydantic_settings", "dotenv")
SKIPPED_DIRS = frozenset({"build", "dist", "node_modules", "__pycache__"})


class Source(NamedTuple):
    """One Python file: its path relative to the root, its dotted module name and its syntax tree."""

    path: str
    module: str
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.module.split(".")[0]


class Import(NamedTuple):
    """One imported name, absolute and dotted (``from a.b import c`` imports ``a.b.c``), and where."""

    target: str
    node: ast.AST

    @property
    def top(self) -> str:
        return self.target.split(".")[0]

    def is_within(self, name: str) -> bool:
        return self.target == name or self.target.startswith(name + ".")


def _skipped(relative: Path) -> bool:
    return any(part.startswith(".") or part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts)


def load_sources(root: Path) -> list[Source]:
    """Every ``.py`` file under ``root`` outside virtualenvs, build output and hidden folders, parsed."""
    sources = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if _skipped(relative.parent):
            continue
        parts = relative.with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        sources.append(Source(relative.as_posix(), module, ast.parse(path.read_bytes(), str(relative))))
    return sources


@cache
def repository_sources() -> tuple[Source, ...]:
    return tuple(load_sources(REPO_ROOT))


def _absolute(source: Source, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = source.module if source.path.endswith("__init__.py") else source.module.rpartition(".")[0]
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _literal_module(node: ast.Call) -> str | None:
    """The package named by ``files("pkg")`` or ``import_module("pkg")``, when it is a literal."""
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    if name in ("files", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value.split(":")[0] if isinstance(value, str) else None
    return None


def imports(source: Source) -> Iterator[Import]:
    """Everything ``source`` imports, as absolute dotted names."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            yield from (Import(alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(source, node)
            yield from (Import(module if alias.name == "*" else f"{module}.{alias.name}", node) for alias in node.names)
        elif isinstance(node, ast.Call) and (literal := _literal_module(node)):
            yield Import(literal, node)


class Violation(NamedTuple):
    """One break of a rule: where, and what the line does (``imports``/``reads``) to which name."""

    path: str
    line: int
    verb: str
    target: str


def _violation(source: Source, node: ast.AST, target: str, verb: str = "imports") -> Violation:
    return Violation(source.path, getattr(node, "lineno", 0), verb, target)


def _in(source: Source, *packages: str) -> bool:
    return any(source.module == p or source.module.startswith(p + ".") for p in packages)


def layer_violations(sources: list[Source], package: str) -> list[Violation]:
    """Imports of our packages that ``package`` may not use (MAY_IMPORT)."""
    allowed = MAY_IMPORT[package] | {package}
    return [
        _violation(source, imp.node, imp.target)
        for source in sources
        if source.package == package
        for imp in imports(source)
        if imp.top in FIRST_PARTY and imp.top not in allowed
    ]


def _os_names(source: Source) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(source.tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "os"
    }


def environment_violations(sources: list[Source]) -> list[Violation]:
    """Reads of the environment (``os.environ``, ``os.getenv``, settings libraries) in the lower layers."""
    found = []
    for source in (source for source in sources if source.package in LOWER_LAYERS):
        os_names = _os_names(source)
        found += [
            _violation(source, node, f"os.{node.attr}", "reads")
            for node in ast.walk(source.tree)
            if isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_READERS
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        ]
        found += [
            _violation(source, imp.node, imp.target)
            for imp in imports(source)
            if imp.target in {f"os.{name}" for name in ENVIRONMENT_READERS}
            or any(imp.is_within(module) for module in ENVIRONMENT_MODULES)
        ]
    return found


def cli_violations(sources: list[Source]) -> list[Violation]:
    """Imports of the CLI from anywhere but the CLI itself and the tests."""
    return [
        _violation(source, imp.node, imp.target)
        for source in sources
        if not _in(source, "dossier.cli", "tests")
        for imp in imports(source)
        if imp.is_within("dossier.cli")
    ]


def jobs_sql_violations(sources: list[Source]) -> list[Violation]:
    """SQLAlchemy in ``dossier/jobs.py``: its queries belong in ``storage/``."""
    return [
        _violation(source, imp.node, imp.target)
        for source in sources
        if source.module == "dossier.jobs"
        for imp in imports(source)
        if imp.top == "sqlalchemy"
    ]


def dag_violations(sources: list[Source]) -> list[Violation]:
    """Imports of DAG files beyond the stdlib, Airflow, sibling DAG modules and ``dossier.jobs``."""
    dag_files = [source for source in sources if source.package == "dags"]
    siblings = {source.module.rpartition(".")[2] for source in dag_files}  # Airflow imports them as top-level modules
    allowed_tops = set(sys.stdlib_module_names) | siblings | {"airflow"}
    return [
        _violation(source, imp.node, imp.target)
        for source in dag_files
        for imp in imports(source)
        if imp.top not in allowed_tops and not any(imp.is_within(name) for name in DAG_MAY_IMPORT)
    ]


def web_builder_violations(sources: list[Source]) -> list[Violation]:
    """Imports of the summary builders by the web service: it queues builds and answers with what exists."""
    return [
        _violation(source, imp.node, imp.target)
        for source in sources
        if _in(source, "dossier.web")
        for imp in imports(source)
        if any(imp.is_within(name) for name in SUMMARY_BUILDERS)
    ]


RULES: dict[str, Callable[[list[Source]], list[Violation]]] = {
    **{
        f"{package} imports only {', '.join(sorted(MAY_IMPORT[package])) or 'itself'} of ours": (
            lambda sources, package=package: layer_violations(sources, package)
        )
        for package in MAY_IMPORT
    },
    "lower layers never read the environment": environment_violations,
    "nothing outside dossier/cli imports dossier.cli": cli_violations,
    "dossier/jobs.py has no SQL (its queries live in storage/)": jobs_sql_violations,
    "dags import only dossier.jobs, dags, airflow and the stdlib": dag_violations,
    "dossier/web never builds summaries": web_builder_violations,
}


def check(rule: str, sources: list[Source]) -> list[str]:
    """The violations of ``rule`` in ``sources`` as ``path:line: imports a, b``, one per line, in file order."""
    lines: dict[tuple[str, int, str], list[str]] = {}
    for violation in sorted(set(RULES[rule](sources))):
        lines.setdefault(violation[:3], []).append(violation.target)
    return [f"{path}:{line}: {verb} {', '.join(targets)}" for (path, line, verb), targets in lines.items()]


@pytest.mark.parametrize("rule", RULES)
def test_the_repository_keeps_the_import_picture(rule: str) -> None:
    violations = check(rule, list(repository_sources()))
    assert not violations, f"{rule}: {len(violations)} violation(s)\n" + "\n".join(violations)


def test_the_walk_sees_every_package_of_the_repository() -> None:
    packages = {source.package for source in repository_sources()}
    assert set(MAY_IMPORT) | {"dossier", "dags", "tests"} <= packages
    assert not any(source.path.startswith(".venv/") for source in repository_sources())


# The checker itself, on a generated tree: each rule finds its violation at the right line, and a clean tree passes.


def _tree(root: Path, files: dict[str, str]) -> list[Source]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load_sources(root)


CLEAN = {
    "storage/__init__.py": "",
    "storage/db.py": "import sqlalchemy\nfrom . import models\nfrom .models import Base\n",
    "storage/models.py": "",
    "ingest/__init__.py": "",
    "ingest/pipeline.py": "from storage.db import session_scope\nfrom .records import Parsed\n",
    "summarizer/__init__.py": "",
    "summarizer/prompts.py": "from importlib.resources import files\nPROMPTS = files('prompts')\n",
    "summarizer/engines/llm.py": "from ..notes import Notes\nfrom storage import models\n",
    "transcription/audio.py": "import numpy\n",
    "dossier/jobs.py": "from storage import queries\nfrom summarizer.service import summarize\n",
    "dossier/web/reading.py": "from summarizer.service import read_summary, SummaryView\n",
    "dossier/cli/__init__.py": "from dossier.cli import render\nfrom .common import require_schema\n",
    "dags/dossier_common.py": "import os\nfrom airflow.sdk import dag\nfrom dossier.jobs import run\n",
    "dags/dossier_refresh.py": "from dossier_common import dag\nfrom dossier import jobs\n",
    "tests/test_x.py": "import os\nos.environ['X'] = '1'\nfrom dossier.cli import app\n",
    ".venv/lib/site.py": "import dossier.cli\n",
}


def test_a_clean_tree_has_no_violations(tmp_path: Path) -> None:
    sources = _tree(tmp_path, CLEAN)
    assert ".venv/lib/site.py" not in {source.path for source in sources}
    assert {rule: found for rule in RULES if (found := check(rule, sources))} == {}


def test_every_rule_reports_every_violation_with_file_and_line(tmp_path: Path) -> None:
    sources = _tree(
        tmp_path,
        CLEAN
        | {
            "storage/access.py": "from ingest.normalize import norm\nimport transcription.results\n",
            "prompts/__init__.py": "\n\nimport storage\n",
            "ingest/crm_csv.py": "from dossier.settings import get_settings\n",
            "ingest/textfile.py": "from summarizer import notes\n",
            "transcription/models.py": "import os as o\ncache = o.environ.get('X')\nfrom os import getenv\n",
            "summarizer/service.py": "def f():\n    from dossier import settings\n    import pydantic_settings\n",
            "summarizer/engines/openai.py": "import os\nKEY = os.getenv('K')\nfrom transcription import audio\n",
            "ingest/pipeline.py": "from dossier.cli.render import progress_bar\n",
            "dossier/demo/__init__.py": "from dossier import cli\n",
            "dossier/delivery/digest.py": "from ..cli.render import table\n",
            "transcription/batch.py": "from storage.models import Recording\n",
            "dossier/jobs.py": "from sqlalchemy import select, func\nimport sqlalchemy.orm\n",
            "dags/dossier_refresh.py": "from dossier_common import dag\nfrom dossier import settings\nimport rich\n",
            "dossier/web/reading.py": (
                "from summarizer.service import make_engines, summarize_client, SummaryView\n"
                "from summarizer import tree\nfrom dossier.engines import read_summary, summarize\n"
            ),
        },
    )
    found = {rule: check(rule, sources) for rule in RULES}
    assert found == {
        "storage imports only transcription of ours": [
            "storage/access.py:1: imports ingest.normalize.norm",
        ],
        "prompts imports only itself of ours": ["prompts/__init__.py:3: imports storage"],
        "transcription imports only itself of ours": ["transcription/batch.py:1: imports storage.models.Recording"],
        "ingest imports only storage of ours": [
            "ingest/crm_csv.py:1: imports dossier.settings.get_settings",
            "ingest/pipeline.py:1: imports dossier.cli.render.progress_bar",
            "ingest/textfile.py:1: imports summarizer.notes",
        ],
        "summarizer imports only prompts, storage of ours": [
            "summarizer/engines/openai.py:3: imports transcription.audio",
            "summarizer/service.py:2: imports dossier.settings",
        ],
        "lower layers never read the environment": [
            "summarizer/engines/openai.py:2: reads os.getenv",
            "summarizer/service.py:3: imports pydantic_settings",
            "transcription/models.py:2: reads os.environ",
            "transcription/models.py:3: imports os.getenv",
        ],
        "nothing outside dossier/cli imports dossier.cli": [
            "dossier/delivery/digest.py:1: imports dossier.cli.render.table",
            "dossier/demo/__init__.py:1: imports dossier.cli",
            "ingest/pipeline.py:1: imports dossier.cli.render.progress_bar",
        ],
        "dossier/jobs.py has no SQL (its queries live in storage/)": [
            "dossier/jobs.py:1: imports sqlalchemy.func, sqlalchemy.select",
            "dossier/jobs.py:2: imports sqlalchemy.orm",
        ],
        "dags import only dossier.jobs, dags, airflow and the stdlib": [
            "dags/dossier_refresh.py:2: imports dossier.settings",
            "dags/dossier_refresh.py:3: imports rich",
        ],
        "dossier/web never builds summaries": [
            "dossier/web/reading.py:1: imports summarizer.service.make_engines, summarizer.service.summarize_client",
            "dossier/web/reading.py:2: imports summarizer.tree",
            "dossier/web/reading.py:3: imports dossier.engines.summarize",
        ],
    }
