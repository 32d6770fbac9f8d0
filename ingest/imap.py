"""Sync e-mail from IMAP mailboxes with the stdlib ``imaplib``: each run fetches only the messages not stored yet.

Per folder the sync keeps the server's UIDVALIDITY and the highest UID stored (``storage.imap_sources``):
a run asks for the UIDs above it (``UID SEARCH``) and fetches them in batches (``UID FETCH`` with
``BODY.PEEK[]``, so nothing is marked read); each batch is imported and the folder's new last UID is
committed with it, so a run cut off mid-fetch loses only the batch in flight and the next run fetches
just what is missing. When UIDVALIDITY changes (the folder was recreated) the old UIDs mean nothing:
the folder is read again from UID 1 and the import's Message-ID and content-hash dedupe keeps every
message once. Without configured folders a mailbox syncs INBOX and the folders marked ``\\Sent``
(RFC 6154): the mailbox's own address is our side, so its mail from there is outbound.
"""

import imaplib
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy.orm import Session

from ingest.options import ImportOptions
from ingest.ourside import OurSide
from ingest.pipeline import Importer
from storage import imap_sources, repository
from storage.db import session_scope
from storage.errors import DossierError

INBOX = "INBOX"
SENT_FLAG = "\\sent"
#: UIDs fetched per command: what a cut connection can cost, and the unit committed with the folder's state.
FETCH_BATCH = 50
TIMEOUT_SECONDS = 60.0
#: One line of a LIST answer: ``(\HasNoChildren \Sent) "/" Sent`` (the name may be quoted).
LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)', re.IGNORECASE)
UID_FIELD = re.compile(rb"\bUID (\d+)", re.IGNORECASE)


class Security(StrEnum):
    """How the connection is protected: TLS from the start, STARTTLS on the plain port, or not at all."""

    TLS = "tls"
    STARTTLS = "starttls"
    PLAIN = "plain"

    @property
    def default_port(self) -> int:
        return 993 if self is Security.TLS else 143


class ImapError(DossierError):
    """A mailbox could not be read: login refused, connection lost, a folder missing, an answer not understood."""


@dataclass(frozen=True, slots=True)
class Mailbox:
    """What a sync needs to read one mailbox; the application reads the password from where its source says."""

    name: str
    host: str
    port: int
    user: str
    password: str
    security: Security
    address: str  # our e-mail address in this mailbox
    folders: tuple[str, ...] = ()  # empty: INBOX and the folders marked \Sent


class SyncProgress(NamedTuple):
    """Where a sync is: messages fetched of the folder's new ones."""

    mailbox: str
    folder: str
    done: int
    total: int


@dataclass(slots=True)
class SyncReport:
    """What one sync of a mailbox did; ``error`` says why it stopped early (what it stored before stays)."""

    mailbox: str
    fetched: int = 0
    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rescanned: list[str] = field(default_factory=list)  # folders whose UIDVALIDITY changed
    changed_clients: set[int] = field(default_factory=set)
    error: str | None = None

    def summary(self) -> str:
        """The line the CLI prints for the mailbox."""
        rescanned = f", re-read {', '.join(self.rescanned)} (UIDVALIDITY changed)" if self.rescanned else ""
        line = (
            f"{self.mailbox}: {self.fetched} fetched, {self.imported} imported, {self.duplicates} duplicates, "
            f"{self.quarantined} quarantined{rescanned}"
        )
        return f"{line}; failed: {self.error}" if self.error else line


SyncCallback = Callable[[SyncProgress], None]


def sync_mailbox(
    mailbox: Mailbox,
    *,
    source_id: int,
    database_url: str,
    options: ImportOptions = ImportOptions(),
    on_progress: SyncCallback | None = None,
    batch_size: int = FETCH_BATCH,
    timeout: float = TIMEOUT_SECONDS,
) -> SyncReport:
    """Fetch and import the messages of ``mailbox`` not stored yet, folder by folder, in one import run.

    Never raises for a mailbox that cannot be read (login refused, connection lost, a folder missing):
    the report's ``error`` says why, and what was stored before stays (a folder's state advances only
    with the batches stored).
    """
    report = SyncReport(mailbox.name)
    batch = max(1, min(batch_size, options.batch_size))  # one commit per batch: the state goes with it
    with session_scope(database_url) as session:
        run_id = repository.start_import_run(session, [f"imap:{mailbox.name}"])
        session.commit()
        importer = Importer(session, options, run_id, None, OurSide(addresses=frozenset({mailbox.address.lower()})))
        folder_sync = _FolderSync(session, importer, mailbox, source_id, report, on_progress or _ignore, batch)
        try:
            with connected(mailbox, timeout) as client:
                for folder in folders_to_sync(client, mailbox.folders):
                    folder_sync.run(client, folder)
        except (ImapError, imaplib.IMAP4.error, OSError) as error:
            report.error = _error_text(mailbox, error)
        finally:
            importer.close()
        stored = importer.report
        report.imported, report.duplicates, report.quarantined = stored.imported, stored.duplicates, stored.quarantined
        report.changed_clients = stored.changed_clients
        repository.finish_import_run(
            session, run_id, imported=stored.imported, duplicates=stored.duplicates, quarantined=stored.quarantined
        )
        imap_sources.record_sync(session, source_id, report.error)
    return report


class _FolderSync:
    """Syncs one folder after another of a mailbox into one importer."""

    def __init__(
        self,
        session: Session,
        importer: Importer,
        mailbox: Mailbox,
        source_id: int,
        report: SyncReport,
        on_progress: SyncCallback,
        batch_size: int,
    ):
        self._session, self._importer, self._mailbox = session, importer, mailbox
        self._source_id, self._report, self._tell, self._batch_size = source_id, report, on_progress, batch_size

    def run(self, client: imaplib.IMAP4, folder: str) -> None:
        """Import the folder's messages above its last stored UID, batch by batch."""
        uidvalidity = examine(client, folder)
        state, renumbered = imap_sources.folder_state(self._session, self._source_id, folder, uidvalidity)
        if renumbered:
            self._report.rescanned.append(folder)
        uids = uids_after(client, state.last_uid)
        for start in range(0, len(uids), self._batch_size):
            batch = uids[start : start + self._batch_size]
            for uid, raw in fetch(client, batch):
                self._importer.import_messages([raw], f"imap:{self._mailbox.name}/{folder};UID={uid}")
                self._report.fetched += 1
            imap_sources.advance(state, batch[-1])
            self._importer.flush()  # commits the messages and the folder's state together
            self._tell(SyncProgress(self._mailbox.name, folder, start + len(batch), len(uids)))
        self._session.commit()


@contextmanager
def connected(mailbox: Mailbox, timeout: float = TIMEOUT_SECONDS) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection to the mailbox's server, protected as its ``security`` says; logged out after."""
    client = _open(mailbox, timeout)
    try:
        try:
            client.login(mailbox.user, mailbox.password)
        except imaplib.IMAP4.error as error:
            raise ImapError(f"login as {mailbox.user!r} refused: {_text(error)}") from error
        yield client
    finally:
        with suppress(imaplib.IMAP4.error, OSError):  # a connection gone already has nothing left to close
            client.logout()


def _open(mailbox: Mailbox, timeout: float) -> imaplib.IMAP4:
    if mailbox.security is Security.TLS:
        return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=timeout)
    client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
    if mailbox.security is Security.STARTTLS:
        client.starttls(ssl.create_default_context())
    return client


def folders_to_sync(client: imaplib.IMAP4, configured: tuple[str, ...]) -> list[str]:
    """The configured folders (each must exist), else INBOX and the folders the server marks ``\\Sent``."""
    listed = list_folders(client)
    if configured:
        missing = [name for name in configured if name not in listed and name.upper() != INBOX]
        if missing:
            raise ImapError(f"no folder {', '.join(map(repr, missing))} on the server (it has: {', '.join(listed)})")
        return list(configured)
    return [INBOX, *(name for name, flags in listed.items() if SENT_FLAG in flags and name.upper() != INBOX)]


def list_folders(client: imaplib.IMAP4) -> dict[str, set[str]]:
    """Every folder's name (as the server spells it) and its flags, lower-cased."""
    typ, data = client.list()
    _require_ok(typ, data, "LIST")
    folders: dict[str, set[str]] = {}
    for entry in data:
        line, literal_name = entry if isinstance(entry, tuple) else (entry, None)  # a name may come as a literal
        match = LIST_LINE.match(line or b"")
        if match:
            flags = {flag.lower() for flag in match["flags"].decode("ascii", "replace").split()}
            folders[_unquote(literal_name or match["name"])] = flags
    return folders


def examine(client: imaplib.IMAP4, folder: str) -> int:
    """Open ``folder`` read-only; its UIDVALIDITY."""
    typ, data = client.select(quoted(folder), readonly=True)
    if typ != "OK":
        raise ImapError(f"cannot open folder {folder!r}: {_text(data)}")
    _name, values = client.response("UIDVALIDITY")
    if not values or not values[-1]:
        raise ImapError(f"the server sent no UIDVALIDITY for folder {folder!r}: its messages cannot be tracked")
    return int(values[-1])


def uids_after(client: imaplib.IMAP4, last_uid: int) -> list[int]:
    """The UIDs of the open folder above ``last_uid``, ascending (``n:*`` also names the highest one: dropped)."""
    typ, data = client.uid("SEARCH", "UID", f"{last_uid + 1}:*")
    _require_ok(typ, data, "UID SEARCH")
    return sorted(uid for uid in {int(word) for line in data if line for word in line.split()} if uid > last_uid)


def fetch(client: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    """The raw messages of these UIDs of the open folder (those still there), without marking them read."""
    typ, data = client.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    _require_ok(typ, data, "UID FETCH")
    messages = []
    for position, entry in enumerate(data):
        if not isinstance(entry, tuple):
            continue  # the closing parenthesis, or an unasked-for flag update
        following = data[position + 1] if position + 1 < len(data) else b""
        uid = UID_FIELD.search(entry[0]) or UID_FIELD.search(following if isinstance(following, bytes) else b"")
        if uid is None:
            raise ImapError(f"UID FETCH answer without a UID: {entry[0][:80]!r}")
        messages.append((int(uid[1]), entry[1]))
    return messages


def quoted(folder: str) -> str:
    """A folder name as an IMAP quoted string (names may hold spaces)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(name: bytes) -> str:
    text = name.decode("utf-8", "replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _require_ok(typ: str, data: Sequence[object], command: str) -> None:
    if typ != "OK":
        raise ImapError(f"{command} failed: {_text(data)}")


def _text(value: object) -> str:
    """Server words (bytes, lists of bytes or an exception's) as text."""
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else type(value).__name__
    if isinstance(value, list):
        value = b" ".join(part for part in value if isinstance(part, bytes))
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _error_text(mailbox: Mailbox, error: Exception) -> str:
    where = f"{mailbox.host}:{mailbox.port}"
    if isinstance(error, ImapError):
        return f"{where}: {error}"
    if isinstance(error, imaplib.IMAP4.abort):
        return f"{where}: connection lost: {_text(error)}"
    if isinstance(error, ssl.SSLError):
        return f"{where}: TLS failed ({mailbox.security}): {error}"
    if isinstance(error, OSError):
        return f"{where}: cannot connect: {error.strerror or error}"
    return f"{where}: {_text(error)}"


def _ignore(_progress: SyncProgress) -> None:
    """The progress callback of a sync nobody watches."""
