"""Summaries as one reader may see them: read from the cache or database, built on demand when missing.

A reader only ever gets the summary built from exactly the scopes they may read. When none exists
for that scope set yet, the caller answers 202 and schedules :meth:`SummaryReader.build`, which
renders it (and any other stale scope set of the client, since asking flagged them all stale). A
stale summary of a non-public scope set is served at once and rebuilt the same way.
"""

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossier.settings import get_settings
from storage.db import session_scope
from storage.models import PUBLIC_SCOPE, Client, RenderedSummary
from storage.summaries import scope_key
from summarizer.cache import SummaryCache, SummaryKey
from summarizer.render import available_languages
from summarizer.service import SummaryView, make_engines, read_summary, summarize_client

log = logging.getLogger(__name__)


class UnknownLanguage(ValueError):
    """A language that summaries cannot be rendered in."""


def reading_language(preferred: str, requested: str | None) -> str:
    """``requested`` if given (it must be renderable), else the reader's own language or the default."""
    available = available_languages()
    if requested:
        if requested not in available:
            raise UnknownLanguage(f"no summaries in {requested!r}; available: {', '.join(available)}")
        return requested
    return preferred if preferred in available else get_settings().summary_languages[0]


def needs_build(view: SummaryView | None, scopes: tuple[str, ...]) -> bool:
    """Whether to build now: the summary is missing, or stale for a scope set that only readers ask for.

    Stale public summaries are refreshed by the debounced batch (``dossier summarize --dirty``).
    """
    return view is None or (view.summary.stale and scopes != (PUBLIC_SCOPE,))


def _stale_sets(session: Session, client_id: int) -> set[tuple[tuple[str, ...], str]]:
    """(scopes, language) of every stale stored summary set of a client."""
    rows = session.execute(select(RenderedSummary.scope_key, RenderedSummary.language).distinct().where(
        RenderedSummary.client_id == client_id, RenderedSummary.stale.is_(True)))
    return {(tuple(key.split("+")), language) for key, language in rows}


class SummaryReader:
    """Reads summaries for scope sets and builds missing ones, one build per client at a time."""

    def __init__(self, database_url: str | None, cache: SummaryCache):
        self._url = database_url
        self._cache = cache
        self._lock = threading.Lock()
        self._building: set[int] = set()

    def read(self, client_id: int, client_name: str, format_name: str, language: str,
             scopes: tuple[str, ...]) -> SummaryView | None:
        """The summary built from exactly ``scopes``, or None (a refresh is then queued).

        A cache hit is answered without a database round trip; anything else goes to ``read_summary``.
        """
        key = SummaryKey(client_id, scope_key(scopes), format_name, language)
        if (cached := self._cache.get(key)) is not None:
            return SummaryView(client_id, client_name, format_name, language, cached, "cache")
        return read_summary(str(client_id), format_name, language, scopes=scopes, database_url=self._url,
                            cache=self._cache)

    def build(self, client_id: int, scopes: tuple[str, ...], language: str) -> None:
        """Render a client's summaries for ``scopes`` in ``language`` (run as a background task)."""
        with self._lock:
            if client_id in self._building:
                return
            self._building.add(client_id)
        try:
            with session_scope(self._url) as session:
                client = session.get(Client, client_id)
                for scope_set, lang in sorted({(scopes, language)} | _stale_sets(session, client_id)):
                    summarize_client(session, client, make_engines(None, [lang]), languages=[lang],
                                     scopes=scope_set, cache=self._cache)
                    session.commit()
        except Exception:  # noqa: BLE001 - a failed build is logged; the next request schedules another
            log.exception("on-demand summary build failed for client %s", client_id)
        finally:
            with self._lock:
                self._building.discard(client_id)
