#!/usr/bin/env python
"""Import benchmark: how fast ``ingest.pipeline.import_paths`` stores e-mail, against a bare parse.

    python bench/ingest.py [--emails 100000 --clients 2000] [--postgres URL]

1. Generates (or reuses, under ``bench/.corpus/``) an mbox corpus (see ``bench/corpus.py``).
2. Times a bare stdlib loop over the same files: ``mailbox.mbox`` iteration,
   ``email.message_from_bytes(policy=email.policy.default)``, ``get_body(('plain', 'html'))
   .get_content()`` and the From/To/Date/Subject headers. Its rate is the baseline.
3. Times the e-mail parser alone (``ingest.mail.parse``, no database), for diagnosis.
4. Imports through ``import_paths`` into a fresh SQLite file and, with ``--postgres`` (or
   ``DOSSIER_BENCH_POSTGRES_URL``), into a fresh PostgreSQL database created next to the one in
   the URL (and dropped afterwards); then re-imports the unchanged folder (every file skipped),
   and once more with the record of imported files cleared (every message a duplicate).
5. Prints a table (messages/s, the ratio to the bare parse rate and to the compat32 parse rate: the
   goal is >= 0.5 of compat32 into PostgreSQL; a re-import's speed-up over the first import: the goal
   is >= 5), checks the counts, and writes ``bench/out/ingest.json``. Exit status 1 when a count is wrong.
"""

from __future__ import annotations

import argparse
import cProfile
import email
import email.policy
import json
import mailbox
import os
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
# ``python bench/ingest.py`` puts bench/ first on sys.path, where this file shadows the ``ingest``
# package; look modules up from the repository root instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.corpus import OUR_DOMAIN, generate_email_corpus  # noqa: E402

CORPUS_ROOT = BENCH_DIR / ".corpus"
OUT_DIR = BENCH_DIR / "out"
MANIFEST = "manifest.json"

console = Console(width=max(Console().width, 150))


@dataclass(slots=True)
class Result:
    target: str
    messages: int
    seconds: float
    imported: int | None = None
    duplicates: int | None = None
    quarantined: int | None = None
    ok: bool = True
    note: str = ""
    speedup: float | None = None  # a re-import: how many times faster than the first import

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


# ------------------------------------------------------------------ corpus


def corpus(emails: int, clients: int, seed: int) -> list[Path]:
    """The corpus files, generated once per (emails, clients, seed) and reused afterwards."""
    folder = CORPUS_ROOT / f"emails{emails}-clients{clients}-seed{seed}"
    manifest = folder / MANIFEST
    if manifest.exists():
        names = json.loads(manifest.read_text())["files"]
        paths = [folder / name for name in names]
        if all(path.exists() for path in paths):
            console.print(f"corpus: reusing {folder.relative_to(ROOT)} ({len(paths)} mbox files)")
            return paths
    started = time.perf_counter()
    paths = generate_email_corpus(folder, emails=emails, clients=clients, seed=seed)
    manifest.write_text(
        json.dumps({"emails": emails, "clients": clients, "seed": seed, "files": [path.name for path in paths]})
    )
    console.print(
        f"corpus: generated {emails} messages in {len(paths)} mbox files in {time.perf_counter() - started:.1f} s"
    )
    return paths


# ------------------------------------------------------------------ baselines


def bare_parse(paths: list[Path]) -> Result:
    """The stdlib loop every importer has to do at least."""
    count = 0
    started = time.perf_counter()
    for path in paths:
        box = mailbox.mbox(str(path), create=False)
        for key in box.iterkeys():
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            body = message.get_body(("plain", "html"))
            text = body.get_content() if body is not None else ""
            _fields = (message["From"], message["To"], message["Date"], message["Subject"], text)
            count += 1
        box.close()
    return Result("bare stdlib parse (baseline)", count, time.perf_counter() - started)


def bare_parse_compat32(paths: list[Path]) -> Result:
    """The same loop with the legacy compat32 policy (what ingest.mail uses), for reference."""
    count = 0
    started = time.perf_counter()
    for path in paths:
        box = mailbox.mbox(str(path), create=False)
        for key in box.iterkeys():
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.compat32)
            part = next(
                (part for part in message.walk() if part.get_content_type() in ("text/plain", "text/html")), None
            )
            payload = part.get_payload(decode=True) if part is not None else b""
            text = payload.decode(part.get_content_charset() or "utf-8", "replace") if part else ""
            _fields = (message["From"], message["To"], message["Date"], message["Subject"], text)
            count += 1
        box.close()
    return Result("bare stdlib parse, compat32 policy (reference)", count, time.perf_counter() - started)


def parser_only(paths: list[Path]) -> Result:
    """ingest.mail.parse without the database: how much of the import is parsing."""
    from ingest.records import Quarantined
    from ingest.sources import SOURCE_KINDS

    parse = SOURCE_KINDS["email"].parse
    count = quarantined = 0
    started = time.perf_counter()
    for path in paths:
        for item in parse(path):
            count += 1
            quarantined += isinstance(item, Quarantined)
    return Result(
        "ingest.mail.parse only (no DB)",
        count,
        time.perf_counter() - started,
        quarantined=quarantined,
        ok=quarantined == 0,
    )


# ------------------------------------------------------------------ databases


def fresh_sqlite() -> tuple[str, Callable[[], None]]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"bench-{os.getpid()}.db"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)

    def drop() -> None:
        from storage.db import get_engine

        get_engine(f"sqlite:///{path}").dispose()
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)

    return f"sqlite:///{path}", drop


def fresh_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server of ``url`` (the database named in ``url`` is left alone)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"dossier_bench_{os.getpid()}"

    def admin() -> psycopg.Connection:
        return psycopg.connect(
            host=base.host,
            port=base.port,
            user=base.username,
            password=base.password,
            dbname=base.database or "postgres",
            autocommit=True,
        )

    with admin() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    fresh = base.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        from storage.db import get_engine

        get_engine(fresh).dispose()
        with admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return fresh, drop


# ------------------------------------------------------------------ imports


def timed_import(
    label: str,
    paths: list[Path],
    url: str,
    want: tuple[int, int, int],
    *,
    workers: int,
    profile: Path | None = None,
) -> Result:
    """One import of ``paths``; ``want`` is (imported, duplicates, unchanged files), with nothing quarantined."""
    from ingest.options import ImportOptions
    from ingest.pipeline import import_paths

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    options = ImportOptions(internal_domains=(OUR_DOMAIN,), parse_workers=workers)
    report = import_paths(paths, database_url=url, options=options)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    if profiler and profile:
        profiler.dump_stats(profile)
    ok = (report.imported, report.duplicates, report.unchanged) == want and report.quarantined == 0
    note = "" if ok else f"expected imported/duplicates/unchanged files {'/'.join(map(str, want))}, no quarantine"
    return Result(label, want[0] + want[1], seconds, report.imported, report.duplicates, report.quarantined, ok, note)


def forget_imported_files(url: str) -> None:
    """Clear the record of files read, so that the next import reads every file again."""
    from sqlalchemy import delete

    from storage.db import session_scope
    from storage.models import ImportFile

    with session_scope(url) as session:
        session.execute(delete(ImportFile))
        session.commit()


def bench_database(
    name: str, url: str, paths: list[Path], expected: int, profile_dir: Path | None, workers: int
) -> list[Result]:
    from storage.db import upgrade_schema

    upgrade_schema(url)
    profile = profile_dir / f"import-{name.lower()}.prof" if profile_dir else None
    first = timed_import(f"import into {name}", paths, url, (expected, 0, 0), workers=workers, profile=profile)
    console.print(f"  {first.target}: {first.seconds:.1f} s")
    unchanged = timed_import(
        f"re-import into {name} (unchanged files, skipped)", paths, url, (0, 0, len(paths)), workers=workers
    )
    forget_imported_files(url)
    duplicates = timed_import(
        f"re-import into {name} (files forgotten: all duplicates)", paths, url, (0, expected, 0), workers=workers
    )
    for again in (unchanged, duplicates):
        again.speedup = first.seconds / again.seconds if again.seconds else None
        console.print(f"  {again.target}: {again.seconds:.2f} s, {again.speedup:.1f}x the first import")
    return [first, unchanged, duplicates]


# ------------------------------------------------------------------ report


def render(results: list[Result], baseline: Result, compat32: Result) -> Table:
    table = Table(title="Dossier import benchmark")
    for column, justify in (
        ("target", "left"),
        ("messages", "right"),
        ("seconds", "right"),
        ("messages/s", "right"),
        ("ratio to bare parse", "right"),
        ("ratio to compat32", "right"),
        ("x first import", "right"),
        ("imported / dup / quar.", "right"),
        ("check", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for result in results:
        counts = (
            ""
            if result.imported is None and result.quarantined is None
            else f"{result.imported or 0} / {result.duplicates or 0} / {result.quarantined or 0}"
        )
        table.add_row(
            result.target,
            f"{result.messages:,}",
            f"{result.seconds:.1f}",
            f"{result.rate:,.0f}",
            f"{result.rate / baseline.rate:.2f}",
            f"{result.rate / compat32.rate:.2f}",
            f"{result.speedup:.1f}" if result.speedup else "",
            counts,
            "ok" if result.ok else f"[red]FAIL[/red] {result.note}",
        )
    return table


def markdown(results: list[Result], baseline: Result, compat32: Result) -> str:
    lines = [
        "| target | messages | seconds | messages/s | ratio to bare parse | ratio to compat32 | x first import |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        speedup = f"{result.speedup:.1f}" if result.speedup else ""
        lines.append(
            f"| {result.target} | {result.messages:,} | {result.seconds:.2f} | {result.rate:,.0f} | "
            f"{result.rate / baseline.rate:.2f} | {result.rate / compat32.rate:.2f} | {speedup} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("DOSSIER_BENCH_POSTGRES_URL"),
        help="postgresql+psycopg://user@host:port/db (a fresh database is created "
        "on that server); default $DOSSIER_BENCH_POSTGRES_URL",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite import")
    parser.add_argument("--workers", type=int, default=2, help="parsing processes (ImportOptions.parse_workers)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the first import of each target into bench/out/*.prof"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = corpus(args.emails, args.clients, args.seed)
    console.print("baseline: bare stdlib parse ...")
    baseline = bare_parse(paths)
    compat32 = bare_parse_compat32(paths)
    results = [baseline, compat32, parser_only(paths)]
    profile_dir = OUT_DIR if args.profile else None
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
    targets: list[tuple[str, Callable[[], tuple[str, Callable[[], None]]]]] = []
    if not args.no_sqlite:
        targets.append(("SQLite", fresh_sqlite))
    if args.postgres:
        targets.append(("PostgreSQL", lambda: fresh_postgres(args.postgres)))
    for name, make in targets:
        console.print(f"{name}: fresh database ...")
        url, drop = make()
        try:
            results += bench_database(name, url, paths, baseline.messages, profile_dir, args.workers)
        finally:
            drop()
    console.print(render(results, baseline, compat32))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "ingest.json").write_text(
        json.dumps(
            {
                "emails": args.emails,
                "clients": args.clients,
                "seed": args.seed,
                "workers": args.workers,
                "results": [
                    asdict(result)
                    | {"rate": result.rate, "ratio": result.rate / baseline.rate}
                    | {"ratio_to_compat32": result.rate / compat32.rate}
                    for result in results
                ],
                "markdown": markdown(results, baseline, compat32),
            },
            indent=1,
        )
    )
    console.print(markdown(results, baseline, compat32), markup=False, highlight=False)
    if profile_dir:
        for prof in sorted(profile_dir.glob("import-*.prof")):
            console.print(f"\n[bold]{prof.name}[/bold] (top 25 by cumulative time)")
            pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(25)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
