"""Summaries as one reader may see them: read from the cache or database; missing ones are queued, never built here.

A reader only ever gets the summary built from exactly the scopes they may read. When none exists
for that scope set and language yet, the caller answers 202 and queues a build request
(``storage.build_requests``) that the batch builds (``dossier summarize --dirty``, the refresh DAG).
A stale summary is served at once; when no refresh rebuilds it (a reader's own scope set, a language
refreshes do not render), a build is queued the same way.
"""

from sqlalchemy.orm import Session

from dossier.engines import read_summary, refresh_builds
from dossier.settings import get_settings
from storage.build_requests import request_build
from storage.summaries import scope_key
from summarizer.cache import SummaryCache, SummaryKey
from summarizer.render import available_languages
from summarizer.service import SummaryView


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


def needs_build(view: SummaryView | None, scopes: tuple[str, ...], language: str) -> bool:
    """Whether to queue a build: the summary is missing, or stale and no queued refresh rebuilds it.

    Stale public summaries in the configured languages are refreshed by the debounced batch.
    """
    return view is None or (view.summary.stale and not refresh_builds(scopes, language))


def queue_build(
    session: Session, client_id: int, scopes: tuple[str, ...], language: str, views: list[SummaryView | None]
) -> None:
    """Queue the batch build of the client's summaries of ``scopes`` in ``language`` if any of ``views``
    (what the request read) needs one; asking again adds nothing."""
    if any(needs_build(view, scopes, language) for view in views):
        request_build(session, client_id, scopes, language)


class SummaryReader:
    """Reads the summaries of scope sets, through the server's cache."""

    def __init__(self, database_url: str | None, cache: SummaryCache):
        self._url = database_url
        self._cache = cache

    def read(
        self, client_id: int, client_name: str, format_name: str, language: str, scopes: tuple[str, ...]
    ) -> SummaryView | None:
        """The summary built from exactly ``scopes``, or None (not built yet).

        A cache hit is answered without a database round trip; anything else goes to ``read_summary``.
        """
        key = SummaryKey(client_id, scope_key(scopes), format_name, language)
        if (cached := self._cache.get(key)) is not None:
            return SummaryView(client_id, client_name, format_name, language, cached, "cache")
        return read_summary(
            str(client_id), format_name, language, scopes=scopes, database_url=self._url, cache=self._cache
        )
