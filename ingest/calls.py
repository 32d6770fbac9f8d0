"""Call recordings (wav, mp3, flac, ogg, m4a…) with metadata from a sidecar JSON or a ``calls.csv`` manifest.

Metadata fields (all optional): ``client`` (name, e-mail, domain or phone), ``phone`` (the client's
number), ``agent`` (our user's name), ``started_at`` (ISO 8601 or a written date; naive times are in
the import's source time zone), ``direction`` (inbound/outbound), ``language`` (ISO 639-1; empty means
detect) and, in a sidecar only, ``channels``: who speaks on which stereo channel, e.g.
``{"left": "agent", "right": "client"}`` or ``{"0": "client", "1": "agent"}``.

A sidecar is ``<stem>.json`` next to ``<stem>.wav``; the manifest ``calls.csv`` in the same folder
has a ``file`` column naming the audio file. Both are read with their audio and import nothing themselves.
"""

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingest.crm_csv import parse_datetime
from ingest.decoding import decode_text
from ingest.records import ParsedRecording, ParseError, ParseResult, Party
from ingest.textfile import DEFAULT_ZONE, quarantine_file
from storage.models import ContactKind

AUDIO_SUFFIXES = frozenset(
    {".wav", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aiff", ".aif", ".wma", ".amr"}
)
MANIFEST_NAME = "calls.csv"
CHANNEL_NAMES = {"0": 0, "1": 1, "left": 0, "right": 1}
DIRECTIONS = {"inbound": False, "incoming": False, "in": False, "outbound": True, "outgoing": True, "out": True}
HASH_CHUNK = 1 << 20
HEAD_BYTES = 4096


def sniff(path: Path, head: bytes) -> bool:
    """An audio file by extension, or call metadata: a sidecar JSON next to one, or ``calls.csv``."""
    if not path.is_file():
        return False
    return is_audio(path) or _is_sidecar(path) or _is_manifest(path, head)


def is_audio(path: Path) -> bool:
    """True for a file with an audio extension."""
    return path.suffix.lower() in AUDIO_SUFFIXES


def parse(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
    """The recording in ``path`` with its metadata (a start time without a zone is in ``zone``); a metadata file
    yields nothing by itself."""
    if _is_sidecar(path) or _is_manifest(path, _head(path)):
        return
    if not is_audio(path):
        yield quarantine_file(path, f"not an audio file: expected one of {', '.join(sorted(AUDIO_SUFFIXES))}")
        return
    try:
        digest, size = _sha256(path)
        if size == 0:
            raise ParseError("empty audio file (0 bytes)")
        yield _recording(path, digest, _metadata(path), zone)
    except OSError as error:
        yield quarantine_file(path, f"cannot read file: {error.strerror or error}")
    except ParseError as error:
        yield quarantine_file(path, str(error))


def _recording(path: Path, digest: str, meta: dict[str, Any], zone: ZoneInfo) -> ParsedRecording:
    phone, client = meta.get("phone") or None, meta.get("client") or None
    direction = (meta.get("direction") or "").strip().lower()
    if direction and direction not in DIRECTIONS:
        raise ParseError(f"unknown direction {direction!r}: expected inbound or outbound")
    extra: dict[str, Any] = {"channels": _channels(meta.get("channels"))}
    extra.update({key: value for key, value in (("phone", phone), ("client_name", client)) if value})
    return ParsedRecording(
        path=path,
        content_hash=digest,
        started_at=parse_datetime(meta["started_at"], zone).astimezone(UTC) if meta.get("started_at") else None,
        client=Party(name=client, kind=ContactKind.PHONE if phone else None, value=phone),
        client_hint=client,
        agent=meta.get("agent") or None,
        outbound=DIRECTIONS.get(direction),
        language=(meta.get("language") or "").strip().lower() or None,
        meta=extra,
    )


def _metadata(path: Path) -> dict[str, Any]:
    """The sidecar's fields, else the manifest row for ``path``, else nothing."""
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        try:
            fields = json.loads(decode_text(sidecar.read_bytes()).text)
        except (json.JSONDecodeError, ParseError) as error:
            raise ParseError(f"unreadable sidecar {sidecar.name}: {error}") from error
        if not isinstance(fields, dict):
            raise ParseError(f"sidecar {sidecar.name} is not a JSON object")
        return {key: value if key == "channels" else str(value) for key, value in fields.items() if value is not None}
    manifest = path.parent / MANIFEST_NAME
    if manifest.is_file():
        rows = csv.DictReader(decode_text(manifest.read_bytes()).text.splitlines())
        for row in rows:
            cells = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
            if cells.get("file") == path.name:
                return cells
    return {}


def _channels(mapping: object) -> dict[str, str]:
    """A sidecar's channel mapping as {"0": speaker, "1": speaker}; default agent left, client right."""
    if mapping is None:
        return {"0": "agent", "1": "client"}
    if not isinstance(mapping, dict) or not all(str(k).lower() in CHANNEL_NAMES for k in mapping):
        raise ParseError(f'bad channels mapping {mapping!r}: expected e.g. {{"left": "agent", "right": "client"}}')
    return {str(CHANNEL_NAMES[str(k).lower()]): str(v).strip().lower() for k, v in mapping.items()}


def _is_sidecar(path: Path) -> bool:
    return path.suffix.lower() == ".json" and any(
        sibling.suffix.lower() in AUDIO_SUFFIXES for sibling in path.parent.glob(f"{_glob_escape(path.stem)}.*")
    )


def _is_manifest(path: Path, head: bytes) -> bool:
    if path.name.lower() != MANIFEST_NAME:
        return False
    header = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:1]
    return bool(header) and "file" in {cell.strip().lower() for cell in header[0].split(",")}


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def _glob_escape(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
