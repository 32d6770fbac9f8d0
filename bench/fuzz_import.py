#!/usr/bin/env python
"""Fuzz import benchmark: the importers against a large corpus of broken inputs mixed with good ones.

    python bench/fuzz_import.py [--inputs 1000] [--seed 1]

1. Generates the corpus of ``tests/fuzz_corpus.py`` (``--inputs`` inputs, each in its own folder) under
   ``bench/.corpus/fuzz-inputs{N}-seed{S}/``, afresh each run.
2. Imports the whole folder in one run into a fresh SQLite file under ``bench/out/``. When that run
   raises, the folders are imported again in halves (and halves of failing halves) until each
   exception is pinned to one folder, so the rest of the corpus is still imported and checked.
3. Checks the database against what each input promises (see ``tests/fuzz_corpus.py``), then imports
   the corpus a second time and counts what that added.
4. Prints the table (inputs tried, crashes, lost, wrongly decoded, duplicates after re-import, seconds)
   and the cases behind each finding, and writes ``bench/out/fuzz_import.json`` with every finding.
   Exit status 1 when any finding is non-zero.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
# ``python bench/fuzz_import.py`` puts bench/ first on sys.path, where bench/ingest.py shadows the
# ``ingest`` package; look modules up from the repository root instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from ingest.options import ImportOptions  # noqa: E402
from ingest.pipeline import import_paths  # noqa: E402
from storage.db import upgrade_schema  # noqa: E402
from tests.fuzz_corpus import (  # noqa: E402
    CAUGHT,
    OUR_DOMAIN,
    Corpus,
    Finding,
    Findings,
    ImportOutcome,
    check_import,
    database_counts,
    generate_corpus,
    import_corpus,
)

CORPUS_ROOT = BENCH_DIR / ".corpus"
IMPORT_OPTIONS = ImportOptions(internal_domains=(OUR_DOMAIN,))  # our side of the corpus
OUT_DIR = BENCH_DIR / "out"
console = Console(width=max(Console().width, 160))


@dataclass(slots=True)
class Run:
    """One benchmark run: the corpus, what the first import left wrong, and what the re-import added."""

    corpus: Corpus
    outcome: ImportOutcome
    findings: Findings
    reimport_added: tuple[int, int]  # (interactions, quarantine rows)
    reimport_error: str | None
    seconds: dict[str, float]


def fresh_corpus(inputs: int, seed: int) -> tuple[Corpus, float]:
    folder = CORPUS_ROOT / f"fuzz-inputs{inputs}-seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    corpus = generate_corpus(folder, seed=seed, count=inputs)
    return corpus, time.perf_counter() - started


def fresh_sqlite() -> str:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / "fuzz-import.db"
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade_schema(url)
    return url


def run(inputs: int, seed: int) -> Run:
    corpus, generating = fresh_corpus(inputs, seed)
    console.print(
        f"corpus: {len(corpus.inputs)} inputs, {corpus.expected_messages} good messages, "
        f"{sum(1 for item in corpus.inputs if item.quarantined)} bad inputs ({generating:.1f} s)"
    )
    url = fresh_sqlite()
    outcome = import_corpus(corpus, url, IMPORT_OPTIONS)
    console.print(
        f"first import: {outcome.seconds:.1f} s" + (" (raised; folders imported in halves)" if outcome.isolated else "")
    )
    findings = check_import(corpus, url, outcome)
    before = database_counts(url)
    started = time.perf_counter()
    try:
        import_paths([corpus.root], database_url=url, options=IMPORT_OPTIONS)
        reimport_error = None
    except Exception as error:  # noqa: BLE001 - measured: the re-import raising is a crash too
        reimport_error = f"{type(error).__name__}: {error}"
    reimport = time.perf_counter() - started
    after = database_counts(url)
    return Run(
        corpus,
        outcome,
        findings,
        (after[0] - before[0], after[1] - before[1]),
        reimport_error,
        {"generate": generating, "first import": outcome.seconds, "re-import": reimport},
    )


def summary_rows(result: Run) -> list[tuple[str, str, str]]:
    """(measure, count, what it counts) for the main table."""
    findings, corpus = result.findings, result.corpus
    caught = [finding for finding in findings.crashes if finding.problem.startswith(CAUGHT)]
    pinned = [error for error in result.outcome.errors if error.case != "import"]
    added_interactions, added_quarantine = result.reimport_added
    bad = sum(1 for item in corpus.inputs if item.quarantined)
    return [
        (
            "inputs tried",
            f"{len(corpus.inputs):,}",
            f"{len(corpus.inputs) - bad} good, {bad} bad; {corpus.expected_messages:,} good messages",
        ),
        (
            "crashes (tracebacks)",
            str(len(pinned) + len(caught)),
            f"one-run import raised: {'yes' if result.outcome.errors else 'no'}; {len(pinned)} exceptions pinned "
            f"to folders, {len(caught)} parser exceptions caught by the pipeline"
            + (f"; re-import raised {result.reimport_error[:60]}" if result.reimport_error else ""),
        ),
        (
            "lost",
            str(len(findings.lost)),
            f"{len(findings.lost_messages)} good messages not imported, "
            f"{len(findings.unkept)} bad inputs without quarantine, reason or bytes",
        ),
        ("wrongly decoded", str(len(findings.wrongly_decoded)), "stored body or subject differs from the text written"),
        (
            "duplicates after re-import",
            str(added_interactions + added_quarantine + len(findings.duplicated)),
            f"re-import added {added_interactions} interactions and {added_quarantine} quarantine rows; "
            f"{len(findings.duplicated)} good messages stored more than once",
        ),
        ("good inputs quarantined", str(len(findings.false_quarantine)), "quarantine rows for inputs that are fine"),
        (
            "seconds",
            f"{result.seconds['first import']:.1f}",
            "first import"
            + (", with the imports in halves after it raised" if result.outcome.isolated else "")
            + f"; re-import {result.seconds['re-import']:.1f} s, generating {result.seconds['generate']:.1f} s",
        ),
    ]


def render_summary(result: Run) -> Table:
    table = Table(title=f"Dossier fuzz import (seed {result.corpus.seed})")
    for column, justify in (("measure", "left"), ("count", "right"), ("what", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in summary_rows(result):
        table.add_row(*row)
    return table


KINDS = ("crashes", "lost_messages", "unkept", "wrongly_decoded", "duplicated", "false_quarantine")


def render_cases(result: Run) -> Table:
    """Findings per case: which kinds of input fail, and how."""
    tried = Counter(item.case for item in result.corpus.inputs)
    table = Table(title="findings by case (cases with none are left out)")
    table.add_column("case")
    table.add_column("inputs", justify="right")
    for kind in KINDS:
        table.add_column(kind.replace("_", " "), justify="right")
    table.add_column("example", no_wrap=True, overflow="ellipsis", max_width=70)
    for case, row, example in case_rows(result):
        table.add_row(case, str(tried.get(case, "")), *row, example)
    return table


def case_rows(result: Run) -> list[tuple[str, list[str], str]]:
    """(case, count per finding kind, one example) for each case with findings."""
    counts = {kind: Counter(f.case for f in getattr(result.findings, kind)) for kind in KINDS}
    rows = []
    for case in sorted({case for kind in KINDS for case in counts[kind]}):
        example = next(f.problem for kind in KINDS for f in getattr(result.findings, kind) if f.case == case)
        rows.append((case, [str(counts[kind][case] or "") for kind in KINDS], example))
    return rows


def markdown(result: Run) -> str:
    tried = Counter(item.case for item in result.corpus.inputs)
    lines = ["| measure | count | what |", "|---|---:|---|"]
    lines += [f"| {measure} | {count} | {what} |" for measure, count, what in summary_rows(result)]
    lines += [
        "",
        "| case | inputs | " + " | ".join(kind.replace("_", " ") for kind in KINDS) + " |",
        "|---|" + "---:|" * (len(KINDS) + 1),
    ]
    lines += [f"| {case} | {tried.get(case, '')} | " + " | ".join(row) + " |" for case, row, _ in case_rows(result)]
    return "\n".join(lines)


def as_json(result: Run) -> dict:
    def listed(findings: list[Finding]) -> list[dict]:
        return [finding._asdict() for finding in findings]

    return {
        "seed": result.corpus.seed,
        "inputs": len(result.corpus.inputs),
        "good_messages": result.corpus.expected_messages,
        "seconds": result.seconds,
        "reimport_added": {"interactions": result.reimport_added[0], "quarantine": result.reimport_added[1]},
        "reimport_error": result.reimport_error,
        "findings": {kind: listed(getattr(result.findings, kind)) for kind in KINDS},
        "markdown": markdown(result),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=1000, help="inputs to generate (at least)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args.inputs, args.seed)
    console.print(render_summary(result))
    console.print(render_cases(result))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "fuzz_import.json").write_text(json.dumps(as_json(result), indent=1))
    console.print(markdown(result), markup=False, highlight=False)
    findings = result.findings
    clean = not (
        findings.crashes
        or findings.lost
        or findings.wrongly_decoded
        or findings.duplicated
        or findings.false_quarantine
        or any(result.reimport_added)
        or result.reimport_error
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
