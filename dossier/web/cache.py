"""The server's summary cache: the shared Redis when configured, else memory whose entries expire.

Without Redis, each server process keeps summaries in its own memory, where refreshes and stale
marks made by other processes (``dossier import``, ``dossier summarize``) never arrive. Entries
therefore expire after ``serve_local_cache_seconds``; the next read goes to the database.
"""

import time

from dossier.settings import Settings
from summarizer.cache import (
    CachedSummary,
    LocalCache,
    SummaryCache,
    SummaryKey,
    make_cache,
)


class ExpiringCache:
    """:class:`LocalCache` with an age limit on every entry."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000):
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries = LocalCache(max_entries)
        self._stored_at: dict[SummaryKey, float] = {}

    def get(self, key: SummaryKey) -> CachedSummary | None:
        stored_at = self._stored_at.get(key)
        if stored_at is None or time.monotonic() - stored_at >= self._ttl:
            return None
        return self._entries.get(key)

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        now = time.monotonic()
        if len(self._stored_at) >= self._max:
            self._stored_at = {k: at for k, at in self._stored_at.items() if now - at < self._ttl}
        self._entries.put(key, summary)
        self._stored_at[key] = now


def server_cache(settings: Settings) -> SummaryCache:
    """Redis when ``redis_url`` is set, else an :class:`ExpiringCache`."""
    return make_cache(settings.redis_url) if settings.redis_url else ExpiringCache(settings.serve_local_cache_seconds)
