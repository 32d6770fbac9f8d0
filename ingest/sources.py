"""The registry of source kinds: how to recognise a file of each kind and which parser reads it."""

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

from ingest import calls, crm_csv, mail, telegram, whatsapp
from ingest.records import Parser

HEAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class SourceKind:
    """A kind of input: ``sniff(path, head)`` says whether a path is of this kind."""

    name: str
    sniff: Callable[[Path, bytes], bool]
    parse: Parser


SOURCE_KINDS: dict[str, SourceKind] = {
    kind.name: kind
    for kind in (
        SourceKind("clients", crm_csv.sniff_clients, crm_csv.parse_clients),
        SourceKind("email", mail.sniff, mail.parse),
        SourceKind("whatsapp", whatsapp.sniff, whatsapp.parse),
        SourceKind("telegram", telegram.sniff, telegram.parse),
        SourceKind("notes", crm_csv.sniff_notes, crm_csv.parse_notes),
        SourceKind("deals", crm_csv.sniff_deals, crm_csv.parse_deals),
        SourceKind("calls", calls.sniff, calls.parse),
    )
}


def read_head(path: Path) -> bytes:
    """The first bytes of a file (empty for a directory)."""
    if path.is_dir():
        return b""
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def detect_kind(path: Path) -> str | None:
    """The name of the first source kind that recognises ``path``, or None."""
    head = read_head(path)
    for kind in SOURCE_KINDS.values():
        if kind.sniff(path, head):
            return kind.name
    return None
