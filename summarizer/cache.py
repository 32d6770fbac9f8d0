"""The read cache of rendered summaries: Redis when configured, else an in-process LRU.

Keys carry client, scope, format, language and tree-root hash; a pointer per (client, scope,
format, language) names the newest root. New data for a client sets its stale mark, so readers get
the cached summary at once with ``stale=True`` while a refresh is queued. A Redis failure never
fails a read: the cache reports a miss and the caller reads the database.
"""

import json
import logging
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

PREFIX = "dossier"


@dataclass(frozen=True, slots=True)
class SummaryKey:
    client_id: int
    scope: str
    format: str
    language: str

    def pointer(self) -> str:
        return f"{PREFIX}:latest:{self.client_id}:{self.scope}:{self.format}:{self.language}"

    def content(self, root_hash: str) -> str:
        return f"{PREFIX}:summary:{self.client_id}:{self.scope}:{self.format}:{self.language}:{root_hash}"


@dataclass(frozen=True, slots=True)
class CachedSummary:
    """A rendered summary as readers get it."""

    markdown: str
    content: dict[str, Any]
    root_hash: str
    engine: str
    generated_at: datetime
    stale: bool = False

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "generated_at": self.generated_at.isoformat()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes, *, stale: bool) -> "CachedSummary":
        data = json.loads(raw)
        data["generated_at"] = datetime.fromisoformat(data["generated_at"])
        data["stale"] = stale
        return cls(**data)


class SummaryCache(Protocol):
    def get(self, key: SummaryKey) -> CachedSummary | None:
        """The cached summary (with its stale flag), or None on a miss or a cache failure."""

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        """Cache a freshly rendered summary; clears nothing else."""

    def mark_stale(self, client_ids: list[int]) -> None:
        """Flag every cached summary of these clients stale."""

    def mark_fresh(self, client_id: int) -> None:
        """Clear a client's stale flag after its summaries were refreshed."""


class RedisCache:
    """Summaries in Redis: ``get`` is one round trip (pipeline of pointer, stale flag, content)."""

    def __init__(self, url: str, *, ttl_seconds: int = 30 * 86400):
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._ttl = ttl_seconds
        self._get_script = self._redis.register_script(
            "local root = redis.call('GET', KEYS[1]) "
            "if not root then return nil end "
            "return {redis.call('GET', KEYS[2] .. root), redis.call('EXISTS', KEYS[3])}")

    def get(self, key: SummaryKey) -> CachedSummary | None:
        try:
            found = self._get_script(keys=[key.pointer(), key.content(""), _stale_key(key.client_id)])
        except redis.RedisError as error:
            log.warning("redis read failed, falling back to the database: %s", error)
            return None
        if not found or found[0] is None:
            return None
        return CachedSummary.from_json(found[0], stale=bool(found[1]))

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        try:
            with self._redis.pipeline() as pipe:
                pipe.set(key.content(summary.root_hash), summary.to_json(), ex=self._ttl)
                pipe.set(key.pointer(), summary.root_hash, ex=self._ttl)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("redis write failed; the database still holds the summary: %s", error)

    def mark_stale(self, client_ids: list[int]) -> None:
        if not client_ids:
            return
        try:
            with self._redis.pipeline() as pipe:
                for client_id in client_ids:
                    pipe.set(_stale_key(client_id), 1, ex=self._ttl)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("redis stale mark failed; the database flag still applies: %s", error)

    def mark_fresh(self, client_id: int) -> None:
        try:
            self._redis.delete(_stale_key(client_id))
        except redis.RedisError as error:
            log.warning("redis fresh mark failed: %s", error)


class LocalCache:
    """The embedded default: a bounded in-process LRU with the same behaviour."""

    def __init__(self, max_entries: int = 10_000):
        self._entries: OrderedDict[SummaryKey, CachedSummary] = OrderedDict()
        self._stale: set[int] = set()
        self._max = max_entries

    def get(self, key: SummaryKey) -> CachedSummary | None:
        summary = self._entries.get(key)
        if summary is None:
            return None
        self._entries.move_to_end(key)
        return replace(summary, stale=key.client_id in self._stale)

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        self._entries[key] = summary
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def mark_stale(self, client_ids: list[int]) -> None:
        self._stale.update(client_ids)

    def mark_fresh(self, client_id: int) -> None:
        self._stale.discard(client_id)


def _stale_key(client_id: int) -> str:
    return f"{PREFIX}:stale:{client_id}"


def make_cache(redis_url: str | None) -> SummaryCache:
    """Redis when a URL is configured, else the local cache."""
    return RedisCache(redis_url) if redis_url else LocalCache()
