"""Helpers shared by the parser tests: files written in a chosen encoding, results split by type."""

from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.records import ParsedInteraction, Quarantined

WARSAW = ZoneInfo("Europe/Warsaw")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """``text`` written to ``tmp_path / name`` in ``encoding``."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def split(results: Iterable) -> tuple[list[ParsedInteraction], list[Quarantined]]:
    """A parser's results as (interactions, quarantined)."""
    results = list(results)
    return (
        [r for r in results if isinstance(r, ParsedInteraction)],
        [r for r in results if isinstance(r, Quarantined)],
    )
