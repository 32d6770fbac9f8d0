"""IMAP sources of the application: adding one (its password stays where it is), reading its password, syncing.

The database keeps where the password is (an environment variable's name or a file's path), never the
password: each sync reads it, and a missing one fails that mailbox alone with an error naming where.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from dossier.settings import get_settings
from ingest.imap import Mailbox, Security, SyncCallback, SyncReport, sync_mailbox
from storage import imap_sources
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import CalendarSource, ImapSource


@dataclass(frozen=True, slots=True)
class NewImapSource:
    """What `dossier sources add imap` asks for."""

    name: str
    host: str
    user: str
    security: Security
    port: int | None = None  # default: 993 with TLS, else 143
    folders: tuple[str, ...] = ()  # default: INBOX and the folders marked \Sent
    address: str | None = None  # our address in the mailbox; default: the user name when it is one
    password_env: str | None = None
    password_file: Path | None = None


def add_imap_source(new: NewImapSource, database_url: str | None = None) -> ImapSource:
    """Store a new IMAP source after checking it; return it."""
    if (new.password_env is None) == (new.password_file is None):
        raise DossierError("say where the password is: --password-env VARIABLE or --password-file PATH (one of them)")
    if not new.name.strip():
        raise DossierError("a source needs a name")
    address = new.address or (new.user if "@" in new.user else None)
    if address is None or "@" not in address:
        raise DossierError(
            f"--user {new.user!r} is no e-mail address: give --address, our address in this mailbox "
            "(it tells our mail from the client's)"
        )
    source = ImapSource(
        name=new.name.strip(),
        host=new.host,
        port=new.port or new.security.default_port,
        username=new.user,
        security=new.security.value,
        folders=list(new.folders),
        address=address.strip().lower(),
        password_env=new.password_env,
        password_file=str(new.password_file.expanduser().resolve()) if new.password_file else None,
    )
    with session_scope(database_url or get_settings().database_url) as session:
        return imap_sources.add_source(session, source)


def read_password(source: ImapSource | CalendarSource) -> str:
    """The source's password from its environment variable or file; a clear error naming it when missing."""
    if source.password_env:
        password = os.environ.get(source.password_env)
        if not password:
            raise DossierError(
                f"the environment variable {source.password_env} (the password of {source.name}) is not set"
            )
        return password
    path = Path(source.password_file or "")
    try:
        password = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise DossierError(f"cannot read the password file of {source.name}, {path}: {error.strerror}") from error
    if not password:
        raise DossierError(f"the password file of {source.name}, {path}, is empty")
    return password


def mailbox_of(source: ImapSource) -> Mailbox:
    """What the sync needs to read the source, its password read now."""
    return Mailbox(
        name=source.name,
        host=source.host,
        port=source.port,
        user=source.username,
        password=read_password(source),
        security=Security(source.security),
        address=source.address,
        folders=tuple(source.folders),
    )


def sync_source(name: str, *, database_url: str | None = None, on_progress: SyncCallback | None = None) -> SyncReport:
    """Sync one IMAP source by name; a failure (also a missing password) is in the report's ``error``."""
    url = database_url or get_settings().database_url
    with session_scope(url) as session:
        source = imap_sources.require_source(session, name)
        try:
            mailbox = mailbox_of(source)
        except DossierError as error:
            imap_sources.record_sync(session, source.id, str(error))
            return SyncReport(source.name, error=str(error))
    return sync_mailbox(
        mailbox, source_id=source.id, database_url=url, options=get_settings().import_options(), on_progress=on_progress
    )


def sync_sources(
    names: list[str] | None = None, *, database_url: str | None = None, on_progress: SyncCallback | None = None
) -> list[SyncReport]:
    """Sync these IMAP sources (default: every one), each on its own: one failing never stops the others."""
    if names is None:
        with session_scope(database_url or get_settings().database_url) as session:
            names = imap_sources.source_names(session)
    return [sync_source(name, database_url=database_url, on_progress=on_progress) for name in names]
