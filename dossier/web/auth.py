"""Who is asking: a Bearer API token or the token cookie set by the login form, resolved to a reader.

Resolved readers are remembered for ``READER_TTL_SECONDS`` (keyed by the token's hash), so a
revoked token or a changed scope grant takes effect within that time.
"""

import threading
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from storage import access, summaries
from storage.db import session_scope

COOKIE_NAME = "dossier_token"
READER_TTL_SECONDS = 10.0
#: Expired readers are dropped once this many are remembered.
MAX_READERS = 10_000


class NotAuthenticated(Exception):
    """No token, or one that is unknown or revoked."""


@dataclass(frozen=True, slots=True)
class Reader:
    """An authenticated user and the visibility scopes they may read."""

    user_id: int
    login: str
    name: str
    language: str
    scopes: tuple[str, ...]

    @property
    def scope_key(self) -> str:
        return summaries.scope_key(self.scopes)


def request_token(request: Request) -> str | None:
    """The token of a request: ``Authorization: Bearer …`` first, else the login cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


def load_reader(database_url: str | None, token: str) -> Reader | None:
    """The reader a token belongs to, or None when it is unknown or revoked."""
    with session_scope(database_url) as session:
        user = access.authenticate(session, token)
        if user is None:
            return None
        return Reader(user.id, user.login, user.name, user.language, access.readable_scopes(session, user))


class Readers:
    """Tokens resolved to readers, each remembered for ``ttl`` seconds."""

    def __init__(self, database_url: str | None, ttl: float = READER_TTL_SECONDS):
        self._url = database_url
        self._ttl = ttl
        self._known: dict[str, tuple[float, Reader]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Reader | None:
        """The reader remembered for ``token``, if still fresh."""
        with self._lock:
            known = self._known.get(access.token_hash(token))
        return known[1] if known is not None and known[0] > time.monotonic() else None

    def load(self, token: str) -> Reader | None:
        """Resolve ``token`` in the database and remember the reader."""
        reader = load_reader(self._url, token)
        key, now = access.token_hash(token), time.monotonic()
        with self._lock:
            if reader is None:
                self._known.pop(key, None)
                return None
            if len(self._known) >= MAX_READERS:
                self._known = {k: v for k, v in self._known.items() if v[0] > now}
            self._known[key] = (now + self._ttl, reader)
        return reader


async def current_reader(request: Request) -> Reader:
    """FastAPI dependency: the authenticated reader; NotAuthenticated otherwise.

    A remembered reader is answered on the event loop; only a database look-up goes to a thread.
    """
    token = request_token(request)
    if not token:
        raise NotAuthenticated()
    readers: Readers = request.app.state.readers
    reader = readers.cached(token) or await run_in_threadpool(readers.load, token)
    if reader is None:
        raise NotAuthenticated()
    return reader
