"""What a parser yields: parsed interactions, or inputs to quarantine. Parsers never touch the DB."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.models import Channel, ContactKind


class ParseError(Exception):
    """Raised inside a parser for one bad item; the parser turns it into a ``Quarantined``."""


@dataclass(frozen=True, slots=True)
class Party:
    """A participant: a display name and, when known, one identifier of a contact kind.

    ``value`` is raw as found in the source (the pipeline normalizes e-mail case and phone numbers).
    """

    name: str | None = None
    kind: ContactKind | None = None
    value: str | None = None

    def as_participant(self) -> dict[str, Any]:
        """The party as an interaction's ``participants`` entry stores it (what ``dataclasses.asdict`` gives)."""
        return {"name": self.name, "kind": self.kind, "value": self.value}


@dataclass(slots=True)
class ParsedInteraction:
    """One message, note or deal event read from a source, not yet tied to a client."""

    channel: Channel
    occurred_at: datetime  # timezone-aware
    body: str  # the new text only
    source_kind: str  # email, whatsapp, telegram, notes, deals, calls
    source_ref: str  # where to open the original: Message-ID, or "path#line 12"
    author: Party = field(default_factory=Party)
    recipients: list[Party] = field(default_factory=list)
    subject: str | None = None
    quoted_text: str = ""
    signature: str = ""
    attachments: list[str] = field(default_factory=list)
    external_id: str | None = None  # e-mail Message-ID, Telegram message id, deal id
    thread_ref: str | None = None  # first References id / In-Reply-To / chat name
    client_hint: str | None = None  # chat title, CSV client column: a name, e-mail, domain or phone
    outbound: bool | None = None  # known direction from the source (None: decide from parties)
    scope: str | None = None  # visibility scope name (None: public)
    privileged: bool = False
    language: str | None = None  # None: detected by the pipeline
    bulk: bool = False  # mailing list or mass mail: its recipients never identify the client
    decode_issue: str | None = None  # why the text may not be exactly what was written (None: decoded cleanly)
    meta: dict[str, Any] = field(default_factory=dict)  # deal stage/amount, html flag, MIME defects


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An input item that could not be imported: why, where, and its bytes so nothing is lost."""

    source_path: str
    reason: str
    item_ref: str | None = None  # "message 17", "line 40"; None means the whole file
    raw: bytes | None = None  # None means the whole file at source_path


@dataclass(slots=True)
class ParsedRecording:
    """A call recording to register; it becomes a ``call`` interaction once transcribed."""

    path: Path  # the audio file
    content_hash: str  # sha256 of the audio bytes: the recording's identity
    started_at: datetime | None  # timezone-aware
    client: Party = field(default_factory=Party)  # the client's side: phone (ContactKind.PHONE) and/or name
    client_hint: str | None = None  # a client name, e-mail, domain or phone from the metadata
    agent: str | None = None  # our user's name
    outbound: bool | None = None
    language: str | None = None  # None: detect when transcribing
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"channels": {"0": "agent", "1": "client"}}


@dataclass(slots=True)
class ParsedClient:
    """A client directory entry (CRM accounts export): the authority on names and contacts."""

    name: str
    contacts: list[Party]  # kinds DOMAIN, EMAIL, PHONE, TELEGRAM, WHATSAPP; raw values
    owner: str | None = None  # login or e-mail of the account manager
    source_ref: str = ""


ParseResult = ParsedInteraction | ParsedRecording | ParsedClient | Quarantined
#: A source kind's reader: ``parse(path, zone)``, times written without a zone read in ``zone``.
Parser = Callable[[Path, ZoneInfo], Iterator[ParseResult]]
