"""Helpers shared by the parser tests: files written in a chosen encoding, mailboxes, results split by type."""

import mailbox
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.records import ParsedInteraction, Quarantined

WARSAW = ZoneInfo("Europe/Warsaw")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """``text`` written to ``tmp_path / name`` in ``encoding``."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    """``messages`` written to a new mbox file at ``path``."""
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message)
    box.flush()
    box.close()
    return path


def split(results: Iterable) -> tuple[list[ParsedInteraction], list[Quarantined]]:
    """A parser's results as (interactions, quarantined)."""
    results = list(results)
    return (
        [r for r in results if isinstance(r, ParsedInteraction)],
        [r for r in results if isinstance(r, Quarantined)],
    )
