"""SQLAlchemy 2 typed models: the whole Dossier schema (migrations live in ``migrations/``)."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The scope every user may read; interactions without an explicit visibility get it.
PUBLIC_SCOPE = "all"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend.

    SQLite keeps no offset: a +03:00 time would come back three hours off. Values are converted to
    UTC on the way in (naive values are refused) and come back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[object, type[TypeEngine[Any]] | TypeEngine[Any]]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime(),
    }


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    CALL = "call"
    NOTE = "note"
    DEAL_EVENT = "deal_event"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


class ContactKind(StrEnum):
    EMAIL = "email"
    DOMAIN = "domain"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255), unique=True, doc="casefolded name, for lookup")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), doc="account manager")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contacts: Mapped[list["Contact"]] = relationship(back_populates="client")


class Contact(Base):
    """An identifier (address, domain, phone, handle) that tells which client a party belongs to."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320), doc="normalized: lower-case e-mail, E.164 phone")
    display_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship(back_populates="contacts")


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class User(Base):
    """A person on our side: rep, manager, operator. Their addresses mark our side of a thread."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), default="rep")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    language: Mapped[str] = mapped_column(String(8), default="en", doc="language summaries are written in")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Scope(Base):
    """A visibility scope: an interaction belongs to one; users read the scopes granted to them."""

    __tablename__ = "scopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class ScopeGrant(Base):
    """Grants a scope to a whole team or to one user."""

    __tablename__ = "scope_grants"
    __table_args__ = (UniqueConstraint("scope_id", "team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    paths: Mapped[list[Any]] = mapped_column(default=list)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (UniqueConstraint("client_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    stage: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime | None]


class Interaction(Base):
    """One message, note, call or deal event, normalized across channels."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_client_time", "client_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16), default=Direction.UNKNOWN)
    author: Mapped[str | None] = mapped_column(String(320), doc="display name or address of the author")
    author_contact: Mapped[str | None] = mapped_column(String(320), doc="normalized address/phone/handle")
    participants: Mapped[list[Any]] = mapped_column(default=list, doc="[{name, kind, value}]")
    occurred_at: Mapped[datetime]
    language: Mapped[str | None] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, doc="the new text only")
    quoted_text: Mapped[str] = mapped_column(Text, default="", doc="quoted earlier messages")
    signature: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list, doc="attachment file names")
    source_kind: Mapped[str] = mapped_column(String(16), doc="email, whatsapp, telegram, notes, deals, calls")
    source_ref: Mapped[str] = mapped_column(Text, doc="where the original is: Message-ID, file#line")
    external_id: Mapped[str | None] = mapped_column(String(998))
    thread_ref: Mapped[str | None] = mapped_column(String(998))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(255), default=PUBLIC_SCOPE, doc="visibility scope name")
    privileged: Mapped[bool] = mapped_column(Boolean, default=False, doc="legally privileged: never summarized")
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id", ondelete="SET NULL"))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    decode_issue: Mapped[str | None] = mapped_column(
        Text, doc="decode_suspect: why the decoded text may not be what was written (None when it decoded cleanly)"
    )


class Recording(Base):
    """A call recording; its transcript segments become the body of a ``call`` interaction."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime | None]
    agent: Mapped[str | None] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(16), default=Direction.UNKNOWN)
    duration_s: Mapped[float | None] = mapped_column(Float)
    channels: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, done, quarantined")
    model: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TranscriptSegment(Base):
    __tablename__ = "transcript_segments"
    __table_args__ = (Index("ix_transcript_segments_recording_start", "recording_id", "start_s"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(64), doc="agent / client / unknown")
    channel: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    no_speech_prob: Mapped[float | None] = mapped_column(Float)


class SummaryNode(Base):
    """A node of a client's summary tree: a time bucket (or chunk of one) and its structured notes."""

    __tablename__ = "summary_nodes"
    __table_args__ = (
        UniqueConstraint("client_id", "scope_key", "level", "bucket_start", "chunk"),
        Index("ix_summary_nodes_input_hash", "input_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(255), doc="the set of scopes it was built from")
    level: Mapped[str] = mapped_column(String(16), doc="chunk, day, week, month, year, root, prose")
    bucket_start: Mapped[datetime]
    bucket_end: Mapped[datetime]
    chunk: Mapped[int] = mapped_column(Integer, default=0)
    input_hash: Mapped[str] = mapped_column(String(64), doc="hash of inputs + prompt + model version")
    engine: Mapped[str] = mapped_column(String(64))
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RenderedSummary(Base):
    """A summary rendered in one format and language; the cache of record behind Redis."""

    __tablename__ = "rendered_summaries"
    __table_args__ = (UniqueConstraint("client_id", "scope_key", "format", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16), doc="brief, structured, timeline, actions")
    language: Mapped[str] = mapped_column(String(8))
    root_hash: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(64))
    markdown: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(16))
    root_hash: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16), doc="useful or missing")
    comment: Mapped[str | None] = mapped_column(Text)


class CorrectionMark(Base):
    """Marks a note as a reader's correction of a summary, and names the claim it corrects. Only the card writes
    these rows (``storage.corrections``): no imported text makes a note a correction."""

    __tablename__ = "corrections"

    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True, doc="the note holding the text"
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claim_kind: Mapped[str | None] = mapped_column(String(16), doc="the corrected claim's kind (None: no claim named)")
    claim_topic: Mapped[str | None] = mapped_column(Text)
    claim_hash: Mapped[str | None] = mapped_column(String(64), doc="sha256 of the corrected claim's normalized text")
    claim_sources: Mapped[list[Any]] = mapped_column(default=list, doc="interaction ids the corrected claim cited")
    engine: Mapped[str | None] = mapped_column(String(64), doc="the engine whose summary was corrected")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantineItem(Base):
    """An input that could not be imported, kept whole with the reason, so nothing is lost."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True, doc="sha256 of source, item and reason")
    source_path: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str | None] = mapped_column(String(16))
    item_ref: Mapped[str | None] = mapped_column(Text, doc="which part of the source: message 17, line 40")
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(
        LargeBinary, doc="the bytes that failed, when small; larger inputs are kept in quarantine_blobs"
    )
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class QuarantineBlob(Base):
    """One piece of a large quarantined input, stored in order so nothing is lost and memory stays bounded."""

    __tablename__ = "quarantine_blobs"
    __table_args__ = (UniqueConstraint("quarantine_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarantine_id: Mapped[int] = mapped_column(ForeignKey("quarantine.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer, doc="0, 1, 2 …: the pieces concatenated are the input")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RefreshRequest(Base):
    """A client whose summaries are stale and wait for a (debounced) refresh."""

    __tablename__ = "refresh_queue"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, doc="first request since the last refresh")
    last_change_at: Mapped[datetime] = mapped_column(default=utcnow, doc="newest change: debounce counts from it")
    reason: Mapped[str] = mapped_column(String(64), default="new data")
    important: Mapped[bool] = mapped_column(Boolean, default=False, doc="deal closed, complaint, escalation")


class BuildRequest(Base):
    """A summary a reader asked for that does not exist (or is stale and no refresh rebuilds it): one client,
    scope set and language. The web service queues it; the batch builds it once and deletes it."""

    __tablename__ = "build_requests"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(255), primary_key=True, doc="the scope set, as scope_key() names it")
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, doc="first request since the last build")


class SummaryRun(Base):
    """One summarize run: what it rebuilt and what the models consumed."""

    __tablename__ = "summary_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    engine: Mapped[str] = mapped_column(String(64))
    clients: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    nodes_total: Mapped[int] = mapped_column(Integer, default=0)
    nodes_recomputed: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    ungrounded: Mapped[int] = mapped_column(Integer, default=0, doc="claims dropped by the grounding check")
    errors: Mapped[list[Any]] = mapped_column(default=list, doc="[{client_id, error}]")


class ApiToken(Base):
    """A user's API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="api", doc="api (created by a user) or session (web login)")
    expires_at: Mapped[datetime | None] = mapped_column(doc="None: valid until revoked")


class Delivery(Base):
    """An outgoing message (digest e-mail, event notification): kept until sent, retried, never lost."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("kind", "user_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), doc="digest, notification")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(64), doc="what it is for, e.g. 2026-W47: makes it idempotent")
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, sent, failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Report(Base):
    """A generated quarterly review or handover report."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), doc="quarterly, handover")
    period: Mapped[str | None] = mapped_column(String(32), doc="2025Q4 for quarterly reviews")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    html_path: Mapped[str | None] = mapped_column(Text)
    pdf_path: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportFile(Base):
    """A file an import read whole: a later import skips it while its size, mtime and hash are unchanged."""

    __tablename__ = "import_files"

    path: Mapped[str] = mapped_column(Text, primary_key=True, doc="the resolved absolute path")
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailCorrespondence(Base):
    """How many stored e-mail messages one set of e-mail addresses exchanged: the our-side inference reads this
    tally instead of every stored message."""

    __tablename__ = "email_correspondence"

    addresses_key: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of the sorted addresses")
    addresses: Mapped[list[Any]] = mapped_column(doc="the normalized addresses, sorted")
    messages: Mapped[int] = mapped_column(Integer)


class ImapSource(Base):
    """A mailbox synced over IMAP. Its password is never stored: only the environment variable or file holding it."""

    __tablename__ = "imap_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(320))
    security: Mapped[str] = mapped_column(String(16), doc="tls, starttls or plain")
    folders: Mapped[list[Any]] = mapped_column(default=list, doc="empty: INBOX and the folders marked \\Sent")
    address: Mapped[str] = mapped_column(String(320), doc="our e-mail address in this mailbox")
    password_env: Mapped[str | None] = mapped_column(String(255), doc="the environment variable holding the password")
    password_file: Mapped[str | None] = mapped_column(Text, doc="or the file holding it")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class ImapFolder(Base):
    """How far one folder of an IMAP source is synced: its UIDVALIDITY and the highest UID stored."""

    __tablename__ = "imap_folders"

    source_id: Mapped[int] = mapped_column(ForeignKey("imap_sources.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarSource(Base):
    """A calendar read for meetings: an iCalendar file or URL, or a CalDAV collection. Its password is never
    stored: only the environment variable or file holding it."""

    __tablename__ = "calendar_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16), doc="ics or caldav")
    location: Mapped[str] = mapped_column(Text, doc="the URL, or the .ics file's path")
    username: Mapped[str | None] = mapped_column(String(320))
    password_env: Mapped[str | None] = mapped_column(String(255), doc="the environment variable holding the password")
    password_file: Mapped[str | None] = mapped_column(Text, doc="or the file holding it")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Meeting(Base):
    """One occurrence of a calendar event (a recurring event has one per repetition) as its source's last sync
    read it: what the pre-meeting briefs are sent for."""

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("source_id", "uid", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("calendar_sources.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(512), doc="the event's UID: the same in every calendar holding it")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), doc="the zone its start is written in (IANA name)")
    title: Mapped[str] = mapped_column(Text)
    organizer: Mapped[str | None] = mapped_column(String(320), doc="e-mail address, lower-case")
    attendees: Mapped[list[Any]] = mapped_column(default=list, doc="e-mail addresses, lower-case")


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CrmSuggestion(Base):
    """A suggested update of a client's directory (a contact, a title, a deal stage) waiting for a person.

    Unique per client and key: re-running the proposals adds nothing, and a rejected one is not proposed again.
    """

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), doc="new_contact, phone_change, title_change, decision_maker, …")
    key: Mapped[str] = mapped_column(String(64), doc="sha256 of what it proposes (summarizer.suggestions key)")
    payload: Mapped[dict[str, Any]] = mapped_column(doc="summarizer.suggestions.Payload as JSON")
    source_ids: Mapped[list[Any]] = mapped_column(default=list, doc="the interactions it cites")
    status: Mapped[str] = mapped_column(String(16), default=SuggestionStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(255), doc="login of who accepted or rejected it")
    decided_at: Mapped[datetime | None]


class SuggestionScan(Base):
    """How far a client's history has been read for suggestions: the highest interaction id read."""

    __tablename__ = "suggestion_scans"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    last_interaction_id: Mapped[int] = mapped_column(Integer)
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)
