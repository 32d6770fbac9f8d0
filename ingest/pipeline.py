"""Import files and folders: detect each source's kind, parse, resolve clients, store, quarantine."""

import email
import hashlib
import json
import mailbox
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from ingest import mail
from ingest.mail import RawMessage
from ingest.normalize import content_hash, email_id_hash, normalize_party
from ingest.options import ImportOptions
from ingest.ourside import OurSide, correspondence_key, infer_our_side
from ingest.parallel_parse import CHUNK_MESSAGES, ParsePool, Preparation, chunks, prepare
from ingest.records import (
    ParsedClient,
    ParsedInteraction,
    ParsedRecording,
    ParseError,
    ParseResult,
    Quarantined,
)
from ingest.resolve import ClientResolver
from ingest.sources import (
    SOURCE_KINDS,
    detect_kind,
    symlink_loop_reason,
    unknown_format_reason,
    unreadable_reason,
)
from storage import repository
from storage.changes import Change, ChangeKind, interaction_change, record_change
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import PUBLIC_SCOPE, Channel, utcnow

MAILDIR_PARTS = ("cur", "new")
#: Mailboxes at least this large are parsed by worker processes (when the options allow more than one).
POOL_MIN_BYTES = 256 * 1024
#: The table's statistics are refreshed once a run has stored this many interactions, and at every doubling after.
ANALYZE_FIRST_AT = 1000


@dataclass(slots=True)
class ImportReport:
    """What one import did."""

    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    sources: int = 0
    run_id: int | None = None
    directory_entries: int = 0  # client directory rows applied
    unchanged: int = 0  # files skipped: read whole by an earlier import and unchanged since
    changed_clients: set[int] = field(default_factory=set)  # clients that got new interactions

    @property
    def read_anything(self) -> bool:
        """True when at least one interaction was read (new or already known)."""
        return self.imported + self.duplicates + self.directory_entries > 0

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        directory = f", {self.directory_entries} client directory entries" if self.directory_entries else ""
        unchanged = f", {self.unchanged} files unchanged, skipped" if self.unchanged else ""
        return (
            f"{self.sources} sources: {self.imported} imported, {self.duplicates} duplicates, "
            f"{self.quarantined} quarantined{directory}{unchanged}"
        )


class ImportProgress(NamedTuple):
    """Where an import is: sources read out of all, the one just read, and the counts stored so far.

    ``source`` is None on the last event, sent once everything is stored: its counts are the totals.
    """

    done: int
    total: int
    source: str | None
    imported: int
    duplicates: int
    quarantined: int


ProgressCallback = Callable[[ImportProgress], None]


def iter_sources(paths: list[Path]) -> Iterator[Path]:
    """Files and maildir folders under ``paths``, in a stable order; hidden entries are skipped."""
    for path in paths:
        if not path.exists():
            raise DossierError(f"no such file or directory: {path}")
        yield from _walk(path)


def _walk(path: Path) -> Iterator[Path]:
    """``path`` itself unless it is a folder (not a maildir): then what it holds, walked in turn.

    Anything else is a source too, a dangling link, a link looping back to a folder that holds it
    or a pipe among them: the import says why it cannot read it instead of passing over it.
    """
    if not path.is_dir() or symlink_loop_reason(path) or all((path / part).is_dir() for part in MAILDIR_PARTS):
        yield path
    else:
        for child in sorted(path.iterdir()):
            if not child.name.startswith("."):
                yield from _walk(child)


class Importer:
    """Stores parsed items in batches for one import run; see ``import_paths``."""

    def __init__(
        self,
        session: Session,
        options: ImportOptions,
        run_id: int,
        forced_client: str | None,
        our_side: OurSide,
    ):
        self._session = session
        self._options = options
        self._zone = options.zone
        self._run_id = run_id
        self._resolver = ClientResolver(
            session,
            internal_domains=options.internal_domains or our_side.domains,
            internal_addresses=our_side.addresses,
            phone_region=options.default_phone_region,
            forced_client=forced_client,
        )
        self._preparation = Preparation(options.default_phone_region, options.languages)
        self._pool = ParsePool(options.parse_workers, self._preparation, self._zone)
        self._scopes: set[str] = {PUBLIC_SCOPE}
        self._pending: dict[str, tuple[ParsedInteraction, Path, str]] = {}  # digest -> item, source, kind
        self._read_files: dict[str, repository.FileState] = {}  # files read whole, recorded at the next commit
        self._next_analysis_at = ANALYZE_FIRST_AT  # stored rows at which the statistics are refreshed next
        self.report = ImportReport(run_id=run_id)

    def import_source(self, path: Path, kind: str | None, state: repository.FileState | None = None) -> None:
        """Parse one file or maildir of ``kind`` (None: unrecognised) and store what it holds.

        Never raises for bad content: it is quarantined. ``state`` (of a file) is recorded with what it
        held, so that a later import skips the file while it is unchanged; a file that had anything
        quarantined is not, so that importing it again (with ``--client``, say) tries again.
        """
        self.report.sources += 1
        unreadable = unreadable_reason(path)
        if unreadable is not None or kind is None:
            self.quarantine(Quarantined(str(path), unreadable or unknown_format_reason(path)), kind)
            return
        quarantined = self.report.quarantined
        self._import_results(path, kind, self._parsed(path, kind))
        if state is not None and self.report.quarantined == quarantined:
            self._read_files[file_key(path)] = state

    def import_messages(self, messages: Iterable[bytes], source: str) -> None:
        """Parse and store raw RFC 822 messages (from a mail server, say) as e-mail of the source ``source``; one
        whose Message-ID is stored already is counted as a duplicate unparsed."""
        self.report.sources += 1
        origin = Path(source)
        raw_messages = (RawMessage(position, raw) for position, raw in enumerate(messages, start=1))
        results = (
            prepare(_parsed_raw_message(m.raw, mail.MessageOrigin(origin, m.position, self._zone)), self._preparation)
            for m in self._not_stored(raw_messages)
        )
        self._import_results(origin, mail.SOURCE_KIND, results)

    def close(self) -> None:
        """Stop the parsing workers, if any were started."""
        self._pool.close()

    def _parsed(self, path: Path, kind: str) -> Iterator[ParseResult]:
        """What the source holds, parsed and prepared: an mbox by ``_parsed_mbox``."""
        if kind == mail.SOURCE_KIND and path.is_file() and mail.is_mbox_file(path):
            return self._parsed_mbox(path)
        return (prepare(result, self._preparation) for result in SOURCE_KINDS[kind].parse(path, self._zone))

    def _parsed_mbox(self, path: Path) -> Iterator[ParseResult]:
        """The messages of an mbox that are not stored yet, parsed and prepared (by the worker processes when
        the file is large); a message whose Message-ID is stored already is counted as a duplicate unparsed."""
        try:
            messages = self._not_stored(mail.raw_mbox_messages(path))
            if self._use_pool(path):
                yield from self._pool.parse_mbox(path, messages)
                return
            for result in mail.parse_mbox_messages(path, messages, self._zone):
                yield prepare(result, self._preparation)
        except (OSError, mailbox.Error) as exc:
            yield Quarantined(source_path=str(path), reason=f"cannot read mail source: {exc}")

    def _not_stored(self, messages: Iterable[RawMessage]) -> Iterator[RawMessage]:
        """``messages`` but those whose Message-ID (read from their headers alone) is stored, which are counted
        as duplicates; the database is asked once per ``CHUNK_MESSAGES`` messages."""
        for chunk in chunks(messages, CHUNK_MESSAGES):
            digests = [email_id_hash(message_id) if (message_id := mail.raw_message_id(m.raw)) else None for m in chunk]
            stored = repository.existing_hashes(self._session, [digest for digest in digests if digest])
            for message, digest in zip(chunk, digests, strict=True):
                if digest in stored:
                    self.report.duplicates += 1
                else:
                    yield message

    def _use_pool(self, path: Path) -> bool:
        if self._options.parse_workers < 2 or not self._pool.can_start():
            return False
        return path.stat().st_size >= POOL_MIN_BYTES

    def _import_results(self, path: Path, kind: str, results: Iterator[ParseResult]) -> None:
        occurrences: Counter[str] = Counter()
        parsed = 0
        try:
            for result in results:
                parsed += 1
                if isinstance(result, Quarantined):
                    self.quarantine(result, kind)
                elif isinstance(result, ParsedRecording):
                    self._add_recording(result, kind)
                elif isinstance(result, ParsedClient):
                    self._add_directory_entry(result, path, kind)
                else:
                    self._add(result, path, kind, occurrences)
        except Exception as error:  # noqa: BLE001 - a parser bug or I/O error must not end the whole import
            self.quarantine(
                Quarantined(
                    str(path),
                    f"{kind} parser failed after {parsed} items: {type(error).__name__}: {error}",
                    item_ref=f"after item {parsed}",
                ),
                kind,
            )

    def _add(self, item: ParsedInteraction, path: Path, kind: str, occurrences: Counter[str]) -> None:
        digest = content_hash(item, 0)
        if not (item.external_id and item.source_kind == "email"):
            seen = occurrences[digest]
            occurrences[digest] += 1
            digest = content_hash(item, seen) if seen else digest
        if digest in self._pending:
            self.report.duplicates += 1
            return
        self._pending[digest] = (item, path, kind)
        if len(self._pending) >= self._options.batch_size:
            self.flush()

    def _resolved_row(self, digest: str, item: ParsedInteraction, path: Path, kind: str) -> dict[str, Any] | None:
        """The row to insert for a new item, or None when it was quarantined (no client)."""
        try:
            resolution = self._resolver.resolve(item)
        except ParseError as error:
            self.quarantine(Quarantined(str(path), str(error), item_ref=item.source_ref, raw=_item_as_json(item)), kind)
            return None
        return self._row(item, digest, resolution.client_id, resolution.direction)

    def _add_directory_entry(self, entry: ParsedClient, path: Path, kind: str) -> None:
        try:
            self._resolver.register(entry)
        except ParseError as error:
            self.quarantine(
                Quarantined(
                    str(path),
                    str(error),
                    item_ref=entry.source_ref,
                    raw=json.dumps(asdict(entry), default=str).encode(),
                ),
                kind,
            )
            return
        self.report.directory_entries += 1

    def _add_recording(self, recording: ParsedRecording, kind: str) -> None:
        party = normalize_party(recording.client, self._options.default_phone_region)
        as_call = ParsedInteraction(
            channel=Channel.CALL,
            occurred_at=recording.started_at or utcnow(),
            body="",
            source_kind=kind,
            source_ref=str(recording.path),
            author=party,
            client_hint=recording.client_hint,
            outbound=recording.outbound,
        )
        try:
            resolution = self._resolver.resolve(as_call)
        except ParseError as error:
            self.quarantine(Quarantined(str(recording.path), str(error)), kind)
            return
        added = repository.add_recording(
            self._session,
            client_id=self._resolver.stored_id(resolution.client_id),
            path=repository.storable_text(str(recording.path.resolve())),
            content_hash=recording.content_hash,
            started_at=recording.started_at,
            agent=recording.agent,
            direction=str(resolution.direction),
            language=recording.language,
            meta=recording.meta,
        )
        if added:
            self.report.imported += 1
        else:
            self.report.duplicates += 1

    def _row(self, item: ParsedInteraction, digest: str, client_id: int, direction: str) -> dict[str, Any]:
        scope = item.scope or PUBLIC_SCOPE
        if scope not in self._scopes:
            repository.ensure_scope(self._session, scope)
            self._scopes.add(scope)
        deal_id = None
        if item.channel is Channel.DEAL_EVENT and item.external_id:
            client_id = self._resolver.stored_id(client_id)
            deal_id = repository.upsert_deal(
                self._session,
                client_id,
                item.external_id,
                name=item.meta.get("deal_name"),
                stage=item.meta.get("stage"),
                amount=item.meta.get("amount"),
                currency=item.meta.get("currency"),
                at=item.occurred_at,
            )
        participants = [party.as_participant() for party in (item.author, *item.recipients)]
        return {
            "client_id": client_id,
            "channel": item.channel.value,
            "direction": str(direction),
            "author": item.author.name or item.author.value,
            "author_contact": item.author.value,
            "participants": participants,
            "occurred_at": item.occurred_at,
            "language": item.language,
            "subject": item.subject,
            "body": item.body,
            "quoted_text": item.quoted_text,
            "signature": item.signature,
            "attachments": item.attachments,
            "source_kind": item.source_kind,
            "source_ref": repository.storable_text(item.source_ref),
            "external_id": item.external_id,
            "thread_ref": item.thread_ref,
            "content_hash": digest,
            "scope": scope,
            "privileged": item.privileged,
            "deal_id": deal_id,
            "meta": item.meta,
            "import_run_id": self._run_id,
            "imported_at": utcnow(),
            "decode_issue": item.decode_issue,
        }

    def quarantine(self, item: Quarantined, kind: str | None) -> None:
        """Keep a bad input with its reason; a whole bad file is stored as its bytes, whatever its size."""
        raw: bytes | Path | None = item.raw
        if raw is None and item.item_ref is None and Path(item.source_path).is_file():
            raw = Path(item.source_path)
        repository.add_quarantine(
            self._session,
            source_path=item.source_path,
            source_kind=kind,
            item_ref=item.item_ref,
            reason=item.reason,
            raw=raw,
            import_run_id=self._run_id,
        )
        self.report.quarantined += 1

    def flush(self) -> None:
        """Write pending interactions and commit; ones stored before are counted, not resolved again."""
        known = repository.existing_hashes(self._session, list(self._pending))
        new_rows = [
            row
            for digest, pending in self._pending.items()
            if digest not in known
            if (row := self._resolved_row(digest, *pending)) is not None
        ]
        stored_ids = self._resolver.store_new()
        for row in new_rows:
            row["client_id"] = stored_ids.get(row["client_id"], row["client_id"])
        repository.insert_interactions(self._session, new_rows)
        repository.add_correspondence(self._session, _correspondence(new_rows))
        repository.record_import_files(self._session, self._read_files)
        self._read_files.clear()
        changed = {row["client_id"] for row in new_rows} | self._resolver.merged
        record_change(
            self._session,
            [
                *map(interaction_change, new_rows),
                *(Change(client_id, ChangeKind.MERGE) for client_id in self._resolver.merged),
            ],
        )
        self.report.changed_clients |= changed
        self._resolver.merged.clear()
        self.report.imported += len(new_rows)
        self.report.duplicates += len(known)
        self._pending.clear()
        self._session.commit()
        if self.report.imported >= self._next_analysis_at:  # the table grew a lot: its statistics are stale
            repository.refresh_interaction_statistics(self._session)
            self._session.commit()
            self._next_analysis_at = 2 * self.report.imported


def _parsed_raw_message(raw: bytes, origin: mail.MessageOrigin) -> ParseResult:
    """One raw RFC 822 message parsed as ``ingest.mail`` parses a message of a mailbox."""
    return mail.parse_message(lambda: email.message_from_bytes(raw), origin, lambda: raw)


def _correspondence(rows: list[dict[str, Any]]) -> Counter[tuple[str, ...]]:
    """How many of the e-mail ``rows`` each set of e-mail addresses exchanged."""
    tally: Counter[tuple[str, ...]] = Counter()
    for row in rows:
        if row["channel"] == Channel.EMAIL and (key := correspondence_key(row["participants"])):
            tally[key] += 1
    return tally


def file_key(path: Path) -> str:
    """How ``import_files`` names a file: its resolved path, as the database can store it."""
    return repository.storable_text(str(path.resolve()))


def file_state(path: Path) -> repository.FileState:
    """The size, modification time and content hash of the file at ``path``."""
    status = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    return repository.FileState(status.st_size, status.st_mtime_ns, digest.hexdigest())


def unchanged_files(session: Session, paths: list[Path]) -> tuple[set[Path], dict[Path, repository.FileState]]:
    """Which regular files among ``paths`` an import read before and are unchanged since (same size and
    modification time, or same content), and the current state of the others (to record once read).

    A file whose size or time changed is hashed: the same content is still unchanged (and its new
    time recorded).
    """
    keys = {path: file_key(path) for path in paths if path.is_file() and unreadable_reason(path) is None}
    recorded = repository.import_file_states(session, list(keys.values()))
    unchanged: set[Path] = set()
    states: dict[Path, repository.FileState] = {}
    touched: dict[str, repository.FileState] = {}
    for path, key in keys.items():
        known = recorded.get(key)
        status = path.stat()
        if known is not None and (known.size, known.mtime_ns) == (status.st_size, status.st_mtime_ns):
            unchanged.add(path)
            continue
        state = file_state(path)
        if known is not None and known.sha256 == state.sha256:
            unchanged.add(path)
            touched[key] = state
        else:
            states[path] = state
    repository.record_import_files(session, touched)
    return unchanged, states


def _item_as_json(item: ParsedInteraction) -> bytes:
    fields = asdict(item)
    return json.dumps(fields, default=str, ensure_ascii=False).encode("utf-8", "backslashreplace")


def import_paths(
    paths: list[Path],
    *,
    database_url: str,
    options: ImportOptions = ImportOptions(),
    kind: str | None = None,
    client: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import every file and folder in ``paths`` into ``database_url``; re-importing the same data adds nothing.

    ``kind`` forces one source kind (default: detected per file); ``client`` assigns everything to
    the client of that name. ``on_progress`` hears after each source, and once more with the totals.
    Without ``options.internal_domains`` our side is inferred first from the stored and the new e-mail
    (see ``ingest.ourside``); configured domains are never second-guessed. A file an earlier import read
    whole (nothing quarantined) is skipped while its size and modification time, or else its content, are
    unchanged; the report counts it (``unchanged``). Large mailboxes are parsed by ``options.parse_workers``
    processes, the database written by this one.
    """
    if kind is not None and kind not in SOURCE_KINDS:
        raise DossierError(f"unknown kind {kind!r}; expected one of: {', '.join(SOURCE_KINDS)}")
    sources = [(path, kind or detect_kind(path)) for path in iter_sources(paths)]
    sources.sort(key=lambda source: source[1] != "clients")  # the directory first: it names clients
    tell = on_progress or _ignore_progress
    with session_scope(database_url) as session:
        run_id = repository.start_import_run(session, [repository.storable_text(str(p)) for p in paths])
        session.commit()
        unchanged, states = unchanged_files(session, [path for path, _kind in sources])
        session.commit()
        to_read = [(path, source_kind) for path, source_kind in sources if path not in unchanged]
        our_side = OurSide() if options.internal_domains else infer_our_side(session, to_read, options)
        importer = Importer(session, options, run_id, client, our_side)
        try:
            for done, (source, source_kind) in enumerate(sources, start=1):
                if source in unchanged:
                    importer.report.sources += 1
                    importer.report.unchanged += 1
                else:
                    importer.import_source(source, source_kind, states.get(source))
                tell(_progress(importer.report, done, len(sources), source.name))
            importer.flush()
        finally:
            importer.close()
        report = importer.report
        repository.finish_import_run(
            session, run_id, imported=report.imported, duplicates=report.duplicates, quarantined=report.quarantined
        )
    tell(_progress(report, len(sources), len(sources), None))
    return report


def import_messages(
    messages: Iterable[bytes],
    *,
    source: str,
    database_url: str,
    options: ImportOptions = ImportOptions(),
    client: str | None = None,
) -> ImportReport:
    """Import raw RFC 822 messages (from a mail server, say) as one e-mail source named ``source``.

    Our side is not inferred here: it comes from ``options.internal_domains`` and our users.
    """
    with session_scope(database_url) as session:
        run_id = repository.start_import_run(session, [repository.storable_text(source)])
        session.commit()
        importer = Importer(session, options, run_id, client, OurSide())
        importer.import_messages(messages, source)
        importer.flush()
        report = importer.report
        repository.finish_import_run(
            session, run_id, imported=report.imported, duplicates=report.duplicates, quarantined=report.quarantined
        )
    return report


def _progress(report: ImportReport, done: int, total: int, source: str | None) -> ImportProgress:
    return ImportProgress(done, total, source, report.imported, report.duplicates, report.quarantined)


def _ignore_progress(_event: ImportProgress) -> None:
    """The progress callback of an import nobody watches."""
