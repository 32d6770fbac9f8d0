"""Reads and writes of clients, contacts, interactions and quarantine used by import and the CLI."""

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Select, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    PUBLIC_SCOPE,
    Client,
    Contact,
    Deal,
    EmailCorrespondence,
    ImportFile,
    ImportRun,
    Interaction,
    QuarantineBlob,
    QuarantineItem,
    Recording,
    Scope,
    Team,
    User,
    utcnow,
)

#: Quarantined bytes up to this size are stored in the quarantine row; larger ones in pieces of this size.
QUARANTINE_PIECE_BYTES = 1024 * 1024
#: Bound parameters per IN (...) query, well under SQLite's limit.
IN_CHUNK = 900
#: The largest id an integer key can hold (SQLite INTEGER, PostgreSQL BIGINT): larger ids name no row.
MAX_ROW_ID = 2**63 - 1


#: Letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ß": "ss"})


def name_key(name: str) -> str:
    """The lookup key of a client name: case-, space- and diacritic-insensitive ("Bałtyk" = "baltyk")."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSABLE))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split()).casefold()


def dialect_insert(session: Session, model: Any) -> Any:
    """An INSERT for the session's dialect that supports ON CONFLICT DO NOTHING."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def load_contacts(session: Session) -> dict[tuple[str, str], int]:
    """Every known contact as {(kind, value): client_id}."""
    return {
        (kind, value): client_id
        for kind, value, client_id in session.execute(select(Contact.kind, Contact.value, Contact.client_id))
    }


def load_client_names(session: Session) -> dict[str, int]:
    """Every client as {name_key: client_id}."""
    return dict(session.execute(select(Client.name_key, Client.id)).all())


def load_internal_identities(session: Session) -> tuple[set[str], set[str], set[str]]:
    """Our own users' (e-mail addresses, phone numbers, casefolded names)."""
    emails, phones, names = set(), set(), set()
    for email, phone, name in session.execute(select(User.email, User.phone, User.name)):
        if email:
            emails.add(email.lower())
        if phone:
            phones.add(phone)
        names.add(name_key(name))
    return emails, phones, names


def get_or_create_client(session: Session, name: str) -> int:
    """The id of the client called ``name`` (case-insensitive), created when missing."""
    key = name_key(name)
    existing = session.scalar(select(Client.id).where(Client.name_key == key))
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            client = Client(name=" ".join(name.split()), name_key=key)
            session.add(client)
        return client.id
    except IntegrityError:
        concurrent = session.scalar(select(Client.id).where(Client.name_key == key))
        if concurrent is None:  # not created concurrently by another import: a real failure
            raise
        return concurrent


def ensure_scope(session: Session, name: str) -> None:
    """Create the visibility scope ``name`` if it does not exist yet."""
    session.execute(dialect_insert(session, Scope).values(name=name).on_conflict_do_nothing(index_elements=["name"]))


def upsert_deal(
    session: Session,
    client_id: int,
    external_id: str,
    *,
    name: str | None,
    stage: str | None,
    amount: float | None,
    currency: str | None,
    at: datetime,
) -> int:
    """Record a deal's state as of ``at`` (older events do not overwrite newer ones); return its id."""
    deal = session.scalar(select(Deal).where(Deal.client_id == client_id, Deal.external_id == external_id))
    if deal is None:
        deal = Deal(client_id=client_id, external_id=external_id)
        session.add(deal)
    if deal.updated_at is None or deal.updated_at <= at:
        deal.name = name or deal.name
        deal.stage = stage
        deal.amount = amount if amount is not None else deal.amount
        deal.currency = currency or deal.currency
        deal.updated_at = at
    session.flush()
    return deal.id


def add_recording(
    session: Session,
    *,
    client_id: int,
    path: str,
    content_hash: str,
    started_at: datetime | None,
    agent: str | None,
    direction: str,
    language: str | None,
    meta: dict[str, Any],
) -> bool:
    """Register a recording to transcribe; False when the same audio is registered already."""
    inserted = session.execute(
        dialect_insert(session, Recording)
        .values(
            client_id=client_id,
            path=path,
            content_hash=content_hash,
            started_at=started_at,
            agent=agent,
            direction=direction,
            language=language,
            status="pending",
            meta=meta,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["content_hash"])
        .returning(Recording.id)
    )
    return inserted.scalar_one_or_none() is not None


def refresh_interaction_statistics(session: Session) -> None:
    """Have PostgreSQL's planner count the interactions again (ANALYZE), so that a bulk load does not leave it
    planning the content-hash lookups for a table it thinks is empty (a scan of the whole table per lookup).
    SQLite needs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {Interaction.__tablename__}"))


def existing_hashes(session: Session, hashes: Sequence[str]) -> set[str]:
    """Which of ``hashes`` are already stored."""
    found: set[str] = set()
    for start in range(0, len(hashes), IN_CHUNK):
        chunk = hashes[start : start + IN_CHUNK]
        found.update(session.scalars(select(Interaction.content_hash).where(Interaction.content_hash.in_(chunk))))
    return found


def insert_interactions(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert interaction rows; a row whose content hash exists already is skipped.

    A Core insert of the table, one executemany per set of columns the rows give (the importer's rows all give
    the same: one statement per batch), where the ORM's bulk insert would split them per set of non-null values.
    A Core executemany reads every row by the first row's keys, hence the grouping."""
    statement = dialect_insert(session, Interaction.__table__).on_conflict_do_nothing(index_elements=["content_hash"])
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(frozenset(row), []).append(row)
    for group in by_columns.values():
        session.execute(statement, group)


def create_clients(session: Session, names: Sequence[str]) -> dict[str, int]:
    """Create the clients called ``names`` in bulk (a name known already is kept); return {name_key: id} of all."""
    wanted = {name_key(name): " ".join(name.split()) for name in names}
    keys = list(wanted)
    if keys:
        insert = dialect_insert(session, Client).on_conflict_do_nothing(index_elements=["name_key"])
        session.execute(insert, [{"name": name, "name_key": key} for key, name in wanted.items()])
    ids: dict[str, int] = {}
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        ids.update(session.execute(select(Client.name_key, Client.id).where(Client.name_key.in_(chunk))).all())
    return ids


class NewContact(NamedTuple):
    """A contact to attach to a client unless it identifies one already."""

    client_id: int
    kind: str
    value: str
    display_name: str | None


def add_contacts(session: Session, contacts: Sequence[NewContact]) -> dict[tuple[str, str], int]:
    """Attach ``contacts`` in bulk (one that identifies a client already keeps it); return their owners."""
    first: dict[tuple[str, str], NewContact] = {}
    for contact in contacts:
        first.setdefault((contact.kind, contact.value), contact)
    rows = [contact._asdict() for contact in first.values()]
    if rows:
        session.execute(dialect_insert(session, Contact).on_conflict_do_nothing(index_elements=["kind", "value"]), rows)
    owners: dict[tuple[str, str], int] = {}
    values = sorted({row["value"] for row in rows})
    for start in range(0, len(values), IN_CHUNK):
        query = select(Contact.kind, Contact.value, Contact.client_id).where(
            Contact.value.in_(values[start : start + IN_CHUNK])
        )
        owners.update(((kind, value), owner) for kind, value, owner in session.execute(query))
    return {(row["kind"], row["value"]): owners[(row["kind"], row["value"])] for row in rows}


class FileState(NamedTuple):
    """What an import recorded of a file it read: its size, modification time and content hash."""

    size: int
    mtime_ns: int
    sha256: str


def import_file_states(session: Session, paths: Sequence[str]) -> dict[str, FileState]:
    """The recorded state of each of ``paths`` that an import read before."""
    states: dict[str, FileState] = {}
    for start in range(0, len(paths), IN_CHUNK):
        query = select(ImportFile.path, ImportFile.size, ImportFile.mtime_ns, ImportFile.sha256).where(
            ImportFile.path.in_(paths[start : start + IN_CHUNK])
        )
        for path, size, mtime_ns, sha256 in session.execute(query):
            states[path] = FileState(size, mtime_ns, sha256)
    return states


def record_import_files(session: Session, states: dict[str, FileState]) -> None:
    """Remember the state of files read whole (replacing what was recorded of them)."""
    rows = [state._asdict() | {"path": path, "imported_at": utcnow()} for path, state in states.items()]
    if rows:
        insert = dialect_insert(session, ImportFile)
        update_columns = {name: insert.excluded[name] for name in ("size", "mtime_ns", "sha256", "imported_at")}
        session.execute(insert.on_conflict_do_update(index_elements=["path"], set_=update_columns), rows)


def correspondence_tally(session: Session) -> Iterator[tuple[list[str], int]]:
    """Each set of e-mail addresses that stored messages were exchanged among, with how many messages."""
    query = select(EmailCorrespondence.addresses, EmailCorrespondence.messages)
    rows: Iterable[tuple[list[str], int]] = session.execute(query.execution_options(yield_per=5000))
    yield from rows


def add_correspondence(session: Session, tally: Mapping[tuple[str, ...], int]) -> None:
    """Count stored messages among sets of e-mail addresses (each set sorted) into the tally."""
    rows = [
        {"addresses_key": hashlib.sha256("\n".join(key).encode()).hexdigest(), "addresses": list(key), "messages": n}
        for key, n in tally.items()
    ]
    if rows:
        insert = dialect_insert(session, EmailCorrespondence)
        added = {"messages": EmailCorrespondence.messages + insert.excluded.messages}
        session.execute(insert.on_conflict_do_update(index_elements=["addresses_key"], set_=added), rows)


def storable_text(text: str) -> str:
    """``text`` as a database stores it: the bytes of an undecodable file name in it written as ``\\xNN``.

    Python keeps such bytes as lone surrogates (``os.fsdecode``), which no database accepts; the
    same path always gives the same text, so a re-import recognises what it stored.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def add_quarantine(
    session: Session,
    *,
    source_path: str,
    source_kind: str | None,
    item_ref: str | None,
    reason: str,
    raw: bytes | Path | None,
    import_run_id: int | None,
) -> None:
    """Store a quarantined input once (re-importing the same bad input adds nothing).

    ``raw`` is the input's bytes, or a file to copy them from (read in pieces, so memory stays
    bounded); bytes larger than ``QUARANTINE_PIECE_BYTES`` are kept in ``quarantine_blobs``. Paths
    in ``source_path``, ``item_ref`` and ``reason`` are stored with ``storable_text``.
    """
    source_path, reason = storable_text(source_path), storable_text(reason)
    item_ref = None if item_ref is None else storable_text(item_ref)
    size, raw_digest = _size_and_digest(raw)
    fingerprint = hashlib.sha256("\x00".join([source_path, item_ref or "", reason, raw_digest]).encode()).hexdigest()
    inline = size is not None and size <= QUARANTINE_PIECE_BYTES
    inserted = session.execute(
        dialect_insert(session, QuarantineItem)
        .values(
            fingerprint=fingerprint,
            source_path=source_path,
            source_kind=source_kind,
            item_ref=item_ref,
            reason=reason,
            raw=b"".join(_pieces(raw)) if inline else None,
            import_run_id=import_run_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(QuarantineItem.id)
    ).scalar_one_or_none()
    if inserted is not None and size is not None and not inline:
        for seq, piece in enumerate(_pieces(raw)):
            session.execute(dialect_insert(session, QuarantineBlob).values(quarantine_id=inserted, seq=seq, data=piece))


def _pieces(raw: bytes | Path | None) -> Iterator[bytes]:
    """``raw`` in pieces of at most ``QUARANTINE_PIECE_BYTES`` (a file is read piece by piece)."""
    if isinstance(raw, bytes):
        for start in range(0, len(raw), QUARANTINE_PIECE_BYTES):
            yield raw[start : start + QUARANTINE_PIECE_BYTES]
    elif raw is not None:
        with raw.open("rb") as handle:
            while piece := handle.read(QUARANTINE_PIECE_BYTES):
                yield piece


def _size_and_digest(raw: bytes | Path | None) -> tuple[int | None, str]:
    """The size and SHA-256 of ``raw`` ((None, "") when there are no bytes to keep)."""
    if raw is None:
        return None, ""
    digest, size = hashlib.sha256(), 0
    for piece in _pieces(raw):
        digest.update(piece)
        size += len(piece)
    return size, digest.hexdigest()


def start_import_run(session: Session, paths: Iterable[str]) -> int:
    """Record the start of an import; return its id."""
    run = ImportRun(paths=list(paths))
    session.add(run)
    session.flush()
    return run.id


def finish_import_run(session: Session, run_id: int, *, imported: int, duplicates: int, quarantined: int) -> None:
    """Record an import's totals."""
    run = session.get_one(ImportRun, run_id)
    run.imported, run.duplicates, run.quarantined, run.finished_at = imported, duplicates, quarantined, utcnow()


@dataclass(frozen=True, slots=True)
class ClientOverview:
    """A client with interaction counts per channel and the time of the last contact."""

    id: int
    name: str
    counts: dict[str, int]
    total: int
    last_contact: datetime | None
    contacts: list[str]
    restricted: int = 0  # of ``total``: in a scope other than the public one, or privileged (never summarized)


def client_overviews(session: Session) -> list[ClientOverview]:
    """All clients, most recently contacted first."""
    counts: dict[int, dict[str, int]] = {}
    last: dict[int, datetime] = {}
    for client_id, channel, count, latest in session.execute(
        select(Interaction.client_id, Interaction.channel, func.count(), func.max(Interaction.occurred_at)).group_by(
            Interaction.client_id, Interaction.channel
        )
    ):
        counts.setdefault(client_id, {})[channel] = count
        last[client_id] = max(last.get(client_id, latest), latest)
    contacts: dict[int, list[str]] = {}
    for client_id, kind, value in session.execute(
        select(Contact.client_id, Contact.kind, Contact.value).order_by(Contact.id)
    ):
        contacts.setdefault(client_id, []).append(f"{kind}:{value}")
    restricted: dict[int, int] = dict(
        session.execute(
            select(Interaction.client_id, func.count())
            .where(or_(Interaction.scope != PUBLIC_SCOPE, Interaction.privileged.is_(True)))
            .group_by(Interaction.client_id)
        ).all()
    )
    overviews = [
        ClientOverview(
            id=cid,
            name=name,
            counts=counts.get(cid, {}),
            total=sum(counts.get(cid, {}).values()),
            last_contact=last.get(cid),
            contacts=contacts.get(cid, []),
            restricted=restricted.get(cid, 0),
        )
        for cid, name in session.execute(select(Client.id, Client.name))
    ]
    return sorted(
        overviews,
        key=lambda o: (o.last_contact is None, -(o.last_contact.timestamp() if o.last_contact else 0), o.name),
    )


def row_id(ref: str | int) -> int | None:
    """``ref`` as a row id (ASCII digits or an int, 1 to ``MAX_ROW_ID``), or None when no row can have it."""
    if isinstance(ref, str):
        ref = ref.strip()
        if not (ref.isascii() and ref.isdigit()):
            return None
    number = int(ref)
    return number if 1 <= number <= MAX_ROW_ID else None


def get_client(session: Session, client_id: int) -> Client | None:
    """The client with this id, or None (also for an id larger than any key can hold)."""
    valid = row_id(client_id)
    return session.get(Client, valid) if valid is not None else None


def existing_client_ids(session: Session, client_ids: Iterable[int]) -> set[int]:
    """Those of ``client_ids`` that name a client (not deleted or merged away)."""
    return set(session.scalars(select(Client.id).where(Client.id.in_(list(client_ids)))))


def find_client(session: Session, ref: str) -> Client | None:
    """A client by id, name (case-insensitive) or any of its contacts (e-mail, domain, phone, handle)."""
    ref = ref.strip()
    if (client_id := row_id(ref)) is not None and (client := session.get(Client, client_id)):
        return client
    by_name = session.scalar(select(Client).where(Client.name_key == name_key(ref)))
    if by_name:
        return by_name
    return session.scalar(
        select(Client).join(Contact).where(or_(Contact.value == ref, Contact.value == ref.lower())).limit(1)
    )


def public_interactions_since(session: Session, client_ids: Iterable[int], *, since: datetime) -> list[Interaction]:
    """The interactions of these clients that occurred at or after ``since`` and every reader may see (the
    public scope, nothing privileged), oldest first."""
    return list(
        session.scalars(
            select(Interaction)
            .where(
                Interaction.client_id.in_(list(client_ids)),
                Interaction.occurred_at >= since,
                Interaction.scope == PUBLIC_SCOPE,
                Interaction.privileged.is_(False),
            )
            .order_by(Interaction.occurred_at, Interaction.id)
        )
    )


def client_history(session: Session, client_id: int) -> list[Interaction]:
    """A client's interactions, oldest first."""
    query: Select[Interaction] = (
        select(Interaction).where(Interaction.client_id == client_id).order_by(Interaction.occurred_at, Interaction.id)
    )
    return list(session.scalars(query))


def quarantine_items(session: Session) -> list[QuarantineItem]:
    """Unresolved quarantined inputs, newest first."""
    return list(
        session.scalars(
            select(QuarantineItem).where(QuarantineItem.resolved.is_(False)).order_by(QuarantineItem.id.desc())
        )
    )


def quarantine_bytes(session: Session, quarantine_id: int) -> Iterator[bytes]:
    """The kept bytes of a quarantined input, in order (nothing when none were kept)."""
    inline = session.scalar(select(QuarantineItem.raw).where(QuarantineItem.id == quarantine_id))
    if inline is not None:
        yield inline
        return
    seqs = session.scalars(
        select(QuarantineBlob.seq).where(QuarantineBlob.quarantine_id == quarantine_id).order_by(QuarantineBlob.seq)
    ).all()
    for seq in seqs:  # one piece in memory at a time
        yield session.execute(
            select(QuarantineBlob.data).where(QuarantineBlob.quarantine_id == quarantine_id, QuarantineBlob.seq == seq)
        ).scalar_one()


def kept_sizes(session: Session, quarantine_ids: Sequence[int]) -> dict[int, int]:
    """{quarantine id: size of its kept bytes} for the given items that kept any."""
    sizes: dict[int, int] = {}
    for start in range(0, len(quarantine_ids), IN_CHUNK):
        chunk = quarantine_ids[start : start + IN_CHUNK]
        sizes.update(
            session.execute(
                select(QuarantineItem.id, func.length(QuarantineItem.raw)).where(
                    QuarantineItem.id.in_(chunk), QuarantineItem.raw.is_not(None)
                )
            ).all()
        )
        sizes.update(
            session.execute(
                select(QuarantineBlob.quarantine_id, func.sum(func.length(QuarantineBlob.data)))
                .where(QuarantineBlob.quarantine_id.in_(chunk))
                .group_by(QuarantineBlob.quarantine_id)
            ).all()
        )
    return sizes


def upsert_user(
    session: Session,
    *,
    login: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    role: str = "rep",
    team: str | None = None,
    language: str = "en",
) -> int:
    """Create or update one of our users (and their team); return the user id."""
    team_id = None
    if team:
        session.execute(dialect_insert(session, Team).values(name=team).on_conflict_do_nothing(index_elements=["name"]))
        team_id = session.scalar(select(Team.id).where(Team.name == team))
    user = session.scalar(select(User).where(User.login == login)) or User(login=login)
    user.name, user.email, user.phone, user.role, user.team_id, user.language = (
        name,
        email.lower() if email else None,
        phone,
        role,
        team_id,
        language,
    )
    session.add(user)
    session.flush()
    return user.id


def users_with_role(session: Session, role: str) -> list[User]:
    """Every user with ``role`` (e.g. manager), by id."""
    return list(session.scalars(select(User).where(User.role == role).order_by(User.id)))


def set_client_owner(session: Session, client_id: int, user: str) -> bool:
    """Make ``user`` (a login or e-mail) the client's account manager; False if no such user."""
    owner = session.scalar(select(User.id).where(or_(User.login == user, User.email == user.lower())))
    if owner is None:
        return False
    session.execute(update(Client).where(Client.id == client_id).values(owner_id=owner))
    return True


def merge_clients(session: Session, *, keep: int, drop: int) -> None:
    """Move everything of client ``drop`` to client ``keep`` and delete ``drop``.

    Used when the client directory says two auto-created clients are one. Summaries of ``drop`` are
    deleted (``keep`` is rebuilt from the merged history).
    """
    from storage.models import (
        AuditEvent,
        Feedback,
        RefreshRequest,
        RenderedSummary,
        SummaryNode,
    )

    for deal in session.scalars(select(Deal).where(Deal.client_id == drop)).all():
        twin = session.scalar(select(Deal.id).where(Deal.client_id == keep, Deal.external_id == deal.external_id))
        if twin is None:
            deal.client_id = keep
        else:
            session.execute(update(Interaction).where(Interaction.deal_id == deal.id).values(deal_id=twin))
            session.delete(deal)
    session.flush()
    for model in (Interaction, Contact, Recording, AuditEvent, Feedback):
        session.execute(update(model).where(model.client_id == drop).values(client_id=keep))
    for summary_model in (SummaryNode, RenderedSummary, RefreshRequest):
        session.execute(delete(summary_model).where(summary_model.client_id == drop))
    session.execute(delete(Client).where(Client.id == drop))
