"""The registry of source kinds: how to recognise a file of each kind and which parser reads it."""

import errno
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest import calls, crm_csv, mail, telegram, whatsapp
from ingest.records import Parser

HEAD_BYTES = 4096
#: Bytes no text export holds (C0 controls other than tab, line breaks and form feed): a binary file.
BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f]")


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
    """The first bytes of a regular file (empty for anything else, or when it cannot be read)."""
    if not path.is_file():
        return b""
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""  # its parser reports why it cannot be read


def detect_kind(path: Path) -> str | None:
    """The name of the first source kind that recognises ``path``, or None (also for unreadable paths)."""
    if unreadable_reason(path) is not None:
        return None
    head = read_head(path)
    for kind in SOURCE_KINDS.values():
        if kind.sniff(path, head):
            return kind.name
    return None


def unreadable_reason(path: Path) -> str | None:
    """Why ``path`` is no source at all (a dangling or looping link, a pipe or device), or None for a file or folder."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if path.is_symlink() and error.errno == errno.ELOOP:
            return f"symbolic link loop: {path} links to {os.readlink(path)}, which never reaches a file"
        if path.is_symlink():
            return f"dangling symbolic link to {os.readlink(path)}: nothing to read"
        return f"cannot read: {error.strerror or error}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return symlink_loop_reason(path)
    return f"not a regular file or folder ({_file_type(mode)}): nothing read"


def symlink_loop_reason(path: Path) -> str | None:
    """Why walking ``path`` would never end: it links to a folder it is in (None: it is no such link).

    Checked on the path as walked, so a loop through several links is caught at the link that closes it.
    """
    if not path.is_symlink():
        return None
    target = path.resolve()
    if any(folder.resolve() == target for folder in path.parents):
        return f"symbolic link loop: {path} links to {os.readlink(path)}, a folder that holds it"
    return None


def unknown_format_reason(path: Path) -> str:
    """Why no source kind recognises ``path``: binary content, or a format none of them reads."""
    if BINARY_BYTES.search(read_head(path)):
        return "unknown format: binary content (control bytes), not a text export"
    return f"unknown format: not {', '.join(SOURCE_KINDS)}"


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "an unknown file type"
