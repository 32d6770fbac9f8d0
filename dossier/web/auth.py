"""Who is asking: a Bearer API token, or the session cookie set by the login form, resolved to a reader.

An API token is accepted only as ``Authorization: Bearer``; the login form trades it for a server-side
session whose secret goes in the cookie, accepted only as that cookie, until it expires or the user
logs out. Resolved readers are remembered for ``READER_TTL_SECONDS`` (never past a session's expiry),
keyed by the credential's kind and hash, so a revoked token or a changed scope grant takes effect
within that time; logging out forgets the session in this process at once.
"""

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from storage import access, summaries
from storage.db import session_scope
from storage.models import utcnow

COOKIE_NAME = "dossier_session"
#: How long a login lasts unless the user logs out first (``create_app(session_lifetime=…)``).
SESSION_LIFETIME = timedelta(hours=12)
READER_TTL_SECONDS = 10.0
#: Expired readers are dropped once this many are remembered.
MAX_READERS = 10_000


class NotAuthenticated(Exception):
    """No credential, or one that is unknown, revoked or expired."""


class Presented(NamedTuple):
    """A credential as a request presents it: its kind (``access.API_TOKEN`` or ``access.WEB_SESSION``)
    and its secret."""

    kind: str
    secret: str


@dataclass(frozen=True, slots=True)
class Reader:
    """An authenticated user, the visibility scopes they may read, and when their credential expires."""

    user_id: int
    login: str
    name: str
    language: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None

    @property
    def scope_key(self) -> str:
        return summaries.scope_key(self.scopes)


def presented_credential(request: Request) -> Presented | None:
    """What a request authenticates with: ``Authorization: Bearer <API token>`` first, else the session cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return Presented(access.API_TOKEN, value.strip())
    cookie = request.cookies.get(COOKIE_NAME)
    return Presented(access.WEB_SESSION, cookie) if cookie else None


def load_reader(database_url: str | None, credential: Presented) -> Reader | None:
    """The reader a credential belongs to, or None when it is unknown, revoked or expired."""
    with session_scope(database_url) as session:
        found = access.authenticate(session, credential.secret, credential.kind)
        if found is None:
            return None
        user = found.user
        return Reader(
            user.id, user.login, user.name, user.language, access.readable_scopes(session, user), found.expires_at
        )


def _cache_key(credential: Presented) -> tuple[str, str]:
    return credential.kind, access.token_hash(credential.secret)


class Readers:
    """Credentials resolved to readers, each remembered for ``ttl`` seconds (at most until it expires)."""

    def __init__(self, database_url: str | None, ttl: float = READER_TTL_SECONDS):
        self._url = database_url
        self._ttl = ttl
        self._known: dict[tuple[str, str], tuple[float, Reader]] = {}
        self._lock = threading.Lock()

    def cached(self, credential: Presented) -> Reader | None:
        """The reader remembered for ``credential``, if still fresh."""
        with self._lock:
            known = self._known.get(_cache_key(credential))
        return known[1] if known is not None and known[0] > time.monotonic() else None

    def load(self, credential: Presented) -> Reader | None:
        """Resolve ``credential`` in the database and remember the reader."""
        reader = load_reader(self._url, credential)
        key, now = _cache_key(credential), time.monotonic()
        with self._lock:
            if reader is None:
                self._known.pop(key, None)
                return None
            if len(self._known) >= MAX_READERS:
                self._known = {k: v for k, v in self._known.items() if v[0] > now}
            self._known[key] = (now + self._remember_for(reader), reader)
        return reader

    def forget(self, credential: Presented) -> None:
        """Stop answering ``credential`` from memory (it was revoked)."""
        with self._lock:
            self._known.pop(_cache_key(credential), None)

    def _remember_for(self, reader: Reader) -> float:
        if reader.expires_at is None:
            return self._ttl
        return min(self._ttl, (reader.expires_at - utcnow()).total_seconds())


def start_session(request: Request, reader: Reader) -> str:
    """A new login session of ``reader`` lasting the app's session lifetime; returns the cookie's secret."""
    with session_scope(request.app.state.database_url) as session:
        return access.create_session(session, reader.user_id, request.app.state.session_lifetime)


def end_session(request: Request, secret: str) -> None:
    """Revoke the login session with this secret, here and in the database."""
    with session_scope(request.app.state.database_url) as session:
        access.revoke_session(session, secret)
    request.app.state.readers.forget(Presented(access.WEB_SESSION, secret))


async def current_reader(request: Request) -> Reader:
    """FastAPI dependency: the authenticated reader; NotAuthenticated otherwise.

    A remembered reader is answered on the event loop; only a database look-up goes to a thread.
    """
    credential = presented_credential(request)
    if credential is None:
        raise NotAuthenticated()
    readers: Readers = request.app.state.readers
    reader = readers.cached(credential) or await run_in_threadpool(readers.load, credential)
    if reader is None:
        raise NotAuthenticated()
    return reader
