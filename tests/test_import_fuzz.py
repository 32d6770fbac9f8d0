"""The importers against a fuzz corpus (tests/fuzz_corpus.py): broken inputs of every kind among good ones.

One import run reads the whole corpus folder. Nothing may escape it; every bad input ends in the
quarantine with a reason and its bytes; every good message is stored once, with its text; a re-import
adds nothing; and an import killed at a random point, then run again, ends where a clean import ends.
"""

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import select

from dossier.settings import get_settings
from ingest.options import ImportOptions
from ingest.pipeline import import_paths
from storage.db import get_engine, session_scope, upgrade_schema
from storage.models import Client, Interaction, QuarantineItem
from tests.conftest import REPO_ROOT, _admin_execute, _database_url
from tests.fuzz_corpus import (
    OUR_DOMAIN,
    Corpus,
    Findings,
    ImportOutcome,
    check_import,
    database_counts,
    describe,
    generate_corpus,
    import_corpus,
)

CORPUS_SEED = 20261201
CORPUS_SIZE = 220
KILL_SEED = 7
KILL_TRIALS = 2
#: Small batches, so that a kill can land between commits.
IMPORT_ENVIRONMENT = {"DOSSIER_INTERNAL_DOMAINS": OUR_DOMAIN, "DOSSIER_IMPORT_BATCH_SIZE": "40"}  # the CLI's
IMPORT_OPTIONS = ImportOptions(internal_domains=(OUR_DOMAIN,), batch_size=40)  # the same, imported in-process
CLI = [sys.executable, "-c", "from dossier.cli import main; main()", "import"]


class FreshDatabases:
    """Fresh databases at the newest schema: SQLite files, or PostgreSQL copies of the test template."""

    def __init__(self, folder: Path, template: str | None):
        self._folder = folder
        self._template = template
        self._created: list[tuple[str, str | None]] = []

    def new(self) -> str:
        number = len(self._created)
        if self._template:
            name = f"dossier_fuzz_{os.getpid()}_{number}"
            _admin_execute(f"CREATE DATABASE {name} TEMPLATE {self._template}")
            url = _database_url(name)
        else:
            name = None
            url = f"sqlite:///{self._folder / f'fuzz-{number}.db'}"
            upgrade_schema(url)
        self._created.append((url, name))
        return url

    def drop_all(self) -> None:
        for url, name in self._created:
            get_engine(url).dispose()
            if name:
                _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        get_engine.cache_clear()


class DatabaseState(NamedTuple):
    """What an import leaves behind, comparable between databases."""

    interactions: dict[str, tuple[str, str]]  # content hash -> (client name, sha256 of the body)
    quarantine: dict[str, tuple[str, str | None, str]]  # fingerprint -> (source path, item, reason)
    clients: frozenset[str]


def database_state(url: str) -> DatabaseState:
    with session_scope(url) as session:
        interactions = {
            content_hash: (client, hashlib.sha256((body or "").encode("utf-8", "replace")).hexdigest())
            for content_hash, client, body in session.execute(
                select(Interaction.content_hash, Client.name, Interaction.body).join(Client)
            )
        }
        quarantine = {
            fingerprint: (path, item, reason)
            for fingerprint, path, item, reason in session.execute(
                select(
                    QuarantineItem.fingerprint,
                    QuarantineItem.source_path,
                    QuarantineItem.item_ref,
                    QuarantineItem.reason,
                )
            )
        }
        clients = frozenset(session.scalars(select(Client.name)))
    return DatabaseState(interactions, quarantine, clients)


def state_differences(state: DatabaseState, reference: DatabaseState) -> list[str]:
    """What ``state`` has or lacks compared with ``reference``, readable."""
    lines = []
    for label, mine, theirs in (
        ("interaction", state.interactions, reference.interactions),
        ("quarantine row", state.quarantine, reference.quarantine),
    ):
        lines += [f"extra {label}: {mine[key]}" for key in sorted(mine.keys() - theirs.keys())[:10]]
        lines += [f"missing {label}: {theirs[key]}" for key in sorted(theirs.keys() - mine.keys())[:10]]
        lines += [
            f"different {label}: {mine[key]} instead of {theirs[key]}"
            for key in sorted(mine.keys() & theirs.keys())
            if mine[key] != theirs[key]
        ][:10]
    lines += [f"extra client: {name}" for name in sorted(state.clients - reference.clients)[:10]]
    lines += [f"missing client: {name}" for name in sorted(reference.clients - state.clients)[:10]]
    return lines


@dataclass(frozen=True, slots=True)
class ImportedCorpus:
    """The corpus imported once into a fresh database, then once more."""

    corpus: Corpus
    workdir: Path
    outcome: ImportOutcome
    findings: Findings
    reference: DatabaseState  # right after the first import: what a clean import gives
    reimport_added: tuple[int, int]  # (interactions, quarantine rows) added by the second import
    reimport_error: str | None


@pytest.fixture(scope="module")
def import_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch working directory and only our DOSSIER_ settings, for the whole module."""
    workdir = tmp_path_factory.mktemp("fuzz-work")
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("DOSSIER_") and key != "DOSSIER_TEST_POSTGRES_URL":
                patch.delenv(key)
        for key, value in IMPORT_ENVIRONMENT.items():
            patch.setenv(key, value)
        patch.chdir(workdir)
        get_settings.cache_clear()
        yield workdir
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory, postgres_template: str | None) -> Iterator[FreshDatabases]:
    fresh = FreshDatabases(tmp_path_factory.mktemp("fuzz-databases"), postgres_template)
    yield fresh
    fresh.drop_all()


@pytest.fixture(scope="module")
def imported(
    import_environment: Path, databases: FreshDatabases, tmp_path_factory: pytest.TempPathFactory
) -> ImportedCorpus:
    corpus = generate_corpus(tmp_path_factory.mktemp("fuzz") / "corpus", seed=CORPUS_SEED, count=CORPUS_SIZE)
    url = databases.new()
    outcome = import_corpus(corpus, url, IMPORT_OPTIONS)
    findings = check_import(corpus, url, outcome)
    reference = database_state(url)
    before = database_counts(url)
    try:
        import_paths([corpus.root], database_url=url, options=IMPORT_OPTIONS)
        reimport_error = None
    except Exception as error:  # noqa: BLE001 - reported by test_reimport_adds_nothing
        reimport_error = f"{type(error).__name__}: {error}"
    after = database_counts(url)
    return ImportedCorpus(
        corpus,
        import_environment,
        outcome,
        findings,
        reference,
        (after[0] - before[0], after[1] - before[1]),
        reimport_error,
    )


def test_corpus_covers_every_importer_with_enough_inputs(imported: ImportedCorpus) -> None:
    cases = {item.case.split("/")[0] for item in imported.corpus.inputs}
    assert {
        "email",
        "mbox",
        "maildir",
        "whatsapp",
        "telegram",
        "notes",
        "deals",
        "clients",
        "csv",
        "symlink",
        "unknown",
    } <= cases
    bad = [item for item in imported.corpus.inputs if item.quarantined]
    assert len(bad) >= 100 and len(imported.corpus.inputs) >= 200
    assert imported.corpus.expected_messages >= 200


def test_no_exception_escapes_the_import(imported: ImportedCorpus) -> None:
    assert not imported.outcome.errors, (
        "import raised (the folders were then imported in halves to pin each exception to one):\n"
        + describe(imported.outcome.errors)
    )


def test_no_parser_raises_midway(imported: ImportedCorpus) -> None:
    """A parser that raises is caught by the pipeline, but the items after the failure are lost."""
    caught = [finding for finding in imported.findings.crashes if finding not in imported.outcome.errors]
    assert not caught, "parsers raised instead of quarantining:\n" + describe(caught)


def test_every_bad_input_is_quarantined_with_reason_and_bytes(imported: ImportedCorpus) -> None:
    unkept = [finding for finding in imported.findings.unkept if not finding.case.startswith("symlink/")]
    assert not unkept, "bad inputs not quarantined with a reason and their bytes:\n" + describe(unkept)


def test_dangling_and_looping_symlinks_are_quarantined_with_their_target(imported: ImportedCorpus) -> None:
    unkept = [finding for finding in imported.findings.unkept if finding.case.startswith("symlink/")]
    assert not unkept, "symlinks not quarantined with their target:\n" + describe(unkept)


def test_every_good_message_is_imported_exactly_once(imported: ImportedCorpus) -> None:
    wrong = imported.findings.lost_messages + imported.findings.duplicated
    assert not wrong, (
        f"of {imported.corpus.expected_messages} good messages, "
        f"{len(imported.findings.lost_messages)} missing and "
        f"{len(imported.findings.duplicated)} duplicated:\n" + describe(wrong)
    )


def test_good_messages_keep_their_text(imported: ImportedCorpus) -> None:
    assert not imported.findings.wrongly_decoded, "stored text differs from the text written:\n" + describe(
        imported.findings.wrongly_decoded
    )


def test_good_inputs_are_not_quarantined(imported: ImportedCorpus) -> None:
    assert not imported.findings.false_quarantine, "good inputs quarantined:\n" + describe(
        imported.findings.false_quarantine
    )


def test_reimport_adds_nothing(imported: ImportedCorpus) -> None:
    assert imported.reimport_error is None
    interactions, quarantined = imported.reimport_added
    assert (interactions, quarantined) == (0, 0), (
        f"re-import added {interactions} interactions and {quarantined} quarantine rows"
    )


# ---------------------------------------------------------------- killed and re-run


def _cli_environment(workdir: Path, url: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DOSSIER_")}
    environment.update(
        IMPORT_ENVIRONMENT,
        DOSSIER_DATABASE_URL=url,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")])),
    )
    return environment


def _start_cli(corpus: Corpus, workdir: Path, url: str, log: Path) -> subprocess.Popen:
    with log.open("ab") as stderr:
        return subprocess.Popen(
            [*CLI, str(corpus.root)],
            cwd=workdir,
            env=_cli_environment(workdir, url),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _kill_during_import(corpus: Corpus, workdir: Path, url: str, log: Path, delay: float) -> tuple[int, int]:
    """Run ``dossier import`` and SIGKILL it ``delay`` s after its first commit: (exit code, rows it left)."""
    process = _start_cli(corpus, workdir, url, log)
    deadline = time.monotonic() + 120
    while sum(database_counts(url)) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=60), sum(database_counts(url))


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def test_killed_import_then_rerun_equals_clean_import(imported: ImportedCorpus, databases: FreshDatabases) -> None:
    if imported.outcome.errors:
        pytest.fail(
            "the clean import itself raised, so a killed one cannot be compared with it:\n"
            + describe(imported.outcome.errors)
        )
    rng = random.Random(KILL_SEED)
    complete = len(imported.reference.interactions) + len(imported.reference.quarantine)
    killed_midway = 0
    for trial in range(KILL_TRIALS):
        url = databases.new()
        log = imported.workdir / f"kill-{trial}.log"
        delay = rng.uniform(0.0, 0.6) * imported.outcome.seconds
        exit_code, rows_left = _kill_during_import(imported.corpus, imported.workdir, url, log, delay)
        killed_midway += exit_code == -signal.SIGKILL and 0 < rows_left < complete
        rerun = _start_cli(imported.corpus, imported.workdir, url, log)
        assert rerun.wait(timeout=300) == 0, f"the re-run after a kill at {delay:.1f} s failed:\n{_tail(log)}"
        differences = state_differences(database_state(url), imported.reference)
        assert not differences, (
            f"killed {delay:.1f} s after its first commit ({rows_left} rows stored) and "
            "re-run, the database differs from a clean import:\n" + "\n".join(differences)
        )
    assert killed_midway, "no trial killed the import between its first and last commit; the delays are off"
