"""IMAP sources and how far each of their folders is synced (UIDVALIDITY and the last UID stored)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import DossierError
from storage.models import ImapFolder, ImapSource, utcnow


def add_source(session: Session, source: ImapSource) -> ImapSource:
    """Store a new IMAP source; a clear error when its name is taken."""
    if find_source(session, source.name) is not None:
        raise DossierError(f"a source named {source.name!r} exists already (see `dossier sources list`)")
    session.add(source)
    session.flush()
    return source


def find_source(session: Session, name: str) -> ImapSource | None:
    """The IMAP source of this name, if any."""
    return session.scalars(select(ImapSource).where(ImapSource.name == name)).one_or_none()


def require_source(session: Session, name: str) -> ImapSource:
    """The IMAP source of this name; a clear error naming the known ones otherwise."""
    source = find_source(session, name)
    if source is None:
        known = ", ".join(source_names(session)) or "none yet: `dossier sources add imap`"
        raise DossierError(f"no source named {name!r} (known: {known})")
    return source


def source_names(session: Session) -> list[str]:
    """Names of every IMAP source, sorted."""
    return list(session.scalars(select(ImapSource.name).order_by(ImapSource.name)))


def sources(session: Session) -> list[ImapSource]:
    """Every IMAP source, by name."""
    return list(session.scalars(select(ImapSource).order_by(ImapSource.name)))


def folders(session: Session, source_id: int) -> list[ImapFolder]:
    """The folders of a source synced so far, by name."""
    return list(session.scalars(select(ImapFolder).where(ImapFolder.source_id == source_id).order_by(ImapFolder.name)))


def folder_state(session: Session, source_id: int, name: str, uidvalidity: int) -> tuple[ImapFolder, bool]:
    """The sync state of a folder as the server's ``uidvalidity`` stands; whether its UIDs were renumbered.

    A folder seen for the first time starts at UID 0. When UIDVALIDITY changed, every UID known is
    void: the state starts again at 0 (the import dedupes what was stored before by Message-ID).
    """
    state = session.get(ImapFolder, (source_id, name))
    if state is None:
        state = ImapFolder(source_id=source_id, name=name, uidvalidity=uidvalidity, last_uid=0)
        session.add(state)
        return state, False
    renumbered = state.uidvalidity != uidvalidity
    if renumbered:
        state.uidvalidity, state.last_uid = uidvalidity, 0
    return state, renumbered


def advance(state: ImapFolder, last_uid: int) -> None:
    """Record that every UID up to ``last_uid`` of the folder is stored."""
    state.last_uid = max(state.last_uid, last_uid)
    state.synced_at = utcnow()


def record_sync(session: Session, source_id: int, error: str | None) -> None:
    """Record a finished sync of a source: when, and its error (None when it succeeded)."""
    source = session.get_one(ImapSource, source_id)
    source.last_synced_at, source.last_error = utcnow(), error
